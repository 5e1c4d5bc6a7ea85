//! Escaping, one function per target language, registered as template filters.
//!
//! Resolve already rejects most dangerous characters, so in practice these rarely change a
//! value; they exist so that *no* value, validated or not, can end a quote, start a command, add
//! a directive or add a unit key. Where a target language has no way to escape a character
//! (nginx `$`, any control character), the filter fails and rendering stops: a bug, loudly.

use minijinja::{Error, ErrorKind};
use serde::Serialize;

fn refuse(target: &str, value: &str, why: &str) -> Error {
    Error::new(
        ErrorKind::InvalidOperation,
        format!("cannot escape {:?} for {target}: {why}", value),
    )
}

fn reject_control(target: &str, value: &str) -> Result<(), Error> {
    if value.chars().any(char::is_control) {
        return Err(refuse(
            target,
            value,
            "control characters cannot be represented",
        ));
    }
    Ok(())
}

/// Appends `value` between two `quote` characters, each character `c` written as `escaped(c)`
/// when that is `Some`. One pass and at most one allocation: on a large host these run tens of
/// thousands of times, and chained `str::replace` calls cost one allocation each.
fn quote_into(
    out: &mut String,
    value: &str,
    quote: char,
    escaped: impl Fn(char) -> Option<&'static str>,
) {
    out.reserve(value.len() + 2);
    out.push(quote);
    for c in value.chars() {
        match escaped(c) {
            Some(text) => out.push_str(text),
            None => out.push(c),
        }
    }
    out.push(quote);
}

/// [`quote_into`] a new string.
fn quoted(value: &str, quote: char, escaped: impl Fn(char) -> Option<&'static str>) -> String {
    let mut out = String::new();
    quote_into(&mut out, value, quote, escaped);
    out
}

/// bash: single-quotes the value unless it consists only of characters that are never special.
/// Inside single quotes nothing is special; a `'` is written as `'\''`.
pub fn sh(value: &str) -> String {
    let mut out = String::new();
    push_sh(&mut out, value);
    out
}

/// [`sh`], appended to `out`.
fn push_sh(out: &mut String, value: &str) {
    let plain = |c: char| {
        c.is_ascii_alphanumeric()
            || matches!(c, '_' | '-' | '.' | '/' | ':' | '@' | '%' | '+' | ',' | '=')
    };
    if !value.is_empty() && value.chars().all(plain) && !value.starts_with('-') {
        out.push_str(value);
    } else {
        quote_into(out, value, '\'', |c| (c == '\'').then_some(r"'\''"));
    }
}

/// bash: the body of an array literal, built word by word, each quoted with [`sh`]. Serializes
/// as the finished text, so a template prints it as it is: `BP_X=({{ words }})`. Large arrays
/// (one entry per site, unit or file) are built here rather than by a template loop, which
/// costs a filter call per element.
#[derive(Debug, Serialize)]
#[serde(transparent)]
pub struct ShWords {
    text: String,
    #[serde(skip)]
    separator: &'static str,
}

/// Words joined by single spaces.
impl Default for ShWords {
    fn default() -> Self {
        Self::separated_by(" ")
    }
}

impl ShWords {
    /// Words joined by `separator` (whitespace: `" "`, or `"\n  "` for one per line).
    pub fn separated_by(separator: &'static str) -> Self {
        Self {
            text: String::new(),
            separator,
        }
    }

    /// Appends one word.
    pub fn push(&mut self, word: &str) {
        if !self.text.is_empty() {
            self.text.push_str(self.separator);
        }
        push_sh(&mut self.text, word);
    }
}

impl<'a> FromIterator<&'a str> for ShWords {
    fn from_iter<I: IntoIterator<Item = &'a str>>(words: I) -> Self {
        let mut out = Self::default();
        for word in words {
            out.push(word);
        }
        out
    }
}

/// bash: the body of an associative-array literal, `[key]=value …`, built pair by pair, both
/// sides quoted with [`sh`] (bash reads a quoted subscript as the plain key). Serializes as the
/// finished text, like [`ShWords`].
#[derive(Debug, Default, Serialize)]
#[serde(transparent)]
pub struct ShAssoc(String);

impl ShAssoc {
    /// Appends `[key]=value`.
    pub fn insert(&mut self, key: &str, value: &str) {
        if !self.0.is_empty() {
            self.0.push(' ');
        }
        self.0.push('[');
        push_sh(&mut self.0, key);
        self.0.push_str("]=");
        push_sh(&mut self.0, value);
    }
}

