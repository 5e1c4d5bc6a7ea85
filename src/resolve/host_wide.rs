//! Stage 2 (resolve), last: what needs every site at once. Ports are assigned (explicit ones
//! checked, the others taken from each site's slot block in name order), and domains and slots
//! must be unique across the host.

use std::collections::BTreeMap;

use toml::Spanned;

use super::invalid::Invalid;
use super::port_range::port_unusable;
use super::{ports, Resolver};
use crate::model::Site;
use crate::raw::RawConfig;

impl Resolver<'_> {
    /// Gives every service its port: explicit ones are checked, the others take free ports of
    /// their site's block in name order.
    pub(super) fn assign_ports(
        &mut self,
        raw: &RawConfig,
        sites: &mut [Site],
        ssh_port: Option<u16>,
    ) {
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
