//! What TAD puts on a target's shell command line (SPEC §8 "nothing an outsider sends is
//! interpreted"): every value goes in as one single-quoted word ([`quote`], [`CommandLine`]),
//! never as shell text; only text written in TAD's own source (`&'static str`) stays unquoted.
//! A script's `parameter` is split into argv words the way a POSIX shell splits words, with
//! quotes and backslashes honoured and nothing expanded ([`split_words`]).

use std::fmt;

/// Quotes `text` as one word for a POSIX shell (single quotes; embedded quotes escaped).
pub fn quote(text: &str) -> String {
    format!("'{}'", text.replace('\'', r"'\''"))
}

/// A shell command line made of TAD's fixed shell text and quoted words.
///
/// Program names, options and operators come from [`CommandLine::new`] and
/// [`CommandLine::text`], which take only `&'static str` (text of TAD's source); every value
/// (paths, names, arguments, numbers) goes through [`CommandLine::word`] and reaches the target
/// as one word, whatever characters it holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommandLine {
    line: String,
}

impl CommandLine {
    /// A command line starting with fixed shell text.
    pub fn new(text: &'static str) -> CommandLine {
        CommandLine {
            line: text.to_owned(),
        }
    }

    /// Appends fixed shell text (an operator, a program, options).
    pub fn text(mut self, text: &'static str) -> CommandLine {
        self.separate();
        self.line.push_str(text);
        self
    }

    /// Appends `value` as one quoted word.
    pub fn word(mut self, value: impl AsRef<str>) -> CommandLine {
        self.separate();
        self.line.push_str(&quote(value.as_ref()));
        self
    }

    /// Appends each of `values` as one quoted word.
    pub fn words<Word: AsRef<str>>(self, values: impl IntoIterator<Item = Word>) -> CommandLine {
        values.into_iter().fold(self, CommandLine::word)
    }

    /// Appends an environment assignment `NAME='value'` (for the command that follows).
    pub fn assign(mut self, name: &'static str, value: impl AsRef<str>) -> CommandLine {
        self.separate();
        self.line.push_str(name);
        self.line.push('=');
        self.line.push_str(&quote(value.as_ref()));
        self
    }

    /// Appends the glob `'prefix'*`: the files whose name starts with `prefix` (taken
    /// literally).
    pub fn files_starting_with(mut self, prefix: impl AsRef<str>) -> CommandLine {
        self.separate();
        self.line.push_str(&quote(prefix.as_ref()));
        self.line.push('*');
        self
    }

    /// Appends the path of `name` in TAD's private directory of the target's user
    /// (`/tmp/tad-$UID`, where process groups keep their pid files) as one word.
    pub fn private_tmp_file(mut self, name: impl AsRef<str>) -> CommandLine {
        self.separate();
        self.line.push_str("\"/tmp/tad-$UID/\"");
        self.line.push_str(&quote(name.as_ref()));
        self
    }

    /// The command line.
    pub fn as_str(&self) -> &str {
        &self.line
    }

    fn separate(&mut self) {
        if !self.line.is_empty() {
            self.line.push(' ');
        }
    }
}

impl fmt::Display for CommandLine {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(&self.line)
    }
}

/// Why a parameter cannot be split into words.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SplitError {
    #[error("has a single quote at character {0} that is never closed")]
    UnclosedSingleQuote(usize),
    #[error("has a double quote at character {0} that is never closed")]
    UnclosedDoubleQuote(usize),
    #[error("contains a NUL character, which no argument can hold")]
    Nul,
}

