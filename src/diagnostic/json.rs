//! `--message-format json`: one JSON object per line and diagnostic, for editors and CI.
//! Positions are given both as 1-based line/column (columns in characters) and as byte offsets;
//! JSON escaping makes the raw text safe, so messages are kept exactly as they are.

use serde_json::{json, Value};

use super::Report;

/// One line per diagnostic, in position order; empty when there is nothing to say.
pub(super) fn render(report: &Report) -> String {
    let mut out = String::new();
    for d in &report.diagnostics {
        let mut object = json!({
            "severity": d.severity.label(),
            "message": d.message,
            "help": d.help,
            "file": report.source.as_ref().map(|s| s.path().display().to_string()),
        });
        if let (Some(source), Some(span)) = (&report.source, &d.span) {
            let start = source.position(span.start);
            let end = source.position(span.end);
            object["span"] = json!({
                "start": span.start, "end": span.end,
                "line": start.line, "column": start.column,
                "end_line": end.line, "end_column": end.column,
            });
        } else {
            object["span"] = Value::Null;
        }
        out.push_str(&object.to_string());
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::super::Diagnostic;
    use super::*;
    use crate::source::SourceFile;

    #[test]
    fn one_object_per_line_with_positions() {
        let src = SourceFile::new("s.toml", "a = 1\nb = \"\u{1b}\"\n");
        let report = Report::new(
            &src,
            vec![
                Diagnostic::at(10..13, "bad `\u{1b}`").with_help("fix"),
                Diagnostic::warning_at(4..5, "odd"),
            ],
        );
        let lines: Vec<Value> = report
            .json()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(lines.len(), 2);
        assert_eq!(lines[0]["severity"], "warning");
        assert_eq!(lines[0]["span"]["line"], 1);
        assert_eq!(lines[1]["message"], "bad `\u{1b}`");
        assert_eq!(lines[1]["span"]["line"], 2);
        assert_eq!(lines[1]["span"]["column"], 5);
        assert_eq!(lines[1]["file"], "s.toml");
        assert!(!report.json().contains('\u{1b}'), "escaped by JSON");
    }
}
