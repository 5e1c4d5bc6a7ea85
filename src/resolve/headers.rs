//! HTTP security headers: blueprint's defaults, and per-site overrides checked so that they
//! cannot break out of an nginx `add_header` directive.

use std::collections::BTreeMap;

use super::invalid::{no_control_chars, Checked, Invalid};

/// Headers sent on every response of every site unless the site overrides them.
pub(super) fn defaults() -> BTreeMap<String, String> {
    [
        ("Content-Security-Policy", "frame-ancestors 'self'"),
        (
            "Permissions-Policy",
            "camera=(), microphone=(), geolocation=(), payment=()",
        ),
        ("Referrer-Policy", "strict-origin-when-cross-origin"),
        ("X-Content-Type-Options", "nosniff"),
        ("X-Frame-Options", "SAMEORIGIN"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect()
}

/// A header name: a token of letters, digits and `-`.
pub(super) fn header_name(name: &str) -> Checked<()> {
    let ok = name.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
        && name.len() <= 64
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-');
    if !ok {
        return Err(Invalid::new(
            format!("header name `{name}` is not valid"),
            "use letters, digits and `-`, e.g. `X-Frame-Options`",
        ));
    }
    if name.eq_ignore_ascii_case("Strict-Transport-Security") {
        return Err(Invalid::new(
            "`Strict-Transport-Security` is managed by blueprint",
            "HSTS is on for every HTTPS site; remove the override",
        ));
    }
    Ok(())
}

/// A header value: printable, no `$` (nginx would expand it as a variable), no `"` or `\`.
pub(super) fn header_value(value: &str) -> Checked<()> {
    no_control_chars("header value", value)?;
    if value.contains(['$', '"', '\\']) || value.len() > 1024 {
        return Err(Invalid::new(
            "header value contains `$`, `\"` or `\\`",
            "nginx expands `$` in header values; write the value without these characters",
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers() {
        assert!(header_name("X-Frame-Options").is_ok());
        for bad in [
            "",
            "X Frame",
            "X:Y",
            "X;Y",
            "strict-transport-security",
            "-X",
        ] {
            assert!(header_name(bad).is_err(), "{bad:?} accepted");
        }
        assert!(header_value("default-src 'self'; img-src *").is_ok());
        for bad in ["$host", "a\"b", "a\\b", "a\nb"] {
            assert!(header_value(bad).is_err(), "{bad:?} accepted");
        }
    }
}
