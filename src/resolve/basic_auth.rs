//! Stage 2 (resolve): a site's `basic_auth` users. Only names go in the bundle; each user's
//! password is generated on the host. A name reaches nginx's password file and bash data, so
//! it is held to a plain shape (no `:`, which ends the name in that file, no spaces).

use super::invalid::{Checked, Invalid};

/// Longest user name accepted: long enough for `reviewer-2026`, short enough to type.
const MAX_LEN: usize = 32;

/// Checks one basic-auth user name: `[a-z][a-z0-9._-]*`, at most 32 characters.
pub(super) fn user(name: &str) -> Checked<String> {
    let shape_ok = name.starts_with(|c: char| c.is_ascii_lowercase())
        && name.len() <= MAX_LEN
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '.' | '_' | '-'));
    if shape_ok {
        Ok(name.to_owned())
    } else {
        Err(Invalid::new(
            format!("`{name}` is not a basic-auth user name"),
            "start with a lowercase letter; then lowercase letters, digits, `.`, `_` or `-`, at most 32 in all",
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_names_pass_and_nothing_else() {
        for ok in ["reviewer", "qa.team", "client_2", "a-b"] {
            assert_eq!(user(ok).ok().as_deref(), Some(ok));
        }
        for bad in [
            "",
            "Reviewer",
            "1st",
            "a:b",
            "a b",
            "a'b",
            "é",
            &"a".repeat(33),
        ] {
            assert!(user(bad).is_err(), "{bad:?} accepted");
        }
    }
}
