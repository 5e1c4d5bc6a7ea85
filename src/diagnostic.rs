//! Positioned error messages, collected by every stage and rendered rustc-style:
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
//! and the quoted source line, cannot move the cursor, clear the screen or reorder the text.

use std::fmt::{self, Write as _};
use std::ops::Range;

use crate::source::SourceFile;

/// One problem in the input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    /// Byte range in the source file, when the problem has a place.
    pub span: Option<Range<usize>>,
    /// One line: what is wrong.
    pub message: String,
    /// One line: what to do about it.
    pub help: Option<String>,
}

impl Diagnostic {
    /// A problem without a position (unreadable file, I/O).
    pub fn error(message: impl Into<String>) -> Self {
        Self {
            span: None,
            message: message.into(),
            help: None,
        }
    }

    /// A problem at `span` in the source.
    pub fn at(span: Range<usize>, message: impl Into<String>) -> Self {
        Self {
            span: Some(span),
            message: message.into(),
            help: None,
        }
    }

    /// Adds the hint that says what to do.
    #[must_use]
    pub fn with_help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
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

    fn render_one(&self, out: &mut String, diagnostic: &Diagnostic) -> fmt::Result {
        writeln!(out, "error: {}", shown(&diagnostic.message))?;
        if let (Some(source), Some(span)) = (&self.source, &diagnostic.span) {
            let start = source.position(span.start);
            let line = source.line_text(start.line);
            let gutter = " ".repeat(start.line.to_string().len());
            writeln!(out, "{gutter}--> {}:{start}", source.path().display())?;
            writeln!(out, "{gutter} |")?;
            writeln!(out, "{} | {}", start.line, printable_line(line))?;
            // Underline the span, clipped to the first line it touches.
            let end = source.position(span.end.max(span.start + 1));
            let last_column = if end.line == start.line {
                end.column
            } else {
                line.chars().count() + 1
            };
            let width = last_column.saturating_sub(start.column).max(1);
            writeln!(
                out,
                "{gutter} | {}{}",
                " ".repeat(start.column - 1),
                "^".repeat(width)
            )?;
            if let Some(help) = &diagnostic.help {
                writeln!(out, "{gutter} = help: {}", shown(help))?;
            }
        } else if let Some(help) = &diagnostic.help {
            writeln!(out, "  = help: {}", shown(help))?;
        }
        Ok(())
    }
}

/// A message for the terminal. Messages quote values from the input as they are written, so
/// characters that would garble the terminal ([`garbles_terminal`]) are shown as escapes such as
/// `\n`, `\u{1b}` or `\u{202e}`. Quotes and backslashes stay as they are, so a quoted value
/// reads like the TOML line under the message.
fn shown(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for c in value.chars() {
        if garbles_terminal(c) {
            out.extend(c.escape_debug());
        } else {
            out.push(c);
        }
    }
    out
}

/// A source line for the quote under a message: one visible character for each character, so
/// the caret line stays aligned; a tab becomes a space and anything that would garble the
/// terminal becomes `\u{fffd}`.
fn printable_line(line: &str) -> String {
    line.chars()
        .map(|c| match c {
            '\t' => ' ',
            c if garbles_terminal(c) => '\u{fffd}',
            c => c,
        })
        .collect()
}

/// Whether printing `c` could change how the rest of the line reads: control characters
/// (newline, escape sequences, NUL…) and the invisible Unicode characters that reorder or hide
/// text (bidirectional overrides, zero-width spaces). Input is untrusted: a sites.toml from
/// elsewhere must not be able to rewrite its own error message.
fn garbles_terminal(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{200b}'..='\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2060}'..='\u{2069}' | '\u{feff}'
        )
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut out = String::new();
        for diagnostic in &self.diagnostics {
            self.render_one(&mut out, diagnostic)?;
            out.push('\n');
        }
        let count = self.diagnostics.len();
        let name = self
            .source
            .as_ref()
            .map_or_else(String::new, |s| format!(" `{}`", s.path().display()));
        let plural = if count == 1 { "" } else { "s" };
        write!(
            out,
            "error: could not compile{name} due to {count} error{plural}"
        )?;
        f.write_str(&out)
    }
}

impl std::error::Error for Report {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoted_values_cannot_garble_the_terminal() {
        assert_eq!(
            shown(r#"it's "a\b""#),
            r#"it's "a\b""#,
            "quotes stay as written"
        );
        assert_eq!(shown("a\nb\u{1b}[2Jc"), r"a\nb\u{1b}[2Jc");
        assert_eq!(shown("evil\u{202e}txt.exe"), r"evil\u{202e}txt.exe");
        assert_eq!(shown("café ✓"), "café ✓");
    }

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
