//! systemd artifacts: one hardened `<site>-<service>.service` per service.

use serde::Serialize;

use super::templates::view_of;
use super::Renderer;
use crate::bundle::fate::Action;
use crate::bundle::{Bundle, Fate};
use crate::model::{contract, layout, Database, Limits, Site};

#[derive(Serialize)]
struct ServiceView<'a> {
    name: &'a str,
    port: u16,
    argv: &'a [String],
    runtime: &'static str,
    runtime_needs_wx: bool,
    limits: &'a Limits,
}

#[derive(Serialize)]
struct UnitView<'a> {
    site: &'a str,
    /// `/srv/sites/<site>`.
    root: &'a str,
    database: bool,
    /// `KEY=value` for the service's contract (its address, …), then each of the site's env
    /// vars sorted by key; quoted by the template.
    contract: Vec<String>,
    env: &'a [String],
    /// `ReadWritePaths=` entries: the site's writable `shared/` leaves, then the release paths
    /// of `writable` (with `-`: a release without that path still starts).
    read_write: &'a [String],
    release_writable: bool,
    service: ServiceView<'a>,
}
view_of!(UnitView<'_> => SystemdService);

/// Adds `files/etc/systemd/system/<site>-<service>.service` for every service of `site`.
pub(super) fn render_site(renderer: &Renderer, site: &Site, bundle: &mut Bundle) {
    // The same for every unit of the site: built once.
    let env: Vec<String> = site.env.iter().map(|(k, v)| [k, "=", v].concat()).collect();
    let root = layout::site_root(&site.name);
    let read_write: Vec<String> = contract::SHARED_WRITABLE
        .iter()
        .map(|dir| layout::site_path(&site.name, &["shared/", dir].concat()))
        .chain(site.writable.iter().map(|rel| {
            [
                "-",
                &layout::site_path(&site.name, &["current/", rel].concat()),
            ]
            .concat()
        }))
        .collect();
    for svc in &site.services {
        let view = UnitView {
            site: &site.name,
            root: &root,
            database: site.database == Database::Postgres,
            contract: contract::environment(&site.name, svc.port)
                .into_iter()
                .chain(contract::database_environment(&site.name, site.database))
                .map(|(k, v)| [k, "=", &v].concat())
                .collect(),
            env: &env,
            read_write: &read_write,
            release_writable: !site.writable.is_empty(),
            service: ServiceView {
                name: &svc.name,
                port: svc.port,
                argv: &svc.argv,
                runtime: svc.runtime.id(),
                runtime_needs_wx: svc.runtime.needs_wx_memory(),
                limits: &svc.limits,
            },
        };
        let unit = &svc.unit;
        let path = ["/etc/systemd/system/", unit, ".service"].concat();
        bundle.add_host_file(
            &path,
            renderer.render(&view),
            Fate::root(0o644).then(Action::RestartUnit(unit.to_string())),
        );
    }
}
