//! Stage 2 (resolve): `[host]` into the model's [`Host`]: name, OS, ACME contact, admin keys
//! (read from the build machine), deploy user, SSH port and the hardening switches.

use std::collections::BTreeSet;

use super::invalid::Invalid;
use super::portable::admin_keys_warning;
use super::{admin_keys, email, names, packages, ports, Resolver};
use crate::model::{Host, Os};
use crate::raw::{RawConfig, RawHost};
use crate::suggest;

impl Resolver<'_> {
    pub(super) fn host(&mut self, raw: &RawHost, config: &RawConfig) -> Option<Host> {
        let name = self.check(raw.name.span(), names::host_name(raw.name.get_ref()));
        let os = Os::from_id(raw.os.get_ref());
        if os.is_none() {
            let known: Vec<_> = Os::ALL.iter().map(|os| format!("`{}`", os.id())).collect();
            self.report(
                raw.os.span(),
                Invalid::new(
                    format!("unsupported os `{}`", raw.os.get_ref()),
                    format!(
                        "{}use one of {}",
                        suggest::hint(raw.os.get_ref(), Os::ALL.iter().map(|os| os.id())),
                        known.join(", ")
                    ),
                ),
            );
        }
        let acme_email = raw.acme_email.as_ref().and_then(|e| {
            self.check(e.span(), email::email(e.get_ref()))
                .map(|()| e.get_ref().clone())
        });
        let needs_acme = config.sites.values().any(|s| {
            s.get_ref()
                .tls
                .as_ref()
                .is_none_or(|t| t.get_ref().as_str() == Some("acme"))
        });
        if needs_acme && raw.acme_email.is_none() {
            self.report(raw.name.span(), Invalid::new("`acme_email` is missing from `[host]`", "add `acme_email = \"ops@example.com\"`: sites with `tls = \"acme\"` need a Let's Encrypt contact"));
        }
        let mut admin_keys = Vec::new();
        for path in &raw.admin_keys {
            if let Some(warning) = admin_keys_warning(path) {
                self.diagnostics.push(warning);
            }
            if let Some(keys) = self.check(
                path.span(),
                admin_keys::read_key_file(path.get_ref(), self.source.dir()),
            ) {
                admin_keys.extend(keys);
            }
        }
        admin_keys.sort();
        admin_keys.dedup();
        if raw.admin_keys.is_empty() && raw.harden_ssh.unwrap_or(true) {
            self.report(
                raw.name.span(),
                Invalid::new(
                    "`admin_keys` is missing from `[host]`",
                    "add `admin_keys = [\"keys/ops.pub\"]`: the deploy user logs in with these keys only, and with password logins off nobody else could log in to deploy",
                ),
            );
        }
        let deploy_user = match &raw.deploy_user {
            Some(user) => self.check(user.span(), names::user_name(user.get_ref())),
            None => Some(names::default_deploy_user()),
        };
        let ssh_port = match &raw.ssh_port {
            None => Some(22),
            Some(port) => self.check(
                port.span(),
                u16::try_from(*port.get_ref())
                    .ok()
                    .filter(|p| *p > 0)
                    .ok_or_else(|| {
                        Invalid::new(
                            format!("ssh_port {} is not a TCP port", port.get_ref()),
                            "use a port from 1 to 65535",
                        )
                    })
                    .and_then(ports::ssh_port),
            ),
        };
        let mut packages = BTreeSet::new();
        for package in &raw.packages {
            if let Some(()) = self.check(package.span(), packages::package_name(package.get_ref()))
            {
                packages.insert(package.get_ref().clone());
            }
        }
        let prometheus = match &raw.monitoring {
            None => Some(false),
            Some(m) if m.get_ref() == "prometheus" => Some(true),
            Some(m) => {
                let hint = suggest::hint(m.get_ref(), ["prometheus"]);
                self.report(
                    m.span(),
                    Invalid::new(
                        format!("unknown monitoring `{}`", m.get_ref()),
                        format!(
                            "{hint}`monitoring` supports `\"prometheus\"`; leave it out for none"
                        ),
                    ),
                );
                None
            }
        };
        let backups = self.backups(raw.backups.as_ref());
        Some(Host {
            backups: backups?,
            packages: packages.into_iter().collect(),
            name: name.map(|()| raw.name.get_ref().clone())?,
            os: os?,
            acme_email,
            admin_keys,
            deploy_user: deploy_user?,
            ssh_port: ssh_port?,
            firewall: raw.firewall.unwrap_or(true),
            fail2ban: raw.fail2ban.unwrap_or(true),
            unattended_upgrades: raw.unattended_upgrades.unwrap_or(true),
            harden_ssh: raw.harden_ssh.unwrap_or(true),
            prometheus: prometheus?,
        })
    }
}
