//! Stage 2: raw config → validated [`Model`].
//!
//! The resolver walks the raw tree once, checks every value with the small pure checks in the
//! submodules, applies defaults, and then runs the host-wide checks (unique domains, slots and
//! ports). It never stops at the first problem: every diagnostic is collected, each pinned to the
//! span of the value that caused it, so one run of `blueprint check` shows everything to fix.

mod admin_keys;
mod command;
mod domain;
mod email;
mod env;
mod headers;
mod invalid;
mod limits;
mod names;
mod packages;
mod paths;
mod port_range;
mod portable;
mod ports;
mod rate;
mod url_path;

use std::collections::{BTreeMap, BTreeSet};
use std::ops::Range;

use toml::Spanned;

use crate::diagnostic::{Diagnostic, Report};
use crate::model::{Cdn, Database, Host, Model, Os, Runtime, Service, Site, Tls};
use crate::raw::{RawConfig, RawHost, RawService, RawSite, SpannedString};
use crate::source::SourceFile;
use crate::suggest;
use invalid::{Checked, Invalid};
use port_range::{port_invalid, port_unusable};
use portable::admin_keys_warning;

/// Validates `raw` and builds the model.
///
/// # Errors
/// Every problem found, with positions in `source`.
pub fn resolve(raw: &RawConfig, source: &SourceFile) -> Result<Model, Report> {
    match resolve_all(raw, source) {
        (Some(model), _) => Ok(model),
        (None, diagnostics) => Err(Report::new(
            source,
            diagnostics
                .into_iter()
                .filter(Diagnostic::is_error)
                .collect(),
        )),
    }
}

/// Validates `raw` and builds the model when there is no error; returns every diagnostic,
/// warnings included, either way.
pub fn resolve_all(raw: &RawConfig, source: &SourceFile) -> (Option<Model>, Vec<Diagnostic>) {
    let mut resolver = Resolver {
        source,
        diagnostics: Vec::new(),
    };
    let host = resolver.host(raw.host.get_ref(), raw);
    let mut sites: Vec<Site> = raw
        .sites
        .iter()
        .filter_map(|(name, site)| resolver.site(name, site, host.as_ref()))
        .collect();
    resolver.assign_ports(raw, &mut sites, host.as_ref().map(|h| h.ssh_port));
    resolver.unique_across_host(raw);
    let valid = !resolver.diagnostics.iter().any(Diagnostic::is_error);
    let model = host.filter(|_| valid).map(|host| Model { host, sites });
    (model, resolver.diagnostics)
}

/// Collects diagnostics while walking the raw tree.
struct Resolver<'a> {
    source: &'a SourceFile,
    diagnostics: Vec<Diagnostic>,
}

