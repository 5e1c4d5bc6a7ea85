//! Stage 2 (resolve): `[host.backups]` into the model's [`Backups`]: the schedule of every
//! site's backup timer (a calendar event, checked like a job's), the retention, and the restic
//! repository backups are also copied to (`offsite`). Backups are on unless turned off: seed
//! 003's worst finding is a host whose data was never saved.

use std::net::Ipv4Addr;

use toml::Spanned;

use super::invalid::{Checked, Invalid};
use super::paths::host_path;
use super::{calendar, Resolver};
use crate::model::{layout, Backups, Offsite};
use crate::raw::RawBackups;

/// When a backup runs unless `schedule` says otherwise.
const DEFAULT_SCHEDULE: &str = "daily";
/// Days whose newest backup is kept by default.
const DEFAULT_KEEP_DAILY: u32 = 7;
/// ISO weeks whose newest backup is kept by default.
const DEFAULT_KEEP_WEEKLY: u32 = 4;

impl Resolver<'_> {
    /// `None` (after reporting) for an invalid table, `Some(None)` when backups are off.
    pub(super) fn backups(&mut self, raw: Option<&Spanned<RawBackups>>) -> Option<Option<Backups>> {
        let Some(raw) = raw.map(Spanned::get_ref) else {
            return Some(Some(Backups {
                schedule: DEFAULT_SCHEDULE.to_owned(),
                keep_daily: DEFAULT_KEEP_DAILY,
                keep_weekly: DEFAULT_KEEP_WEEKLY,
                offsite: None,
            }));
        };
        let schedule = match &raw.schedule {
            None => Some(DEFAULT_SCHEDULE.to_owned()),
            Some(s) => self
                .check(s.span(), calendar::calendar(s.get_ref()))
                .map(|()| s.get_ref().clone()),
        };
        let mut keep = |value: &Option<Spanned<i64>>, key: &str, min: i64, default: u32| match value
        {
            None => Some(default),
            Some(v) => self.check(v.span(), kept(key, *v.get_ref(), min)),
        };
        let keep_daily = keep(&raw.keep_daily, "keep_daily", 1, DEFAULT_KEEP_DAILY);
        let keep_weekly = keep(&raw.keep_weekly, "keep_weekly", 0, DEFAULT_KEEP_WEEKLY);
        let offsite = match &raw.offsite {
            None => Some(None),
            Some(s) => self.check(s.span(), offsite(s.get_ref())).map(Some),
        };
        let backups = Backups {
            schedule: schedule?,
            keep_daily: keep_daily?,
            keep_weekly: keep_weekly?,
            offsite: offsite?,
        };
        Some(raw.enabled.unwrap_or(true).then_some(backups))
    }
}

/// A retention count: at least `min` (the newest backup is always kept), at most ten years.
fn kept(key: &str, value: i64, min: i64) -> Checked<u32> {
    const MAX: i64 = 3660;
    if (min..=MAX).contains(&value) {
        return Ok(u32::try_from(value).expect("in range"));
    }
    Err(Invalid::new(
        format!("{key} = {value} is out of range"),
        format!("use a number from {min} to {MAX}"),
    ))
}

/// What `offsite` accepts, for every refusal's help.
const OFFSITE_FORMS: &str = "write `sftp:USER@HOST:/ABSOLUTE/PATH` (e.g. `sftp:backup@backup.example.net:/srv/restic/vps1`; `sftp://USER@HOST:PORT//ABSOLUTE/PATH` for another ssh port) or the absolute path of a directory on a mounted disk (e.g. `/mnt/offsite/vps1`)";

/// Trees a local repository may not be in nor contain: blueprint's own (the sites, the backups
/// it would copy, its state and secrets), the system's, and those other users write to (root
/// never writes through a directory another user controls).
const OFFSITE_REFUSED: [&str; 14] = [
    layout::SITES_ROOT,
    layout::BACKUP_ROOT,
    layout::STATE_ROOT,
    layout::METRICS_ROOT,
    layout::OFFSITE_STATE_ROOT,
    "/etc",
    "/proc",
    "/sys",
    "/dev",
    "/run",
    "/tmp",
    "/var/tmp",
    "/usr",
    "/home",
];

