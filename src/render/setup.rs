//! The host-side program: `setup.sh` (entry point), `lib/blueprint.sh` (the steps) and
//! `plan.sh` (the desired state as bash data). The logic is fixed; only `plan.sh` varies with the
//! input, and every value in it is quoted with the `sh` filter.

use serde::Serialize;

use super::systemd::unit_name;
use super::templates::Template;
use super::Renderer;
use crate::bundle::Bundle;
use crate::model::{Database, Model, Tls};

#[derive(Serialize)]
struct SiteView<'a> {
    name: &'a str,
    domains: &'a [String],
    tls: &'static str,
    tls_cert: &'a str,
    tls_key: &'a str,
    database: &'static str,
    #[serde(rename = "static")]
    static_: &'a str,
    secrets: &'a [String],
    generated: &'a [String],
}

#[derive(Serialize)]
struct UnitView<'a> {
    unit: String,
    site: &'a str,
    enabled: bool,
    port: u16,
    health: &'a str,
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
        .map(|(p, f)| host_file(p, f.mode, model))
        .collect();
    let sites: Vec<SiteView> = model
        .sites
        .iter()
        .map(|site| {
            let (tls, cert, key) = match &site.tls {
                Tls::Acme => ("acme", "", ""),
                Tls::None => ("none", "", ""),
                Tls::Files { cert, key } => ("files", cert.as_str(), key.as_str()),
            };
            SiteView {
                name: &site.name,
                domains: &site.domains,
                tls,
                tls_cert: cert,
                tls_key: key,
                database: if site.database == Database::Postgres {
                    "postgres"
                } else {
                    "none"
                },
                static_: site.static_dir.as_deref().unwrap_or(""),
                secrets: &site.secrets,
                generated: &site.generated_secrets,
            }
        })
        .collect();
    let units: Vec<UnitView> = model
        .sites
        .iter()
        .flat_map(|site| {
            site.services.iter().map(|svc| UnitView {
                unit: unit_name(&site.name, &svc.name),
                site: &site.name,
                enabled: svc.enabled,
                port: svc.port,
                health: if svc.enabled {
                    svc.health.as_deref().unwrap_or("")
                } else {
                    ""
                },
            })
        })
        .collect();
    let view = minijinja::context! {
        host => model.host,
        os_id => model.host.os.os_release_id(),
        os_version => model.host.os.os_release_version(),
        pg_major => model.host.os.postgres_major(),
        packages => packages(model),
        files => files,
        sites => sites,
        units => units,
    };
    bundle.add("plan.sh", renderer.render(Template::PlanSh, &view), 0o644);
    bundle.add(
        "lib/blueprint.sh",
        renderer.render(Template::SetupLib, &view),
        0o644,
    );
    bundle.add("setup.sh", renderer.render(Template::SetupSh, &view), 0o755);
}
