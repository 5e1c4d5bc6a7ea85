//! File paths: directories inside a release (`static`) and absolute paths on the host
//! (`tls = { cert, key }`). Both reach nginx directives, so the character set is conservative.

use super::invalid::{Checked, Invalid};
use super::Validated;
use crate::model::HostPath;

fn plain_segment(seg: &str) -> bool {
    !seg.is_empty()
        && seg != "."
        && seg != ".."
        && seg
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_'))
}

/// A plain relative path: it cannot leave the release it is resolved in.
fn inside_release(path: &str) -> bool {
    path.len() <= 200 && path.split('/').all(plain_segment)
}

/// A relative directory inside the release, e.g. `public` or `dist/client`.
pub(super) fn release_dir(dir: &str) -> Checked<()> {
    if inside_release(dir) {
        Ok(())
    } else {
        Err(Invalid::new(
            format!("static directory `{dir}` is not a plain relative path"),
            "name a directory inside the release, e.g. `public` or `dist/client` (letters, digits, `.`, `-`, `_`)",
        ))
    }
}

/// A path inside the release the app must be able to write, e.g. `.next` (Next.js ISR) or
/// `var/cache`. Relative and plain, so it cannot name anything outside the release.
pub(super) fn writable(path: &str) -> Checked<()> {
    if inside_release(path) {
        Ok(())
    } else {
        Err(Invalid::new(
            format!("writable path `{path}` is not a plain relative path inside the release"),
            "name a directory inside the release, e.g. `.next` or `var/cache` (letters, digits, `.`, `-`, `_`; no `..`); state that must outlive a release belongs in `$STATE_DIRECTORY`",
        ))
    }
}

/// An absolute path on the host, e.g. `/etc/ssl/private/site.key`.
pub(super) fn host_path(what: &str, path: &str) -> Checked<HostPath> {
    match path.strip_prefix('/') {
        Some(rest) if path.len() <= 400 && rest.split('/').all(plain_segment) => {
            Ok(HostPath::new(path.to_owned(), Validated::checked()))
        }
        _ => Err(Invalid::new(
            format!("{what} `{path}` is not a plain absolute path"),
            "give the absolute path on the host, e.g. `/etc/ssl/private/example.key` (letters, digits, `.`, `-`, `_`)",
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths() {
        assert!(release_dir("public").is_ok() && release_dir("dist/client").is_ok());
        for bad in ["", "/public", "../x", "a//b", "a b", "a;b", "./a", "a/"] {
            assert!(release_dir(bad).is_err(), "{bad:?} accepted");
        }
        assert!(writable(".next").is_ok() && writable("var/cache").is_ok());
        for bad in [
            "",
            "..",
            "../shared",
            ".next/../..",
            "/tmp",
            "a//b",
            "a b",
            ".",
        ] {
            assert!(writable(bad).is_err(), "{bad:?} accepted");
        }
        assert!(host_path("cert", "/etc/ssl/a.pem").is_ok());
        for bad in ["etc/a", "/", "/a/../b", "/a b", "/a;", "/a\"b", "/a$b"] {
            assert!(host_path("cert", bad).is_err(), "{bad:?} accepted");
        }
    }
}