/// `[host.backups] offsite`: a restic repository reached over sftp, or a local directory.
/// Every part reaches restic's and ssh's command lines, so each is a plain word: no spaces,
/// quotes, `$`, backticks or control characters, and nothing that could read as an option.
pub(super) fn offsite(value: &str) -> Checked<Offsite> {
    if let Some(url) = value.strip_prefix("sftp://") {
        // restic's URL form: `//` after the authority makes the path absolute.
        let Some((authority, path)) = url.split_once('/') else {
            return Err(offsite_invalid(value, "it names no repository path"));
        };
        let Some(path) = path.strip_prefix('/') else {
            return Err(Invalid::new(
                format!("offsite `{value}` names a path relative to the login directory"),
                "restic reads `sftp://USER@HOST:PORT/PATH` as relative to the target user's home; write the absolute path after a double slash, e.g. `sftp://backup@backup.example.net:2222//srv/restic/vps1`",
            ));
        };
        let (login, port) = match authority.rsplit_once(':') {
            Some((login, port)) => (login, Some(ssh_port(value, port)?)),
            None => (authority, None),
        };
        return sftp(value, login, port, &["/", path].concat());
    }
    if let Some(target) = value.strip_prefix("sftp:") {
        let Some((login, path)) = target.split_once(':') else {
            return Err(offsite_invalid(
                value,
                "`:` must separate the host and the path",
            ));
        };
        return sftp(value, login, None, path);
    }
    if !value.starts_with('/') {
        return Err(offsite_invalid(
            value,
            "it is neither an `sftp:` repository nor an absolute path",
        ));
    }
    let path = host_path("offsite", value)
        .map_err(|_| offsite_invalid(value, "it is not a plain absolute path"))?;
    let under = |dir: &str, tree: &str| {
        dir == tree
            || dir
                .strip_prefix(tree)
                .is_some_and(|rest| rest.starts_with('/'))
    };
    for tree in OFFSITE_REFUSED {
        if under(&path, tree) || under(tree, &path) {
            return Err(Invalid::new(
                format!("offsite `{value}` is inside or contains `{tree}`"),
                "keep the repository out of blueprint's and the system's trees and out of what other users write: put it on a disk mounted for it, e.g. `/mnt/offsite/vps1`",
            ));
        }
    }
    Ok(Offsite::Local(path))
}

fn offsite_invalid(value: &str, why: &str) -> Invalid {
    Invalid::new(
        format!("offsite `{value}` is not valid: {why}"),
        OFFSITE_FORMS,
    )
}

/// `USER@HOST` and the absolute path of an sftp repository.
fn sftp(value: &str, login: &str, port: Option<u16>, path: &str) -> Checked<Offsite> {
    let Some((user, host)) = login.split_once('@') else {
        return Err(offsite_invalid(value, "it names no `USER@` to log in as"));
    };
    let user_ok = user.len() <= 32
        && user
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && user
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'));
    if !user_ok {
        return Err(offsite_invalid(
            value,
            "the user is 1 to 32 letters, digits, `_`, `-` and `.`, starting with a letter or `_`",
        ));
    }
    if !(host_name(host) || host.parse::<Ipv4Addr>().is_ok()) {
        return Err(offsite_invalid(
            value,
            "the host is a host name (letters, digits, inner `-`, labels joined by `.`) or an IPv4 address",
        ));
    }
    let path = host_path("offsite", path).map_err(|_| {
        offsite_invalid(value, "the path on the target is not a plain absolute path")
    })?;
    Ok(Offsite::Sftp {
        user: user.to_owned(),
        host: host.to_owned(),
        port,
        path,
    })
}

/// A DNS host name: labels of letters, digits and inner `-` (so it never reads as an option).
fn host_name(host: &str) -> bool {
    (1..=253).contains(&host.len())
        && host.split('.').all(|label| {
            (1..=63).contains(&label.len())
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        })
        // All digits is an IPv4 address, checked as one.
        && !host.chars().all(|c| c.is_ascii_digit() || c == '.')
}

