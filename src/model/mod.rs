//! Stage 2 output: the typed, validated, fully defaulted description of one host.
//!
//! Only [`crate::resolve`] builds these values, after validating every string in them, so the
//! renderers may trust them. Collections are sorted (sites and services by name, maps are
//! `BTreeMap`) so that rendering is deterministic.

pub mod contract;
pub mod layout;
mod names;
mod os;
mod runtime;

use std::collections::BTreeMap;

use serde::Serialize;

pub use names::{Domain, HostPath, ServiceName, SiteName, UnitName, UserName};
pub use os::Os;
pub use runtime::Runtime;

/// Everything the bundle describes.
#[derive(Debug, Clone, Serialize)]
pub struct Model {
    /// The machine.
    pub host: Host,
    /// The sites, sorted by name.
    pub sites: Vec<Site>,
}

/// `[host]`, resolved.
#[derive(Debug, Clone, Serialize)]
pub struct Host {
    /// Host name; the bundle directory.
    pub name: String,
    /// Target distribution.
    pub os: Os,
    /// Let's Encrypt contact, present when any site uses ACME.
    pub acme_email: Option<String>,
    /// Validated public key lines for the deploy user.
    pub admin_keys: Vec<String>,
    /// Unix user that deploys releases.
    pub deploy_user: UserName,
    /// Port sshd listens on and the firewall keeps open.
    pub ssh_port: u16,
    /// Manage the firewall.
    pub firewall: bool,
    /// Install fail2ban jails.
    pub fail2ban: bool,
    /// Enable unattended security upgrades.
    pub unattended_upgrades: bool,
    /// Keys-only sshd.
    pub harden_ssh: bool,
    /// Prometheus and node exporter on 127.0.0.1 (`monitoring = "prometheus"`).
    pub prometheus: bool,
    /// The sites' backups; `None` when `[host.backups] enabled = false`.
    pub backups: Option<Backups>,
    /// Extra distribution packages listed in `[host] packages`, sorted.
    pub packages: Vec<String>,
}

/// `[host.backups]`, resolved.
#[derive(Debug, Clone, Serialize)]
pub struct Backups {
    /// systemd calendar event (`OnCalendar=`), checked.
    pub schedule: String,
    /// Days whose newest backup is kept.
    pub keep_daily: u32,
    /// ISO weeks whose newest backup is kept.
    pub keep_weekly: u32,
    /// The restic repository every verified backup is also copied to, if any.
    pub offsite: Option<Offsite>,
}

/// `[host.backups] offsite`, resolved: a restic repository off the host.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub enum Offsite {
    /// Over sftp, as `user` on `host` (a host name or IPv4 address), with blueprint's own ssh
    /// key; `port` when not 22.
    Sftp {
        /// Login name on the target: `[A-Za-z_][A-Za-z0-9._-]*`.
        user: String,
        /// Host name or IPv4 address, never starting with `-`.
        host: String,
        /// The ssh port, when not the default.
        port: Option<u16>,
        /// The repository's absolute path on the target.
        path: HostPath,
    },
    /// A directory on the host (a mounted disk), outside blueprint's own trees.
    Local(HostPath),
}

impl Offsite {
    /// The repository as restic's `--repo` names it. A port is not part of restic's
    /// `sftp:user@host:/path` form; it goes into the ssh command instead.
    pub fn repository(&self) -> String {
        match self {
            Offsite::Sftp {
                user, host, path, ..
            } => ["sftp:", user, "@", host, ":", path].concat(),
            Offsite::Local(path) => path.to_string(),
        }
    }
}

