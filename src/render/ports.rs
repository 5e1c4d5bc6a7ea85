//! Stage 3 (render): who may answer on each site's ports. `/etc/blueprint/ports.nft` drops the
//! handshake reply from a site's port range unless it comes from that site's user, and
//! `blueprint-ports.service` loads it at boot; setup.sh validates it with `nft -c` and reloads it
//! when it changes. The port ranges come from the model: each site's slot block, plus any
//! explicit service port outside it.

use serde::Serialize;

use super::templates::view_of;
use super::Renderer;
use crate::bundle::fate::{Action, Validator};
use crate::bundle::{Bundle, Fate};
use crate::model::{layout, Model, Site};

/// The unit that loads the ruleset (without `.service`).
pub(super) const UNIT: &str = "blueprint-ports";

#[derive(Serialize)]
struct SitePorts<'a> {
    name: &'a str,
    /// nft port expressions: `3100-3109`, then single ports outside the block.
    ranges: Vec<String>,
}

#[derive(Serialize)]
struct RulesetView<'a> {
    sites: Vec<SitePorts<'a>>,
}
view_of!(RulesetView<'_> => PortsRuleset);

#[derive(Serialize)]
struct UnitView {
    ruleset: &'static str,
}
view_of!(UnitView => PortsUnit);

fn site_ports(site: &Site) -> SitePorts<'_> {
    let block = layout::slot_ports(site.slot);
    let mut ranges = vec![format!("{}-{}", block.start, block.end - 1)];
    let mut outside: Vec<u16> = site
        .services
        .iter()
        .map(|svc| svc.port)
        .filter(|port| !block.contains(port))
        .collect();
    outside.sort_unstable();
    outside.dedup();
    ranges.extend(outside.iter().map(u16::to_string));
    SitePorts {
        name: &site.name,
        ranges,
    }
}

/// Adds the ruleset and its unit.
pub(super) fn render(renderer: &Renderer, model: &Model, bundle: &mut Bundle) {
    let sites: Vec<SitePorts> = model.sites.iter().map(site_ports).collect();
    bundle.add_host_file(
        layout::PORTS_RULESET,
        renderer.render(&RulesetView { sites }),
        Fate::root(0o644)
            .validated_by(Validator::Nft)
            .then(Action::RestartUnit(UNIT.to_owned())),
    );
    bundle.add_host_file(
        &["/etc/systemd/system/", UNIT, ".service"].concat(),
        renderer.render(&UnitView {
            ruleset: layout::PORTS_RULESET,
        }),
        Fate::root(0o644).then(Action::RestartUnit(UNIT.to_owned())),
    );
}
