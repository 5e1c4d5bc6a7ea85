//! `blueprint init`: a commented starter `sites.toml` that `blueprint check` accepts as it is.
//! The text is compiled in memory before it is written, so a bad `--host` is reported instead of
//! written, and the file is created with `create_new`, so an existing file is never touched.

use std::io::Write as _;
use std::path::Path;

use crate::diagnostic::Report;
use crate::source::SourceFile;

/// The starter file for `host` and `os` (both checked by compiling the result).
pub fn starter(host: &str, os: &str) -> String {
    let quote = |s: &str| toml_edit::Value::from(s).to_string().trim().to_owned();
    format!(
        r#"# sites.toml: the whole host in one file. `blueprint check` validates it,
# `blueprint build` writes the bundle to out/<host>/, `blueprint plan` says what will change.
# Every key: `blueprint schema` (JSON Schema; editors with taplo use the line below) and README.md.
# #:schema ./sites.schema.json

[host]
name = {host:<29} # the bundle goes to out/<name>/
os = {os:<31} # "debian-12" or "ubuntu-24.04"
acme_email = "ops@example.com"       # Let's Encrypt contact for sites with tls = "acme"
# admin_keys = ["keys/ops.pub"]      # public keys of the deploy user, relative to this file
# ssh_port = 22

# One table per site; the name becomes a Unix user and /srv/sites/<name>/.
[sites.example]
domains = ["example.com", "www.example.com"]
slot = 1                             # owns ports 3100-3109; unique per host, never reused
static = "public"                    # nginx serves current/public at /
# database = "postgres"              # a role and database of the site's own
# secrets = ["STRIPE_SECRET_KEY"]    # names only; values are filled in on the host

# A service: a systemd unit, reachable through nginx when it has a route.
# [sites.example.services.web]
# run = "/usr/bin/node server.js"
# route = "/api/"
# rate_limit = {{ rate = "10r/s", burst = 20 }}
"#,
        host = quote(host),
        os = quote(os),
    )
}

/// Writes the starter to `path`.
///
/// # Errors
/// The diagnostics of the starter (a bad host name), or an existing file / I/O error, in words.
pub fn init(path: &Path, host: &str, os: &str) -> Result<(), InitError> {
    let text = starter(host, os);
    let source = SourceFile::new(path, text.clone());
    crate::load::parse(&source)
        .and_then(|raw| crate::resolve::resolve(&raw, &source))
        .map_err(InitError::Invalid)?;
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)
        .map_err(|e| InitError::Io(e.kind() == std::io::ErrorKind::AlreadyExists, e.to_string()))?;
    file.write_all(text.as_bytes())
        .map_err(|e| InitError::Io(false, e.to_string()))
}

/// Why `init` wrote nothing.
#[derive(Debug)]
pub enum InitError {
    /// The flags make a file that would not check.
    Invalid(Report),
    /// The file exists (`true`) or could not be written.
    Io(bool, String),
}
