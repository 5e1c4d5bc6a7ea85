//! Domain names, which reach nginx `server_name`, certbot's command line and PLAN.md.
//! Only lowercase ASCII host names are accepted (IDNs in their `xn--` form), so none of them can
//! carry nginx or shell syntax.

use super::invalid::{Checked, Invalid};
use super::Validated;
use crate::model::Domain;

/// Checks one fully qualified domain name.
pub(super) fn domain(name: &str) -> Checked<Domain> {
    let bad = |why: &str| {
        Invalid::new(
            format!("domain `{name}` is not valid: {why}"),
            "write a lowercase host name like `www.example.com` (internationalized names in their `xn--` form)",
        )
    };
    if name.starts_with("*.") {
        return Err(Invalid::new(
            format!("wildcard domain `{name}` is not supported"),
            "list each host name explicitly: certificates are issued with the HTTP challenge",
        ));
    }
    if name.is_empty() || name.len() > 253 {
        return Err(bad("it must be 1 to 253 characters long"));
    }
    let labels: Vec<&str> = name.split('.').collect();
    if labels.len() < 2 {
        return Err(bad("it needs at least two labels"));
    }
    for label in &labels {
        if label.is_empty() || label.len() > 63 {
            return Err(bad("each label must be 1 to 63 characters"));
        }
        if !label
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        {
            return Err(bad(
                "only lowercase letters, digits, `-` and `.` are allowed",
            ));
        }
        if label.starts_with('-') || label.ends_with('-') {
            return Err(bad("a label cannot start or end with `-`"));
        }
    }
    if labels
        .last()
        .is_some_and(|tld| tld.chars().all(|c| c.is_ascii_digit()))
    {
        return Err(bad(
            "the last label cannot be numeric (IP addresses are not domains)",
        ));
    }
    Ok(Domain::new(name.to_owned(), Validated::checked()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_host_names() {
        for ok in [
            "example.com",
            "www.chienstreats.com",
            "xn--bcher-kva.example",
            "a-b.c0.io",
        ] {
            assert!(domain(ok).is_ok(), "{ok} rejected");
        }
    }

    #[test]
    fn rejects_everything_else() {
        for bad in [
            "",
            "localhost",
            "Example.com",
            "ex ample.com",
            "a..b",
            "-a.com",
            "a-.com",
            "1.2.3.4",
            "*.example.com",
            "bücher.de",
            "a.com;",
            "a.com}",
            "$host.com",
            "a.com\nb.com",
            "a.com/x",
        ] {
            assert!(domain(bad).is_err(), "{bad:?} accepted");
        }
    }
}
