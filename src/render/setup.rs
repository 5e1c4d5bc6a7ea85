//! The host-side program: `setup.sh` (entry point), `lib/blueprint.sh` (the steps) and
//! `plan.sh` (the desired state as bash data). The logic is fixed; only `plan.sh` varies with the
//! input, and every value in it is quoted with the `sh` filter.

use std::collections::BTreeMap;

use serde::Serialize;

use super::escape::{ShAssoc, ShWords};
use super::host_dirs::host_dirs;
use super::templates::view_of;
use super::Renderer;
use crate::bundle::Bundle;
use crate::model::{layout, Database, Host, Model, Offsite, Tls};

/// `plan.sh`: the host's settings, its layout and the arrays.
#[derive(Serialize)]
struct PlanShView<'a> {
    host: &'a Host,
    os_id: &'static str,
    os_version: &'static str,
    pg_major: u16,
    plan: PlanArrays,
    layout: LayoutView,
    /// `blueprint-backup`, when backups are on (setup.sh asks it for each site's newest
    /// verified backup), and after how many seconds that backup is stale.
    backup_command: &'static str,
    backup_stale_after: u64,
    offsite: OffsitePlan,
}
view_of!(PlanShView<'_> => PlanSh);

/// The off-host copy, for setup.sh: it makes the password and the ssh key, and reports the
/// copies. Every field empty without `offsite`.
#[derive(Serialize, Default)]
struct OffsitePlan {
    /// The restic repository, as restic names it.
    repository: String,
    password: &'static str,
    /// The private key for an sftp repository (`.pub` beside it); empty for a local one.
    ssh_key: &'static str,
    /// A local repository's directory; empty for sftp.
    dir: String,
}

impl OffsitePlan {
    fn new(host: &Host) -> Self {
        let Some(offsite) = host.backups.as_ref().and_then(|b| b.offsite.as_ref()) else {
            return Self::default();
        };
        let (ssh_key, dir) = match offsite {
            Offsite::Sftp { .. } => (layout::OFFSITE_SSH_KEY, String::new()),
            Offsite::Local(dir) => ("", dir.to_string()),
        };
        Self {
            repository: offsite.repository(),
            password: layout::OFFSITE_PASSWORD,
            ssh_key,
            dir,
        }
    }
}

/// The host layout of [`layout`], as plan.sh's variables (lib.sh reads nothing else).
#[derive(Serialize)]
struct LayoutView {
    sites_root: &'static str,
    state_root: &'static str,
    tls_root: &'static str,
    nginx_log_root: &'static str,
    basic_auth_root: &'static str,
}

/// `setup.sh`: only the host's name (in its messages).
#[derive(Serialize)]
struct SetupShView<'a> {
    host: &'a Host,
}
view_of!(SetupShView<'_> => SetupSh);

/// plan.sh's arrays, each already quoted for bash by [`ShWords`] / [`ShAssoc`] (keyed by site or
/// unit name, in model order). Built here in one pass rather than by template loops: on a host
/// of 1,000 sites that is 24,000 filter calls saved.
#[derive(Serialize, Default)]
struct PlanArrays {
    packages: ShWords,
    files: ShWords,
    dirs: ShWords,
    sites: ShWords,
    site_domains: ShAssoc,
    site_tls: ShAssoc,
    site_tls_cert: ShAssoc,
    site_tls_key: ShAssoc,
    site_database: ShAssoc,
    site_static: ShAssoc,
    site_published: ShAssoc,
    site_uploads_served: ShAssoc,
    site_listen: ShAssoc,
    site_secrets: ShAssoc,
    site_generated: ShAssoc,
    site_basic_auth: ShAssoc,
    units: ShWords,
    host_units: ShWords,
    web_from: ShWords,
    unit_site: ShAssoc,
    unit_enabled: ShAssoc,
    unit_port: ShAssoc,
    unit_health: ShAssoc,
    timers: ShWords,
    timer_site: ShAssoc,
    timer_enabled: ShAssoc,
}

impl PlanArrays {
    fn new(model: &Model, bundle: &Bundle) -> Self {
        let mut files = ShWords::separated_by("\n  ");
        for (path, file) in &bundle.files {
            if let Some(fate) = file.fate() {
                files.push(&fate.plan_line(path.trim_start_matches("files")));
            }
        }
        let mut dirs = ShWords::separated_by("\n  ");
        for dir in host_dirs(model) {
            dirs.push(&dir.plan_line());
        }
        let mut arrays = Self {
            packages: packages(model).into_iter().collect(),
            host_units: [super::ports::UNIT]
                .into_iter()
                .chain(
                    model
                        .host
                        .prometheus
                        .then_some(super::monitoring::UNITS)
                        .into_iter()
                        .flatten(),
                )
                .chain(
                    (super::monitoring::tls_metrics(model))
                        .then_some(super::monitoring::TLS_METRICS_TIMER),
                )
                .collect(),
            web_from: web_from(model).into_iter().collect(),
            files,
            dirs,
            ..Self::default()
        };
        for site in &model.sites {
            let name = site.name.as_str();
            let (tls, cert, key) = match &site.tls {
                Tls::Acme => ("acme", "", ""),
                Tls::None => ("none", "", ""),
                Tls::Files { cert, key } => ("files", cert.as_str(), key.as_str()),
            };
            arrays.sites.push(name);
            arrays.site_domains.insert(name, &site.domains.join(" "));
            arrays.site_tls.insert(name, tls);
            arrays.site_tls_cert.insert(name, cert);
            arrays.site_tls_key.insert(name, key);
            arrays.site_database.insert(name, site.database.id());
            let static_dir = site.static_dir.as_deref().unwrap_or("");
            arrays.site_static.insert(name, static_dir);
            arrays
                .site_published
                .insert(name, &site.published_dirs().join(" "));
            let uploads = site.uploads_url.as_ref().map(|_| layout::uploads_dir(name));
            (arrays.site_uploads_served).insert(name, uploads.as_deref().unwrap_or(""));
            let listen = site.listen_host().unwrap_or_default();
            arrays.site_listen.insert(name, &listen);
            arrays.site_secrets.insert(name, &site.secrets.join(" "));
            let generated = site.generated_secrets.join(" ");
            arrays.site_generated.insert(name, &generated);
            arrays
                .site_basic_auth
                .insert(name, &site.basic_auth.join(" "));
            for svc in &site.services {
                let unit = &svc.unit;
                let health = match (svc.enabled, &svc.health) {
                    (true, Some(path)) => path.as_str(),
                    _ => "",
                };
                arrays.units.push(unit);
                arrays.unit_site.insert(unit, name);
                arrays
                    .unit_enabled
                    .insert(unit, if svc.enabled { "1" } else { "0" });
                arrays.unit_port.insert(unit, &svc.port.to_string());
                arrays.unit_health.insert(unit, health);
            }
            for job in &site.jobs {
                arrays.timers.push(&job.unit);
                arrays.timer_site.insert(&job.unit, name);
                arrays
                    .timer_enabled
                    .insert(&job.unit, if job.enabled { "1" } else { "0" });
            }
            if model.host.backups.is_some() {
                let unit = layout::backup_unit(name);
                arrays.timers.push(&unit);
                arrays.timer_site.insert(&unit, name);
                arrays.timer_enabled.insert(&unit, "1");
            }
        }
        arrays
    }
}

/// Debian packages the bundle needs, sorted: its own, the ones `[host] packages` lists, and
/// those that provide the services' executables (see [`extra_packages`]).
fn packages(model: &Model) -> Vec<&str> {
    let host = &model.host;
    let mut packages = vec![
        "ca-certificates",
        "curl",
        "logrotate",
        "nftables",
        "nginx",
        "openssl",
        "sudo",
    ];
    if model.sites.iter().any(|s| s.tls == Tls::Acme) {
        packages.push("certbot");
    }
    if model.sites.iter().any(|s| s.database == Database::Postgres) {
        packages.push("postgresql");
    }
    if model.sites.iter().any(|s| s.database == Database::Sqlite) {
        // The site's own tool for its database (inspection, `.backup`), not needed by the app.
        packages.push("sqlite3");
    }
    if model.sites.iter().any(|s| s.uploads_url.is_some()) {
        // setfacl: nginx reads a site's uploads through an ACL.
        packages.push("acl");
    }
    if host.prometheus {
        packages.push("prometheus");
        packages.push("prometheus-node-exporter");
    }
    if host.firewall {
        packages.push("ufw");
    }
    match host.backups.as_ref().and_then(|b| b.offsite.as_ref()) {
        None => {}
        Some(Offsite::Local(_)) => packages.push("restic"),
        Some(Offsite::Sftp { .. }) => {
            // ssh-keygen makes the key, ssh carries restic's sftp.
            packages.push("restic");
            packages.push("openssh-client");
        }
    }
    if host.fail2ban {
        // Installed without recommends: the journal backend (`backend = systemd`) needs
        // python3-systemd, and the default ban action needs iptables.
        packages.push("fail2ban");
        packages.push("iptables");
        packages.push("python3-systemd");
    }
    if host.unattended_upgrades {
        packages.push("unattended-upgrades");
    }
    packages.extend(extra_packages(model).into_keys());
    packages.sort_unstable();
    packages.dedup();
    packages
}

/// The packages installed for the apps, each with why (PLAN.md lists them): listed in
/// `[host] packages`, or providing a service's executable.
pub(super) fn extra_packages(model: &Model) -> BTreeMap<&str, Vec<String>> {
    let mut extra: BTreeMap<&str, Vec<String>> = BTreeMap::new();
    for package in &model.host.packages {
        extra
            .entry(package)
            .or_default()
            .push("`[host] packages`".to_owned());
    }
    for site in &model.sites {
        // Services, jobs and the release phase: each executable's package, with who needs it.
        let processes = (site.services.iter())
            .map(|svc| (svc.package, &svc.argv, svc.unit.to_string()))
            .chain((site.jobs.iter()).map(|job| (job.package, &job.argv, job.unit.to_string())))
            .chain((site.release.iter()).map(|release| {
                (
                    release.package,
                    &release.argv,
                    [&release.unit, "@"].concat(),
                )
            }));
        for (package, argv, unit) in processes {
            if let Some(package) = package {
                let why = ["`", argv[0].as_str(), "` of `", &unit, "`"];
                extra.entry(package).or_default().push(why.concat());
            }
        }
    }
    extra
}

/// `lib/blueprint.sh`: the steps of setup.sh, the same for every bundle. A plain bash source in
/// `blueprints/setup/lib.sh` (shellchecked and tested as written), bundled under the header.
const SETUP_LIB_SOURCE: &str = include_str!("../../blueprints/setup/lib.sh");

fn setup_lib() -> String {
    ["# ", super::HEADER, "\n", SETUP_LIB_SOURCE].concat()
}

/// Adds `setup.sh`, `lib/blueprint.sh` and `plan.sh`.
pub(super) fn render(renderer: &Renderer, model: &Model, bundle: &mut Bundle) {
    let host = &model.host;
    let plan = PlanShView {
        host,
        os_id: host.os.os_release_id(),
        os_version: host.os.os_release_version(),
        pg_major: host.os.postgres_major(),
        plan: PlanArrays::new(model, bundle),
        layout: LayoutView {
            sites_root: layout::SITES_ROOT,
            state_root: layout::STATE_ROOT,
            tls_root: layout::TLS_ROOT,
            nginx_log_root: layout::NGINX_LOG_ROOT,
            basic_auth_root: layout::BASIC_AUTH_ROOT,
        },
        backup_command: if host.backups.is_some() {
            layout::BACKUP_COMMAND
        } else {
            ""
        },
        backup_stale_after: host
            .backups
            .as_ref()
            .map_or(0, super::backups::stale_after_seconds),
        offsite: OffsitePlan::new(host),
    };
    bundle.add("plan.sh", renderer.render(&plan), 0o644);
    bundle.add("lib/blueprint.sh", setup_lib(), 0o644);
    bundle.add("setup.sh", renderer.render(&SetupShView { host }), 0o755);
}

/// Who the firewall lets reach ports 80 and 443: when every site is private, only their
/// networks (sorted, each once); otherwise everyone (empty), since a public site needs them.
fn web_from(model: &Model) -> std::collections::BTreeSet<&str> {
    if model.sites.is_empty() || model.sites.iter().any(|site| site.allow_from.is_empty()) {
        return Default::default();
    }
    let networks = model.sites.iter().flat_map(|site| &site.allow_from);
    networks.map(String::as_str).collect()
}
