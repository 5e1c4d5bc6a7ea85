//! Stage 2 (resolve): what needs every site at once. Ports are planned first, from the raw tree
//! (explicit ones checked, the others taken from each site's slot block in name order, then a
//! standby port per routed service for zero-downtime deploys), so each service is built with its
//! ports; domains and slots must be unique across the host.

use std::collections::BTreeMap;

use super::invalid::Invalid;
use super::port_range::port_unusable;
use super::{names, ports, serving, Resolver};
use crate::diagnostic::Diagnostic;
use crate::model::Site;
use crate::raw::{RawConfig, RawSite};
use toml::Spanned;

/// Every service's ports, by site and service name, decided before any site is built (so a
/// [`crate::model::Service`] never exists without its port). A service missing here has a port
/// problem that is already reported.
pub(super) type PortPlan = BTreeMap<(String, String), PlannedPorts>;

/// The ports of one service.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct PlannedPorts {
    /// Where it listens (`PORT`).
    pub(super) port: u16,
    /// Where a deploy starts the new release beside the running one: routed, enabled services
    /// only, and only while the site's block has a free port.
    pub(super) standby: Option<u16>,
}

impl Resolver<'_> {
    /// Plans every service's port from the raw tree: explicit ones are checked, the others take
    /// free ports of their site's block in name order. Only a service's own site's block is
    /// ever searched, so a site's ports do not depend on the other sites: adding a site never
    /// renumbers another.
    pub(super) fn plan_ports(&mut self, raw: &RawConfig, ssh_port: Option<u16>) -> PortPlan {
        let valid_slot = |site: &RawSite| {
            u16::try_from(*site.slot.get_ref())
                .ok()
                .filter(|s| (1..=ports::MAX_SLOT).contains(s))
        };
        let slot_owner: BTreeMap<u16, &str> = raw
            .sites
            .iter()
            // A site whose name is refused claims no block: its own errors say enough.
            .filter(|(name, _)| names::site_name(name.get_ref()).is_ok())
            .filter_map(|(name, site)| Some((valid_slot(site.get_ref())?, name.get_ref().as_str())))
            .collect();
        let mut used: BTreeMap<u16, String> = BTreeMap::new();
        if let Some(port) = ssh_port {
            used.insert(port, "sshd (`ssh_port`)".to_owned());
        }
        let mut plan = PortPlan::new();
        // Pass 1: explicit ports, so defaulted ones can skip them.
        for (site, raw_site) in &raw.sites {
            for (svc, raw_svc) in &raw_site.get_ref().services {
                let Some(port) = raw_svc.get_ref().port.as_ref() else {
                    continue;
                };
                let value = *port.get_ref();
                let checked = u16::try_from(value).ok().filter(|_| !port_unusable(value));
                let Some(p) = checked else {
                    continue; // reported by `service`
                };
                if let Some(owner) = ports::slot_of(p)
                    .and_then(|slot| slot_owner.get(&slot))
                    .filter(|owner| **owner != site.get_ref())
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
                } else if let Some(other) =
                    used.insert(p, format!("{}.{}", site.get_ref(), svc.get_ref()))
                {
                    self.report(port.span(), Invalid::new(format!("port {p} is already used by `{other}`"), "give each service its own port, or leave `port` out to use the site's slot block"));
                } else {
                    plan.insert(
                        (site.get_ref().clone(), svc.get_ref().clone()),
                        PlannedPorts {
                            port: p,
                            standby: None,
                        },
                    );
                }
            }
        }
        // Pass 2: the others, from their own site's block.
        for (site, raw_site) in &raw.sites {
            let raw_site = raw_site.get_ref();
            let Some(slot) = valid_slot(raw_site) else {
                continue; // reported by `site`
            };
            let mut free = ports::block(slot)
                .filter(|p| !used.contains_key(p) && !ports::TAKEN_BY_SYSTEM.contains(p));
            for (svc, raw_svc) in &raw_site.services {
                if raw_svc.get_ref().port.is_some() {
                    continue;
                }
                match free.next() {
                    Some(p) => {
                        plan.insert(
                            (site.get_ref().clone(), svc.get_ref().clone()),
                            PlannedPorts {
                                port: p,
                                standby: None,
                            },
                        );
                    }
                    None => self.report(
                        raw_site.slot.span(),
                        Invalid::new(
                            format!(
                                "site `{}` has more services than its slot has free ports",
                                site.get_ref()
                            ),
                            "give some services an explicit `port`",
                        ),
                    ),
                }
            }
            // Pass 3: a standby port for each routed service, after every service has its own
            // (a standby port is only busy during a deploy; a missing one costs the service its
            // zero-downtime switch, not its place).
            for (svc, raw_svc) in &raw_site.services {
                let raw_svc = raw_svc.get_ref();
                let key = (site.get_ref().clone(), svc.get_ref().clone());
                let routed = raw_svc.route.is_some() && raw_svc.enabled.as_ref().is_none_or(|e| *e);
                let Some(planned) = plan.get_mut(&key).filter(|_| routed) else {
                    continue;
                };
                planned.standby = free.next();
                if planned.standby.is_none() {
                    self.diagnostics.push(
                        Diagnostic::warning_at(
                            svc.span(),
                            format!(
                                "service `{}` of site `{}` restarts in place when a release is deployed: slot {slot}'s block has no free port for the new release to start beside the running one",
                                svc.get_ref(),
                                site.get_ref()
                            ),
                            )
                        .with_help(format!("free a port of the block: give an internal service an explicit `port` outside every slot's block (from {} up); until then, requests that arrive while it restarts fail", ports::BASE + ports::MAX_SLOT * ports::BLOCK)),
                    );
                }
            }
        }
        plan
    }

    /// Two services or jobs may not make the same unit name: site `a-b` with service `c` and
    /// site `a` with service `b-c` would both be `a-b-c.service`, and so would a job `c` of
    /// site `a-b`.
    pub(super) fn unique_units(&mut self, raw: &RawConfig, sites: &[Site]) {
        let mut units: BTreeMap<&str, (&str, &str, &str)> = BTreeMap::new();
        for site in sites {
            let processes = site
                .services
                .iter()
                .map(|s| ("service", &s.name, &s.unit))
                .chain(site.jobs.iter().map(|j| ("job", &j.name, &j.unit)));
            for (kind, name, unit) in processes {
                let Some((first_kind, first_site, first)) =
                    units.insert(unit, (kind, &site.name, name))
                else {
                    continue;
                };
                let span = raw
                    .sites
                    .get(site.name.as_str())
                    .and_then(|s| {
                        let s = s.get_ref();
                        match kind {
                            "job" => s.jobs.get_key_value(name.as_str()).map(|(k, _)| k.span()),
                            _ => s
                                .services
                                .get_key_value(name.as_str())
                                .map(|(k, _)| k.span()),
                        }
                    })
                    .unwrap_or(0..0);
                self.report(
                    span,
                    Invalid::new(
                        format!(
                            "{kind} `{name}` of site `{}` makes the unit `{unit}.service`, as {first_kind} `{first}` of site `{first_site}` does",
                            site.name
                        ),
                        "rename one of the two (or a site): a unit name must say which site and process it is",
                    ),
                );
            }
        }
    }

    /// Warns when an HTTPS site's `includeSubDomains` covers a domain served over HTTP only.
    pub(super) fn hsts_scope(&mut self, raw: &RawConfig, sites: &[Site]) {
        let plain: Vec<&Site> = sites.iter().filter(|s| !s.tls.https()).collect();
        for site in sites
            .iter()
            .filter(|s| s.tls.https() && s.hsts.include_subdomains)
        {
            let Some(raw_site) = raw.sites.get(site.name.as_str()).map(Spanned::get_ref) else {
                continue;
            };
            let at = raw_site
                .hsts
                .as_ref()
                .map_or_else(|| raw_site.domains.span(), Spanned::span);
            for other in &plain {
                if let Some(warning) = serving::hsts_covers_plain_sibling(
                    at.clone(),
                    &site.name,
                    &site.domains,
                    &other.name,
                    &other.domains,
                ) {
                    self.diagnostics.push(warning);
                }
            }
        }
    }

    /// Domains and slots must be unique across the whole host.
    pub(super) fn unique_across_host(&mut self, raw: &RawConfig) {
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
