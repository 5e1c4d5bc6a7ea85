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
    /// Its separate metrics port, which it may bind too.
    metrics_port: Option<u16>,
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
    /// Where the process runs: `<root>/current`, or the new release for the release phase.
    workdir: String,
    /// The release phase (a template unit, instance = the release's name).
    release: bool,
    /// A service's new release on its standby port during a deploy (a template unit, instance =
    /// the release's name).
    standby: bool,
    /// The service's own unit, `<site>-<service>` (for the standby unit's comment).
    unit: &'a str,
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

/// What every unit of a site shares, built once per site.
struct SiteUnits<'a> {
    site: &'a Site,
    /// `KEY=value` of the site's `env`.
    env: Vec<String>,
    root: String,
    current: String,
    read_write: Vec<String>,
    /// The release phase writes the `writable` paths of the new release, not of `current`.
    release_read_write: Vec<String>,
}

impl<'a> SiteUnits<'a> {
    fn new(site: &'a Site) -> Self {
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
        Self {
            site,
            env: site.env.iter().map(|(k, v)| [k, "=", v].concat()).collect(),
            current: [root.as_str(), "/current"].concat(),
            release_read_write: read_write
                .iter()
                .map(|path| path.replacen("/current/", "/releases/%i/", 1))
                .collect(),
            read_write,
            root,
        }
    }

    /// The contract of a process listening on `port` (a service, with its separate metrics
    /// port if any), or on nothing (`None`).
    fn contract(&self, port: Option<(u16, Option<u16>)>) -> Vec<String> {
        let name = &self.site.name;
        let process = match port {
            Some((port, metrics)) => {
                let mut env = contract::environment(name, port);
                env.extend(contract::metrics_environment(metrics));
                env
            }
            None => contract::job_environment(name),
        };
        process
            .into_iter()
            .chain(contract::database_environment(name, self.site.database))
            .map(|(k, v)| [k, "=", &v].concat())
            .collect()
    }

    fn view(
        &'a self,
        service: ServiceView<'a>,
        port: Option<(u16, Option<u16>)>,
        job: Option<JobView<'a>>,
    ) -> UnitView<'a> {
        UnitView {
            site: &self.site.name,
            root: &self.root,
            workdir: self.current.clone(),
            release: false,
            standby: false,
            unit: "",
            database: self.site.database == Database::Postgres,
            contract: self.contract(port),
            env: &self.env,
            read_write: &self.read_write,
            release_writable: !self.site.writable.is_empty(),
            service,
            job,
        }
    }
}

/// The `[Service]` settings of a one-off command of `site` (`blueprint-deploy SITE --exec`), as
/// `systemd-run --property` values: the user, directory, environment and sandbox of the site's
/// jobs, taken from the same template, so the two cannot drift apart. Its runtime is the most
/// permissive of the site's services (a JIT needs writable+executable memory).
pub(super) fn exec_properties(renderer: &Renderer, site: &Site) -> Vec<String> {
    let units = SiteUnits::new(site);
    let runtime = (site.services.iter().map(|svc| svc.runtime))
        .find(|runtime| runtime.needs_wx_memory())
        .unwrap_or(crate::model::Runtime::Native);
    let limits = Limits::default();
    let view = units.view(
        ServiceView {
            name: "exec",
            port: 0,
            metrics_port: None,
            argv: &[],
            runtime: runtime.id(),
            runtime_needs_wx: runtime.needs_wx_memory(),
            limits: &limits,
        },
        None,
        Some(JobView {
            timeout: "infinity",
            schedule: "",
        }),
    );
    let text = renderer.render(&view);
    let service = text.split("\n[Service]\n").nth(1).unwrap_or_default();
    service
        .lines()
        .take_while(|line| !line.starts_with('['))
        .filter(|line| !line.is_empty() && !line.starts_with('#'))
        // The command is systemd-run's own, and it runs until it ends.
        .filter(|line| {
            !["ExecStart=", "Type=", "TimeoutStartSec=", "TimeoutStopSec="]
                .iter()
                .any(|key| line.starts_with(key))
        })
        // systemd-run expands no specifiers: the unit file's `%%` is a plain `%` here.
        .map(|line| line.replace("%%", "%"))
        .collect()
}