/// One tenant: a Unix user, a directory tree, its services, its nginx server and its database.
#[derive(Debug, Clone, Serialize)]
pub struct Site {
    /// Site name: Unix user, group, database, role and prefix of every unit.
    pub name: SiteName,
    /// Port block number.
    pub slot: u16,
    /// Host names, first one primary (certificate name).
    pub domains: Vec<Domain>,
    /// How HTTPS is provided.
    pub tls: Tls,
    /// CDN whose client addresses nginx restores.
    pub behind: Option<Cdn>,
    /// Whether the site gets a PostgreSQL role and database.
    pub database: Database,
    /// Non-secret environment.
    pub env: BTreeMap<String, String>,
    /// Secrets the operator fills in on the host.
    pub secrets: Vec<String>,
    /// Secrets generated on the host.
    pub generated_secrets: Vec<String>,
    /// Paths inside the release (relative, validated) that the services may write.
    pub writable: Vec<String>,
    /// Static directory under `current/`, served by nginx.
    pub static_dir: Option<String>,
    /// Directories under `current/` nginx serves beside the app, by URL prefix (sorted).
    pub paths: BTreeMap<String, String>,
    /// URL prefix at which nginx serves `shared/uploads` (`uploads_url`).
    pub uploads_url: Option<String>,
    /// Serve `static_dir` as a single-page app (`index.html` for extensionless misses).
    pub spa: bool,
    /// URL prefixes of `static_dir` whose files are content-hashed (cached as immutable).
    pub immutable: Vec<String>,
    /// HSTS scope, for an HTTPS site.
    pub hsts: Hsts,
    /// Networks (canonical CIDR) that alone may reach a private site; empty: public.
    pub allow_from: Vec<String>,
    /// The one host address nginx answers the site on (canonical); `None`: every address.
    pub listen: Option<std::net::IpAddr>,
    /// Basic-auth user names, sorted; empty: no login. Passwords exist only on the host.
    pub basic_auth: Vec<String>,
    /// nginx `client_max_body_size`.
    pub client_max_body_size: String,
    /// Effective security headers (defaults with overrides applied), by name.
    pub headers: BTreeMap<String, String>,
    /// Services, sorted by name.
    pub services: Vec<Service>,
    /// Scheduled jobs, sorted by name.
    pub jobs: Vec<Job>,
    /// The release phase `blueprint-deploy` runs in each new release.
    pub release: Option<Release>,
}

/// A site's release phase: `<site>-release@<release>.service`, a oneshot in the new release.
#[derive(Debug, Clone, Serialize)]
pub struct Release {
    /// `<site>-release`: the template is `<unit>@.service`.
    pub unit: UnitName,
    /// The command line: absolute executable, then arguments.
    pub argv: Vec<String>,
    /// The distribution package that provides the executable, when it is a system one.
    pub package: Option<&'static str>,
    /// Runtime family, which decides the sandbox relaxations.
    pub runtime: Runtime,
    /// The services' default limits.
    pub limits: Limits,
}

impl Site {
    /// `listen`'s address as it precedes `:port` in nginx's `listen` and curl's `--resolve`
    /// (an IPv6 address in brackets).
    pub fn listen_host(&self) -> Option<String> {
        self.listen.map(|address| match address {
            std::net::IpAddr::V4(v4) => v4.to_string(),
            std::net::IpAddr::V6(v6) => format!("[{v6}]"),
        })
    }

    /// The directories of the release nginx reads (as "other"): `static` and the `paths`,
    /// sorted, each once.
    pub fn published_dirs(&self) -> Vec<&str> {
        let dirs: std::collections::BTreeSet<&str> = (self.static_dir.iter())
            .chain(self.paths.values())
            .map(String::as_str)
            .collect();
        dirs.into_iter().collect()
    }
}

/// A command of a site run by a timer.
#[derive(Debug, Clone, Serialize)]
pub struct Job {
    /// Job name.
    pub name: ServiceName,
    /// Its units, `<site>-<name>` (`.service` and `.timer` on the host).
    pub unit: UnitName,
    /// The command line: absolute executable, then arguments.
    pub argv: Vec<String>,
    /// The distribution package that provides the executable, when it is a system one.
    pub package: Option<&'static str>,
    /// systemd calendar event (`OnCalendar=`), checked.
    pub schedule: String,
    /// `TimeoutStartSec=`, checked.
    pub timeout: String,
    /// Whether the timer is enabled.
    pub enabled: bool,
    /// Runtime family, which decides the sandbox relaxations.
    pub runtime: Runtime,
    /// cgroup limits.
    pub limits: Limits,
}

/// How a site gets its certificate.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Tls {
    /// Let's Encrypt via certbot's webroot, with a self-signed placeholder until it succeeds.
    Acme,
    /// Plain HTTP only.
    None,
    /// Certificate and key already on the host at these absolute paths.
    Files {
        /// Full chain path.
        cert: HostPath,
        /// Private key path.
        key: HostPath,
    },
}

