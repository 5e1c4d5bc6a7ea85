//! `PLAN.md`: the human summary a reviewer reads first — sites, users, ports, routes,
//! databases, sandbox relaxations, secrets to fill in and what is disabled.

use serde::Serialize;

use super::templates::view_of;
use super::Renderer;
use crate::bundle::Bundle;
use crate::model::{Backups, Database, Model, Service, Site, Tls};

#[derive(Serialize)]
struct PlanView<'a> {
    host: HostRow<'a>,
    sites: Vec<SiteRow<'a>>,
    services: Vec<ServiceRow>,
    /// "`package`: why" lines.
    packages: Vec<String>,
    /// Jobs and release phases: what runs besides the services, and when.
    runs: Vec<RunRow>,
    backups: Option<&'a Backups>,
    /// The off-host copy's restic repository, if any.
    offsite: Option<String>,
    offsite_password: &'static str,
}

#[derive(Serialize)]
struct RunRow {
    unit: String,
    when: String,
    command: String,
}
view_of!(PlanView<'_> => PlanMd);

#[derive(Serialize)]
struct HostRow<'a> {
    name: &'a str,
    os: &'static str,
    deploy_user: &'a str,
    ssh_port: u16,
    firewall: bool,
    fail2ban: bool,
    unattended_upgrades: bool,
    harden_ssh: bool,
}

#[derive(Serialize)]
struct SiteRow<'a> {
    name: &'a str,
    domains: Vec<String>,
    tls: String,
    database: &'static str,
    static_dir: Option<String>,
    secret_lines: String,
}

#[derive(Serialize)]
struct ServiceRow {
    unit: String,
    port: u16,
    /// Where a deploy starts the new release first.
    standby_port: Option<u16>,
    /// Where it serves its metrics, when not on `port`.
    metrics_port: Option<u16>,
    route: Option<String>,
    rate: Option<String>,
    runtime: &'static str,
    limits: String,
    enabled: bool,
    relaxations: String,
    /// argv as `["/usr/bin/node", "server.js"]`, so a reviewer sees how `run` was split.
    command: String,
}

/// What a unit may do beyond the full sandbox: W^X memory for a JIT, writing into its release.
fn relaxations(site: &Site, svc: &Service) -> String {
    let mut lines = Vec::new();
    if svc.runtime.needs_wx_memory() {
        lines.push("`MemoryDenyWriteExecute=false` (JIT runtime)".to_owned());
    }
    if !site.writable.is_empty() {
        let paths: Vec<String> = site
            .writable
            .iter()
            .map(|p| ["`current/", p, "`"].concat())
            .collect();
        lines.push(["writes its release: ", &paths.join(", ")].concat());
    }
    lines.join("; ")
}

/// Adds `PLAN.md`.
pub(super) fn render(renderer: &Renderer, model: &Model, bundle: &mut Bundle) {
    let sites: Vec<SiteRow> = model
        .sites
        .iter()
        .map(|site| {
            let mut secret_lines = Vec::new();
            if site.database == Database::Postgres {
                secret_lines.push("`DATABASE_URL` (generated)".to_owned());
            }
            secret_lines.extend(
                site.generated_secrets
                    .iter()
                    .map(|s| ["`", s, "` (generated)"].concat()),
            );
            secret_lines.extend(
                site.secrets
                    .iter()
                    .map(|s| ["`", s, "` (**fill in on the host**)"].concat()),
            );
            SiteRow {
                name: &site.name,
                domains: site
                    .domains
                    .iter()
                    .map(|d| ["`", d, "`"].concat())
                    .collect(),
                tls: match &site.tls {
                    Tls::Acme => "Let's Encrypt".to_owned(),
                    Tls::None => "**none (HTTP only)**".to_owned(),
                    Tls::Files { cert, .. } => format!("files (`{cert}`)"),
                },
                database: match site.database {
                    Database::Postgres => "PostgreSQL",
                    Database::Sqlite => "SQLite (`shared/data/<site>.sqlite3`)",
                    Database::None => "—",
                },
                static_dir: served_files(site),
                secret_lines: secret_lines.join(", "),
            }
        })
        .collect();
    let services: Vec<ServiceRow> = model
        .sites
        .iter()
        .flat_map(|site| {
            site.services.iter().map(|svc| ServiceRow {
                unit: svc.unit.to_string(),
                port: svc.port,
                standby_port: svc.standby_port,
                metrics_port: svc.metrics_port,
                route: svc.route.as_ref().map(|r| ["`", r, "`"].concat()),
                rate: svc
                    .rate_limit
                    .map(|r| format!("{} burst {}", r.rate(), r.burst)),
                runtime: svc.runtime.id(),
                limits: format!(
                    "{} RAM, {} CPU, {} tasks",
                    svc.limits.memory_max, svc.limits.cpu_quota, svc.limits.tasks_max
                ),
                enabled: svc.enabled,
                command: format!("{:?}", svc.argv),
                relaxations: relaxations(site, svc),
            })
        })
        .collect();
    let host = HostRow {
        name: &model.host.name,
        os: model.host.os.id(),
        deploy_user: &model.host.deploy_user,
        ssh_port: model.host.ssh_port,
        firewall: model.host.firewall,
        fail2ban: model.host.fail2ban,
        unattended_upgrades: model.host.unattended_upgrades,
        harden_ssh: model.host.harden_ssh,
    };
    let packages: Vec<String> = super::setup::extra_packages(model)
        .into_iter()
        .map(|(package, why)| ["`", package, "`: ", &why.join(", ")].concat())
        .collect();
    let runs = (model.sites.iter())
        .flat_map(|site| {
            let jobs = site.jobs.iter().map(|job| RunRow {
                unit: job.unit.to_string(),
                when: if job.enabled {
                    ["`", &job.schedule, "`"].concat()
                } else {
                    "**disabled**".to_owned()
                },
                command: format!("{:?}", job.argv),
            });
            let release = site.release.iter().map(|release| RunRow {
                unit: [&release.unit, "@<release>"].concat(),
                when: "each deploy, before the switch".to_owned(),
                command: format!("{:?}", release.argv),
            });
            jobs.chain(release)
        })
        .collect();
    let view = PlanView {
        host,
        sites,
        services,
        packages,
        runs,
        backups: model.host.backups.as_ref(),
        offsite: (model.host.backups.as_ref())
            .and_then(|b| b.offsite.as_ref())
            .map(crate::model::Offsite::repository),
        offsite_password: crate::model::layout::OFFSITE_PASSWORD,
    };
    bundle.add("PLAN.md", renderer.render(&view), 0o644);
}

/// What nginx serves of a site from files, by URL prefix: its `static` directory, its `paths`
/// and its uploads; `None` when it serves none.
fn served_files(site: &Site) -> Option<String> {
    let in_release = |prefix: &str, dir: &str| format!("`{prefix}` ← `current/{dir}`");
    let served: Vec<String> = (site.static_dir.iter())
        .map(|dir| in_release("/", dir))
        .chain(
            site.paths
                .iter()
                .map(|(prefix, dir)| in_release(prefix, dir)),
        )
        .chain(
            site.uploads_url
                .iter()
                .map(|url| format!("`{url}` ← `shared/uploads`")),
        )
        .collect();
    (!served.is_empty()).then(|| served.join(", "))
}
