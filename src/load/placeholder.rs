//! Error recovery for wrong types. A value of the wrong type cannot be deserialized, and leaving
//! it out of a required key would drop its whole table, hiding that table's other problems. So
//! the text of the value is overwritten, in place and at the same length, with a neutral value
//! of the right type (`0`, `""`, `[]`, `false`) padded with spaces, and the file is loaded
//! again: every other span stays exactly where it was. Resolve may then object to the
//! placeholder, at the placeholder's span; those diagnostics repeat the type error and are
//! dropped ([`Loaded::placeholders`](super::Loaded::placeholders)).

use std::ops::Range;

use serde_json::Value as Json;

use super::shape::{deref, types};

/// The placeholder for what `schema` expects, when there is one that always fits a scalar.
pub(super) fn for_schema(schema: &Json, root: &Json) -> Option<&'static str> {
    let schema = deref(schema, root);
    let first = match schema.get("anyOf").and_then(Json::as_array) {
        Some(branches) => branches
            .iter()
            .map(|b| deref(b, root))
            .find(|b| types(b) != Vec::<&str>::new())?,
        None => schema,
    };
    match types(first).first().copied()? {
        "integer" => Some("0"),
        "string" => Some("\"\""),
        "array" => Some("[]"),
        "boolean" => Some("false"),
        _ => None, // a table placeholder would only report its own missing keys
    }
}

/// `text` with each range overwritten by its placeholder, padded with spaces; line breaks stay
/// so line numbers do not move. Ranges that are too short or overlap are left as they are.
pub(super) fn patch(text: &str, replacements: &[(Range<usize>, &str)]) -> String {
    let mut bytes = text.as_bytes().to_vec();
    let mut done: Vec<Range<usize>> = Vec::new();
    for (range, placeholder) in replacements {
        let fits = range.len() >= placeholder.len()
            && range.end <= bytes.len()
            && text.is_char_boundary(range.start)
            && text.is_char_boundary(range.end)
            && !done
                .iter()
                .any(|d| d.start < range.end && range.start < d.end);
        if !fits {
            continue;
        }
        for (i, byte) in bytes[range.clone()].iter_mut().enumerate() {
            *byte = match (placeholder.as_bytes().get(i), *byte) {
                (Some(p), _) => *p,
                (None, b @ (b'\n' | b'\r')) => b,
                (None, _) => b' ',
            };
        }
        done.push(range.clone());
    }
    // Only ASCII was written, over whole characters (continuation bytes included), so the
    // result is still UTF-8; the fallback keeps the original rather than panicking.
    String::from_utf8(bytes).unwrap_or_else(|_| text.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn placeholders_keep_every_offset() {
        let text = "slot = \"one\"\nenv = 1\nx = \"\"\"a\nb\"\"\"\n";
        let slot = 7..12;
        let x = text.find("\"\"\"").unwrap()..text.rfind("\"\"\"").unwrap() + 3;
        let patched = patch(text, &[(slot, "0"), (17..18, "\"\""), (x, "\"\"")]);
        // `env = 1` is too short for `""` and stays as it is.
        assert_eq!(patched, "slot = 0    \nenv = 1\nx = \"\"  \n    \n");
        assert_eq!(patched.len(), text.len());
    }

    #[test]
    fn each_type_has_its_neutral_value() {
        let root = json!({});
        assert_eq!(
            for_schema(&json!({ "type": ["integer", "null"] }), &root),
            Some("0")
        );
        assert_eq!(
            for_schema(
                &json!({ "anyOf": [{ "type": "string" }, { "type": "array" }] }),
                &root
            ),
            Some("\"\"")
        );
        assert_eq!(for_schema(&json!({ "type": "object" }), &root), None);
    }
}
