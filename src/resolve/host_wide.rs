//! Stage 2 (resolve): what needs every site at once. Ports are planned first, from the raw tree
//! (explicit ones checked, the others taken from each site's slot block in name order, then the
//! separate metrics ports, then a standby port per routed service for zero-downtime deploys), so
//! each service is built with its ports; domains and slots must be unique across the host.

use std::collections::BTreeMap;

use super::invalid::Invalid;
use super::port_range::port_unusable;
use super::{names, ports, serving, Resolver};
use crate::diagnostic::Diagnostic;
use crate::model::Site;
use crate::raw::{RawConfig, RawSite, SpannedString};
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
    /// Where it serves its metrics, when not on `port` (`separate_metrics_port`).
    pub(super) metrics: Option<u16>,
    /// Where a deploy starts the new release beside the running one: routed, enabled services
    /// only, and only while the site's block has a free port.
    pub(super) standby: Option<u16>,
    /// The new release's metrics port beside the running one's.
    pub(super) standby_metrics: Option<u16>,
}

impl PlannedPorts {
    /// A service listening on `port`, before its other ports are planned.
    fn at(port: u16) -> Self {
        Self {
            port,
            metrics: None,
            standby: None,
            standby_metrics: None,
        }
    }
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
                        PlannedPorts::at(p),
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
            // The block's free ports, lowest last (taken with `pop`).
            let mut free: Vec<u16> = ports::block(slot)
                .rev()
                .filter(|p| !used.contains_key(p) && !ports::TAKEN_BY_SYSTEM.contains(p))
                .collect();
            let services = &raw_site.services;
            for (svc, _) in services.iter().filter(|(_, s)| s.get_ref().port.is_none()) {
                match free.pop() {
                    Some(port) => {
                        let planned = PlannedPorts::at(port);
                        plan.insert((site.get_ref().clone(), svc.get_ref().clone()), planned);
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
            let key = |svc: &SpannedString| (site.get_ref().clone(), svc.get_ref().clone());
            // Pass 3: a metrics port for each service that asks for one, after every service
            // has its own port (so asking never moves a service's port).
            for (svc, raw_svc) in services {
                let Some(flag) = raw_svc.get_ref().separate_metrics_port.as_ref() else {
                    continue;
                };
                let Some(planned) = plan.get_mut(&key(svc)).filter(|_| *flag.get_ref()) else {
                    continue;
                };
                planned.metrics = free.pop();
                if planned.metrics.is_none() {
                    self.report(
                        flag.span(),
                        Invalid::new(
                            format!("slot {slot}'s block has no free port left for the metrics of `{}`", svc.get_ref()),
                            "serve the metrics on the service's own port (leave `separate_metrics_port` out), or give an internal service an explicit `port` outside the block",
                        ),
                    );
                }
            }
            // Pass 4: a standby port (and a standby metrics port) for each routed service, last:
            // standby ports are busy only during a deploy, and a missing one costs the service
            // its zero-downtime switch, not its place.
            for (svc, raw_svc) in services {
                let raw_svc = raw_svc.get_ref();
                let routed = raw_svc.route.is_some() && raw_svc.enabled.is_none_or(|e| e);
                let Some(planned) = plan.get_mut(&key(svc)).filter(|_| routed) else {
                    continue;
                };
                let needed = 1 + usize::from(planned.metrics.is_some());
                if free.len() >= needed {
                    planned.standby = free.pop();
                    planned.standby_metrics = planned.metrics.and_then(|_| free.pop());
                    continue;
                }
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
