//! Host-level artifacts: logrotate per site, and the optional host hardening (sshd, sudoers for
//! the deploy user, fail2ban, unattended upgrades) plus the deploy user's authorized keys and
//! `blueprint-deploy`, the one command that user may run as root.

use serde::Serialize;

use super::templates::{static_view, view_of};
use super::Renderer;
use crate::bundle::fate::{Action, Validator};
use crate::bundle::{Bundle, Fate};
use crate::model::{layout, Host, Model, Site, Tls};

/// certbot's deploy hook: nginx picks up a renewed certificate.
const CERTBOT_HOOK: &str = "#!/bin/sh
# Installed by blueprint setup.sh: nginx picks up renewed certificates.
exec systemctl reload nginx.service
";

/// Releases kept per site by `blueprint-deploy` (the reference keeps five for rollback).
const RELEASES_KEPT: u32 = 5;
/// Largest release tarball `blueprint-deploy` accepts, as sent (1 GiB): the deploy user cannot
/// fill the disk through it.
const MAX_RELEASE_STREAM: u64 = 1 << 30;
/// Largest release once unpacked (4 GiB): a small tarball of zeros cannot fill it either.
const MAX_RELEASE_UNPACKED: u64 = 4 << 30;

#[derive(Serialize)]
struct LogrotateView<'a> {
    site: &'a str,
    app_logs: String,
    nginx_logs: String,
}
view_of!(LogrotateView<'_> => Logrotate);

#[derive(Serialize)]
struct SudoersView<'a> {
    user: &'a str,
    units: Vec<String>,
}
view_of!(SudoersView<'_> => Sudoers);

#[derive(Serialize)]
struct DeployView<'a> {
    sites: Vec<DeploySite<'a>>,
    keep: u32,
    max_stream: u64,
    max_unpacked: u64,
    sites_root: &'static str,
    state_root: &'static str,
}
view_of!(DeployView<'_> => DeployScript);

#[derive(Serialize)]
struct DeploySite<'a> {
    name: &'a str,
    /// The site's enabled units, restarted after a switch.
    units: Vec<String>,
    /// `port path` words of each enabled service with a health check: what a new release must
    /// answer before it stays.
    health: Vec<String>,
    /// `unit port path` words of each service a new release starts beside the running one on
    /// its standby port (`-` for a service without a health check: its port must accept).
    standby: Vec<String>,
    /// The release's directories nginx serves.
    published: Vec<&'a str>,
    /// The release phase's template unit (`<site>-release`), when the site has one.
    release_unit: Option<String>,
    /// `systemd-run --property` values of a one-off command (`--exec`).
    exec: Vec<String>,
}

