//! systemd artifacts: one hardened `<site>-<service>.service` per service, and per job a
//! `<site>-<job>.service` (oneshot, the same sandbox) with the `<site>-<job>.timer` that runs it.

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
    /// Set for a job's unit: a oneshot the timer starts, with no port and no `[Install]`.
    job: Option<JobView<'a>>,
}
view_of!(UnitView<'_> => SystemdService);

#[derive(Serialize)]
struct JobView<'a> {
    timeout: &'a str,
    schedule: &'a str,
}

#[derive(Serialize)]
pub(super) struct TimerView<'a> {
    /// What it runs, for the comment: "job `nightly` of site `wiki`".
    pub(super) what: String,
    /// `Description=`.
    pub(super) description: String,
    /// The service it starts, without `.service`.
    pub(super) unit: &'a str,
    pub(super) schedule: &'a str,
}
view_of!(TimerView<'_> => SystemdTimer);

/// Adds `files/etc/systemd/system/<site>-<service>.service` for every service of `site`.
pub(super) fn render_site<'a>(renderer: &Renderer, site: &'a Site, bundle: &mut Bundle) {
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
    let contract = |port: Option<u16>| -> Vec<String> {
        let process = match port {
            Some(port) => contract::environment(&site.name, port),
            None => contract::job_environment(&site.name),
        };
        process
            .into_iter()
            .chain(contract::database_environment(&site.name, site.database))
            .map(|(k, v)| [k, "=", &v].concat())
            .collect()
    };
    let unit_view = |service: ServiceView<'a>, contract: Vec<String>, job| UnitView {
        site: &site.name,
        root: &root,
        database: site.database == Database::Postgres,
        contract,
        env: &env,
        read_write: &read_write,
        release_writable: !site.writable.is_empty(),
        service,
        job,
    };
    for svc in &site.services {
        let view = unit_view(
            ServiceView {
                name: &svc.name,
                port: svc.port,
                argv: &svc.argv,
                runtime: svc.runtime.id(),
                runtime_needs_wx: svc.runtime.needs_wx_memory(),
                limits: &svc.limits,
            },
            contract(Some(svc.port)),
            None,
        );
        let unit = &svc.unit;
        let path = ["/etc/systemd/system/", unit, ".service"].concat();
        bundle.add_host_file(
            &path,
            renderer.render(&view),
            Fate::root(0o644).then(Action::RestartUnit(unit.to_string())),
        );
    }
    for job in &site.jobs {
        let view = unit_view(
            ServiceView {
                name: &job.name,
                port: 0,
                argv: &job.argv,
                runtime: job.runtime.id(),
                runtime_needs_wx: job.runtime.needs_wx_memory(),
                limits: &job.limits,
            },
            contract(None),
            Some(JobView {
                timeout: &job.timeout,
                schedule: &job.schedule,
            }),
        );
        let unit = &job.unit;
        // The service only re-read: its timer starts it, setup.sh never does.
        bundle.add_host_file(
            &["/etc/systemd/system/", unit, ".service"].concat(),
            renderer.render(&view),
            Fate::root(0o644).then(Action::DaemonReload),
        );
        let timer = TimerView {
            what: format!("job `{}` of site `{}`", job.name, site.name),
            description: format!("{} {} timer (blueprint)", site.name, job.name),
            unit,
            schedule: &job.schedule,
        };
        bundle.add_host_file(
            &["/etc/systemd/system/", unit, ".timer"].concat(),
            renderer.render(&timer),
            Fate::root(0o644).then(Action::RestartUnit([unit, ".timer"].concat())),
        );
    }
}
