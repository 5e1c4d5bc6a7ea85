//! Names that become Unix users, groups, PostgreSQL roles and databases, systemd unit names and
//! nginx zone/upstream names. Site names may hold `-` and `_` (Debian's user names do, and so do
//! real hosts' staging/production pairs: `shop-staging`); service names have no `_`, so
//! `<site>_<service>` (nginx zones) splits one way only. `<site>-<service>` (units) can be made
//! twice (site `a-b` with service `c`, site `a` with service `b-c`): `resolve` refuses that
//! host-wide.

use super::invalid::{Checked, Invalid};
use super::Validated;
use crate::model::{ServiceName, SiteName, UnitName, UserName};

/// Names a site may not take: system accounts, database roles and blueprint's own users.
const RESERVED: &[&str] = &[
    "admin",
    "adm",
    "audio",
    "backup",
    "bin",
    "blueprint",
    "certbot",
    "daemon",
    "deploy",
    "dialout",
    "disk",
    "fail2ban",
    "games",
    "gnats",
    "irc",
    "kmem",
    "list",
    "lp",
    "mail",
    "man",
    "messagebus",
    "news",
    "nginx",
    "nobody",
    "nogroup",
    "operator",
    "postgres",
    "proxy",
    "public",
    "root",
    "shadow",
    "ssh",
    "sshd",
    "staff",
    "sudo",
    "sync",
    "sys",
    "syslog",
    "systemd",
    "template0",
    "template1",
    "tty",
    "ubuntu",
    "users",
    "utmp",
    "uucp",
    "www",
    "wwwdata",
    "debian",
];

/// Longest Unix user name `useradd` accepts.
const MAX_LEN: usize = 32;

/// A site name: `[a-z][a-z0-9_-]*`, not ending in `-`, at most 32 characters, not reserved.
pub(super) fn site_name(name: &str) -> Checked<SiteName> {
    identifier("site", name, |c| {
        c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '-'
    })?;
    if name.ends_with('-') {
        return Err(Invalid::new(
            format!("site name `{name}` ends with `-`"),
            "end the name with a letter or digit",
        ));
    }
    reserved("site", name)?;
    Ok(SiteName::new(name.to_owned(), Validated::checked()))
}

/// A service name: `[a-z][a-z0-9-]*`, not ending in `-`.
pub(super) fn service_name(name: &str) -> Checked<ServiceName> {
    identifier("service", name, |c| {
        c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-'
    })?;
    if name.ends_with('-') {
        return Err(Invalid::new(
            format!("service name `{name}` ends with `-`"),
            "end the name with a letter or digit",
        ));
    }
    Ok(ServiceName::new(name.to_owned(), Validated::checked()))
}

/// A service's unit name, `<site>-<service>`: one way to split, since site names have no `-`.
pub(super) fn unit_name(site: &SiteName, service: &ServiceName) -> UnitName {
    UnitName::new([site, "-", service].concat(), Validated::checked())
}

/// The deploy user's name: same rules as a site name.
pub(super) fn user_name(name: &str) -> Checked<UserName> {
    identifier("user", name, |c| {
        c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_'
    })?;
    if matches!(name, "root" | "postgres" | "nobody" | "www" | "nginx") {
        return Err(Invalid::new(
            format!("`{name}` is a system account"),
            "choose another name, e.g. `deploy`",
        ));
    }
    Ok(UserName::new(name.to_owned(), Validated::checked()))
}

/// The deploy user's default name.
pub(super) fn default_deploy_user() -> UserName {
    UserName::new("deploy".to_owned(), Validated::checked())
}

/// A host name label: `[a-z0-9]` with inner `-`, at most 63 characters.
pub(super) fn host_name(name: &str) -> Checked<()> {
    let ok_chars = name
        .chars()
        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
    if name.is_empty()
        || name.len() > 63
        || !ok_chars
        || name.starts_with('-')
        || name.ends_with('-')
    {
        return Err(Invalid::new(
            format!("host name `{name}` is not a valid host name"),
            "use 1 to 63 lowercase letters, digits and inner `-`, e.g. `vps1`",
        ));
    }
    Ok(())
}

fn identifier(kind: &str, name: &str, allowed: impl Fn(char) -> bool) -> Checked<()> {
    let starts_with_letter = name.chars().next().is_some_and(|c| c.is_ascii_lowercase());
    if !starts_with_letter || !name.chars().all(allowed) || name.len() > MAX_LEN {
        let extra = match kind {
            "service" => "digits and `-`",
            "site" => "digits, `-` and `_`",
            _ => "digits and `_`",
        };
        return Err(Invalid::new(
            format!("{kind} name `{name}` is not allowed"),
            format!("start with a lowercase letter, then use lowercase letters, {extra}, at most {MAX_LEN} characters"),
        ));
    }
    Ok(())
}

fn reserved(kind: &str, name: &str) -> Checked<()> {
    // `blueprint…` is the prefix of blueprint's own units (`blueprint-backup-<site>`).
    if RESERVED.contains(&name)
        || name.starts_with("pg_")
        || name.starts_with("systemd")
        || name.starts_with("blueprint")
    {
        return Err(Invalid::new(
            format!("{kind} name `{name}` is reserved for a system account, a database role or blueprint's own units"),
            "choose another name, e.g. the site's domain without dots",
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn site_names() {
        assert!(site_name("chienstreats").is_ok());
        assert!(site_name("shop_2").is_ok());
        assert!(site_name("shop-staging").is_ok());
        assert!(site_name("filter-ical").is_ok());
        for bad in [
            "",
            "Shop",
            "2shop",
            "-site",
            "site-",
            "systemd-x",
            "root",
            "postgres",
            "pg_x",
            "a b",
            "x;rm",
            "é",
            &"a".repeat(33),
        ] {
            assert!(site_name(bad).is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn service_names() {
        assert!(service_name("frontend").is_ok());
        assert!(service_name("api-v2").is_ok());
        for bad in ["", "api_v2", "api-", "-api", "API", "a.b"] {
            assert!(service_name(bad).is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn host_names() {
        assert!(host_name("vps1").is_ok());
        assert!(host_name("web-01").is_ok());
        for bad in ["", "-a", "a-", "A", "a.b", "../x"] {
            assert!(host_name(bad).is_err(), "{bad:?} accepted");
        }
    }
}