/// Adds `files/etc/systemd/system/<site>-<service>.service` for every service of `site` (and
/// `<site>-<service>-next@.service` for each with a standby port), each job's service and timer,
/// and the release phase's template unit.
pub(super) fn render_site(renderer: &Renderer, site: &Site, bundle: &mut Bundle) {
    let units = SiteUnits::new(site);
    let unit_view =
        |service, contract: Option<(u16, Option<u16>)>, job| units.view(service, contract, job);
    for svc in &site.services {
        // The same process on its own ports, or on its standby ports.
        let on_port = |port, metrics_port| {
            let service = ServiceView {
                name: &svc.name,
                port,
                metrics_port,
                argv: &svc.argv,
                runtime: svc.runtime.id(),
                runtime_needs_wx: svc.runtime.needs_wx_memory(),
                limits: &svc.limits,
            };
            unit_view(service, Some((port, metrics_port)), None)
        };
        let view = on_port(svc.port, svc.metrics_port);
        let unit = &svc.unit;
        let path = ["/etc/systemd/system/", unit, ".service"].concat();
        bundle.add_host_file(
            &path,
            renderer.render(&view),
            Fate::root(0o644).then(Action::RestartUnit(unit.to_string())),
        );
        if let Some(standby) = svc.standby_port {
            let mut view = on_port(standby, svc.standby_metrics_port);
            view.standby = true;
            view.unit = unit;
            view.workdir = [units.root.as_str(), "/releases/%i"].concat();
            view.read_write = &units.release_read_write;
            // Only re-read: blueprint-deploy starts an instance per deploy.
            bundle.add_host_file(
                &["/etc/systemd/system/", unit, "-next@.service"].concat(),
                in_instance_release(&renderer.render(&view), &units.root),
                Fate::root(0o644).then(Action::DaemonReload),
            );
        }
    }
    for job in &site.jobs {
        let view = unit_view(
            ServiceView {
                name: &job.name,
                port: 0,
                metrics_port: None,
                argv: &job.argv,
                runtime: job.runtime.id(),
                runtime_needs_wx: job.runtime.needs_wx_memory(),
                limits: &job.limits,
            },
            None,
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
    if let Some(release) = &site.release {
        let mut view = unit_view(
            ServiceView {
                name: "release",
                port: 0,
                metrics_port: None,
                argv: &release.argv,
                runtime: release.runtime.id(),
                runtime_needs_wx: release.runtime.needs_wx_memory(),
                limits: &release.limits,
            },
            None,
            Some(JobView {
                timeout: RELEASE_TIMEOUT,
                schedule: "",
            }),
        );
        view.release = true;
        view.workdir = [units.root.as_str(), "/releases/%i"].concat();
        view.read_write = &units.release_read_write;
        // Only re-read: blueprint-deploy starts an instance per release.
        bundle.add_host_file(
            &["/etc/systemd/system/", &release.unit, "@.service"].concat(),
            in_instance_release(&renderer.render(&view), &units.root),
            Fate::root(0o644).then(Action::DaemonReload),
        );
    }
}

/// A template unit's `text` with the site's `current` (at `root`) in its command and environment
/// pointing at the release its instance names: a standby instance or a release phase runs the
/// new release's files (`run = "/srv/sites/app/current/server"`, `PYTHONPATH=…/current/vendor`),
/// and on a site's first deploy `current` does not exist yet.
fn in_instance_release(text: &str, root: &str) -> String {
    let current = [root, "/current"].concat();
    let release = [root, "/releases/%i"].concat();
    let mut out = String::with_capacity(text.len());
    for line in text.split_inclusive('\n') {
        if !(line.starts_with("ExecStart=") || line.starts_with("Environment=")) {
            out.push_str(line);
            continue;
        }
        let mut rest = line;
        while let Some(at) = rest.find(&current) {
            let after = &rest[at + current.len()..];
            // `current` itself or a path under it, not `currently/`.
            let whole =
                !after.starts_with(|c: char| c.is_ascii_alphanumeric() || "._-".contains(c));
            out.push_str(&rest[..at]);
            out.push_str(if whole { &release } else { &current });
            rest = after;
        }
        out.push_str(rest);
    }
    out
}

/// The longest a release phase (migrations) may take before the deploy gives up.
const RELEASE_TIMEOUT: &str = "15min";

#[cfg(test)]
mod tests {
    use super::in_instance_release;

    #[test]
    fn instance_units_run_their_own_release() {
        let unit = "WorkingDirectory=/srv/sites/app/releases/%i\n\
            # not /srv/sites/app/current here\n\
            Environment=\"PYTHONPATH=/srv/sites/app/current/vendor:/srv/sites/app/current\"\n\
            ExecStart=/srv/sites/app/current/bin/server --data /srv/sites/app/currently/x\n\
            ReadWritePaths=/srv/sites/app/shared/data\n";
        assert_eq!(
            in_instance_release(unit, "/srv/sites/app"),
            "WorkingDirectory=/srv/sites/app/releases/%i\n\
            # not /srv/sites/app/current here\n\
            Environment=\"PYTHONPATH=/srv/sites/app/releases/%i/vendor:/srv/sites/app/releases/%i\"\n\
            ExecStart=/srv/sites/app/releases/%i/bin/server --data /srv/sites/app/currently/x\n\
            ReadWritePaths=/srv/sites/app/shared/data\n"
        );
    }
}
