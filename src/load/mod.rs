//! Stage 1: parse the source text into [`crate::raw`] types, in two passes that together
//! report every unknown key, wrong type and syntax error of the file at once:
//!
//! 1. [`shape`]: the spanned TOML tree (`toml_edit`) is checked against the schema generated
//!    from the raw types; every problem becomes a positioned diagnostic in plain words, and
//!    what was reported is pruned from the tree.
//! 2. serde deserializes what is left into [`RawConfig`], keeping the original spans, so
//!    [`crate::resolve`] can report the semantic problems of the rest in the same run.
//!
//! A syntax error stops at the first one: past it the parser cannot know what the file means.

mod placeholder;
mod shape;
mod words;

use toml_edit::{DocumentMut, ImDocument, Item};

use crate::diagnostic::{Diagnostic, Report};
use crate::raw::RawConfig;
use crate::source::SourceFile;

/// The outcome of loading: the raw config when the file's shape allowed building one (possibly
/// without the parts that were reported), and every problem found.
#[derive(Debug)]
pub struct Loaded {
    /// `None` when the file cannot be read as a config at all (syntax error, no usable `[host]`).
    pub raw: Option<RawConfig>,
    /// Problems found while loading, in no particular order.
    pub diagnostics: Vec<Diagnostic>,
    /// Spans of wrong-typed values that were read as a neutral placeholder of the right type
    /// (`0`, `""`, `[]`); a later diagnostic inside one of them only repeats the type error.
    pub placeholders: Vec<std::ops::Range<usize>>,
}

/// Loads `source`, collecting every shape problem instead of stopping at the first.
pub fn load(source: &SourceFile) -> Loaded {
    let first = match shape_of(source.text()) {
        Ok(checked) => checked,
        Err(diagnostic) => {
            return Loaded {
                raw: None,
                diagnostics: vec![syntax_error(source, &diagnostic.0, diagnostic.1)],
                placeholders: Vec::new(),
            }
        }
    };
    let (diagnostics, replacements) = (first.diagnostics, first.replacements);
    let mut placeholders = Vec::new();
    let mut tree = (first.root, first.complete);
    if !replacements.is_empty() {
        // Load again with the wrong values overwritten; the problems are those of the first pass.
        if let Ok(second) = shape_of(&placeholder::patch(source.text(), &replacements)) {
            placeholders = replacements.into_iter().map(|(range, _)| range).collect();
            tree = (second.root, second.complete);
        }
    }
    let mut loaded = Loaded {
        raw: None,
        diagnostics,
        placeholders,
    };
    if let (Item::Table(table), true) = tree {
        match toml_edit::de::from_document::<RawConfig>(DocumentMut::from(table)) {
            Ok(raw) => loaded.raw = Some(raw),
            Err(err) => {
                // The shape pass should have caught it; say what serde said rather than nothing.
                loaded
                    .diagnostics
                    .push(syntax_error(source, err.message(), err.span()));
            }
        }
    }
    loaded
}

