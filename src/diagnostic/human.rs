//! The rustc-style text rendering of a [`Report`]: message, `--> file:line:col`, the quoted line,
//! carets under the span, `= help:`, then a summary line. Colour is optional and only ever wraps
//! text that [`super::terminal`] has made safe.

use std::fmt::Write as _;

use super::terminal::{printable_line, shown, width};
use super::{Diagnostic, Report, Severity};

/// Whether to colour the output (decided by the caller from `--color`, `NO_COLOR` and whether
/// stderr is a terminal).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Style {
    /// No escape sequences at all: files, pipes, tests.
    Plain,
    /// ANSI colours: red errors, yellow warnings, blue gutter, like rustc.
    Colored,
}

impl Style {
    fn paint(self, code: &str, text: &str) -> String {
        match self {
            Style::Plain => text.to_owned(),
            Style::Colored => format!("\x1b[{code}m{text}\x1b[0m"),
        }
    }

    fn severity(self, severity: Severity) -> String {
        let code = match severity {
            Severity::Error => "1;31",
            Severity::Warning => "1;33",
        };
        self.paint(code, severity.label())
    }

    fn gutter(self, text: &str) -> String {
        self.paint("1;34", text)
    }
}

/// Every diagnostic, a blank line after each, then the summary line.
pub(super) fn render(report: &Report, style: Style) -> String {
    let mut out = String::new();
    for diagnostic in &report.diagnostics {
        render_one(report, &mut out, diagnostic, style);
        out.push('\n');
    }
    out.push_str(&summary(report, style));
    out
}

fn render_one(report: &Report, out: &mut String, diagnostic: &Diagnostic, style: Style) {
    let color = match diagnostic.severity {
        Severity::Error => "1;31",
        Severity::Warning => "1;33",
    };
    let _ = writeln!(
        out,
        "{}{}",
        style.severity(diagnostic.severity),
        style.paint("1", &format!(": {}", shown(&diagnostic.message)))
    );
    let mut help_indent = "  ".to_owned();
    if let (Some(source), Some(span)) = (&report.source, &diagnostic.span) {
        let start = source.position(span.start);
        let line = source.line_text(start.line);
        let gutter = " ".repeat(start.line.to_string().len());
        let bar = style.gutter("|");
        let _ = writeln!(
            out,
            "{gutter}{} {}:{start}",
            style.gutter("-->"),
            source.path().display()
        );
        let _ = writeln!(out, "{gutter} {bar}");
        let _ = writeln!(
            out,
            "{} {bar} {}",
            style.gutter(&start.line.to_string()),
            printable_line(line)
        );
        // Underline the span, clipped to the first line it touches; columns are measured in
        // terminal cells so wide characters before or inside the span keep the carets aligned.
        let before: String = line.chars().take(start.column - 1).collect();
        let end = source.position(span.end.max(span.start + 1));
        let inside: String = if end.line == start.line {
            line.chars()
                .skip(start.column - 1)
                .take(end.column.saturating_sub(start.column))
                .collect()
        } else {
            line.chars().skip(start.column - 1).collect()
        };
        let carets = "^".repeat(width(&inside).max(1));
        let _ = writeln!(
            out,
            "{gutter} {bar} {}{}",
            " ".repeat(width(&before)),
            style.paint(color, &carets)
        );
        help_indent = format!("{gutter} ");
    }
    if let Some(help) = &diagnostic.help {
        let _ = writeln!(
            out,
            "{help_indent}{} {}: {}",
            style.gutter("="),
            style.paint("1", "help"),
            shown(help)
        );
    }
}

/// `error: could not compile … due to 2 errors; 1 warning emitted`, or for an accepted file
/// with warnings `warning: `…` has 1 warning`.
fn summary(report: &Report, style: Style) -> String {
    let errors = report.count(Severity::Error);
    let warnings = report.count(Severity::Warning);
    let name = report
        .source
        .as_ref()
        .map_or_else(String::new, |s| format!(" `{}`", s.path().display()));
    let plural = |n: usize, word: &str| format!("{n} {word}{}", if n == 1 { "" } else { "s" });
    if errors == 0 {
        return format!(
            "{}: {}{name}",
            style.severity(Severity::Warning),
            plural(warnings, "warning")
        );
    }
    let also = if warnings > 0 {
        format!("; {} emitted", plural(warnings, "warning"))
    } else {
        String::new()
    };
    format!(
        "{}: could not compile{name} due to {}{also}",
        style.severity(Severity::Error),
        plural(errors, "error")
    )
}

#[cfg(test)]
mod tests {
    use super::super::{Diagnostic, Report};
    use super::*;
    use crate::source::SourceFile;

    #[test]
    fn carets_are_measured_in_terminal_columns() {
        let src = SourceFile::new("s.toml", "name = \"日本\" # x\n");
        let start = src.text().find('"').unwrap();
        let end = src.text().rfind('"').unwrap() + 1;
        let text = Report::new(&src, vec![Diagnostic::at(start..end, "bad")]).to_string();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[3], "1 | name = \"日本\" # x");
        assert_eq!(
            lines[4], "  |        ^^^^^^",
            "two cells per wide character"
        );
    }

    #[test]
    fn colour_wraps_words_and_plain_has_no_escapes() {
        let src = SourceFile::new("s.toml", "a = 1\n");
        let report = Report::new(
            &src,
            vec![Diagnostic::warning_at(4..5, "odd").with_help("fix it")],
        );
        let plain = report.human(Style::Plain);
        assert!(!plain.contains('\x1b'), "{plain:?}");
        assert!(plain.starts_with("warning: odd\n"), "{plain}");
        assert!(plain.ends_with("warning: 1 warning `s.toml`"), "{plain}");
        let colored = report.human(Style::Colored);
        assert!(
            colored.starts_with("\x1b[1;33mwarning\x1b[0m"),
            "{colored:?}"
        );
    }

    #[test]
    fn the_summary_counts_errors_and_warnings() {
        let src = SourceFile::new("s.toml", "a = 1\n");
        let report = Report::new(
            &src,
            vec![
                Diagnostic::at(0..1, "bad"),
                Diagnostic::warning_at(4..5, "odd"),
            ],
        );
        assert!(report
            .to_string()
            .ends_with("error: could not compile `s.toml` due to 1 error; 1 warning emitted"));
    }
}
