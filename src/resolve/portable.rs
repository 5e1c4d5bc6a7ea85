//! Warnings about values that make the bundle depend on the machine that builds it.
//! `admin_keys = ["~/.ssh/id_ed25519.pub"]` reads a different file on every laptop (and none in
//! CI), so the committed bundle and a colleague's `build --check` disagree. Accepted, but said.

use crate::diagnostic::Diagnostic;
use crate::raw::SpannedString;

/// A warning when a key path is expanded from the builder's home directory or environment.
pub(super) fn admin_keys_warning(path: &SpannedString) -> Option<Diagnostic> {
    let value = path.get_ref();
    let from = if value.starts_with('~') {
        "your home directory"
    } else if value.contains('$') {
        "an environment variable"
    } else {
        return None;
    };
    Some(
        Diagnostic::warning_at(
            path.span(),
            format!("admin key `{value}` is read from {from}: the bundle differs per machine"),
        )
        .with_help(
            "copy the public key next to sites.toml (e.g. `keys/ops.pub`) and name it relative to the file",
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spanned(s: &str) -> SpannedString {
        #[derive(serde::Deserialize)]
        struct Wrap {
            v: SpannedString,
        }
        toml::from_str::<Wrap>(&format!("v = {s:?}")).unwrap().v
    }

    #[test]
    fn home_and_environment_paths_warn_and_relative_ones_do_not() {
        assert!(admin_keys_warning(&spanned("~/.ssh/id.pub")).is_some());
        assert!(admin_keys_warning(&spanned("${HOME}/id.pub")).is_some());
        assert!(admin_keys_warning(&spanned("keys/ops.pub")).is_none());
        let w = admin_keys_warning(&spanned("~/k")).unwrap();
        assert!(!w.is_error());
    }
}