/// nginx: a double-quoted string. `\` and `"` are escaped; `$` cannot be (nginx would expand a
/// variable), so it is refused, like control characters and `{`/`}`-free-but-unsafe input.
pub fn nginx(value: &str) -> Result<String, Error> {
    reject_control("nginx", value)?;
    if value.contains('$') {
        return Err(refuse(
            "nginx",
            value,
            "`$` would be expanded as a variable",
        ));
    }
    Ok(quoted(value, '"', |c| match c {
        '\\' => Some(r"\\"),
        '"' => Some(r#"\""#),
        _ => None,
    }))
}

/// systemd command-line argument (`ExecStart=`): double-quoted with C escapes; `%` doubled
/// (specifiers) and `$` doubled (environment expansion). Plain words stay unquoted for readability.
pub fn systemd_arg(value: &str) -> Result<String, Error> {
    let mut out = String::new();
    push_systemd_arg(&mut out, value, &[])?;
    Ok(out)
}

/// [`systemd_arg`], appended to `out`, except that a reference to one of `expand` (`$NAME` or
/// `${NAME}`) is written as `${NAME}`: systemd replaces it by the variable's value, as one word.
fn push_systemd_arg(out: &mut String, value: &str, expand: &[&str]) -> Result<(), Error> {
    reject_control("systemd", value)?;
    let plain = |c: char| {
        c.is_ascii_alphanumeric()
            || matches!(c, '_' | '-' | '.' | '/' | ':' | '@' | '+' | ',' | '=')
    };
    if !value.is_empty() && value.chars().all(plain) {
        out.push_str(value);
        return Ok(());
    }
    out.push('"');
    let mut rest = value;
    while let Some(c) = rest.chars().next() {
        let mut len = c.len_utf8();
        match c {
            '\\' => out.push_str(r"\\"),
            '"' => out.push_str(r#"\""#),
            '%' => out.push_str("%%"),
            '$' => match expanded(rest, expand) {
                Some((name, n)) => {
                    out.extend(["${", name, "}"]);
                    len = n;
                }
                None => out.push_str("$$"),
            },
            _ => out.push(c),
        }
        rest = &rest[len..];
    }
    out.push('"');
    Ok(())
}

/// The name of the `expand` variable `text` starts with (`$NAME` not followed by a name
/// character, or `${NAME}`) and the length of the reference.
fn expanded<'a>(text: &str, expand: &[&'a str]) -> Option<(&'a str, usize)> {
    let after = text.strip_prefix('$')?;
    expand.iter().find_map(|name| {
        if let Some(tail) = after.strip_prefix('{').and_then(|b| b.strip_prefix(*name)) {
            return tail.starts_with('}').then_some((*name, name.len() + 3));
        }
        let tail = after.strip_prefix(*name)?;
        let ends = !tail.starts_with(|c: char| c.is_ascii_alphanumeric() || c == '_');
        ends.then_some((*name, name.len() + 1))
    })
}

/// systemd command line (`ExecStart=`): every argument quoted with [`systemd_arg`], joined by
/// spaces; references to the variables in `expand` are left for systemd to expand.
pub fn systemd_argv(argv: &[String], expand: &[&str]) -> Result<String, Error> {
    let mut out = String::new();
    for (i, arg) in argv.iter().enumerate() {
        if i > 0 {
            out.push(' ');
        }
        push_systemd_arg(&mut out, arg, expand)?;
    }
    Ok(out)
}

