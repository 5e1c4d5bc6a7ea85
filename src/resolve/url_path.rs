//! URL paths used as nginx `location` prefixes (`route`) and health probes (`health`).
//! A conservative character set keeps them free of nginx syntax (`;`, `{`, `$`, quotes, spaces)
//! and of regex meaning.

use super::invalid::{Checked, Invalid};

/// Checks a path: starts with `/`, only unreserved URL characters and `/`, no `.`/`..` segments.
pub(super) fn url_path(what: &str, path: &str) -> Checked<()> {
    let allowed = |c: char| c.is_ascii_alphanumeric() || matches!(c, '/' | '-' | '_' | '.' | '~');
    let help = "write an absolute URL path such as `/` or `/api/v1/`, using letters, digits, `/`, `-`, `_`, `.` and `~`";
    if !path.starts_with('/') {
        return Err(Invalid::new(
            format!("{what} `{path}` does not start with `/`"),
            help,
        ));
    }
    if path.len() > 200 || !path.chars().all(allowed) {
        return Err(Invalid::new(
            format!("{what} `{path}` contains characters that are not allowed"),
            help,
        ));
    }
    if path.contains("//") || path.split('/').any(|seg| seg == "." || seg == "..") {
        return Err(Invalid::new(
            format!("{what} `{path}` is not a normalized path"),
            "remove `//`, `.` and `..` segments",
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes() {
        for ok in ["/", "/api/v1/", "/healthz", "/a.b-c_d~e"] {
            assert!(url_path("route", ok).is_ok(), "{ok} rejected");
        }
        for bad in [
            "", "api", "/a b", "/a;", "/a{", "/$uri", "/a/../b", "//", "/a\"", "/é", "/a?x=1",
            "/a#b",
        ] {
            assert!(url_path("route", bad).is_err(), "{bad:?} accepted");
        }
    }
}
