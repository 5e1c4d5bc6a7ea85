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
//! Messages are lowercase, name things in backticks and always say what to do next.

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
        writeln!(out, "error: {}", diagnostic.message)?;
        if let (Some(source), Some(span)) = (&self.source, &diagnostic.span) {
            let start = source.position(span.start);
            let line = source.line_text(start.line);
            let gutter = " ".repeat(start.line.to_string().len());
            writeln!(out, "{gutter}--> {}:{start}", source.path().display())?;
            writeln!(out, "{gutter} |")?;
            writeln!(out, "{} | {}", start.line, line.replace('\t', " "))?;
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
                writeln!(out, "{gutter} = help: {help}")?;
            }
        } else if let Some(help) = &diagnostic.help {
            writeln!(out, "  = help: {help}")?;
        }
        Ok(())
    }
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