/// One shape pass over `text`: the pruned tree, whether the top level is complete, and what
/// was found.
struct Checked {
    root: Item,
    complete: bool,
    diagnostics: Vec<Diagnostic>,
    replacements: Vec<(std::ops::Range<usize>, &'static str)>,
}

fn shape_of(text: &str) -> Result<Checked, (String, Option<std::ops::Range<usize>>)> {
    let document = ImDocument::parse(text).map_err(|err| (err.message().to_owned(), err.span()))?;
    let mut root = Item::Table(document.into_table());
    let mut shape = shape::Shape {
        root: crate::schema::cached(),
        diagnostics: Vec::new(),
        replacements: Vec::new(),
    };
    let complete = shape.document(&mut root);
    Ok(Checked {
        root,
        complete,
        diagnostics: shape.diagnostics,
        replacements: shape.replacements,
    })
}

/// Parses `source` into the raw config, failing on any problem (tests, fuzzing, benchmarks).
///
/// # Errors
/// A report with every problem the loader found.
pub fn parse(source: &SourceFile) -> Result<RawConfig, Report> {
    let loaded = load(source);
    match loaded.raw {
        Some(raw) if loaded.diagnostics.is_empty() => Ok(raw),
        _ => Err(Report::new(source, loaded.diagnostics)),
    }
}

fn syntax_error(
    source: &SourceFile,
    message: &str,
    span: Option<std::ops::Range<usize>>,
) -> Diagnostic {
    // The parser's message can span lines (a duplicated table); a diagnostic is one line.
    let mut message = message.split_whitespace().collect::<Vec<_>>().join(" ");
    if message.is_empty() {
        // The parser has no words for a few errors (a stray carriage return): name the
        // character it stopped at. The report shows it escaped.
        let stopped_at = span
            .clone()
            .and_then(|s| source.text().get(s.start..)?.chars().next());
        message = match stopped_at {
            Some(c) => format!("unexpected character `{c}`"),
            None => "the file is not valid TOML".to_owned(),
        };
    }
    let help = help_for(&message);
    let diagnostic = match span {
        Some(span) => Diagnostic::at(span, message),
        None => Diagnostic::error(message),
    };
    diagnostic.with_help(help)
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
        assert_eq!(d.message, "unknown key `nmae` in `[host]`");
        assert_eq!(d.help.as_deref(), Some("did you mean `name`?"));
        assert_eq!(src.position(d.span.clone().unwrap().start).line, 4);
    }

    #[test]
    fn every_shape_problem_is_reported_and_the_rest_still_loads() {
        let src = SourceFile::new(
            "s.toml",
            "[host]\nname = \"a\"\nos = \"debian-12\"\nssh_port = \"22\"\n\n[sites.blog]\ndomain = [\"b.example\"]\nslot = 1\nenv = { A = 1 }\n",
        );
        let loaded = load(&src);
        let messages: Vec<&str> = loaded
            .diagnostics
            .iter()
            .map(|d| d.message.as_str())
            .collect();
        assert_eq!(
            messages,
            [
                "`ssh_port` must be a whole number, not a string",
                "unknown key `domain` in `[sites.blog]`",
                "`A` in `env` must be a string, not a whole number",
            ]
        );
        let raw = loaded.raw.expect("the rest is loaded");
        let blog = raw.sites.values().next().unwrap().get_ref();
        assert_eq!(
            blog.domains.get_ref()[0].get_ref(),
            "b.example",
            "read as `domains`"
        );
        let port = raw.host.get_ref().ssh_port.as_ref().expect("a placeholder");
        assert_eq!(
            *port.get_ref(),
            0,
            "the wrong value is read as a neutral one"
        );
        let (placeholder, read) = (&loaded.placeholders[0], port.span());
        assert!(
            placeholder.start == read.start && read.end <= placeholder.end,
            "read where the wrong value was: {placeholder:?} {read:?}"
        );
    }

    #[test]
    fn a_table_missing_a_required_key_is_left_out() {
        let src = SourceFile::new(
            "s.toml",
            "[host]\nname = \"a\"\nos = \"debian-12\"\n[sites.blog]\nslot = 1\n",
        );
        let loaded = load(&src);
        assert_eq!(
            loaded.diagnostics[0].message,
            "`[sites.blog]` has no `domains`"
        );
        assert_eq!(
            loaded.diagnostics[0].help.as_deref(),
            Some("add `domains = [\"example.com\", \"www.example.com\"]`")
        );
        assert!(loaded.raw.unwrap().sites.is_empty());
    }

    #[test]
    fn a_duplicated_table_is_one_line_of_words() {
        let src = SourceFile::new("s.toml", "[host]\nname = \"a\"\n[host]\n");
        let report = parse(&src).unwrap_err();
        let d = &report.diagnostics()[0];
        assert!(!d.message.contains('\n'), "{:?}", d.message);
        assert!(d.message.contains("duplicate key `host`"), "{}", d.message);
        assert_eq!(src.position(d.span.clone().unwrap().start).line, 3);
    }
}
