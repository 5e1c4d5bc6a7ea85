//! The ACME contact address, passed to certbot on the host's command line.

use super::invalid::{Checked, Invalid};

/// A plain `local@domain` address with a conservative character set.
pub(super) fn email(address: &str) -> Checked<()> {
    let local_ok = |c: char| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '%' | '+' | '-');
    let ok = address.split_once('@').is_some_and(|(local, domain)| {
        !local.is_empty()
            && local.len() <= 64
            && local.chars().all(local_ok)
            && super::domain::domain(domain).is_ok()
    });
    if ok {
        Ok(())
    } else {
        Err(Invalid::new(
            format!("`{address}` is not a plain email address"),
            "write an address like `ops@example.com`; Let's Encrypt sends expiry notices there",
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails() {
        assert!(email("ops@example.com").is_ok() && email("a.b+c@x.io").is_ok());
        for bad in [
            "",
            "ops",
            "@x.com",
            "a@b",
            "a b@x.com",
            "a@x.com;rm",
            "a'@x.com",
            "$(x)@x.com",
        ] {
            assert!(email(bad).is_err(), "{bad:?} accepted");
        }
    }
}