#[derive(Serialize)]
struct AuthorizedKeysView<'a> {
    keys: &'a [String],
}
view_of!(AuthorizedKeysView<'_> => AuthorizedKeys);

#[derive(Serialize)]
struct SshdView<'a> {
    host: &'a Host,
    keys_root: &'static str,
}
view_of!(SshdView<'_> => Sshd);

#[derive(Serialize)]
struct Fail2banView<'a> {
    host: &'a Host,
    logs: Vec<String>,
}
view_of!(Fail2banView<'_> => Fail2ban);

static_view!(
    /// apt's periodic settings: nothing of the model.
    UnattendedUpgradesView => UnattendedUpgrades
);

/// Adds `files/etc/logrotate.d/blueprint-<site>`.
pub(super) fn render_site(renderer: &Renderer, site: &Site, bundle: &mut Bundle) {
    let text = renderer.render(&LogrotateView {
        site: &site.name,
        app_logs: layout::site_path(&site.name, "shared/logs"),
        nginx_logs: layout::nginx_log_dir(&site.name),
    });
    bundle.add_host_file(
        &["/etc/logrotate.d/blueprint-", &site.name].concat(),
        text,
        Fate::root(0o644),
    );
}

/// Adds the host-wide files: sudoers, `blueprint-deploy`, authorized keys and the hardening
/// drop-ins.
pub(super) fn render_host(renderer: &Renderer, model: &Model, bundle: &mut Bundle) {
    let host = &model.host;
    let units: Vec<String> = model
        .sites
        .iter()
        .flat_map(|site| site.services.iter().map(|svc| svc.unit.to_string()))
        .collect();
    let sudoers = renderer.render(&SudoersView {
        user: &host.deploy_user,
        units,
    });
    bundle.add_host_file(
        "/etc/sudoers.d/blueprint-deploy",
        sudoers,
        Fate::root(0o440).validated_by(Validator::Visudo),
    );
    let sites: Vec<_> = model
        .sites
        .iter()
        .map(|site| {
            let enabled: Vec<String> = site
                .services
                .iter()
                .filter(|svc| svc.enabled)
                .map(|svc| svc.unit.to_string())
                .collect();
            let health = (site.services.iter())
                .filter(|svc| svc.enabled)
                .filter_map(|svc| Some([svc.port.to_string(), svc.health.clone()?]))
                .flatten()
                .collect();
            let standby = (site.services.iter())
                .filter(|svc| svc.enabled)
                .filter_map(|svc| {
                    let port = svc.standby_port?;
                    let health = svc.health.clone().unwrap_or_else(|| "-".to_owned());
                    Some([svc.unit.to_string(), port.to_string(), health])
                })
                .flatten()
                .collect();
            DeploySite {
                name: &site.name,
                units: enabled,
                health,
                standby,
                release_unit: site.release.as_ref().map(|r| r.unit.to_string()),
                exec: super::systemd::exec_properties(renderer, site),
                published: site.published_dirs(),
            }
        })
        .collect();
    let deploy = renderer.render(&DeployView {
        sites,
        keep: RELEASES_KEPT,
        max_stream: MAX_RELEASE_STREAM,
        max_unpacked: MAX_RELEASE_UNPACKED,
        sites_root: layout::SITES_ROOT,
        state_root: layout::STATE_ROOT,
    });
    bundle.add_host_file(
        "/usr/local/sbin/blueprint-deploy",
        deploy,
        Fate::root(0o755),
    );
    // Root-owned, outside the deploy user's home: root never writes in a tree that user
    // controls (a swapped temp file there would let it aim root's write anywhere).
    // (No keys is only possible with `harden_ssh = false`: then the deploy user has no way in.)
    if !host.admin_keys.is_empty() {
        let keys = renderer.render(&AuthorizedKeysView {
            keys: &host.admin_keys,
        });
        bundle.add_host_file(
            &layout::authorized_keys(&host.deploy_user),
            keys,
            Fate::root(0o644).validated_by(Validator::AuthorizedKeys),
        );
    }
    // Always present: it names the root-owned keys file. The hardening lines are optional.
    let sshd = SshdView {
        host,
        keys_root: layout::AUTHORIZED_KEYS_ROOT,
    };
    bundle.add_host_file(
        "/etc/ssh/sshd_config.d/50-blueprint.conf",
        renderer.render(&sshd),
        Fate::root(0o644)
            .validated_by(Validator::Sshd)
            .then(Action::RestartSsh),
    );
    if host.fail2ban {
        // Every site's error log by name: fail2ban expands log paths only when it starts, so
        // a new site changes this file and so restarts the jail.
        let logs: Vec<String> = model
            .sites
            .iter()
            .map(|site| [&layout::nginx_log_dir(&site.name), "/error.log"].concat())
            .collect();
        bundle.add_host_file(
            "/etc/fail2ban/jail.d/blueprint.conf",
            renderer.render(&Fail2banView { host, logs }),
            Fate::root(0o644).then(Action::RestartFail2ban),
        );
    }
    if host.unattended_upgrades {
        bundle.add_host_file(
            "/etc/apt/apt.conf.d/52blueprint-unattended-upgrades",
            renderer.render(&UnattendedUpgradesView),
            Fate::root(0o644),
        );
    }
    if model.sites.iter().any(|s| s.tls == Tls::Acme) {
        bundle.add_host_file(
            "/etc/letsencrypt/renewal-hooks/deploy/blueprint-reload-nginx",
            CERTBOT_HOOK.to_owned(),
            Fate::root(0o755),
        );
    }
}
