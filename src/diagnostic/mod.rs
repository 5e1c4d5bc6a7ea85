//! Positioned messages, collected by every stage and rendered rustc-style:
//!
//! ```text
//! error: port 3101 is already used by `chienstreats.frontend`
//!   --> sites.toml:14:8
//!    |
//! 14 | port = 3101
//!    |        ^^^^
//!    = help: pick a free port or leave `port` out to use the site's slot block
//! ```
//!
//! Messages are lowercase, name things in backticks and always say what to do next. They quote
//! the input as written, and the input is untrusted: whatever is printed, the message, the help
//! and the quoted source line, cannot move the cursor, clear the screen or reorder the text
//! ([`terminal`]).
//!
//! A diagnostic is an error (the input is rejected, exit 2) or a warning (reported, the build
//! goes on). [`human`] renders them for people, with colour when asked; [`json`] for editors and CI.

mod human;
mod json;
mod terminal;

use std::fmt;
use std::ops::Range;

use crate::source::SourceFile;
pub use human::Style;

/// How bad a diagnostic is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default)]
pub enum Severity {
    /// The input is rejected: nothing is written, the exit code is 2.
    #[default]
    Error,
    /// Worth fixing, but the bundle is still built and the exit code does not change.
    Warning,
}

impl Severity {
    /// The word that starts the rendered diagnostic.
    pub fn label(self) -> &'static str {
        match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
        }
    }
}

/// One problem in the input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    /// Byte range in the source file, when the problem has a place.
    pub span: Option<Range<usize>>,
    /// One line: what is wrong.
    pub message: String,
    /// One line: what to do about it.
    pub help: Option<String>,
    /// Error (the default) or warning.
    pub severity: Severity,
}

impl Diagnostic {
    /// A problem without a position (unreadable file, I/O).
    pub fn error(message: impl Into<String>) -> Self {
        Self {
            span: None,
            message: message.into(),
            help: None,
            severity: Severity::Error,
        }
    }

    /// A problem at `span` in the source.
    pub fn at(span: Range<usize>, message: impl Into<String>) -> Self {
        Self {
            span: Some(span),
            ..Self::error(message)
        }
    }

    /// A warning at `span`: reported, but the input is accepted.
    pub fn warning_at(span: Range<usize>, message: impl Into<String>) -> Self {
        Self {
            severity: Severity::Warning,
            ..Self::at(span, message)
        }
    }

    /// Adds the hint that says what to do.
    #[must_use]
    pub fn with_help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }

    /// Whether this diagnostic rejects the input.
    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }
}

/// All problems found in one source, in the order of their position.
#[derive(Debug, Clone)]
pub struct Report {
    source: Option<SourceFile>,
    diagnostics: Vec<Diagnostic>,
}

impl Report {
    /// A report about `source`; diagnostics are sorted by position so output is stable.
    pub fn new(source: &SourceFile, mut diagnostics: Vec<Diagnostic>) -> Self {
        diagnostics.sort_by_key(|d| d.span.as_ref().map_or((0, 0), |s| (s.start, s.end)));
        Self {
            source: Some(source.clone()),
            diagnostics,
        }
    }

    /// A report that has no source to quote (the file could not even be read).
    pub fn without_source(diagnostic: Diagnostic) -> Self {
        Self {
            source: None,
            diagnostics: vec![diagnostic],
        }
    }

    /// The diagnostics, sorted by position.
    pub fn diagnostics(&self) -> &[Diagnostic] {
        &self.diagnostics
    }

    /// How many diagnostics have `severity`.
    pub fn count(&self, severity: Severity) -> usize {
        self.diagnostics
            .iter()
            .filter(|d| d.severity == severity)
            .count()
    }

    /// Whether the input is rejected.
    pub fn has_errors(&self) -> bool {
        self.count(Severity::Error) > 0
    }

    /// The report for people: every diagnostic, then a summary line.
    pub fn human(&self, style: Style) -> String {
        human::render(self, style)
    }

    /// The report for tools: one JSON object per line, one line per diagnostic.
    pub fn json(&self) -> String {
        json::render(self)
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.human(Style::Plain))
    }
}

impl std::error::Error for Report {}

#[cfg(test)]
mod tests {
    use super::terminal::garbles_terminal;
    use super::*;

    #[test]
    fn the_quoted_source_line_is_printable_and_aligned() {
        // Raw control characters in a comment (TOML rejects them, and the line is quoted) and in a
        // message and help (the toml crate quotes keys as written).
        let src = SourceFile::new("sites.toml", "x = 1 # \u{1b}[2J\t\u{202e}y\n");
        let y = src.text().find('y').unwrap();
        let report = Report::new(
            &src,
            vec![Diagnostic::at(y..y + 1, "key `a\u{1b}[2Jb` is unknown").with_help("not\rthis")],
        );
        let text = report.to_string();
        assert!(
            !text.chars().any(|c| c != '\n' && garbles_terminal(c)),
            "{text:?}"
        );
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[0], r"error: key `a\u{1b}[2Jb` is unknown");
        assert_eq!(lines[5], r"  = help: not\rthis");
        assert_eq!(lines[3], "1 | x = 1 # \u{fffd}[2J \u{fffd}y");
        assert_eq!(
            lines[4], "  |               ^",
            "the caret is under the `y`"
        );
    }

    #[test]
    fn renders_position_caret_and_help() {
        let src = SourceFile::new("sites.toml", "[host]\nname = \"Bad Name\"\n");
        let report = Report::new(
            &src,
            vec![Diagnostic::at(14..24, "host name `Bad Name` is not valid")
                .with_help("use lowercase letters")],
        );
        let text = report.to_string();
        assert_eq!(
            text,
            "error: host name `Bad Name` is not valid\n --> sites.toml:2:8\n  |\n2 | name = \"Bad Name\"\n  |        ^^^^^^^^^^\n  = help: use lowercase letters\n\nerror: could not compile `sites.toml` due to 1 error"
        );
    }
}