impl Resolver<'_> {
    fn report(&mut self, span: Range<usize>, invalid: Invalid) {
        self.diagnostics
            .push(Diagnostic::at(span, invalid.message).with_help(invalid.help));
    }

    /// Keeps the value of a passed check, records a failed one at `span`.
    fn check<T>(&mut self, span: Range<usize>, result: Checked<T>) -> Option<T> {
        result.map_err(|invalid| self.report(span, invalid)).ok()
    }

    fn host(&mut self, raw: &RawHost, config: &RawConfig) -> Option<Host> {
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
            Some(user) => self
                .check(user.span(), names::user_name(user.get_ref()))
                .map(|()| user.get_ref().clone()),
            None => Some("deploy".to_owned()),
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
        Some(Host {
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
        })
    }

    fn site(
        &mut self,
        name: &SpannedString,
        raw: &Spanned<RawSite>,
        host: Option<&Host>,
    ) -> Option<Site> {
        let site_name = name.get_ref();
        let name_ok = self
            .check(name.span(), names::site_name(site_name))
            .is_some();
        if host.is_some_and(|h| &h.deploy_user == site_name) {
            self.report(
                name.span(),
                Invalid::new(
                    format!("site `{site_name}` has the deploy user's name"),
                    "rename the site or set `deploy_user` in `[host]`",
                ),
            );
        }
        let raw_site = raw.get_ref();
        let slot = self.check(
            raw_site.slot.span(),
            u16::try_from(*raw_site.slot.get_ref())
                .ok()
                .filter(|s| (1..=ports::MAX_SLOT).contains(s))
                .ok_or_else(|| {
                    Invalid::new(
                        format!("slot {} is out of range", raw_site.slot.get_ref()),
                        format!(
                            "use a slot from 1 to {}; each slot owns ten ports from {}",
                            ports::MAX_SLOT,
                            ports::BASE
                        ),
                    )
                }),
        );

        let mut domains = Vec::new();
        for d in raw_site.domains.get_ref() {
            if self.check(d.span(), domain::domain(d.get_ref())).is_some() {
                domains.push(d.get_ref().clone());
            }
        }
        if raw_site.domains.get_ref().is_empty() {
            self.report(
                raw_site.domains.span(),
                Invalid::new(
                    format!("site `{site_name}` has no domains"),
                    "list at least one domain, e.g. `domains = [\"example.com\"]`",
                ),
            );
        }

        let tls = self.tls(raw_site);
        let behind = raw_site.behind.as_ref().and_then(|b| match b.get_ref().as_str() {
            "cloudflare" => Some(Cdn::Cloudflare),
            other => {
                self.report(b.span(), Invalid::new(format!("unknown CDN `{other}`"), format!("{}`behind` supports `\"cloudflare\"`; leave it out when clients connect directly", suggest::hint(other, ["cloudflare"]))));
                None
            }
        });
        let database = match raw_site.database.as_ref() {
            None => Some(Database::None),
            Some(db) => match db.get_ref().as_str() {
                "postgres" => Some(Database::Postgres),
                "none" => Some(Database::None),
                other => {
                    self.report(
                        db.span(),
                        Invalid::new(
                            format!("unknown database `{other}`"),
                            format!(
                                "{}use `\"postgres\"` or `\"none\"`",
                                suggest::hint(other, ["postgres", "none"])
                            ),
                        ),
                    );
                    None
                }
            },
        };

        let mut env = BTreeMap::new();
        for (key, value) in &raw_site.env {
            let key_ok = self
                .check(key.span(), env::env_key(key.get_ref()))
                .is_some();
            let value_ok = self
                .check(value.span(), env::env_value(value.get_ref()))
                .is_some();
            if key_ok && value_ok {
                env.insert(key.get_ref().clone(), value.get_ref().clone());
            }
        }
        let secrets = self.secret_names(&raw_site.secrets, &env, &[]);
        let generated_secrets =
            self.secret_names(&raw_site.generated_secrets, &env, &raw_site.secrets);

        let writable = raw_site
            .writable
            .iter()
            .filter_map(|w| {
                self.check(w.span(), paths::writable(w.get_ref()))
                    .map(|()| w.get_ref().clone())
            })
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        let static_dir = raw_site.static_dir.as_ref().and_then(|d| {
            self.check(d.span(), paths::release_dir(d.get_ref()))
                .map(|()| d.get_ref().clone())
        });
        let client_max_body_size = match &raw_site.client_max_body_size {
            None => limits::DEFAULT_BODY_SIZE.to_owned(),
            Some(size) => self
                .check(size.span(), limits::body_size(size.get_ref()))
                .map(|()| size.get_ref().clone())?,
        };
        let mut site_headers = headers::defaults();
        for (header, value) in &raw_site.headers {
            let name_ok = self
                .check(header.span(), headers::header_name(header.get_ref()))
                .is_some();
            let value_ok = self
                .check(value.span(), headers::header_value(value.get_ref()))
                .is_some();
            if name_ok && value_ok {
                // Match defaults case-insensitively so `x-frame-options` replaces, not duplicates.
                site_headers.retain(|k, _| !k.eq_ignore_ascii_case(header.get_ref()));
                if !value.get_ref().is_empty() {
                    site_headers.insert(header.get_ref().clone(), value.get_ref().clone());
                }
            }
        }

        let services: Vec<Service> = raw_site
            .services
            .iter()
            .filter_map(|(n, s)| self.service(n, s, host))
            .collect();
        self.routes_within_site(raw_site, static_dir.is_some());
        if raw_site.services.is_empty() && raw_site.static_dir.is_none() {
            self.report(
                name.span(),
                Invalid::new(
                    format!("site `{site_name}` has nothing to serve"),
                    "add `static = \"public\"` or a `[sites.<site>.services.<name>]` table",
                ),
            );
        }

        if !name_ok || services.len() != raw_site.services.len() {
            return None;
        }
        Some(Site {
            name: site_name.clone(),
            slot: slot?,
            domains,
            tls: tls?,
            behind,
            database: database?,
            env,
            secrets,
            generated_secrets,
            writable,
            static_dir,
            client_max_body_size,
            headers: site_headers,
            services,
        })
    }

    fn tls(&mut self, site: &RawSite) -> Option<Tls> {
        let Some(raw) = &site.tls else {
            return Some(Tls::Acme);
        };
        let help = "use `\"acme\"`, `\"none\"` or `{ cert = \"/etc/ssl/…/fullchain.pem\", key = \"/etc/ssl/…/privkey.pem\" }`";
        match raw.get_ref() {
            toml::Value::String(mode) if mode == "acme" => Some(Tls::Acme),
            toml::Value::String(mode) if mode == "none" => Some(Tls::None),
            toml::Value::Table(table) => {
                let unknown: Vec<_> = table
                    .keys()
                    .filter(|k| !matches!(k.as_str(), "cert" | "key"))
                    .collect();
                let cert = table.get("cert").and_then(toml::Value::as_str);
                let key = table.get("key").and_then(toml::Value::as_str);
                match (cert, key, unknown.is_empty()) {
                    (Some(cert), Some(key), true) => {
                        let cert_ok = self
                            .check(raw.span(), paths::host_path("tls.cert", cert))
                            .is_some();
                        let key_ok = self
                            .check(raw.span(), paths::host_path("tls.key", key))
                            .is_some();
                        (cert_ok && key_ok).then(|| Tls::Files {
                            cert: cert.to_owned(),
                            key: key.to_owned(),
                        })
                    }
                    _ => {
                        self.report(
                            raw.span(),
                            Invalid::new(
                                "`tls` table needs exactly the string keys `cert` and `key`",
                                help,
                            ),
                        );
                        None
                    }
                }
            }
            other => {
                let guess = other
                    .as_str()
                    .map_or_else(String::new, |m| suggest::hint(m, ["acme", "none"]));
                self.report(
                    raw.span(),
                    Invalid::new(
                        format!("unknown tls mode {other}"),
                        format!("{guess}{help}"),
                    ),
                );
                None
            }
        }
    }

    fn secret_names(
        &mut self,
        names: &[SpannedString],
        env: &BTreeMap<String, String>,
        others: &[SpannedString],
    ) -> Vec<String> {
        let mut seen = BTreeSet::new();
        for name in names {
            let key = name.get_ref();
            if self.check(name.span(), env::env_key(key)).is_none() {
                continue;
            }
            if env.contains_key(key)
                || others.iter().any(|o| o.get_ref() == key)
                || !seen.insert(key.clone())
            {
                self.report(
                    name.span(),
                    Invalid::new(
                        format!("`{key}` is defined more than once"),
                        "a name belongs in one of `env`, `secrets` or `generated_secrets`, once",
                    ),
                );
            }
        }
        seen.into_iter().collect()
    }

    fn service(
        &mut self,
        name: &SpannedString,
        raw: &Spanned<RawService>,
        host: Option<&Host>,
    ) -> Option<Service> {
        let svc = raw.get_ref();
        let name_ok = self
            .check(name.span(), names::service_name(name.get_ref()))
            .is_some();
        let argv = self.check(svc.run.span(), command::command(svc.run.get_ref()));
        let package = argv.as_ref().and_then(|argv| {
            let (os, listed) = host.map_or((None, &[][..]), |h| (Some(h.os), &h.packages[..]));
            let provided = packages::executable_package(&argv[0], os, listed);
            self.check(svc.run.span(), provided)
        });
        let route = svc.route.as_ref().and_then(|r| {
            self.check(r.span(), url_path::url_path("route", r.get_ref()))
                .map(|()| r.get_ref().clone())
        });
        let route_ok = svc.route.is_none() || route.is_some();
        let health = svc.health.as_ref().and_then(|h| {
            self.check(h.span(), url_path::url_path("health path", h.get_ref()))
                .map(|()| h.get_ref().clone())
        });
        if let (Some(h), None) = (&svc.health, &svc.route) {
            self.report(h.span(), Invalid::new("`health` needs a `route`", "the health path is probed through nginx: give the service a `route`, or remove `health`"));
        }
        let rate_limit = match &svc.rate_limit {
            None => Some(None),
            Some(rl) => {
                let rl = rl.get_ref();
                let burst = rl.burst.as_ref().map_or(0, |b| *b.get_ref());
                let span = match &rl.burst {
                    Some(b) if rate::rate_limit("1r/s", burst).is_err() => b.span(),
                    _ => rl.rate.span(),
                };
                self.check(span, rate::rate_limit(rl.rate.get_ref(), burst))
                    .map(Some)
            }
        };
        let runtime = match &svc.runtime {
            Some(r) => Runtime::from_id(r.get_ref()).or_else(|| {
                let known: Vec<_> = Runtime::ALL
                    .iter()
                    .map(|r| format!("`{}`", r.id()))
                    .collect();
                self.report(
                    r.span(),
                    Invalid::new(
                        format!("unknown runtime `{}`", r.get_ref()),
                        format!(
                            "{}use one of {}",
                            suggest::hint(r.get_ref(), Runtime::ALL.iter().map(|r| r.id())),
                            known.join(", ")
                        ),
                    ),
                );
                None
            }),
            None => argv.as_ref().map(|a| Runtime::infer(&a[0])),
        };
        let limits = match limits::limits(
            svc.memory_max.as_ref().map(|s| s.get_ref().as_str()),
            svc.cpu_quota.as_ref().map(|s| s.get_ref().as_str()),
            svc.tasks_max.as_ref().map(|t| *t.get_ref()),
        ) {
            Ok(limits) => Some(limits),
            Err(wrong) => {
                for (field, invalid) in wrong {
                    let span = match field {
                        limits::Field::MemoryMax => svc.memory_max.as_ref().map(Spanned::span),
                        limits::Field::CpuQuota => svc.cpu_quota.as_ref().map(Spanned::span),
                        limits::Field::TasksMax => svc.tasks_max.as_ref().map(Spanned::span),
                    };
                    self.report(span.unwrap_or_else(|| raw.span()), invalid);
                }
                None
            }
        };
        // Checked here as well as in `assign_ports`, which sees only services that resolved: a
        // wrong port must not hide behind another mistake of the same service.
        let port_ok = match &svc.port {
            Some(port) if port_unusable(*port.get_ref()) => {
                self.report(port.span(), port_invalid(*port.get_ref()));
                false
            }
            _ => true,
        };
        if !name_ok || !route_ok || !port_ok {
            return None;
        }
        Some(Service {
            name: name.get_ref().clone(),
            port: 0, // assigned host-wide in `assign_ports`
            argv: argv?,
            package: package?,
            route,
            rate_limit: rate_limit?,
            enabled: svc.enabled.unwrap_or(true),
            health,
            runtime: runtime?,
            limits: limits?,
        })
    }

    /// Two services of a site may not claim the same route, nor `/` when nginx serves static files there.
    fn routes_within_site(&mut self, site: &RawSite, has_static: bool) {
        let mut seen: BTreeMap<&str, &str> = BTreeMap::new();
        for (name, svc) in &site.services {
            let Some(route) = &svc.get_ref().route else {
                continue;
            };
            if let Some(other) = seen.insert(route.get_ref(), name.get_ref()) {
                self.report(
                    route.span(),
                    Invalid::new(
                        format!(
                            "route `{}` is already used by service `{other}`",
                            route.get_ref()
                        ),
                        "give each service its own route",
                    ),
                );
            } else if has_static && route.get_ref() == "/" {
                self.report(route.span(), Invalid::new("route `/` conflicts with the site's `static` directory", "serve static files from the app, or move the service to a sub-path like `/api/`"));
            }
        }
    }

    /// Gives every service its port: explicit ones are checked, the others take free ports of
    /// their site's block in name order.
    fn assign_ports(&mut self, raw: &RawConfig, sites: &mut [Site], ssh_port: Option<u16>) {
        let slot_owner: BTreeMap<u16, &str> =
            sites.iter().map(|s| (s.slot, s.name.as_str())).collect();
        let mut used: BTreeMap<u16, String> = BTreeMap::new();
        if let Some(port) = ssh_port {
            used.insert(port, "sshd (`ssh_port`)".to_owned());
        }
        // Pass 1: explicit ports, so defaulted ones can skip them.
        for site in sites.iter() {
            let raw_site = raw.sites.get(site.name.as_str()).map(Spanned::get_ref);
            for svc in &site.services {
                let Some(port) = raw_site
                    .and_then(|r| r.services.get(svc.name.as_str()))
                    .and_then(|r| r.get_ref().port.as_ref())
                else {
                    continue;
                };
                let value = *port.get_ref();
                let checked = u16::try_from(value).ok().filter(|_| !port_unusable(value));
                let Some(p) = checked else {
                    continue; // reported by `service`
                };
                if let Some(owner) = ports::slot_of(p)
                    .and_then(|slot| slot_owner.get(&slot))
                    .filter(|owner| **owner != site.name)
                {
                    let block = ports::block(ports::slot_of(p).unwrap_or(1));
                    self.report(
                        port.span(),
                        Invalid::new(
                            format!(
                                "port {p} lies in the block of site `{owner}` ({}–{})",
                                block.start,
                                block.end - 1
                            ),
                            "choose a port outside other sites' slot blocks",
                        ),
                    );
                } else if let Some(other) = used.insert(p, format!("{}.{}", site.name, svc.name)) {
                    self.report(port.span(), Invalid::new(format!("port {p} is already used by `{other}`"), "give each service its own port, or leave `port` out to use the site's slot block"));
                }
            }
        }
        for site in sites.iter_mut() {
            let raw_site = raw.sites.get(site.name.as_str());
            let mut free = ports::block(site.slot)
                .filter(|p| !used.contains_key(p) && !ports::TAKEN_BY_SYSTEM.contains(p));
            for svc in &mut site.services {
                let explicit = raw_site
                    .and_then(|r| r.get_ref().services.get(svc.name.as_str()))
                    .and_then(|r| r.get_ref().port.as_ref());
                svc.port = match explicit {
                    Some(port) => u16::try_from(*port.get_ref()).unwrap_or(0),
                    None => {
                        match free.next() {
                            Some(p) => p,
                            None => {
                                let span = raw_site.map_or(0..0, |r| r.get_ref().slot.span());
                                self.report(span, Invalid::new(format!("site `{}` has more services than its slot has free ports", site.name), "give some services an explicit `port`"));
                                0
                            }
                        }
                    }
                };
            }
            for svc in &site.services {
                used.entry(svc.port)
                    .or_insert_with(|| format!("{}.{}", site.name, svc.name));
            }
        }
    }

    /// Domains and slots must be unique across the whole host.
    fn unique_across_host(&mut self, raw: &RawConfig) {
        let mut domains: BTreeMap<&str, &str> = BTreeMap::new();
        let mut slots: BTreeMap<i64, &str> = BTreeMap::new();
        for (name, site) in &raw.sites {
            let site = site.get_ref();
            for d in site.domains.get_ref() {
                if let Some(other) = domains.insert(d.get_ref(), name.get_ref()) {
                    let whose = if other == name.get_ref().as_str() {
                        "this site".to_owned()
                    } else {
                        format!("site `{other}`")
                    };
                    self.report(
                        d.span(),
                        Invalid::new(
                            format!("domain `{}` is already served by {whose}", d.get_ref()),
                            "a domain can belong to one site only: remove one of them",
                        ),
                    );
                }
            }
            if let Some(other) = slots.insert(*site.slot.get_ref(), name.get_ref()) {
                self.report(site.slot.span(), Invalid::new(format!("slot {} is already taken by site `{other}`", site.slot.get_ref()), "give each site its own slot; never reuse a slot while the old site's data exists"));
            }
        }
    }
}
