//! `blueprint init`: a commented starter `sites.toml` that `blueprint check` accepts as it is.
//! The text is compiled in memory before it is written, so a bad `--host` is reported instead of
//! written, and the file is created with `create_new`, so an existing file is never touched.
//!
//! The deploy user logs in with admin keys only, so the starter needs one: the public key given
//! with `--admin-key` (else the user's own `~/.ssh/id_*.pub`) is copied to `keys/admin.pub` beside
//! the file, which names it by that relative path (the bundle then builds the same on any laptop).

use std::io::Write as _;
use std::path::{Path, PathBuf};

use crate::diagnostic::Report;
use crate::source::SourceFile;

/// The starter file for `host` and `os` (both checked by compiling the result).
pub fn starter(host: &str, os: &str) -> String {
    starter_with_key(host, os, None)
}

/// The starter naming `admin_key` (relative to the file) in `admin_keys`, when given.
fn starter_with_key(host: &str, os: &str, admin_key: Option<&str>) -> String {
    let keys = match admin_key {
        Some(rel) => format!("admin_keys = {:<24} # public keys of the deploy user, relative to this file", format!("[\"{rel}\"]")),
        None => "# admin_keys = [\"keys/ops.pub\"]      # public keys of the deploy user, relative to this file".to_owned(),
    };
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
{keys}
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

/// Where init copies the admin key, relative to the new file.
const KEY_COPY: &str = "keys/admin.pub";

/// The public key init copies when `--admin-key` is not given: the user's own, first found.
fn default_admin_key() -> Option<PathBuf> {
    let home = std::env::var_os("HOME")?;
    ["id_ed25519.pub", "id_ecdsa.pub", "id_rsa.pub"]
        .iter()
        .map(|name| Path::new(&home).join(".ssh").join(name))
        .find(|p| p.is_file())
}

/// Writes the starter to `path`, with `admin_key` (or the user's own) copied beside it.
///
/// # Errors
/// The diagnostics of the starter (a bad host name or key), an existing file, no key to copy,
/// or an I/O error, in words. Nothing is left behind on error.
pub fn init(path: &Path, host: &str, os: &str, admin_key: Option<&Path>) -> Result<(), InitError> {
    if path.exists() {
        return Err(InitError::Io(true, String::new()));
    }
    let source_key = admin_key
        .map(Path::to_path_buf)
        .or_else(default_admin_key)
        .ok_or(InitError::NoKey)?;
    let key_text = std::fs::read(&source_key)
        .map_err(|e| InitError::Io(false, format!("{}: {e}", source_key.display())))?;
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let copy = dir.join(KEY_COPY);
    let created_copy = match std::fs::read(&copy) {
        Ok(existing) if existing == key_text => false,
        Ok(_) => return Err(InitError::KeyExists(copy)),
        Err(_) => {
            std::fs::create_dir_all(dir.join("keys"))
                .and_then(|()| std::fs::write(&copy, &key_text))
                .map_err(|e| InitError::Io(false, format!("{}: {e}", copy.display())))?;
            true
        }
    };
    let undo = |err: InitError| {
        if created_copy {
            let _ = std::fs::remove_file(&copy);
        }
        err
    };
    let text = starter_with_key(host, os, Some(KEY_COPY));
    let source = SourceFile::new(path, text.clone());
    crate::load::parse(&source)
        .and_then(|raw| crate::resolve::resolve(&raw, &source))
        .map_err(|report| undo(InitError::Invalid(report)))?;
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)
        .map_err(|e| {
            undo(InitError::Io(
                e.kind() == std::io::ErrorKind::AlreadyExists,
                e.to_string(),
            ))
        })?;
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
    /// No `--admin-key` and no `~/.ssh/id_*.pub` to copy.
    NoKey,
    /// `keys/admin.pub` exists with another key.
    KeyExists(PathBuf),
}
