//! File paths: directories inside a release (`static`) and absolute paths on the host
//! (`tls = { cert, key }`). Both reach nginx directives, so the character set is conservative.

use super::invalid::{Checked, Invalid};

fn plain_segment(seg: &str) -> bool {
    !seg.is_empty()
        && seg != "."
        && seg != ".."
        && seg
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_'))
}

/// A relative directory inside the release, e.g. `public` or `dist/client`.
pub(super) fn release_dir(dir: &str) -> Checked<()> {
    if dir.len() <= 200 && dir.split('/').all(plain_segment) {
        Ok(())
    } else {
        Err(Invalid::new(
            format!("static directory `{dir}` is not a plain relative path"),
            "name a directory inside the release, e.g. `public` or `dist/client` (letters, digits, `.`, `-`, `_`)",
        ))
    }
}

/// An absolute path on the host, e.g. `/etc/ssl/private/site.key`.
pub(super) fn host_path(what: &str, path: &str) -> Checked<()> {
    match path.strip_prefix('/') {
        Some(rest) if path.len() <= 400 && rest.split('/').all(plain_segment) => Ok(()),
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
        assert!(host_path("cert", "/etc/ssl/a.pem").is_ok());
        for bad in ["etc/a", "/", "/a/../b", "/a b", "/a;", "/a\"b", "/a$b"] {
            assert!(host_path("cert", bad).is_err(), "{bad:?} accepted");
        }
    }
}
