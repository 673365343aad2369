//! What legitimately varies between two runs of the recorded script, replaced by stable
//! placeholders: generated ids (`<id1>`, `<id2>`… in order of first appearance), JWTs, API tokens, times of
//! today, the gateway's address and the temp paths. Error messages, codes, field names and array
//! order are kept as they are; object keys come out sorted.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Map, Value};

/// Replaces what varies between runs by placeholders, remembering the ids it has seen.
#[derive(Default)]
pub struct Normaliser {
    /// Generated id → its placeholder number.
    ids: BTreeMap<String, usize>,
    /// 32-hex strings that are not generated (md5s of the script's fixed content).
    kept: BTreeSet<String>,
    /// Literal texts replaced first, longest first (base URL, host:port, temp paths).
    literals: Vec<(String, String)>,
    /// Today's date and its neighbours, as `YYYY-MM-DD`: times on these days are "now".
    recent_days: Vec<String>,
}

impl Normaliser {
    pub fn new(recent_days: Vec<String>) -> Normaliser {
        Normaliser {
            recent_days,
            ..Normaliser::default()
        }
    }

    /// A 32-hex text that is stable across runs (an md5 of fixed content): never replaced.
    pub fn keep(&mut self, text: &str) {
        self.kept.insert(text.to_owned());
    }

    /// Replaces every occurrence of `text` by `placeholder`.
    pub fn literal(&mut self, text: &str, placeholder: &str) {
        if text.is_empty() {
            return;
        }
        self.literals
            .push((text.to_owned(), placeholder.to_owned()));
        self.literals
            .sort_by(|(a, _), (b, _)| b.len().cmp(&a.len()).then(a.cmp(b)));
    }

    /// The normalised copy of a JSON value: strings and keys normalised, keys sorted.
    pub fn value(&mut self, value: &Value) -> Value {
        match value {
            Value::String(text) => Value::String(self.text(text)),
            Value::Array(items) => {
                Value::Array(items.iter().map(|item| self.value(item)).collect())
            }
            Value::Object(object) => {
                // Visited in the order of the raw keys, so that placeholders are numbered the
                // same whatever order the answer's keys came in.
                let mut raw: Vec<(&String, &Value)> = object.iter().collect();
                raw.sort_by_key(|(key, _)| *key);
                let mut entries: Vec<(String, Value)> = raw
                    .into_iter()
                    .map(|(key, item)| (self.text(key), self.value(item)))
                    .collect();
                entries.sort_by(|(a, _), (b, _)| a.cmp(b));
                let mut sorted = Map::new();
                for (key, item) in entries {
                    sorted.insert(key, item);
                }
                Value::Object(sorted)
            }
            other => other.clone(),
        }
    }

    /// The normalised copy of a text.
    pub fn text(&mut self, text: &str) -> String {
        let mut text = text.to_owned();
        for (literal, placeholder) in &self.literals {
            if text.contains(literal.as_str()) {
                text = text.replace(literal.as_str(), placeholder);
            }
        }
        let text = replace_jwts(&text);
        let text = replace_api_tokens(&text);
        let text = self.replace_ids(&text);
        self.replace_times(&text)
    }

    fn replace_ids(&mut self, text: &str) -> String {
        let bytes = text.as_bytes();
        let mut out = String::with_capacity(text.len());
        let mut index = 0;
        let mut copied = 0;
        while index < bytes.len() {
            if !bytes[index].is_ascii_alphanumeric() {
                index += 1;
                continue;
            }
            let start = index;
            while index < bytes.len() && bytes[index].is_ascii_alphanumeric() {
                index += 1;
            }
            let word = &text[start..index];
            if word.len() == 32
                && word
                    .bytes()
                    .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
                && !self.kept.contains(word)
            {
                let next = self.ids.len() + 1;
                let number = *self.ids.entry(word.to_owned()).or_insert(next);
                out.push_str(&text[copied..start]);
                out.push_str(&format!("<id{number}>"));
                copied = index;
            }
        }
        out.push_str(&text[copied..]);
        out
    }

