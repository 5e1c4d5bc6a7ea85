//! Plain words for the shape of a value: what a schema asks for ("a list of strings") and what
//! the file holds ("a string"), and a schema example written back as TOML, so a type error reads
//! "`domains` must be a list of strings, like `domains = ["example.com"]`" instead of serde's
//! "invalid type: string, expected a sequence".

use serde_json::Value as Json;
use toml_edit::{Item, Value};

/// What a TOML value is, in words.
pub(super) fn found(item: &Item) -> &'static str {
    match item {
        Item::None => "nothing",
        Item::Table(_) | Item::Value(Value::InlineTable(_)) => "a table",
        Item::ArrayOfTables(_) => "an array of tables",
        Item::Value(value) => match value {
            Value::String(_) => "a string",
            Value::Integer(_) => "a whole number",
            Value::Float(_) => "a decimal number",
            Value::Boolean(_) => "`true` or `false`",
            Value::Datetime(_) => "a date",
            Value::Array(_) => "a list",
            Value::InlineTable(_) => "a table",
        },
    }
}

/// What a (dereferenced) schema asks for, in words.
pub(super) fn expected(schema: &Json, root: &Json) -> String {
    let schema = super::shape::deref(schema, root);
    if let Some(branches) = schema.get("anyOf").and_then(Json::as_array) {
        let words: Vec<String> = branches
            .iter()
            .filter(|b| b.get("type") != Some(&Json::from("null")))
            .map(|b| expected(b, root))
            .collect();
        return words.join(" or ");
    }
    let items = schema.get("items").map(|i| expected(i, root));
    match super::shape::types(schema).first().copied() {
        Some("string") => "a string".to_owned(),
        Some("integer") => "a whole number".to_owned(),
        Some("boolean") => "`true` or `false`".to_owned(),
        Some("array") => match items.as_deref().and_then(|i| i.strip_prefix("a ")) {
            Some(item) => format!("a list of {item}s"),
            None => "a list".to_owned(),
        },
        _ => "a table".to_owned(),
    }
}

/// `key = <first example>` in TOML syntax, when the schema has an example.
pub(super) fn example(key: &str, schema: &Json, root: &Json) -> Option<String> {
    let schema = super::shape::deref(schema, root);
    let value = schema.get("examples")?.as_array()?.first()?;
    Some(format!("{} = {}", toml_key(key), toml_value(value)))
}

fn toml_value(value: &Json) -> String {
    match value {
        Json::String(s) => format!("{s:?}"),
        Json::Array(items) => {
            let items: Vec<String> = items.iter().map(toml_value).collect();
            format!("[{}]", items.join(", "))
        }
        Json::Object(map) => {
            let pairs: Vec<String> = map
                .iter()
                .map(|(k, v)| format!("{} = {}", toml_key(k), toml_value(v)))
                .collect();
            format!("{{ {} }}", pairs.join(", "))
        }
        other => other.to_string(),
    }
}

fn toml_key(key: &str) -> String {
    let bare = !key.is_empty()
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    if bare {
        key.to_owned()
    } else {
        format!("{key:?}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn schemas_and_examples_in_words() {
        let root = json!({});
        let list = json!({ "type": "array", "items": { "type": "string" }, "examples": [["example.com"]] });
        assert_eq!(expected(&list, &root), "a list of strings");
        assert_eq!(
            example("domains", &list, &root).unwrap(),
            r#"domains = ["example.com"]"#
        );
        let either = json!({ "anyOf": [{ "type": "string" }, { "type": "array", "items": { "type": "string" } }] });
        assert_eq!(expected(&either, &root), "a string or a list of strings");
        let env = json!({ "examples": [{ "NODE_ENV": "production", "a.b": "x" }] });
        assert_eq!(
            example("env", &env, &root).unwrap(),
            r#"env = { NODE_ENV = "production", "a.b" = "x" }"#
        );
    }
}