impl Tls {
    /// Whether the site is served over HTTPS.
    pub fn https(&self) -> bool {
        !matches!(self, Tls::None)
    }
}

/// The scope of a site's `Strict-Transport-Security`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Hsts {
    /// `includeSubDomains`.
    pub include_subdomains: bool,
    /// `preload`.
    pub preload: bool,
}

/// A CDN in front of the site.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Cdn {
    /// Cloudflare: restore `CF-Connecting-IP` from its published ranges.
    Cloudflare,
}

/// A site's database.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Database {
    /// Own PostgreSQL role and database.
    Postgres,
    /// A database file in the site's state directory.
    Sqlite,
    /// No database.
    None,
}

impl Database {
    /// The word `sites.toml` uses, which plan.sh and blueprint-backup carry too.
    pub fn id(self) -> &'static str {
        match self {
            Database::Postgres => "postgres",
            Database::Sqlite => "sqlite",
            Database::None => "none",
        }
    }
}

/// One long-running process of a site.
#[derive(Debug, Clone, Serialize)]
pub struct Service {
    /// Service name.
    pub name: ServiceName,
    /// Its unit, `<site>-<name>` (with `.service` on the host).
    pub unit: UnitName,
    /// 127.0.0.1 port it listens on (`PORT`).
    pub port: u16,
    /// A second port of the site's block, for routed services: a deploy starts the new release
    /// there (`<unit>-next@<release>`) and nginx's upstream falls back to it while the service
    /// restarts into that release, so no request fails.
    pub standby_port: Option<u16>,
    /// The command line: absolute executable, then arguments.
    pub argv: Vec<String>,
    /// The distribution package that provides the executable, when it is a system one.
    pub package: Option<&'static str>,
    /// URL prefix routed to it, if it is public.
    pub route: Option<String>,
    /// Request limit on that route.
    pub rate_limit: Option<RateLimit>,
    /// Whether the unit is enabled and started.
    pub enabled: bool,
    /// Health path probed through nginx.
    pub health: Option<String>,
    /// Path of its Prometheus metrics, on `metrics_port` or else on its own port.
    pub metrics: Option<String>,
    /// A port of the site's block for its metrics alone (`separate_metrics_port`; the app reads
    /// `METRICS_PORT`).
    pub metrics_port: Option<u16>,
    /// The standby instance's metrics port (it runs beside the service during a deploy, so it
    /// cannot bind the service's).
    pub standby_metrics_port: Option<u16>,
    /// nginx `proxy_read_timeout` of the route (nginx time).
    pub read_timeout: String,
    /// nginx `proxy_buffering` of the route.
    pub buffering: bool,
    /// Runtime family, which decides the sandbox relaxations.
    pub runtime: Runtime,
    /// cgroup limits.
    pub limits: Limits,
}

/// nginx `limit_req_zone` rate and `limit_req` burst.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct RateLimit {
    /// Requests per unit.
    pub requests: u32,
    /// `s` or `m`.
    pub per: char,
    /// Requests tolerated above the rate before answering 429.
    pub burst: u32,
}

impl RateLimit {
    /// nginx syntax, e.g. `30r/s`.
    pub fn rate(&self) -> String {
        format!("{}r/{}", self.requests, self.per)
    }
}

/// Defaults that keep one site from starving the others (seed 003 lists their absence as critical).
pub const DEFAULT_MEMORY_MAX: &str = "1G";
/// One core's worth of CPU time.
pub const DEFAULT_CPU_QUOTA: &str = "100%";
/// Enough threads for Node, Python workers or a JVM; stops fork bombs.
pub const DEFAULT_TASKS_MAX: u32 = 256;

impl Default for Limits {
    /// The limits of a unit that sets none.
    fn default() -> Self {
        Self {
            memory_max: DEFAULT_MEMORY_MAX.to_owned(),
            cpu_quota: DEFAULT_CPU_QUOTA.to_owned(),
            tasks_max: DEFAULT_TASKS_MAX,
        }
    }
}

/// Resource limits of one unit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Limits {
    /// `MemoryMax=`.
    pub memory_max: String,
    /// `CPUQuota=`.
    pub cpu_quota: String,
    /// `TasksMax=`.
    pub tasks_max: u32,
}