fn ssh_port(value: &str, port: &str) -> Checked<u16> {
    match port.parse::<u16>() {
        Ok(n) if n > 0 && port.chars().all(|c| c.is_ascii_digit()) => Ok(n),
        _ => Err(offsite_invalid(
            value,
            "the port is a number from 1 to 65535",
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::{kept, offsite};
    use crate::model::Offsite;

    #[test]
    fn retention_counts_are_bounded() {
        assert_eq!(kept("keep_daily", 7, 1).unwrap(), 7);
        assert!(kept("keep_daily", 0, 1).is_err());
        assert_eq!(kept("keep_weekly", 0, 0).unwrap(), 0);
        assert!(kept("keep_weekly", -1, 0).is_err());
        assert!(kept("keep_weekly", 100_000, 0).is_err());
    }

    #[test]
    fn offsite_accepts_sftp_targets_and_mounted_disks() {
        let sftp = offsite("sftp:backup@backup.example.net:/srv/restic/vps1").unwrap();
        assert_eq!(
            sftp.repository(),
            "sftp:backup@backup.example.net:/srv/restic/vps1"
        );
        let Offsite::Sftp {
            user,
            host,
            port,
            path,
        } = offsite("sftp://u_1@10.0.0.7:2222//srv/restic").unwrap()
        else {
            panic!("not sftp");
        };
        assert_eq!(
            (user.as_str(), host.as_str(), port, path.as_str()),
            ("u_1", "10.0.0.7", Some(2222), "/srv/restic")
        );
        // The port goes to ssh: restic's repository stays in its scp-like form.
        assert_eq!(
            offsite("sftp://b@h.example:2222//r").unwrap().repository(),
            "sftp:b@h.example:/r"
        );
        assert_eq!(
            offsite("sftp://b@backupbox//r").unwrap(),
            offsite("sftp:b@backupbox:/r").unwrap()
        );
        for local in [
            "/mnt/offsite/vps1",
            "/var/backups/offsite",
            "/srv/restic",
            "/media/usb-1/r",
        ] {
            assert_eq!(
                offsite(local).unwrap(),
                Offsite::Local(super::host_path("x", local).unwrap()),
                "{local}"
            );
        }
    }

    #[test]
    fn offsite_refuses_what_could_reach_a_shell_or_an_option() {
        for bad in [
            "",
            "sftp:",
            "sftp:a@b:/x;rm -rf /",
            "sftp:a@b:/x rm",
            "sftp:a@b:/$(id)",
            "sftp:a@b:/`id`",
            "sftp:a@b:/x\nExecStart=/bin/sh",
            "sftp:a@b:/x\n",
            "sftp:$(id)@b:/x",
            "sftp:a'b@host:/x",
            "sftp:a@-oProxyCommand=sh:/x",
            "sftp:-oProxyCommand=sh@host:/x",
            "sftp:a@host;id:/x",
            "sftp:a@ho st:/x",
            "sftp:a@host:x",
            "sftp:a@host:/x/../etc",
            "sftp:a@host:/",
            "sftp:a@host:~/x",
            "sftp:a@host",
            "sftp:host:/x",
            "sftp:a@host:22:/x",
            "sftp:a@999.1.1.1:/x",
            "sftp://a@host/x",
            "sftp://a@host:0//x",
            "sftp://a@host:65536//x",
            "sftp://a@host:+22//x",
            "sftp://a@host:22",
            "s3:bucket/x",
            "rest:http://h/",
            "mnt/offsite",
            "/",
            "/mnt/off site",
            "/mnt/$(id)",
            "/mnt/x/../../etc",
            "/mnt/x\n",
        ] {
            assert!(offsite(bad).is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn offsite_keeps_out_of_blueprints_and_the_systems_trees() {
        for bad in [
            "/srv/sites/shop/repo",
            "/srv/sites",
            "/srv",
            "/var/backups/blueprint",
            "/var/backups/blueprint/offsite",
            "/var/backups",
            "/var",
            "/etc/restic",
            "/proc/x",
            "/sys/x",
            "/dev/shm/r",
            "/run/r",
            "/tmp/r",
            "/var/tmp/r",
            "/home/backup/r",
            "/usr/local/r",
            "/var/lib/blueprint/r",
        ] {
            let refused = offsite(bad).unwrap_err();
            assert!(
                refused.message.contains("inside or contains"),
                "{bad}: {refused:?}"
            );
        }
        // A sibling whose name merely starts like a refused tree is fine.
        assert!(offsite("/var/backups/blueprint-offsite").is_ok());
        assert!(offsite("/srv/sites-offsite").is_ok());
    }
}
