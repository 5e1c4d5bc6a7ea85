//! Mutation of the seed corpus (the shipped example, the fixtures, the bad-input corpus) with
//! TOML-ish edits, and the check every rejection must pass: positioned, saying something, and
//! printing nothing a terminal would act on.

use blueprint::diagnostic::Report;
use proptest::test_runner::TestCaseError;

use super::fail;
use crate::support::root;

/// A rejection as the user reads it: every diagnostic says something and points into the file,
/// and the printed report holds nothing a terminal would act on (escape sequences, carriage
/// returns, bidi overrides, zero-width characters), whatever the input held.
pub(super) fn check_rejection(report: &Report) -> Result<(), TestCaseError> {
    let text = report.to_string();
    let acts_on = |c: char| {
        c != '\n'
            && (c.is_control()
                || matches!(c, '\u{200b}'..='\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2060}'..='\u{2069}' | '\u{feff}'))
    };
    if let Some(c) = text.chars().find(|&c| acts_on(c)) {
        return Err(fail(format!("the report prints {c:?}: {text:?}")));
    }
    for d in report.diagnostics() {
        if d.span.is_none() || d.message.trim().is_empty() {
            return Err(fail(format!("not positioned or says nothing: {d:?}")));
        }
    }
    Ok(())
}

/// Tokens and values that make TOML-ish edits interesting.
pub(super) const DICTIONARY: &[&str] = &[
    "[host]\n",
    "[sites.x]\n",
    "[sites.x.services.y]\n",
    "\n",
    "=",
    "\"",
    "'",
    "[",
    "]",
    "{",
    "}",
    ",",
    "#",
    "\\",
    "\\u0000",
    "\\n",
    "0",
    "-1",
    "99999999999999999999",
    "1e400",
    "nan",
    "true",
    "slot = 1000\n",
    "slot = 1001\n",
    "port = 5432\n",
    "port = 3100\n",
    "route = \"/\"\n",
    "static = \"public\"\n",
    "tls = { cert = 1 }\n",
    "tls = \"none\"\n",
    "domains = []\n",
    "run = []\n",
    "run = [1]\n",
    "run = \"\"\n",
    "env = { PORT = \"1\" }\n",
    "$(reboot)",
    "`id`",
    "%n",
    "é",
    "\u{2028}",
    "\u{0}",
    "\u{1b}[2J",
    "\\u001b[31m",
    "\u{202e}",
    "\r",
    "headers = { \"X-A\" = \"$host\" }\n",
    "health = \"/h\"\n",
    "secrets = [\"A\", \"A\"]\n",
    "rate_limit = { rate = \"0r/s\" }\n",
    "admin_keys = [\"~\"]\n",
    "admin_keys = [\"${NOPE}\"]\n",
];

/// The seed corpus: the shipped example, the fixtures and the bad-input corpus.
pub(super) fn seeds() -> Vec<String> {
    let mut paths = vec![root().join("sites.toml")];
    for dir in ["tests/fixtures", "tests/errors"] {
        paths.extend(
            crate::support::toml_files(dir)
                .into_iter()
                .map(|p| root().join(p)),
        );
    }
    paths
        .iter()
        .map(|p| std::fs::read_to_string(p).expect("seed readable"))
        .collect()
}

/// One edit of `text` at byte `at`: insert, replace, delete a run, duplicate a line, truncate.
pub(super) fn mutate(text: &mut Vec<u8>, at: usize, op: u8, piece: &[u8]) {
    let at = at.min(text.len());
    match op {
        0 => {
            text.splice(at..at, piece.iter().copied());
        }
        1 => {
            let end = (at + piece.len()).min(text.len());
            text.splice(at..end, piece.iter().copied());
        }
        2 => {
            let end = (at + 1 + piece.len() * 3).min(text.len());
            text.drain(at..end);
        }
        3 => {
            let start = text[..at]
                .iter()
                .rposition(|b| *b == b'\n')
                .map_or(0, |i| i + 1);
            let end = text[at..]
                .iter()
                .position(|b| *b == b'\n')
                .map_or(text.len(), |i| at + i + 1);
            let line = text[start..end].to_vec();
            text.splice(end..end, line);
        }
        _ => text.truncate(at),
    }
}
