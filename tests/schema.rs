//! `blueprint schema` stays in step with the loader: every fixture and the shipped example
//! validate against it, and an unknown key or a wrong type is rejected. The validator here is
//! independent of the loader's own schema walk (it also checks `enum`), so a schema that drifts
//! from what the loader accepts fails this test.

use serde_json::Value;

use blueprint::schema::reference::object_of;

use crate::support::{root, toml_files};

/// The errors of `value` against `schema` (draft-07 subset schemars emits), as JSON pointers.
fn validate(value: &Value, schema: &Value, root: &Value, at: &str, errors: &mut Vec<String>) {
    if let Some(r) = schema.get("$ref").and_then(Value::as_str) {
        let target = root
            .pointer(r.trim_start_matches('#'))
            .expect("$ref resolves");
        return validate(value, target, root, at, errors);
    }
    for sub in schema
        .get("allOf")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        validate(value, sub, root, at, errors);
    }
    if let Some(branches) = schema.get("anyOf").and_then(Value::as_array) {
        let ok = branches.iter().any(|b| {
            let mut e = Vec::new();
            validate(value, b, root, at, &mut e);
            e.is_empty()
        });
        if !ok {
            errors.push(format!("{at}: matches no branch"));
        }
    }
    if let Some(types) = schema.get("type") {
        let types: Vec<&str> = match types {
            Value::String(t) => vec![t],
            Value::Array(ts) => ts.iter().filter_map(Value::as_str).collect(),
            _ => vec![],
        };
        let actual = match value {
            Value::Null => "null",
            Value::Bool(_) => "boolean",
            Value::Number(n) if n.is_i64() => "integer",
            Value::Number(_) => "number",
            Value::String(_) => "string",
            Value::Array(_) => "array",
            Value::Object(_) => "object",
        };
        if !types.contains(&actual) {
            errors.push(format!("{at}: {actual} is not {types:?}"));
            return;
        }
    }
    if let Some(allowed) = schema.get("enum").and_then(Value::as_array) {
        if !allowed.contains(value) {
            errors.push(format!("{at}: {value} not in {allowed:?}"));
        }
    }
    if let (Some(items), Value::Array(array)) = (schema.get("items"), value) {
        for (i, item) in array.iter().enumerate() {
            validate(item, items, root, &format!("{at}/{i}"), errors);
        }
    }
    if let Value::Object(map) = value {
        let properties = schema.get("properties").and_then(Value::as_object);
        for required in schema
            .get("required")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            if !map.contains_key(required.as_str().unwrap_or_default()) {
                errors.push(format!("{at}: missing {required}"));
            }
        }
        for (key, v) in map {
            let path = format!("{at}/{key}");
            match (
                properties.and_then(|p| p.get(key)),
                schema.get("additionalProperties"),
            ) {
                (Some(sub), _) => validate(v, sub, root, &path, errors),
                (None, Some(Value::Bool(false))) => errors.push(format!("{path}: not allowed")),
                (None, Some(sub)) if sub.is_object() => validate(v, sub, root, &path, errors),
                _ => {}
            }
        }
    }
}

fn errors_of(toml_text: &str) -> Vec<String> {
    let value: toml::Value = toml::from_str(toml_text).expect("valid TOML");
    let json = serde_json::to_value(value).unwrap();
    let schema = blueprint::schema::schema();
    let mut errors = Vec::new();
    validate(&json, &schema, &schema, "", &mut errors);
    errors
}

#[test]
fn every_fixture_and_the_example_validate() {
    let mut files = toml_files("tests/fixtures");
    files.push(root().join("sites.toml"));
    assert!(files.len() >= 4);
    for file in files {
        let errors = errors_of(&std::fs::read_to_string(&file).unwrap());
        assert!(errors.is_empty(), "{}: {errors:?}", file.display());
    }
}

