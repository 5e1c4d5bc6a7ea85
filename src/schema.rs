//! The JSON Schema of `sites.toml`, generated from the [`crate::raw`] types: their doc comments
//! are the descriptions, their `example`s the examples. `blueprint schema` prints it for editors
//! (taplo / Even Better TOML: `#:schema ./sites.schema.json`), and [`crate::load`] checks the
//! shape of every file against it, so the schema and the loader cannot drift apart.
//!
//! Draft-07 is used because it is what TOML editors' validators understand best.

pub mod reference;

use std::sync::OnceLock;

use schemars::generate::SchemaSettings;
use serde_json::Value;

use crate::raw::RawConfig;

/// The schema as a JSON value (draft-07, definitions under `definitions`).
pub fn schema() -> Value {
    let mut schema = SchemaSettings::draft07()
        .into_generator()
        .into_root_schema_for::<RawConfig>()
        .to_value();
    schema["$id"] = Value::from("https://blueprint.invalid/sites.schema.json");
    schema
}

/// The schema, generated once per process: the loader checks every file against it.
pub fn cached() -> &'static Value {
    static SCHEMA: OnceLock<Value> = OnceLock::new();
    SCHEMA.get_or_init(schema)
}

/// The schema, pretty-printed, ending in a newline.
pub fn to_pretty_string() -> String {
    let mut text = serde_json::to_string_pretty(&schema()).unwrap_or_default();
    text.push('\n');
    text
}

/// Schemas of the keys whose raw type is looser than what the file may hold: a `toml::Value`
/// (a string or a table) or a string with a fixed set of values. The value lists come from the
/// model, so they are the ones `resolve` accepts.
pub mod forms {
    use schemars::{json_schema, Schema, SchemaGenerator};
    use serde_json::{json, Value};

    use crate::model::{Os, Runtime};

    fn one_of_strings(values: &[&str], description: &str) -> Schema {
        json_schema!({ "type": "string", "enum": values, "description": description })
    }

    /// `os`.
    pub fn os(_: &mut SchemaGenerator) -> Schema {
        let ids: Vec<&str> = Os::ALL.iter().map(|os| os.id()).collect();
        let mut schema = one_of_strings(&ids, "Target distribution of the host.");
        schema.insert("examples".into(), json!(["ubuntu-24.04"]));
        schema
    }

    /// `runtime`.
    pub fn runtime(_: &mut SchemaGenerator) -> Schema {
        let ids: Vec<&str> = Runtime::ALL.iter().map(|r| r.id()).collect();
        let mut schema = one_of_strings(
            &ids,
            "Decides which hardening the runtime can bear; default guessed from the executable.",
        );
        schema.insert("examples".into(), json!(["node"]));
        schema
    }

    /// `database`.
    pub fn database(_: &mut SchemaGenerator) -> Schema {
        let mut schema = one_of_strings(
            &["postgres", "sqlite", "none"],
            "`postgres`: a role and a database of the site's own; `sqlite`: a database file in the site's state directory (default `none`).",
        );
        schema.insert("examples".into(), json!(["postgres"]));
        schema
    }

    /// `behind`.
    pub fn behind(_: &mut SchemaGenerator) -> Schema {
        let mut schema = one_of_strings(
            &["cloudflare"],
            "A CDN in front of the site whose client addresses nginx restores.",
        );
        schema.insert("examples".into(), json!(["cloudflare"]));
        schema
    }

    /// `monitoring`: the monitoring stack setup.sh installs.
    pub fn monitoring(_: &mut SchemaGenerator) -> Schema {
        let mut schema = one_of_strings(
            &["prometheus"],
            "Prometheus and node exporter on 127.0.0.1, scraping every service's `metrics`.",
        );
        schema.insert("examples".into(), json!(["prometheus"]));
        schema
    }

    /// `tls`: a mode or the paths of a certificate on the host.
    pub fn tls(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "description": "`acme` (Let's Encrypt, the default), `none`, or the paths of a certificate already on the host.",
            "anyOf": [
                { "type": "string", "enum": ["acme", "none"] },
                {
                    "type": "object",
                    "properties": {
                        "cert": { "type": "string", "examples": ["/etc/ssl/example/fullchain.pem"] },
                        "key": { "type": "string", "examples": ["/etc/ssl/example/privkey.pem"] }
                    },
                    "required": ["cert", "key"],
                    "additionalProperties": false
                }
            ],
            "examples": ["acme"]
        })
    }

    /// `release`: a command like `run`, optional.
    pub fn release(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "anyOf": [
                { "type": "string" },
                { "type": "array", "items": { "type": "string" }, "minItems": 1 }
            ],
            "examples": ["/usr/bin/python3 manage.py migrate"]
        })
    }

    /// `run`: a command line split like a shell line, or the arguments one by one.
    pub fn run(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "description": "The command, with an absolute executable: a string split like a shell line, or an array of arguments.",
            "anyOf": [
                { "type": "string" },
                { "type": "array", "items": { "type": "string" }, "minItems": 1 }
            ],
            "examples": ["/usr/bin/node server.js"]
        })
    }

    /// The example of `env`.
    pub fn example_env() -> Value {
        json!({ "NODE_ENV": "production" })
    }

    /// The example of `headers`.
    pub fn example_paths() -> Value {
        json!({ "/static/": "staticfiles" })
    }

    /// The example of `headers`.
    pub fn example_headers() -> Value {
        json!({ "X-Frame-Options": "DENY" })
    }
}
