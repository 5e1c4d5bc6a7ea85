//! Stage 1: parse the source text into [`crate::raw`] types.
//!
//! Syntax errors, type errors and unknown keys all come from the TOML deserializer with a span;
//! they are turned into one positioned [`Diagnostic`] without rewording the parser's message.

use crate::diagnostic::{Diagnostic, Report};
use crate::raw::RawConfig;
use crate::source::SourceFile;

/// Parses `source` into the raw config.
///
/// # Errors
/// A report with the deserializer's message at its position.
pub fn parse(source: &SourceFile) -> Result<RawConfig, Report> {
    toml::from_str::<RawConfig>(source.text()).map_err(|err| {
        let mut message = err.message().trim_end().to_owned();
        if message.is_empty() {
            // The parser has no words for a few errors (a stray carriage return): name the
            // character it stopped at. The report shows it escaped.
            let stopped_at = err
                .span()
                .and_then(|s| source.text().get(s.start..)?.chars().next());
            message = match stopped_at {
                Some(c) => format!("unexpected character `{c}`"),
                None => "the file is not valid TOML".to_owned(),
            };
        }
        let help = help_for(&message);
        let diagnostic = match err.span() {
            Some(span) => Diagnostic::at(span, message),
            None => Diagnostic::error(message),
        };
        Report::new(source, vec![diagnostic.with_help(help)])
    })
}

/// A hint for the kinds of message the deserializer produces.
fn help_for(message: &str) -> &'static str {
    if message.starts_with("unknown field") {
        "remove the key or fix its spelling; README.md lists every key of sites.toml"
    } else if message.starts_with("missing field") {
        "add the key; README.md lists the required keys of sites.toml"
    } else if message.starts_with("invalid type") {
        "change the value to the type shown; README.md gives an example of every key"
    } else if message.contains("duplicate key") {
        "each key may appear once per table: merge the two entries"
    } else {
        "fix the TOML syntax at this position"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_error_the_parser_has_no_words_for_names_the_character() {
        let src = SourceFile::new("s.toml", "[host]\n\r# comment\n");
        let report = parse(&src).unwrap_err();
        let d = &report.diagnostics()[0];
        assert_eq!(d.message, "unexpected character `\r`");
        assert_eq!(src.position(d.span.clone().unwrap().start).line, 2);
        assert!(report
            .to_string()
            .starts_with("error: unexpected character `\\r`\n"));
    }

    #[test]
    fn unknown_key_is_reported_at_the_key() {
        let src = SourceFile::new(
            "s.toml",
            "[host]\nname = \"a\"\nos = \"debian-12\"\nnmae = 1\n",
        );
        let report = parse(&src).unwrap_err();
        let d = &report.diagnostics()[0];
        assert!(
            d.message.starts_with("unknown field `nmae`"),
            "{}",
            d.message
        );
        assert_eq!(src.position(d.span.clone().unwrap().start).line, 4);
    }
}