/// systemd `Environment="KEY=value"` assignment: double-quoted, `\` and `"` escaped, `%` doubled.
/// (`$` is not expanded in `Environment=`.)
pub fn systemd_env(value: &str) -> Result<String, Error> {
    reject_control("systemd", value)?;
    Ok(quoted(value, '"', |c| match c {
        '\\' => Some(r"\\"),
        '"' => Some(r#"\""#),
        '%' => Some("%%"),
        _ => None,
    }))
}

/// SQL identifier: double-quoted, `"` doubled.
pub fn sql_ident(value: &str) -> Result<String, Error> {
    if value.contains('\0') {
        return Err(refuse("SQL", value, "NUL cannot be represented"));
    }
    Ok(quoted(value, '"', |c| (c == '"').then_some(r#""""#)))
}

/// SQL string literal (standard_conforming_strings, the default since PostgreSQL 9.1):
/// single-quoted, `'` doubled, backslashes literal.
pub fn sql_literal(value: &str) -> Result<String, Error> {
    if value.contains('\0') {
        return Err(refuse("SQL", value, "NUL cannot be represented"));
    }
    Ok(quoted(value, '\'', |c| (c == '\'').then_some("''")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::process::Command;

    const HOSTILE: &[&str] = &[
        "plain",
        "",
        "it's",
        "a\"b",
        "$(reboot)",
        "`id`",
        "a;b",
        "{x}",
        "#c",
        "a b",
        "-rf",
        "\\",
        "\\'",
        "ünï©ødé ✓",
        "%n",
        "$$",
        "'\"'\"",
        "a\\\"b",
        "${HOME}",
        "!x",
        "*",
        "~root",
    ];

    /// Runs `script` in real bash, which must succeed; its output split at NUL bytes.
    fn bash_nul_fields(script: &str) -> Vec<String> {
        let out = Command::new("bash")
            .arg("-c")
            .arg(script)
            .output()
            .expect("bash runs");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout)
            .unwrap()
            .split_terminator('\0')
            .map(str::to_owned)
            .collect()
    }

    /// bash must read back exactly the original string: a real round trip through bash.
    #[test]
    fn sh_round_trips_through_bash() {
        let script: String = HOSTILE
            .iter()
            .map(|v| format!("printf '%s\\0' {}\n", sh(v)))
            .collect();
        assert_eq!(bash_nul_fields(&script), HOSTILE);
    }

    /// Arrays built by `ShWords` and `ShAssoc` read back exactly, keys included.
    #[test]
    fn sh_arrays_round_trip_through_bash() {
        let words: ShWords = HOSTILE.iter().copied().collect();
        let mut lines = ShWords::separated_by("\n  ");
        let mut assoc = ShAssoc::default();
        for word in HOSTILE {
            lines.push(word);
            // Keys of an associative array cannot be empty in bash.
            if !word.is_empty() {
                assoc.insert(word, &format!("v{word}"));
            }
        }
        let script = format!(
            "w=({})\nl=(\n  {}\n)\n[[ \"${{w[*]}}\" == \"${{l[*]}}\" ]] || exit 3\nprintf '%s\\0' \"${{w[@]}}\"\ndeclare -A m=({})\nfor k in \"${{!m[@]}}\"; do printf '%s=%s\\0' \"$k\" \"${{m[$k]}}\"; done\n",
            words.text, lines.text, assoc.0
        );
        let got = bash_nul_fields(&script);
        assert_eq!(&got[..HOSTILE.len()], HOSTILE);
        let mut pairs: Vec<&str> = got[HOSTILE.len()..].iter().map(String::as_str).collect();
        pairs.sort_unstable();
        let mut want: Vec<String> = HOSTILE
            .iter()
            .filter(|w| !w.is_empty())
            .map(|w| format!("{w}=v{w}"))
            .collect();
        want.sort_unstable();
        assert_eq!(pairs, want);
    }

    #[test]
    fn sh_leaves_plain_words_readable() {
        assert_eq!(sh("chienstreats"), "chienstreats");
        assert_eq!(sh("/srv/sites/a"), "/srv/sites/a");
        assert_eq!(sh(""), "''");
        assert_eq!(sh("-n"), "'-n'");
        assert_eq!(sh("it's"), r"'it'\''s'");
    }

    #[test]
    fn nginx_quotes_and_refuses_what_it_cannot_escape() {
        assert_eq!(nginx("a\"b;c{d}#e").unwrap(), r#""a\"b;c{d}#e""#);
        assert_eq!(nginx("a\\").unwrap(), r#""a\\""#);
        assert!(nginx("$host").is_err());
        assert!(nginx("a\nb").is_err());
    }

    #[test]
    fn systemd_escapes_specifiers_and_variables() {
        assert_eq!(systemd_arg("100%").unwrap(), "\"100%%\"");
        assert_eq!(systemd_arg("/usr/bin/node").unwrap(), "/usr/bin/node");
        assert_eq!(systemd_arg("").unwrap(), "\"\"");
        assert_eq!(
            systemd_arg("$HOME \"x\" \\").unwrap(),
            r#""$$HOME \"x\" \\""#
        );
        assert_eq!(systemd_env("A=%h \"q\" $x").unwrap(), r#""A=%%h \"q\" $x""#);
        let argv: Vec<String> = ["/x", "$PORT", "a${HOST}b$HOSTS$$x", "${PORT"]
            .map(str::to_owned)
            .into();
        assert_eq!(
            systemd_argv(&argv, &["PORT", "HOST"]).unwrap(),
            r#"/x "${PORT}" "a${HOST}b$$HOSTS$$$$x" "$${PORT""#
        );
        assert_eq!(systemd_argv(&argv[1..2], &[]).unwrap(), r#""$$PORT""#);
        for v in ["a\nExecStartPre=/bin/sh", "a\rb", "\u{0}"] {
            assert!(systemd_arg(v).is_err() && systemd_env(v).is_err(), "{v:?}");
        }
    }

    #[test]
    fn sql_doubles_quotes() {
        assert_eq!(sql_ident("a\"b").unwrap(), r#""a""b""#);
        assert_eq!(
            sql_literal("it's; DROP TABLE x; --").unwrap(),
            "'it''s; DROP TABLE x; --'"
        );
        assert_eq!(sql_literal("back\\slash").unwrap(), "'back\\slash'");
        assert!(sql_ident("\0").is_err() && sql_literal("\0").is_err());
    }
}
