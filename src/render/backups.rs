//! Stage 3 (render): `[host.backups]`. `blueprint-backup`, the root-only command that takes,
//! verifies, lists and restores a site's backups, and per site a sandboxed
//! `blueprint-backup-<site>.service` with the `.timer` that runs it on the schedule. setup.sh
//! keeps the timers running like a job's (plan.sh `BP_TIMERS`) and reports each site's newest
//! verified backup.

use serde::Serialize;

use super::systemd::TimerView;
use super::templates::view_of;
use super::Renderer;
use crate::bundle::fate::Action;
use crate::bundle::{Bundle, Fate};
use crate::model::{layout, Backups, Database, Model};

#[derive(Serialize)]
struct BackupScriptView<'a> {
    backup_root: &'static str,
    sites_root: &'static str,
    keep_daily: u32,
    keep_weekly: u32,
    /// The node exporter's textfile directory (monitoring on), or empty.
    metrics_root: &'static str,
    sites: Vec<BackupSite<'a>>,
}
view_of!(BackupScriptView<'_> => BackupScript);

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
    writes: String,
}
view_of!(BackupUnitView<'_> => BackupUnit);

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
    });
    bundle.add_host_file(layout::BACKUP_COMMAND, script, Fate::root(0o755));
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
            writes: [layout::BACKUP_ROOT, metrics_root]
                .iter()
                .filter(|path| !path.is_empty())
                .copied()
                .collect::<Vec<_>>()
                .join(" "),
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
