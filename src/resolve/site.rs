//! Stage 2 (resolve): one `[sites.<name>]` into a [`Site`]: its name, slot, domains, TLS, CDN,
//! database, env and secrets, static directory, limits, headers and services.

use std::collections::{BTreeMap, BTreeSet};

use toml::Spanned;

use super::host_wide::PortPlan;
use super::invalid::Invalid;
use super::{
    basic_auth, domain, env, headers, limits, names, network, paths, ports, serving, Resolver,
};
use crate::diagnostic::Diagnostic;
use crate::model::{Cdn, Database, Host, Job, Service, Site, Tls};
use crate::raw::{RawSite, SpannedString};
use crate::suggest;

impl Resolver<'_> {
    pub(super) fn site(
        &mut self,
        name: &SpannedString,
        raw: &Spanned<RawSite>,
        host: Option<&Host>,
        ports: &PortPlan,
    ) -> Option<Site> {
        let site_name = name.get_ref();
        let checked_name = self.check(name.span(), names::site_name(site_name));
        if host.is_some_and(|h| h.deploy_user == *site_name) {
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
            if let Some(d) = self.check(d.span(), domain::domain(d.get_ref())) {
                domains.push(d);
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
                "sqlite" => Some(Database::Sqlite),
                "none" => Some(Database::None),
                other => {
                    self.report(
                        db.span(),
                        Invalid::new(
                            format!("unknown database `{other}`"),
                            format!(
                                "{}use `\"postgres\"`, `\"sqlite\"` or `\"none\"`",
                                suggest::hint(other, ["postgres", "sqlite", "none"])
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
        let mut paths = BTreeMap::new();
        for (prefix, dir) in &raw_site.paths {
            let checked = serving::published_path(prefix.get_ref(), dir.get_ref());
            if self.check(prefix.span(), checked).is_some() {
                paths.insert(prefix.get_ref().clone(), dir.get_ref().clone());
            }
        }
        let uploads_url = raw_site.uploads_url.as_ref().and_then(|url| {
            let checked = serving::uploads_url(
                url.get_ref(),
                raw_site.paths.keys().map(|k| k.get_ref().as_str()),
            );
            self.check(url.span(), checked)
                .map(|()| url.get_ref().clone())
        });
        let spa = raw_site.spa.as_ref().is_some_and(|v| *v.get_ref());
        // (An explicit `spa = false`, the default, needs nothing.)
        if let (Some(v), None, true) = (&raw_site.spa, &raw_site.static_dir, spa) {
            self.report(v.span(), Invalid::new("`spa` needs `static`", "set `static` to the directory the app's build writes, e.g. `static = \"dist\"`"));
        }
        let mut immutable = Vec::new();
        for prefix in &raw_site.immutable {
            if raw_site.static_dir.is_none() {
                self.report(prefix.span(), Invalid::new("`immutable` needs `static`", "list the hashed-asset directories of the site's `static` directory, or remove `immutable`"));
            } else if let Some(()) =
                self.check(prefix.span(), serving::immutable_prefix(prefix.get_ref()))
            {
                immutable.push(prefix.get_ref().clone());
            }
        }
        immutable.sort();
        immutable.dedup();
        let listen = raw_site.listen.as_ref().and_then(|l| {
            let address = self.check(l.span(), network::listen_address(l.get_ref()))?;
            let acme = raw_site
                .tls
                .as_ref()
                .is_none_or(|t| t.get_ref().as_str() == Some("acme"));
            if acme && network::is_private(address) {
                self.diagnostics.push(
                    Diagnostic::warning_at(
                        l.span(),
                        format!("Let's Encrypt cannot reach `{address}`, a private address: the site keeps its placeholder certificate"),
                    )
                    .with_help("use `tls = { cert = …, key = … }` (e.g. `tailscale cert`) or `tls = \"none\"` for a site on a private network"),
                );
            }
            Some(address)
        });
        let mut allow_from = Vec::new();
        for net in &raw_site.allow_from {
            let Some(canonical) = self.check(net.span(), network::network(net.get_ref())) else {
                continue;
            };
            if network::is_everyone(&canonical) {
                self.diagnostics.push(
                    Diagnostic::warning_at(
                        net.span(),
                        format!("`{canonical}` lets every address in: the site is not private"),
                    )
                    .with_help(
                        "list only the networks that may reach the site, or remove `allow_from`",
                    ),
                );
            }
            allow_from.push(canonical);
        }
        allow_from.sort();
        allow_from.dedup();
        let mut basic_auth = Vec::new();
        for user in &raw_site.basic_auth {
            if let Some(user) = self.check(user.span(), basic_auth::user(user.get_ref())) {
                basic_auth.push(user);
            }
        }
        if let (Some(first), Some(Tls::None)) = (raw_site.basic_auth.first(), tls.as_ref()) {
            self.diagnostics.push(
                Diagnostic::warning_at(
                    first.span(),
                    "basic auth on a site without TLS: its passwords cross the network in clear text",
                )
                .with_help("give the site `tls` (Let's Encrypt or files), or reach it only over a private network"),
            );
        }
        basic_auth.sort();
        basic_auth.dedup();
        let hsts = match &raw_site.hsts {
            None => self.check(name.span(), serving::hsts(None)),
            Some(h) => self.check(h.span(), serving::hsts(Some(h.get_ref()))),
        };
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
            .filter_map(|(n, s)| {
                let planned = ports.get(&(site_name.clone(), n.get_ref().clone()));
                self.service(n, s, host, planned.copied(), checked_name.as_ref())
            })
            .collect();
        let jobs: Vec<Job> = raw_site
            .jobs
            .iter()
            .filter_map(|(n, j)| self.job(n, j, host, checked_name.as_ref()))
            .collect();
        let release = raw_site
            .release
            .as_ref()
            .map(|r| self.release(r, host, checked_name.as_ref()));
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

        if services.len() != raw_site.services.len() || jobs.len() != raw_site.jobs.len() {
            return None;
        }
        Some(Site {
            name: checked_name?,
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
            paths,
            uploads_url,
            spa,
            immutable,
            hsts: hsts?,
            allow_from,
            listen,
            basic_auth,
            client_max_body_size,
            headers: site_headers,
            services,
            jobs,
            release: release.map_or(Some(None), |r| r.map(Some))?,
        })
    }

    pub(super) fn secret_names(
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
}
