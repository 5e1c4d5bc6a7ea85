//! Stage 3 (render): `[host.backups]`. `blueprint-backup`, the root-only command that takes,
//! verifies, lists and restores a site's backups, and per site a sandboxed
//! `blueprint-backup-<site>.service` with the `.timer` that runs it on the schedule. setup.sh
//! keeps the timers running like a job's (plan.sh `BP_TIMERS`) and reports each site's newest
//! verified backup. With `offsite`, the script also copies each verified backup to a restic
//! repository: the repository, the ssh command that reaches an sftp one and every path come
//! from here, so the script never derives them.

use serde::Serialize;

use super::systemd::TimerView;
use super::templates::view_of;
use super::Renderer;
use crate::bundle::fate::Action;
use crate::bundle::{Bundle, Fate};
use crate::model::{layout, Backups, Database, Model, Offsite};

#[derive(Serialize)]
struct BackupScriptView<'a> {
    backup_root: &'static str,
    sites_root: &'static str,
    keep_daily: u32,
    keep_weekly: u32,
    /// The node exporter's textfile directory (monitoring on), or empty.
    metrics_root: &'static str,
    sites: Vec<BackupSite<'a>>,
    /// `[host] name`: the host restic files the snapshots under (not the machine's own name,
    /// so a host rebuilt from the same `sites.toml` finds them).
    host: &'a str,
    offsite: OffsiteView,
}
view_of!(BackupScriptView<'_> => BackupScript);

/// The off-host copy as the script needs it; every field empty without `offsite`.
#[derive(Serialize, Default)]
struct OffsiteView {
    /// restic's `--repo`.
    repository: String,
    /// The command restic reaches an sftp repository with (`-o sftp.command=`); empty for a
    /// local one.
    ssh: String,
    /// A local repository's directory; empty for sftp.
    dir: String,
    password: &'static str,
    state: &'static str,
}

impl OffsiteView {
    fn new(offsite: Option<&Offsite>) -> Self {
        let Some(offsite) = offsite else {
            return Self::default();
        };
        Self {
            repository: offsite.repository(),
            ssh: sftp_command(offsite),
            dir: match offsite {
                Offsite::Local(dir) => dir.to_string(),
                Offsite::Sftp { .. } => String::new(),
            },
            password: layout::OFFSITE_PASSWORD,
            state: layout::OFFSITE_STATE_ROOT,
        }
    }
}

/// The ssh command restic runs for an sftp repository (empty for a local one): blueprint's
/// own key and nothing else (`-F none`: root's ssh configuration is not this command's), never
/// a prompt, and the target's host key learnt on first contact into a file of blueprint's
/// (`accept-new`: a key that changes later is refused). restic splits it on spaces; every word
/// is a validated name or a path of [`layout`].
pub(super) fn sftp_command(offsite: &Offsite) -> String {
    let Offsite::Sftp {
        user, host, port, ..
    } = offsite
    else {
        return String::new();
    };
    let known_hosts = [
        "UserKnownHostsFile=",
        layout::OFFSITE_STATE_ROOT,
        "/known_hosts",
    ]
    .concat();
    let mut words = vec![
        "ssh",
        "-F",
        "none",
        "-i",
        layout::OFFSITE_SSH_KEY,
        "-o",
        "IdentitiesOnly=yes",
        "-o",
        "BatchMode=yes",
        "-o",
        "StrictHostKeyChecking=accept-new",
        "-o",
        &known_hosts,
        "-o",
        "ConnectTimeout=30",
        "-o",
        "ServerAliveInterval=30",
    ];
    let port = port.map(|port| port.to_string());
    if let Some(port) = &port {
        words.extend(["-p", port]);
    }
    words.extend(["-l", user, host, "-s", "sftp"]);
    words.join(" ")
}

#[derive(Serialize)]
struct BackupSite<'a> {
    name: &'a str,
    database: &'static str,
    /// Enabled services, stopped and started again around a restore.
    services: Vec<String>,
    /// Enabled jobs' timers, likewise (`<unit>.timer`).
    timers: Vec<String>,
}