    /// `YYYY-MM-DD HH:MM:SS` or `YYYY-MM-DDTHH:MM:SS[.fff][Z|±HH:MM]` on a recent day → `<time>`.
    fn replace_times(&self, text: &str) -> String {
        let mut out = String::with_capacity(text.len());
        let mut rest = text;
        'scan: while let Some(position) = self
            .recent_days
            .iter()
            .filter_map(|day| rest.find(day.as_str()))
            .min()
        {
            let candidate = &rest[position..];
            let clock = candidate.get(10..19).unwrap_or("");
            let is_time = clock.len() == 9
                && matches!(clock.as_bytes()[0], b' ' | b'T')
                && clock[1..].bytes().enumerate().all(|(i, b)| {
                    if i == 2 || i == 5 {
                        b == b':'
                    } else {
                        b.is_ascii_digit()
                    }
                });
            if !is_time {
                out.push_str(&rest[..position + 10]);
                rest = &rest[position + 10..];
                continue 'scan;
            }
            let mut end = 19;
            let tail = candidate.as_bytes();
            if tail.get(end) == Some(&b'.') {
                end += 1;
                while tail.get(end).is_some_and(u8::is_ascii_digit) {
                    end += 1;
                }
            }
            if tail.get(end) == Some(&b'Z') {
                end += 1;
            } else if matches!(tail.get(end), Some(b'+') | Some(b'-'))
                && candidate.get(end + 1..end + 6).is_some_and(|zone| {
                    zone.bytes().enumerate().all(|(i, b)| {
                        if i == 2 {
                            b == b':'
                        } else {
                            b.is_ascii_digit()
                        }
                    })
                })
            {
                end += 6;
            }
            out.push_str(&rest[..position]);
            out.push_str("<time>");
            rest = &candidate[end..];
        }
        out.push_str(rest);
        out
    }
}

/// `tad_` and 43 base62 characters (an API token's secret) → `<api-token>`.
fn replace_api_tokens(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(position) = rest.find("tad_") {
        let candidate = &rest[position + 4..];
        let end = candidate
            .find(|c: char| !c.is_ascii_alphanumeric())
            .unwrap_or(candidate.len());
        out.push_str(&rest[..position]);
        if end == 43 {
            out.push_str("<api-token>");
        } else {
            out.push_str(&rest[position..position + 4 + end]);
        }
        rest = &candidate[end..];
    }
    out.push_str(rest);
    out
}

/// `eyJ….….…` (a JWT) → `<jwt>`.
fn replace_jwts(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(position) = rest.find("eyJ") {
        let candidate = &rest[position..];
        let end = candidate
            .find(|c: char| !(c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.')))
            .unwrap_or(candidate.len());
        let token = &candidate[..end];
        out.push_str(&rest[..position]);
        if token.split('.').count() == 3 {
            out.push_str("<jwt>");
        } else {
            out.push_str(token);
        }
        rest = &candidate[end..];
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn ids_times_and_tokens_are_replaced_and_the_rest_kept() {
        let mut normaliser = Normaliser::new(vec!["2026-12-04".to_owned()]);
        normaliser.keep("0123456789abcdef0123456789abcdef");
        normaliser.literal("http://127.0.0.1:4321", "<base>");
        let a = "019aeb0c5f0e7c3a9d2b8e4f6a1b2c3d";
        let b = "019aeb0c5f0e7c3a9d2b8e4f6a1b2c3e";
        let value = json!({
            "z": format!("{b} then {a} then {b}"),
            "a": [a, "0123456789abcdef0123456789abcdef", "2026-12-04 10:11:12", "2019-01-09 12:48:00"],
            b: "2026-12-04T10:11:12.123Z and 2026-12-04T10:11:12+08:00!",
            "url": "http://127.0.0.1:4321/x eyJhbGciOi.eyJzdWIi.sig-_x",
            "token": format!("Bearer tad_{} tad_short", "A1b2C3d4E5".repeat(4) + "xyz"),
            "n": 3
        });
        assert_eq!(
            normaliser.value(&value),
            json!({
                "a": ["<id2>", "0123456789abcdef0123456789abcdef", "<time>", "2019-01-09 12:48:00"],
                "n": 3,
                "url": "<base>/x <jwt>",
                "token": "Bearer <api-token> tad_short",
                "z": "<id1> then <id2> then <id1>",
                "<id1>": "<time> and <time>!"
            })
        );
    }
}
