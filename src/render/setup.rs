//! The host-side program: `setup.sh` (entry point), `lib/blueprint.sh` (the steps) and
//! `plan.sh` (the desired state as bash data). The logic is fixed; only `plan.sh` varies with the
//! input, and every value in it is quoted with the `sh` filter.

use serde::Serialize;

use super::systemd::unit_name;
use super::templates::Template;
use super::Renderer;
use crate::bundle::Bundle;
use crate::model::{Database, Model, Tls};

/// plan.sh's per-site and per-unit arrays, each in the shape bash declares it: a list, or
/// `[key, value]` pairs for an associative array (keyed by site or unit name, in model order).
/// Whole arrays go to one filter (`sh_words`, `sh_assoc`), not through a template loop: on a
/// host of 1,000 sites that is the difference between 14 filter calls and 24,000.
#[derive(Serialize, Default)]
struct PlanArrays {
    sites: Vec<String>,
    site_domains: Vec<[String; 2]>,
    site_tls: Vec<[String; 2]>,
    site_tls_cert: Vec<[String; 2]>,
    site_tls_key: Vec<[String; 2]>,
    site_database: Vec<[String; 2]>,
    site_static: Vec<[String; 2]>,
    site_secrets: Vec<[String; 2]>,
    site_generated: Vec<[String; 2]>,
    units: Vec<String>,
    unit_site: Vec<[String; 2]>,
    unit_enabled: Vec<[String; 2]>,
    unit_port: Vec<[String; 2]>,
    unit_health: Vec<[String; 2]>,
}

impl PlanArrays {
    fn new(model: &Model) -> Self {
        let mut arrays = Self::default();
        for site in &model.sites {
            let name = &site.name;
            let pair = |value: &str| [name.clone(), value.to_owned()];
            let (tls, cert, key) = match &site.tls {
                Tls::Acme => ("acme", "", ""),
                Tls::None => ("none", "", ""),
                Tls::Files { cert, key } => ("files", cert.as_str(), key.as_str()),
            };
            arrays.sites.push(name.clone());
            arrays.site_domains.push(pair(&site.domains.join(" ")));
            arrays.site_tls.push(pair(tls));
            arrays.site_tls_cert.push(pair(cert));
            arrays.site_tls_key.push(pair(key));
            arrays.site_database.push(pair(match site.database {
                Database::Postgres => "postgres",
                Database::None => "none",
            }));
            arrays
                .site_static
                .push(pair(site.static_dir.as_deref().unwrap_or("")));
            arrays.site_secrets.push(pair(&site.secrets.join(" ")));
            arrays
                .site_generated
                .push(pair(&site.generated_secrets.join(" ")));
            for svc in &site.services {
                let unit = unit_name(name, &svc.name);
                let pair = |value: &str| [unit.clone(), value.to_owned()];
                let health = match (svc.enabled, &svc.health) {
                    (true, Some(path)) => path.as_str(),
                    _ => "",
                };
                arrays.unit_site.push(pair(name));
                arrays
                    .unit_enabled
                    .push(pair(if svc.enabled { "1" } else { "0" }));
                arrays.unit_port.push(pair(&svc.port.to_string()));
                arrays.unit_health.push(pair(health));
                arrays.units.push(unit);
            }
        }
        arrays
    }
}

/// Debian packages the bundle needs, sorted.
fn packages(model: &Model) -> Vec<&'static str> {
    let host = &model.host;
    let mut packages = vec![
        "ca-certificates",
        "curl",
        "logrotate",
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
    if host.firewall {
        packages.push("ufw");
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
    packages.sort_unstable();
    packages.dedup();
    packages
}

/// How setup.sh installs a file under `files/`: `"<path on the host> <mode> <owner> <group>"`.
fn host_file(path: &str, bundle_mode: u32, model: &Model) -> String {
    let target = path.trim_start_matches("files");
    let deploy = &model.host.deploy_user;
    let (mode, owner) = if target.starts_with("/etc/sudoers.d/") {
        ("0440", "root")
    } else if target.starts_with(&format!("/home/{deploy}/")) {
        ("0600", deploy.as_str())
    } else if bundle_mode & 0o111 != 0 {
        ("0755", "root")
    } else {
        ("0644", "root")
    };
    format!("{target} {mode} {owner} {owner}")
}

/// Adds `setup.sh`, `lib/blueprint.sh` and `plan.sh`.
pub(super) fn render(renderer: &Renderer, model: &Model, bundle: &mut Bundle) {
    let files: Vec<String> = bundle
        .files
        .iter()
        .filter(|(p, _)| p.starts_with("files/"))
        .map(|(p, f)| host_file(p, f.mode(), model))
        .collect();
    let view = minijinja::context! {
        host => model.host,
        os_id => model.host.os.os_release_id(),
        os_version => model.host.os.os_release_version(),
        pg_major => model.host.os.postgres_major(),
        packages => packages(model),
        files => files,
        plan => PlanArrays::new(model),
    };
    bundle.add("plan.sh", renderer.render(Template::PlanSh, &view), 0o644);
    bundle.add(
        "lib/blueprint.sh",
        renderer.render(Template::SetupLib, &view),
        0o644,
    );
    bundle.add("setup.sh", renderer.render(Template::SetupSh, &view), 0o755);
}
