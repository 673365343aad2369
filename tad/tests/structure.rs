//! Structure checks over the workspace's source text: no module cycles inside a crate, no source
//! file over 800 lines, and the service layering rules (grpc takes nothing from `db`, `service`
//! knows no proto type). Reads files only; starts nothing.

use std::{
    collections::{BTreeMap, BTreeSet},
    fs,
    path::{Path, PathBuf},
};

/// Longest a `.rs` file may be.
const MAX_LINES: usize = 800;

/// Files over the limit that are being split right now (paths from the workspace root).
/// This list must shrink to empty: add nothing to it.
const OVERSIZE_ALLOWED: &[&str] = &[];

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tad sits in the workspace root")
        .to_path_buf()
}

/// The workspace members that have a `src/` folder, by folder name.
fn crates(root: &Path) -> Vec<String> {
    let mut names: Vec<String> = fs::read_dir(root)
        .expect("read workspace root")
        .filter_map(|entry| entry.ok())
        .filter(|entry| {
            entry.path().join("Cargo.toml").is_file() && entry.path().join("src").is_dir()
        })
        .map(|entry| entry.file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

/// Every `.rs` file below `dir`, skipping `target/` and hidden folders.
fn rust_files(dir: &Path, found: &mut Vec<PathBuf>) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for entry in entries.filter_map(|entry| entry.ok()) {
        let path = entry.path();
        let name = entry.file_name().to_string_lossy().into_owned();
        if path.is_dir() {
            if name != "target" && !name.starts_with('.') {
                rust_files(&path, found);
            }
        } else if name.ends_with(".rs") {
            found.push(path);
        }
    }
}

/// The source with comments, string and char literals blanked out (newlines kept).
fn code_only(source: &str) -> String {
    let chars: Vec<char> = source.chars().collect();
    let mut out = String::with_capacity(source.len());
    let mut index = 0;
    while index < chars.len() {
        let here = chars[index];
        let next = chars.get(index + 1).copied();
        if here == '/' && next == Some('/') {
            while index < chars.len() && chars[index] != '\n' {
                index += 1;
            }
        } else if here == '/' && next == Some('*') {
            let mut depth = 0;
            while index < chars.len() {
                if chars[index] == '/' && chars.get(index + 1) == Some(&'*') {
                    depth += 1;
                    index += 2;
                } else if chars[index] == '*' && chars.get(index + 1) == Some(&'/') {
                    depth -= 1;
                    index += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    if chars[index] == '\n' {
                        out.push('\n');
                    }
                    index += 1;
                }
            }
        } else if here == 'r'
            && (next == Some('"') || next == Some('#'))
            && !chars[..index]
                .last()
                .is_some_and(|c| c.is_alphanumeric() || *c == '_')
        {
            // Raw string: r"…", r#"…"#.
            let mut hashes = 0;
            let mut cursor = index + 1;
            while chars.get(cursor) == Some(&'#') {
                hashes += 1;
                cursor += 1;
            }
            if chars.get(cursor) != Some(&'"') {
                out.push(here);
                index += 1;
                continue;
            }
            cursor += 1;
            while cursor < chars.len() {
                if chars[cursor] == '"'
                    && (0..hashes).all(|offset| chars.get(cursor + 1 + offset) == Some(&'#'))
                {
                    cursor += 1 + hashes;
                    break;
                }
                if chars[cursor] == '\n' {
                    out.push('\n');
                }
                cursor += 1;
            }
            out.push_str("\"\"");
            index = cursor;
        } else if here == '"' {
            index += 1;
            while index < chars.len() && chars[index] != '"' {
                if chars[index] == '\\' {
                    index += 1;
                }
                if chars.get(index) == Some(&'\n') {
                    out.push('\n');
                }
                index += 1;
            }
            out.push_str("\"\"");
            index += 1;
        } else if here == '\''
            && (chars.get(index + 2) == Some(&'\'')
                || (next == Some('\\') && chars[index + 2..].iter().take(10).any(|c| *c == '\'')))
        {
            // Char literal ('x' or '\n', '\u{..}'); lifetimes are left alone.
            let mut cursor = index + 1;
            if chars[cursor] == '\\' {
                cursor += 1;
            }
            cursor += 1;
            while cursor < chars.len() && chars[cursor] != '\'' {
                cursor += 1;
            }
            out.push_str("' '");
            index = cursor + 1;
        } else {
            out.push(here);
            index += 1;
        }
    }
    out
}

/// Where a path written in a file points: its segments from the crate root.
struct Reference {
    from: Vec<String>,
    to: Vec<String>,
}

fn is_ident_char(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

/// Reads identifier at `index`, returning it and the index after it.
fn ident_at(chars: &[char], index: usize) -> (String, usize) {
    let mut end = index;
    while end < chars.len() && is_ident_char(chars[end]) {
        end += 1;
    }
    (chars[index..end].iter().collect(), end)
}

fn skip_space(chars: &[char], mut index: usize) -> usize {
    while index < chars.len() && chars[index].is_whitespace() {
        index += 1;
    }
    index
}

/// The paths a `crate::`/`super::` prefix leads to, relative to `base`: `a::b`, or each first
/// two segments of a `{a::b, c}` group.
fn paths_after(chars: &[char], index: usize, base: &[String], out: &mut Vec<Vec<String>>) {
    let index = skip_space(chars, index);
    match chars.get(index) {
        Some('{') => {
            // Split the group at depth-one commas; each item starts with a path.
            let mut depth = 0;
            let mut item_start = index + 1;
            let mut cursor = index;
            while cursor < chars.len() {
                match chars[cursor] {
                    '{' => depth += 1,
                    '}' | ',' if depth == 1 => {
                        path_item(chars, item_start, base, out);
                        item_start = cursor + 1;
                        if chars[cursor] == '}' {
                            return;
                        }
                    }
                    '}' => depth -= 1,
                    _ => {}
                }
                cursor += 1;
            }
        }
        Some(c) if is_ident_char(*c) => path_item(chars, index, base, out),
        _ => out.push(base.to_vec()),
    }
}

/// One path `a::b::…` at `index` (up to two segments kept), below `base`.
fn path_item(chars: &[char], index: usize, base: &[String], out: &mut Vec<Vec<String>>) {
    let index = skip_space(chars, index);
    if !chars.get(index).is_some_and(|c| is_ident_char(*c)) {
        return;
    }
    let (first, after) = ident_at(chars, index);
    let mut path = base.to_vec();
    if first == "self" {
        out.push(path);
        return;
    }
    path.push(first);
    if chars.get(after) == Some(&':') && chars.get(after + 1) == Some(&':') {
        let next = skip_space(chars, after + 2);
        if chars.get(next) == Some(&'{') {
            let mut nested = Vec::new();
            paths_after(chars, next, &path, &mut nested);
            out.extend(nested.into_iter().map(|mut p| {
                p.truncate(base.len() + 2);
                p
            }));
            return;
        }
        if chars.get(next).is_some_and(|c| is_ident_char(*c)) {
            let (second, _) = ident_at(chars, next);
            if second != "self" {
                path.push(second);
            }
        }
    }
    out.push(path);
}

/// The module path of a file below `src/` (`service/mod.rs` → `[service]`, `lib.rs` → `[]`).
fn module_of(relative: &Path) -> Vec<String> {
    let mut parts: Vec<String> = relative
        .iter()
        .map(|part| part.to_string_lossy().into_owned())
        .collect();
    if let Some(last) = parts.last_mut() {
        *last = last.trim_end_matches(".rs").to_owned();
    }
    if parts.last().is_some_and(|last| last == "mod") {
        parts.pop();
    }
    if parts == ["lib"] || parts == ["main"] {
        parts.clear();
    }
    parts
}

/// Every `crate::` and `super::` path in a file, resolved from the crate root, with the module
/// the writing code sits in (inline `mod x { … }` blocks included).
fn references(module: &[String], source: &str) -> Vec<Reference> {
    let code = code_only(source);
    let chars: Vec<char> = code.chars().collect();
    let mut found = Vec::new();
    // Inline modules open at a brace depth; the stack holds (name, depth).
    let mut inline: Vec<(String, usize)> = Vec::new();
    let mut depth = 0usize;
    let mut pending_mod: Option<String> = None;
    let mut index = 0;
    while index < chars.len() {
        let c = chars[index];
        let boundary = index == 0 || !(is_ident_char(chars[index - 1]) || chars[index - 1] == '$');
        if c == '{' {
            depth += 1;
            if let Some(name) = pending_mod.take() {
                inline.push((name, depth));
            }
            index += 1;
            continue;
        }
        if c == '}' {
            if inline.last().is_some_and(|(_, open)| *open == depth) {
                inline.pop();
            }
            depth = depth.saturating_sub(1);
            index += 1;
            continue;
        }
        if c == ';' {
            pending_mod = None;
        }
        if boundary && is_ident_char(c) {
            let (word, after) = ident_at(&chars, index);
            let here: Vec<String> = module
                .iter()
                .cloned()
                .chain(inline.iter().map(|(name, _)| name.clone()))
                .collect();
            let follows_path = chars.get(after) == Some(&':') && chars.get(after + 1) == Some(&':');
            if word == "mod" {
                let next = skip_space(&chars, after);
                let (name, _) = ident_at(&chars, next);
                pending_mod = Some(name);
            } else if word == "crate" && follows_path {
                let mut targets = Vec::new();
                paths_after(&chars, after + 2, &[], &mut targets);
                found.extend(targets.into_iter().map(|to| Reference {
                    from: here.clone(),
                    to,
                }));
            } else if word == "super" && follows_path {
                let mut ups = 1;
                let mut cursor = after + 2;
                loop {
                    let (next, next_after) = ident_at(&chars, cursor);
                    if next == "super"
                        && chars.get(next_after) == Some(&':')
                        && chars.get(next_after + 1) == Some(&':')
                    {
                        ups += 1;
                        cursor = next_after + 2;
                    } else {
                        break;
                    }
                }
                if ups <= here.len() {
                    let base = &here[..here.len() - ups];
                    let mut targets = Vec::new();
                    paths_after(&chars, cursor, base, &mut targets);
                    found.extend(targets.into_iter().map(|to| Reference {
                        from: here.clone(),
                        to,
                    }));
                }
                index = cursor;
                continue;
            }
            index = after;
            continue;
        }
        index += 1;
    }
    found
}

/// Whether `src/<path>.rs` or `src/<path>/mod.rs` exists.
fn is_module_file(src: &Path, path: &[String]) -> bool {
    let joined: PathBuf = path.iter().collect();
    src.join(&joined).with_extension("rs").is_file() || src.join(&joined).join("mod.rs").is_file()
}

/// One edge of the module graph, with a file that makes it.
type Graph = BTreeMap<String, BTreeMap<String, String>>;

/// The shortest way from `from` to `to`, as the nodes after `from`.
fn shortest_path(graph: &Graph, from: &str, to: &str) -> Option<Vec<String>> {
    let mut previous: BTreeMap<String, String> = BTreeMap::new();
    let mut queue = std::collections::VecDeque::from([from.to_owned()]);
    while let Some(node) = queue.pop_front() {
        for next in graph
            .get(&node)
            .map(|edges| edges.keys())
            .into_iter()
            .flatten()
        {
            if previous.contains_key(next) || next == from {
                continue;
            }
            previous.insert(next.clone(), node.clone());
            if next == to {
                let mut path = vec![next.clone()];
                let mut cursor = next.clone();
                while let Some(before) = previous.get(&cursor).filter(|before| *before != from) {
                    path.push(before.clone());
                    cursor = before.clone();
                }
                path.reverse();
                return Some(path);
            }
            queue.push_back(next.clone());
        }
    }
    None
}

/// The cycles of the graph as `a -> b (file), b -> a (file)`: the shortest one through each
/// edge that has a way back, each set of modules once.
fn find_cycles(graph: &Graph) -> Vec<String> {
    let mut cycles = Vec::new();
    let mut reported: BTreeSet<BTreeSet<String>> = BTreeSet::new();
    for (start, edges) in graph {
        for first in edges.keys() {
            let back = if first == start {
                Some(Vec::new())
            } else {
                shortest_path(graph, first, start)
            };
            let Some(back) = back else {
                continue;
            };
            let mut path = vec![start.clone(), first.clone()];
            path.extend(back);
            let members: BTreeSet<String> = path.iter().cloned().collect();
            if !reported.insert(members) {
                continue;
            }
            let steps: Vec<String> = path
                .windows(2)
                .map(|pair| format!("{} -> {} ({})", pair[0], pair[1], graph[&pair[0]][&pair[1]]))
                .collect();
            cycles.push(steps.join(", "));
        }
    }
    cycles
}

/// The module cycles of every crate: between top-level modules, and between the second-level
/// modules inside one top-level module (a parent's own file does not count: it may re-export
/// its children).
fn module_cycles(root: &Path) -> Vec<String> {
    let mut cycles = Vec::new();
    for krate in crates(root) {
        let src = root.join(&krate).join("src");
        let mut files = Vec::new();
        rust_files(&src, &mut files);
        let mut graph = Graph::new();
        for file in &files {
            let relative = file.strip_prefix(&src).expect("below src").to_path_buf();
            let module = module_of(&relative);
            let source = fs::read_to_string(file).expect("read source");
            for reference in references(&module, &source) {
                let (Some(from_top), Some(to_top)) = (reference.from.first(), reference.to.first())
                else {
                    continue;
                };
                if !is_module_file(&src, &reference.to[..1]) {
                    continue;
                }
                let (from, to) = if from_top != to_top {
                    (from_top.clone(), to_top.clone())
                } else if reference.from.len() >= 2
                    && reference.to.len() >= 2
                    && reference.from[1] != reference.to[1]
                    && is_module_file(&src, &reference.to[..2])
                {
                    (reference.from[..2].join("::"), reference.to[..2].join("::"))
                } else {
                    continue;
                };
                graph
                    .entry(from)
                    .or_default()
                    .entry(to)
                    .or_insert_with(|| format!("{krate}/src/{}", relative.display()));
            }
        }
        cycles.extend(
            find_cycles(&graph)
                .into_iter()
                .map(|cycle| format!("{krate}: {cycle}")),
        );
    }
    cycles
}

/// Files of `dir` (relative to the root) whose code, comments and strings left out, holds `needle`
/// as a path (not the tail of a longer name).
fn files_naming(root: &Path, dir: &str, needles: &[&str]) -> Vec<String> {
    let mut files = Vec::new();
    rust_files(&root.join(dir), &mut files);
    let mut hits = Vec::new();
    for file in files {
        let code = code_only(&fs::read_to_string(&file).expect("read source"));
        for (number, line) in code.lines().enumerate() {
            let hit = needles.iter().any(|needle| {
                line.match_indices(needle).any(|(at, _)| {
                    !line[..at]
                        .chars()
                        .last()
                        .is_some_and(|c| is_ident_char(c) || c == '$')
                })
            });
            if hit {
                let relative = file.strip_prefix(root).expect("below root");
                hits.push(format!(
                    "{}:{}: {}",
                    relative.display(),
                    number + 1,
                    line.trim()
                ));
            }
        }
    }
    hits
}

#[test]
fn no_module_imports_a_module_that_imports_it_back() {
    let cycles = module_cycles(&workspace_root());
    assert!(cycles.is_empty(), "module cycles:\n{}", cycles.join("\n"));
}

#[test]
fn no_source_file_is_over_the_line_limit() {
    let root = workspace_root();
    let mut oversize = Vec::new();
    for krate in crates(&root) {
        let mut files = Vec::new();
        rust_files(&root.join(&krate), &mut files);
        for file in files {
            let relative = file
                .strip_prefix(&root)
                .expect("below root")
                .to_string_lossy()
                .into_owned();
            let lines = fs::read_to_string(&file)
                .expect("read source")
                .lines()
                .count();
            if lines > MAX_LINES && !OVERSIZE_ALLOWED.contains(&relative.as_str()) {
                oversize.push(format!("{relative}: {lines} lines"));
            }
        }
    }
    oversize.sort();
    assert!(
        oversize.is_empty(),
        "files over {MAX_LINES} lines:\n{}",
        oversize.join("\n")
    );
}

/// Asserts that no file under `src/{layer}` of any service crate names one of `needles`.
fn assert_no_service_layer_names(layer: &str, needles: &[&str], what: &str) {
    let root = workspace_root();
    let mut hits = Vec::new();
    for krate in crates(&root)
        .into_iter()
        .filter(|name| name.starts_with("svc-"))
    {
        hits.extend(files_naming(
            &root,
            &format!("{krate}/src/{layer}"),
            needles,
        ));
    }
    assert!(hits.is_empty(), "{what}:\n{}", hits.join("\n"));
}

#[test]
fn grpc_adapters_take_nothing_from_the_database_layer() {
    assert_no_service_layer_names(
        "grpc",
        &["crate::db"],
        "grpc code reaching into db (go through service)",
    );
}

#[test]
fn services_know_no_proto_type() {
    assert_no_service_layer_names(
        "service",
        &["proto::", "pb::"],
        "proto types in the service layer",
    );
}

#[test]
fn the_scanner_sees_grouped_and_super_paths() {
    let module = vec!["service".to_owned(), "runs".to_owned()];
    let source = "// crate::comment::ignored\nuse crate::{db::models::x, execution::{plan, joint::Y}};\nuse super::super::grpc::Z;\nlet s = \"crate::string\";\nmod tests { use super::*; }\n";
    let targets: Vec<String> = references(&module, source)
        .into_iter()
        .map(|reference| format!("{}>{}", reference.from.join("::"), reference.to.join("::")))
        .collect();
    assert_eq!(
        targets,
        [
            "service::runs>db::models",
            "service::runs>execution::plan",
            "service::runs>execution::joint",
            "service::runs>grpc::Z",
            "service::runs::tests>service::runs",
        ]
    );
}
