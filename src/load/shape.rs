//! Stage 1, first pass: the shape of the file (which keys exist, which type each value has)
//! checked against the JSON Schema of [`crate::schema`], on the spanned `toml_edit` tree.
//!
//! serde stops at the first unknown key or wrong type; this pass never stops. It reports every
//! such problem with its position, in plain words, and prunes what it reported from the tree so
//! the second pass (serde, into [`crate::raw`]) succeeds and resolve can still find the
//! semantic problems of everything else in the same run. A misspelled key whose likely meaning
//! is a missing key of the same table (`domain` for `domains`) is read under that name, so one
//! typo is one error. A table missing a required key is dropped from the second pass.

use std::ops::Range;

use serde_json::Value as Json;
use toml_edit::{Item, Value};

use super::words;
use crate::diagnostic::Diagnostic;
use crate::suggest;

/// Follows `$ref` (and schemars' `allOf: [{ $ref }]` wrapper) to the schema it names.
pub(super) fn deref<'a>(schema: &'a Json, root: &'a Json) -> &'a Json {
    let mut schema = schema;
    for _ in 0..8 {
        let target = schema
            .get("$ref")
            .or_else(|| schema.pointer("/allOf/0/$ref"))
            .and_then(Json::as_str)
            .and_then(|r| r.strip_prefix('#'))
            .and_then(|pointer| root.pointer(pointer));
        match target {
            Some(next) => schema = next,
            None => break,
        }
    }
    schema
}

/// The JSON types a schema allows, `null` left out (TOML has no null).
pub(super) fn types(schema: &Json) -> Vec<&str> {
    match schema.get("type") {
        Some(Json::String(t)) => vec![t.as_str()],
        Some(Json::Array(ts)) => ts.iter().filter_map(Json::as_str).collect(),
        _ => Vec::new(),
    }
    .into_iter()
    .filter(|t| *t != "null")
    .collect()
}

/// Whether the item's own type is one the schema allows (contents not looked at).
fn has_type(item: &Item, schema: &Json, root: &Json) -> bool {
    let schema = deref(schema, root);
    if let Some(branches) = schema.get("anyOf").and_then(Json::as_array) {
        return branches.iter().any(|b| has_type(item, b, root));
    }
    let allowed = types(schema);
    allowed.is_empty()
        || allowed.iter().any(|t| match (*t, item) {
            ("string", Item::Value(Value::String(_)))
            | ("integer", Item::Value(Value::Integer(_)))
            | ("boolean", Item::Value(Value::Boolean(_)))
            | ("array", Item::Value(Value::Array(_)) | Item::ArrayOfTables(_)) => true,
            ("object", item) => item.is_table_like(),
            _ => false,
        })
}

/// Where a value sits: the key it is the value of, and the table it is in.
struct Place<'s> {
    key: String,
    key_span: Option<Range<usize>>,
    /// Dotted path of the table holding the key (empty at the top level).
    table: &'s [String],
    /// `Some(map)` when the key is an entry of a free-form map such as `env` or `sites`.
    map: Option<&'s str>,
    /// The key and schema whose example the help shows (a map's entries show the map's);
    /// the example is only written out when there is an error to explain.
    example_of: Option<(&'s str, &'s Json)>,
}

impl Place<'_> {
    fn path(&self) -> Vec<String> {
        let mut path = self.table.to_vec();
        path.push(self.key.clone());
        path
    }
}

fn table_name(path: &[String]) -> String {
    if path.is_empty() {
        "the top level".to_owned()
    } else {
        format!("`[{}]`", path.join("."))
    }
}

/// Collects the diagnostics of the shape pass.
pub(super) struct Shape<'a> {
    pub(super) root: &'a Json,
    pub(super) diagnostics: Vec<Diagnostic>,
    /// Wrong-typed values and the placeholder that can stand in for each ([`super::placeholder`]).
    pub(super) replacements: Vec<(Range<usize>, &'static str)>,
}