/// Splits `text` into argv words as a POSIX shell splits the words of a command, without
/// running anything: blanks (space, tab, newline) separate words; `'...'` keeps everything
/// literally; `"..."` keeps everything literally except that a backslash escapes `$`, `` ` ``,
/// `"`, `\` and a newline (removed); outside quotes a backslash escapes the next character (a
/// backslash-newline is removed, a last lone backslash is kept); `''` and `""` are empty words.
/// No expansion, substitution, redirection, globbing, tilde or comment: `$HOME`, `$(...)`,
/// backticks, `;`, `|`, `&`, `<`, `>`, `*`, `~` and `#` are ordinary characters.
pub fn split_words(text: &str) -> Result<Vec<String>, SplitError> {
    let mut words = Vec::new();
    let mut current = String::new();
    let mut in_word = false;
    let mut chars = text.chars().enumerate().peekable();
    while let Some((position, character)) = chars.next() {
        match character {
            '\0' => return Err(SplitError::Nul),
            ' ' | '\t' | '\n' => {
                if in_word {
                    words.push(std::mem::take(&mut current));
                    in_word = false;
                }
            }
            '\\' => match chars.next() {
                Some((_, '\n')) => {}
                Some((_, '\0')) => return Err(SplitError::Nul),
                Some((_, escaped)) => {
                    current.push(escaped);
                    in_word = true;
                }
                None => {
                    current.push('\\');
                    in_word = true;
                }
            },
            '\'' => {
                in_word = true;
                let unclosed = SplitError::UnclosedSingleQuote(position + 1);
                while let Some(literal) = quoted(&mut chars, '\'', &unclosed)? {
                    current.push(literal);
                }
            }
            '"' => {
                in_word = true;
                let unclosed = SplitError::UnclosedDoubleQuote(position + 1);
                while let Some(quoted_character) = quoted(&mut chars, '"', &unclosed)? {
                    if quoted_character != '\\' {
                        current.push(quoted_character);
                        continue;
                    }
                    match chars.peek().map(|(_, next)| *next) {
                        Some('$' | '`' | '"' | '\\') => {
                            if let Some((_, escaped)) = chars.next() {
                                current.push(escaped);
                            }
                        }
                        Some('\n') => {
                            chars.next();
                        }
                        _ => current.push('\\'),
                    }
                }
            }
            other => {
                current.push(other);
                in_word = true;
            }
        }
    }
    if in_word {
        words.push(current);
    }
    Ok(words)
}

/// The next character inside a quote that `closing` ends: none at `closing`; fails with
/// `unclosed` when the text ends first, and on a NUL.
fn quoted(
    chars: &mut impl Iterator<Item = (usize, char)>,
    closing: char,
    unclosed: &SplitError,
) -> Result<Option<char>, SplitError> {
    match chars.next() {
        None => Err(unclosed.clone()),
        Some((_, '\0')) => Err(SplitError::Nul),
        Some((_, character)) => Ok((character != closing).then_some(character)),
    }
}

/// The command that makes a task's work directory `work` below the shared `base` on a target.
///
/// `base` is shared by every SSH user of the target, so it is world-writable and sticky (1777).
/// `mkdir -m 1777` cannot make it so in one step (coreutils makes it 1755 and chmods it after),
/// and another user's task that looks in between finds a directory it cannot write (seen as a
/// host failing "prepare the work directory" when two users' tasks started at once): a `base`
/// that is not writable yet is given a second to become so. What a task makes below `base` is
/// its user's only (0700): `params.json` lives there.
pub fn prepare_work_dir(base: &str, work: &str) -> CommandLine {
    CommandLine::new("mkdir -p -m 1777 --")
        .word(base)
        .text("2>/dev/null; [ -w")
        .word(base)
        .text("] || sleep 1; umask 077 && mkdir -p --")
        .word(work)
        .text("&& chmod 700 --")
        .word(work)
}

/// Checks a path (or file name) that goes to a target: it must not be empty, nor hold a NUL or
/// another control character (no file system path needs one; spaces and shell metacharacters
/// are fine, they are quoted). Answers why it is refused, naming `field`.
pub fn check_path(field: &str, value: &str) -> Result<(), String> {
    if value.trim().is_empty() {
        return Err(format!("{field} is empty"));
    }
    if let Some(bad) = value.chars().find(|character| character.is_control()) {
        return Err(format!(
            "{field} {value:?} cannot be a path: it holds the control character {bad:?}"
        ));
    }
    Ok(())
}