#[test]
fn unknown_keys_and_wrong_types_are_rejected() {
    let example = std::fs::read_to_string(root().join("sites.toml")).unwrap();
    let unknown = example.replace("slot = 1", "slot = 1\nslots = 2");
    assert_eq!(
        errors_of(&unknown),
        ["/sites/chienstreats/slots: not allowed"]
    );
    let top = format!("colour = true\n{example}");
    assert_eq!(errors_of(&top), ["/colour: not allowed"]);
    let wrong = example.replace("slot = 1", "slot = \"one\"");
    assert_eq!(errors_of(&wrong).len(), 1);
    let os = example.replace("os = \"ubuntu-24.04\"", "os = \"debian12\"");
    assert_eq!(errors_of(&os).len(), 1, "os values are an enum");
}

#[test]
fn the_schema_describes_keys_with_the_doc_comments() {
    let schema = blueprint::schema::schema();
    assert_eq!(schema["$schema"], "http://json-schema.org/draft-07/schema#");
    let site = &schema["definitions"]["RawSite"];
    assert_eq!(site["additionalProperties"], false);
    assert_eq!(
        site["properties"]["domains"]["description"],
        "Host names served by this site: lowercase, each used by one site of the host only."
    );
    // Defaults the resolver applies are in the schema too, for editors and the README reference.
    assert_eq!(site["properties"]["client_max_body_size"]["default"], "10m");
    assert_eq!(site["properties"]["tls"]["default"], "acme");
}

/// Writes every key the schema gives a default into `table` where it is absent, recursing into
/// sub-tables. Empty lists and tables are skipped: serde already defaults those.
fn fill_defaults(table: &mut toml::Table, schema: &Value, root: &Value) {
    let Some(properties) = schema.get("properties").and_then(Value::as_object) else {
        return;
    };
    for (key, property) in properties {
        match property.get("default") {
            Some(Value::Null | Value::Array(_) | Value::Object(_)) | None => {}
            Some(default) if !table.contains_key(key) => {
                let value = toml::Value::try_from(default).expect("a TOML value");
                table.insert(key.clone(), value);
            }
            Some(_) => {}
        }
        let Some(toml::Value::Table(child)) = table.get_mut(key) else {
            continue;
        };
        if let Some(object) = object_of(root, property) {
            fill_defaults(child, object, root);
        } else if let Some(object) = property
            .get("additionalProperties")
            .and_then(|v| object_of(root, v))
        {
            for (_, entry) in child.iter_mut() {
                if let toml::Value::Table(entry) = entry {
                    fill_defaults(entry, object, root);
                }
            }
        }
    }
}

/// The schema's `default`s (which the README reference shows) are what resolve applies: every
/// input with each absent key written out as its schema default compiles to the same bundle.
#[test]
fn schema_defaults_are_the_defaults_resolve_applies() {
    let schema = blueprint::schema::schema();
    for input in crate::support::inputs() {
        let dir = tempfile::tempdir().unwrap();
        let text = std::fs::read_to_string(root().join(&input)).unwrap();
        let mut table: toml::Table = toml::from_str(&text).unwrap();
        // Key paths are relative to the file: make them absolute so the copy finds them.
        if let Some(toml::Value::Array(keys)) = table
            .get_mut("host")
            .and_then(|h| h.as_table_mut())
            .and_then(|h| h.get_mut("admin_keys"))
        {
            let base = root().join(&input).parent().unwrap().to_path_buf();
            for key in keys {
                let path = base.join(key.as_str().unwrap());
                *key = toml::Value::from(path.to_str().unwrap());
            }
        }
        let compile = |table: &toml::Table, name: &str| {
            let sub = dir.path().join(name);
            std::fs::create_dir(&sub).unwrap();
            let file = sub.join("sites.toml");
            std::fs::write(&file, toml::to_string(table).unwrap()).unwrap();
            blueprint::compile(&file).unwrap_or_else(|report| panic!("{input:?}: {report:?}"))
        };
        let as_written = compile(&table, "as-written");
        fill_defaults(&mut table, &schema, &schema);
        let with_defaults = compile(&table, "with-defaults");
        assert!(
            as_written == with_defaults,
            "{}: a schema default differs from the one resolve applies",
            input.display()
        );
    }
}
