//! Host-level artifacts: logrotate per site, and the optional host hardening (sshd, sudoers for
//! the deploy user, fail2ban, unattended upgrades) plus the deploy user's authorized keys and
//! `blueprint-deploy`, the one command that user may run as root.

use minijinja::context;

use super::systemd::unit_name;
use super::templates::Template;
use super::Renderer;
use crate::bundle::Bundle;
use crate::model::{Model, Site};

/// Releases kept per site by `blueprint-deploy` (the reference keeps five for rollback).
const RELEASES_KEPT: u32 = 5;

/// Adds `files/etc/logrotate.d/blueprint-<site>`.
pub(super) fn render_site(renderer: &Renderer, site: &Site, bundle: &mut Bundle) {
    let text = renderer.render(Template::Logrotate, &context! { site => site.name });
    bundle.add(
        ["files/etc/logrotate.d/blueprint-", &site.name].concat(),
        text,
        0o644,
    );
}

/// Adds the host-wide files: sudoers, `blueprint-deploy`, authorized keys and the hardening
/// drop-ins.
pub(super) fn render_host(renderer: &Renderer, model: &Model, bundle: &mut Bundle) {
    let host = &model.host;
    let units: Vec<String> = model
        .sites
        .iter()
        .flat_map(|site| {
            site.services
                .iter()
                .map(|svc| unit_name(&site.name, &svc.name))
        })
        .collect();
    let sudoers = renderer.render(
        Template::Sudoers,
        &context! { user => host.deploy_user, units => units },
    );
    bundle.add("files/etc/sudoers.d/blueprint-deploy", sudoers, 0o644);
    let sites: Vec<_> = model
        .sites
        .iter()
        .map(|site| {
            let enabled: Vec<String> = site
                .services
                .iter()
                .filter(|svc| svc.enabled)
                .map(|svc| unit_name(&site.name, &svc.name))
                .collect();
            context! { name => site.name, units => enabled }
        })
        .collect();
    let deploy = renderer.render(
        Template::DeployScript,
        &context! { sites => sites, keep => RELEASES_KEPT },
    );
    bundle.add("files/usr/local/sbin/blueprint-deploy", deploy, 0o755);
    let keys = renderer.render(
        Template::AuthorizedKeys,
        &context! { keys => host.admin_keys },
    );
    bundle.add(
        format!("files/home/{}/.ssh/authorized_keys", host.deploy_user),
        keys,
        0o644,
    );
    if host.harden_ssh {
        bundle.add(
            "files/etc/ssh/sshd_config.d/50-blueprint.conf",
            renderer.render(Template::Sshd, &context! { host }),
            0o644,
        );
    }
    if host.fail2ban {
        bundle.add(
            "files/etc/fail2ban/jail.d/blueprint.conf",
            renderer.render(Template::Fail2ban, &context! { host }),
            0o644,
        );
    }
    if host.unattended_upgrades {
        bundle.add(
            "files/etc/apt/apt.conf.d/52blueprint-unattended-upgrades",
            renderer.render(Template::UnattendedUpgrades, &()),
            0o644,
        );
    }
}
