//! Environment variable names and values. Names are POSIX-portable identifiers; values may hold
//! any printable text (they are escaped for systemd) but no control characters, so they can never
//! start a new line in a unit file.

use super::invalid::{no_control_chars, Checked, Invalid};
use crate::model::contract::RESERVED;

/// Checks a variable name: `[A-Za-z_][A-Za-z0-9_]*`, at most 128 characters, not reserved.
pub(super) fn env_key(key: &str) -> Checked<()> {
    let first_ok = key
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_');
    if !first_ok || key.len() > 128 || !key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
        return Err(Invalid::new(
            format!("environment variable name `{key}` is not valid"),
            "use letters, digits and `_`, starting with a letter or `_`, e.g. `NODE_ENV`",
        ));
    }
    if RESERVED.contains(&key) {
        return Err(Invalid::new(
            format!("`{key}` is set by blueprint"),
            "remove it: every unit gets it from blueprint (the service's address, its writable directories, DATABASE_URL from the site's database; see \"The app's contract\" in README.md)",
        ));
    }
    Ok(())
}

/// Checks a value: no control characters, at most 4096 bytes.
pub(super) fn env_value(value: &str) -> Checked<()> {
    no_control_chars("environment value", value)?;
    if value.len() > 4096 {
        return Err(Invalid::new(
            "environment value is longer than 4096 bytes",
            "put large data in a file in the release",
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_and_values() {
        assert!(env_key("NODE_ENV").is_ok());
        assert!(env_key("_x1").is_ok());
        for bad in [
            "",
            "1X",
            "A-B",
            "A B",
            "A=B",
            "PORT",
            "HOSTNAME",
            "DATABASE_URL",
            "É",
        ] {
            assert!(env_key(bad).is_err(), "{bad:?} accepted");
        }
        assert!(env_value("production \"quoted\" $(x) `y` ; # {}").is_ok());
        assert!(env_value("a\nb").is_err());
        assert!(env_value("a\0b").is_err());
        assert!(env_value("a\rb").is_err());
    }
}