/// Checks a path inside a directory TAD made (a method package's entrypoint): relative, with no
/// `..` component, so that what runs is a file of the package.
pub fn check_relative_path(field: &str, value: &str) -> Result<(), String> {
    check_path(field, value)?;
    if value.starts_with('/') || value.split('/').any(|component| component == "..") {
        return Err(format!(
            "{field} {value:?} must be a path inside its package (relative, without `..`)"
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn split(text: &str) -> Vec<String> {
        split_words(text).unwrap_or_else(|error| panic!("{text:?}: {error}"))
    }

    #[test]
    fn quote_survives_quotes_and_spaces() {
        assert_eq!(quote("a b"), "'a b'");
        assert_eq!(quote("it's"), r"'it'\''s'");
        assert_eq!(quote(""), "''");
    }

    #[test]
    fn command_lines_quote_every_value_and_keep_fixed_text() {
        let line = CommandLine::new("cd --")
            .word("/opt/my app")
            .text("&&")
            .assign("TAD_RUN", "r'1")
            .word("bash")
            .text("--")
            .words(["x.sh", "$(touch y)", ""])
            .text(";")
            .files_starting_with("/w/.p.tad-part.");
        assert_eq!(
            line.as_str(),
            r"cd -- '/opt/my app' && TAD_RUN='r'\''1' 'bash' -- 'x.sh' '$(touch y)' '' ; '/w/.p.tad-part.'*"
        );
    }

    #[test]
    fn blanks_separate_words_and_metacharacters_are_plain_characters() {
        assert_eq!(split(""), Vec::<String>::new());
        assert_eq!(split("  \t\n "), Vec::<String>::new());
        assert_eq!(split("ok 127.0.0.2"), ["ok", "127.0.0.2"]);
        assert_eq!(split("safe; touch /tmp/x"), ["safe;", "touch", "/tmp/x"]);
        assert_eq!(split("$(touch /tmp/y)"), ["$(touch", "/tmp/y)"]);
        assert_eq!(
            split("`id` | wc && rm -rf / &"),
            ["`id`", "|", "wc", "&&", "rm", "-rf", "/", "&"]
        );
        assert_eq!(split("> out <in 2>&1"), [">", "out", "<in", "2>&1"]);
        assert_eq!(
            split("* ~ $HOME ${VAR} #x"),
            ["*", "~", "$HOME", "${VAR}", "#x"]
        );
        assert_eq!(split("a\ntouch z\r"), ["a", "touch", "z\r"]);
    }

    #[test]
    fn quotes_and_backslashes_are_honoured() {
        assert_eq!(
            split(r#"'quoted with spaces' "double quoted" mixed' 'word"s""#),
            ["quoted with spaces", "double quoted", "mixed words"]
        );
        assert_eq!(split(r#"'a "b" $c \d'"#), [r#"a "b" $c \d"#]);
        assert_eq!(
            split(r#""$HOME \$ \` \" \\ \n `id`""#),
            [r#"$HOME $ ` " \ \n `id`"#]
        );
        assert_eq!(split(r#""it's""#), ["it's"]);
        assert_eq!(split(r"a\ b \$HOME \'x\'"), ["a b", "$HOME", "'x'"]);
        assert_eq!(split("'' \"\" x''"), ["", "", "x"]);
        assert_eq!(split("a\\\nb \"c\\\nd\""), ["ab", "cd"]);
        assert_eq!(split(r"end\"), [r"end\"]);
    }

    #[test]
    fn unbalanced_quotes_and_nul_are_refused() {
        assert_eq!(
            split_words("ok 'abc"),
            Err(SplitError::UnclosedSingleQuote(4))
        );
        assert_eq!(
            split_words(r#"a "b\""#),
            Err(SplitError::UnclosedDoubleQuote(3))
        );
        assert_eq!(split_words("a\0b"), Err(SplitError::Nul));
        assert_eq!(split_words("'a\0'"), Err(SplitError::Nul));
    }

    #[test]
    fn paths_with_control_characters_are_refused() {
        assert!(check_path("artifacts.dest", "/opt/my app;$(x)").is_ok());
        let error = check_path("artifacts.dest", "/opt/a\nb").expect_err("newline");
        assert!(error.contains("artifacts.dest"), "{error}");
        assert!(check_path("groups.targetname", "a\0b").is_err());
        assert!(check_path("artifacts.dest", " ").is_err());
        assert!(check_relative_path("entrypoint", "bin/run.sh").is_ok());
        for bad in ["/bin/sh", "../x.sh", "a/../../x"] {
            assert!(check_relative_path("entrypoint", bad).is_err(), "{bad}");
        }
    }
}