#[derive(Serialize)]
struct BackupUnitView<'a> {
    site: &'a str,
    unit: &'a str,
    schedule: &'a str,
    /// What a backup of this site holds, for the comment.
    what: &'static str,
    postgres: bool,
    command: &'static str,
    /// `ReadWritePaths=`: the backups, and the metrics directory with monitoring on.
    writes: &'a str,
    /// The off-host copy's unit of this site (`OnSuccess=`), or empty.
    offsite: String,
}
view_of!(BackupUnitView<'_> => BackupUnit);

#[derive(Serialize)]
struct BackupOffsiteUnitView<'a> {
    /// The template's name up to the instance: `blueprint-backup-offsite@`.
    unit: &'static str,
    repository: &'a str,
    command: &'static str,
    /// `ReadWritePaths=`: the backups (for the copy's records), the metrics directory with
    /// monitoring on, the copy's state, and a local repository (`-`: a missing directory, its
    /// disk not mounted, fails the copy with blueprint-backup saying why).
    writes: String,
    /// An sftp repository: ssh needs the network.
    network: bool,
    families: &'static str,
}
view_of!(BackupOffsiteUnitView<'_> => BackupOffsiteUnit);

/// How long after its newest verified backup a site's backups count as stale (setup.sh warns):
/// two runs of the schedule, at least two days.
pub(super) fn stale_after_seconds(backups: &Backups) -> u64 {
    const DAY: u64 = 86_400;
    let period = match backups.schedule.as_str() {
        "weekly" => 7 * DAY,
        "monthly" => 31 * DAY,
        "quarterly" => 92 * DAY,
        "semiannually" => 183 * DAY,
        "yearly" | "annually" => 366 * DAY,
        // Daily and more often, and calendar expressions (most are a time of day).
        _ => DAY,
    };
    (2 * period).max(2 * DAY)
}

/// Adds `blueprint-backup` and every site's backup units, when backups are on.
pub(super) fn render(renderer: &Renderer, model: &Model, bundle: &mut Bundle) {
    let Some(backups) = &model.host.backups else {
        return;
    };
    let sites = model
        .sites
        .iter()
        .map(|site| BackupSite {
            name: &site.name,
            database: site.database.id(),
            services: (site.services.iter())
                .filter(|svc| svc.enabled)
                .map(|svc| svc.unit.to_string())
                .collect(),
            timers: (site.jobs.iter())
                .filter(|job| job.enabled)
                .map(|job| [&job.unit, ".timer"].concat())
                .collect(),
        })
        .collect();
    let metrics_root = if model.host.prometheus {
        layout::METRICS_ROOT
    } else {
        ""
    };
    let script = renderer.render(&BackupScriptView {
        backup_root: layout::BACKUP_ROOT,
        sites_root: layout::SITES_ROOT,
        keep_daily: backups.keep_daily,
        keep_weekly: backups.keep_weekly,
        metrics_root,
        sites,
        host: &model.host.name,
        offsite: OffsiteView::new(backups.offsite.as_ref()),
    });
    bundle.add_host_file(layout::BACKUP_COMMAND, script, Fate::root(0o755));
    let mut writes = vec![layout::BACKUP_ROOT.to_owned()];
    if !metrics_root.is_empty() {
        writes.push(metrics_root.to_owned());
    }
    let backup_writes = writes.join(" ");
    if let Some(offsite) = &backups.offsite {
        writes.push(layout::OFFSITE_STATE_ROOT.to_owned());
        if let Offsite::Local(dir) = offsite {
            writes.push(["-", dir].concat());
        }
        let network = matches!(offsite, Offsite::Sftp { .. });
        let view = BackupOffsiteUnitView {
            unit: layout::OFFSITE_UNIT,
            repository: &offsite.repository(),
            command: layout::BACKUP_COMMAND,
            writes: writes.join(" "),
            network,
            families: if network {
                "AF_UNIX AF_INET AF_INET6"
            } else {
                "AF_UNIX"
            },
        };
        bundle.add_host_file(
            &["/etc/systemd/system/", layout::OFFSITE_UNIT, ".service"].concat(),
            renderer.render(&view),
            Fate::root(0o644).then(Action::DaemonReload),
        );
    }
    for site in &model.sites {
        let unit = layout::backup_unit(&site.name);
        let view = BackupUnitView {
            site: &site.name,
            unit: &unit,
            schedule: &backups.schedule,
            what: match site.database {
                Database::Postgres => "PostgreSQL database, state and uploads",
                Database::Sqlite => "SQLite database, state and uploads",
                Database::None => "state and uploads",
            },
            postgres: site.database == Database::Postgres,
            command: layout::BACKUP_COMMAND,
            writes: &backup_writes,
            offsite: match backups.offsite {
                Some(_) => [layout::OFFSITE_UNIT, &site.name, ".service"].concat(),
                None => String::new(),
            },
        };
        // The service only re-read: its timer starts it, setup.sh never does.
        bundle.add_host_file(
            &["/etc/systemd/system/", &unit, ".service"].concat(),
            renderer.render(&view),
            Fate::root(0o644).then(Action::DaemonReload),
        );
        let timer = TimerView {
            what: format!("the backup of site `{}`", site.name),
            description: format!("{} backup timer (blueprint)", site.name),
            unit: &unit,
            schedule: &backups.schedule,
        };
        bundle.add_host_file(
            &["/etc/systemd/system/", &unit, ".timer"].concat(),
            renderer.render(&timer),
            Fate::root(0o644).then(Action::RestartUnit([&unit, ".timer"].concat())),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn every(schedule: &str) -> Backups {
        Backups {
            schedule: schedule.to_owned(),
            keep_daily: 7,
            keep_weekly: 4,
            offsite: None,
        }
    }

    #[test]
    fn backups_are_stale_after_two_runs_and_never_before_two_days() {
        assert_eq!(stale_after_seconds(&every("daily")), 2 * 86_400);
        assert_eq!(stale_after_seconds(&every("hourly")), 2 * 86_400);
        assert_eq!(stale_after_seconds(&every("*-*-* 03:30")), 2 * 86_400);
        assert_eq!(stale_after_seconds(&every("weekly")), 14 * 86_400);
    }
}