impl Shape<'_> {
    /// Checks the whole document; false when the top level itself cannot be loaded.
    pub(super) fn document(&mut self, item: &mut Item) -> bool {
        let root = self.root;
        self.table(item, root, &[], None)
    }

    /// Checks one value; false when it must be left out of the second pass.
    fn value(&mut self, item: &mut Item, schema: &Json, place: &Place) -> bool {
        let root = self.root;
        let schema = deref(schema, root);
        if let Some(branches) = schema.get("anyOf").and_then(Json::as_array) {
            let real: Vec<&Json> = branches
                .iter()
                .filter(|b| b.get("type") != Some(&Json::from("null")))
                .collect();
            if let [only] = real.as_slice() {
                return self.value(item, only, place);
            }
        }
        if !has_type(item, schema, root) {
            self.wrong_type(item, schema, place);
            return false;
        }
        if types(schema) == ["object"] {
            return self.table(item, schema, &place.path(), place.key_span.clone());
        }
        if let (Some(items), Some(array)) = (schema.get("items"), item.as_array()) {
            for element in array.iter() {
                let element = Item::Value(element.clone());
                if !has_type(&element, items, root) {
                    let span = element.span().or_else(|| item.span());
                    if let Some(whole) = item.span() {
                        self.replacements.push((whole, "[]"));
                    }
                    self.wrong_type_at(span, schema, place, words::found(&element), " has");
                    return false;
                }
            }
        }
        true
    }

    /// Checks the keys of a table against an object schema; false when a required key is
    /// missing or unusable, so the table must be left out.
    fn table(
        &mut self,
        item: &mut Item,
        schema: &Json,
        path: &[String],
        header: Option<Range<usize>>,
    ) -> bool {
        let root = self.root;
        let span = header.or_else(|| item.span());
        let Some(table) = item.as_table_like_mut() else {
            return false;
        };
        let properties = schema.get("properties").and_then(Json::as_object);
        let known: Vec<&str> = properties
            .map(|p| p.keys().map(String::as_str).collect())
            .unwrap_or_default();
        let required: Vec<&str> = schema
            .get("required")
            .and_then(Json::as_array)
            .map(|r| r.iter().filter_map(Json::as_str).collect())
            .unwrap_or_default();
        let mut missing: Vec<&str> = required
            .iter()
            .copied()
            .filter(|r| !table.contains_key(r))
            .collect();
        let map = schema.get("additionalProperties").filter(|a| a.is_object());
        let mut complete = true;
        let keys: Vec<String> = table.iter().map(|(k, _)| k.to_owned()).collect();
        for key in keys {
            let key_span = table.key(&key).and_then(toml_edit::Key::span);
            let mut place = Place {
                key: key.clone(),
                key_span: key_span.clone(),
                table: path,
                map: None,
                example_of: None,
            };
            let (name, property) = match (properties.and_then(|p| p.get(&key)), map) {
                (Some(property), _) => (key.clone(), property),
                (None, Some(entry)) => {
                    place.map = path.last().map(String::as_str);
                    place.example_of = place.map.map(|m| (m, schema));
                    (key.clone(), entry)
                }
                (None, None) => {
                    match self.unknown_key(&key, key_span, path, &known, &missing) {
                        Some(meant) => {
                            // Read the value under the key it was meant to be.
                            missing.retain(|m| *m != meant);
                            if let Some(moved) = table.remove(&key) {
                                table.insert(&meant, moved);
                            }
                            place.key.clone_from(&meant);
                            let property = properties
                                .and_then(|p| p.get(&meant))
                                .unwrap_or(&Json::Null);
                            (meant, property)
                        }
                        None => {
                            table.remove(&key);
                            continue;
                        }
                    }
                }
            };
            let keep = match table.get_mut(&name) {
                Some(value) => {
                    let place = Place {
                        example_of: place.example_of.or(Some((&name, property))),
                        ..place
                    };
                    self.value(value, property, &place)
                }
                None => true,
            };
            if !keep {
                table.remove(&name);
                complete &= !required.contains(&name.as_str());
            }
        }
        for key in missing {
            let example = properties
                .and_then(|p| p.get(key))
                .and_then(|p| words::example(key, p, root));
            let help = match example {
                Some(example) => format!("add `{example}`"),
                None => format!("add `{key}`"),
            };
            let where_ = if path.is_empty() {
                "the file".to_owned()
            } else {
                table_name(path)
            };
            let message = if key == "host" && path.is_empty() {
                "the file has no `[host]` table".to_owned()
            } else {
                format!("{where_} has no `{key}`")
            };
            self.diagnostics
                .push(Diagnostic::at(span.clone().unwrap_or(0..0), message).with_help(help));
            complete = false;
        }
        complete
    }

    /// Reports an unknown key; returns the key it most likely means when that key is missing
    /// from the table, so the caller can read the value under it.
    fn unknown_key(
        &mut self,
        key: &str,
        span: Option<Range<usize>>,
        path: &[String],
        known: &[&str],
        missing: &[&str],
    ) -> Option<String> {
        let guess = suggest::did_you_mean(key, known.iter().copied());
        let help = match guess {
            Some(guess) => format!("did you mean `{guess}`?"),
            None => format!(
                "remove it or fix its spelling; the keys allowed here are {}",
                known
                    .iter()
                    .map(|k| format!("`{k}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        };
        self.diagnostics.push(
            Diagnostic::at(
                span.unwrap_or(0..0),
                format!("unknown key `{key}` in {}", table_name(path)),
            )
            .with_help(help),
        );
        guess.filter(|g| missing.contains(g)).map(str::to_owned)
    }

    fn wrong_type(&mut self, item: &Item, schema: &Json, place: &Place) {
        let span = item.span().or_else(|| place.key_span.clone());
        if let (Item::Value(_), Some(value), Some(placeholder)) = (
            item,
            item.span(),
            super::placeholder::for_schema(schema, self.root),
        ) {
            self.replacements.push((value, placeholder));
        }
        self.wrong_type_at(span, schema, place, words::found(item), "");
    }

    /// `` `slot` must be a whole number, not a string `` with an example as the help.
    fn wrong_type_at(
        &mut self,
        span: Option<Range<usize>>,
        schema: &Json,
        place: &Place,
        found: &str,
        element: &str,
    ) {
        let expected = words::expected(schema, self.root);
        let subject = match &place.map {
            Some(map) => format!("`{}` in `{map}`", place.key),
            None => format!("`{}`", place.key),
        };
        let message = if element.is_empty() {
            format!("{subject} must be {expected}, not {found}")
        } else {
            format!("{subject} must be {expected}; this element is {found}")
        };
        let example = place
            .example_of
            .and_then(|(key, schema)| words::example(key, schema, self.root));
        let help = match example {
            Some(example) => format!("write it like `{example}`"),
            None => format!("write {expected} here; `blueprint schema` shows every key's form"),
        };
        self.diagnostics
            .push(Diagnostic::at(span.unwrap_or(0..0), message).with_help(help));
    }
}
