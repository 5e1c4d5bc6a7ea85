//! Stage 1 types: `sites.toml` exactly as written.
//!
//! Every struct denies unknown fields, so a typo is an error with a position instead of a
//! silently ignored setting. Values that later checks must point at are `Spanned`. Nothing here
//! is validated or defaulted; that is [`crate::resolve`]'s job.
//!
//! The same types, through `schemars`, are the JSON Schema of `sites.toml` ([`crate::schema`]):
//! the doc comments become its descriptions, the `example`s its examples, and the `default`s
//! say what resolve applies to an absent key (a test compiles every input both ways). The
//! loader checks the shape of the file against that schema before deserializing
//! ([`crate::load`]), and the README's reference is rendered from it ([`crate::schema::reference`]).

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::Deserialize;
use toml::Spanned;

use crate::schema::forms;

/// A string with its position in the file.
pub type SpannedString = Spanned<String>;

/// `sites.toml`: one host and the sites it serves.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(title = "sites.toml")]
pub struct RawConfig {
    /// `[host]`: the machine the bundle is for.
    #[schemars(with = "RawHost")]
    pub host: Spanned<RawHost>,
    /// `[sites.<name>]`, keyed by site name.
    #[serde(default)]
    #[schemars(with = "BTreeMap<String, RawSite>")]
    pub sites: BTreeMap<SpannedString, Spanned<RawSite>>,
}

/// The machine the bundle is for.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawHost {
    /// Host name; also the bundle directory `out/<name>/`.
    #[schemars(with = "String", example = &"vps1")]
    pub name: SpannedString,
    /// Target distribution; `setup.sh` refuses to run on another.
    #[schemars(schema_with = "forms::os")]
    pub os: SpannedString,
    /// Contact address for Let's Encrypt; required when a site uses `tls = "acme"`.
    #[schemars(with = "Option<String>", example = "ops@example.com")]
    pub acme_email: Option<SpannedString>,
    /// Public key files the deploy user logs in with (regular files, at most 64 KiB), relative
    /// to `sites.toml`; `~` and `${VAR}` are expanded, with a warning because the bundle then
    /// differs per machine. Required while `harden_ssh` is on.
    #[serde(default)]
    #[schemars(with = "Vec<String>", example = ["keys/ops.pub"])]
    pub admin_keys: Vec<SpannedString>,
    /// Name of the deploy user, who may run `blueprint-deploy`, restart or query its sites'
    /// units and reload nginx through sudo.
    #[schemars(with = "Option<String>", example = &"deploy", extend("default" = "deploy"))]
    pub deploy_user: Option<SpannedString>,
    /// SSH port sshd listens on and the firewall keeps open; not 80, 443, a port a system
    /// service uses, or a port of a site's slot block.
    #[schemars(with = "Option<i64>", example = 22, extend("default" = 22))]
    pub ssh_port: Option<Spanned<i64>>,
    /// Manage ufw: incoming traffic only to SSH, 80 and 443.
    #[schemars(example = true, extend("default" = true))]
    pub firewall: Option<bool>,
    /// fail2ban jails for sshd and for clients that keep hitting nginx's rate limits.
    #[schemars(example = true, extend("default" = true))]
    pub fail2ban: Option<bool>,
    /// Daily unattended security upgrades, without automatic reboot.
    #[schemars(example = true, extend("default" = true))]
    pub unattended_upgrades: Option<bool>,
    /// sshd accepts keys only, and no root password login.
    #[schemars(example = true, extend("default" = true))]
    pub harden_ssh: Option<bool>,
    /// `"prometheus"`: Prometheus and its node exporter on 127.0.0.1, scraping every service's
    /// `metrics` and the host, with alerting rules (a target down, a failed unit, a disk almost
    /// full, a stale backup, a certificate about to expire).
    #[serde(default)]
    #[schemars(schema_with = "forms::monitoring")]
    pub monitoring: Option<SpannedString>,
    /// Every site's nightly backup: its database, state (`shared/data`) and uploads, each
    /// restored into a throwaway copy and checked right after it is taken. On by default.
    #[serde(default)]
    #[schemars(with = "Option<RawBackups>")]
    pub backups: Option<Spanned<RawBackups>>,
    /// Extra distribution packages to install. A service's interpreter (`/usr/bin/node` →
    /// `nodejs`) is added without being listed.
    #[serde(default)]
    #[schemars(with = "Vec<String>", example = ["redis-server"])]
    pub packages: Vec<SpannedString>,
}

/// One site, keyed by its name: `[a-z][a-z0-9_-]*` not ending in `-` (`shop`, `shop-staging`),
/// at most 32 characters, not a system account name. The name is also the site's Unix user, its
/// PostgreSQL role and database, and `/srv/sites/<site>/`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawSite {
    /// Host names served by this site: lowercase, each used by one site of the host only.
    #[schemars(with = "Vec<String>", example = ["example.com", "www.example.com"])]
    pub domains: Spanned<Vec<SpannedString>>,
    /// The site's port block, 1 to 1000, unique on the host: slot `n` owns the ten ports from
    /// `3100 + 10·(n−1)`, so ports never move when other sites come or go.
    #[schemars(with = "i64", example = 1)]
    pub slot: Spanned<i64>,
    /// `"acme"`: a Let's Encrypt certificate through certbot; `"none"`: plain HTTP only; or the
    /// absolute paths of a certificate and key already on the host.
    #[serde(default)]
    #[schemars(schema_with = "forms::tls", extend("default" = "acme"))]
    pub tls: Option<Spanned<toml::Value>>,
    /// A CDN in front of the site: nginx restores client addresses from its ranges only.
    #[serde(default)]
    #[schemars(schema_with = "forms::behind")]
    pub behind: Option<SpannedString>,
    /// `"postgres"`: a role and database of the site's own, reached through `DATABASE_URL`;
    /// `"sqlite"`: a database file in the site's state directory, named by `SQLITE_PATH` and
    /// `DATABASE_URL` (`sqlite:////srv/sites/<site>/shared/data/<site>.sqlite3`), with the
    /// `sqlite3` tool installed.
    #[serde(default)]
    #[schemars(schema_with = "forms::database", extend("default" = "none"))]
    pub database: Option<SpannedString>,
    /// Non-secret environment variables of every service of the site (no control characters).
    #[serde(default)]
    #[schemars(with = "BTreeMap<String, String>", example = forms::example_env())]
    pub env: BTreeMap<SpannedString, SpannedString>,
    /// Names of secrets the operator fills in on the host, in `/srv/sites/<site>/shared/.env`.
    #[serde(default)]
    #[schemars(with = "Vec<String>", example = ["STRIPE_SECRET_KEY"])]
    pub secrets: Vec<SpannedString>,
    /// Names of secrets the host generates once (256 random bits) and never overwrites.
    #[serde(default)]
    #[schemars(with = "Vec<String>", example = ["SESSION_SECRET"])]
    pub generated_secrets: Vec<SpannedString>,
    /// Paths inside the release the site's services may write (e.g. `.next` for Next.js ISR):
    /// relative, without `..`; everything else in the release is read-only.
    #[serde(default)]
    #[schemars(with = "Vec<String>", example = [".next"])]
    pub writable: Vec<SpannedString>,
    /// Directory of the release that nginx serves as static files at `/`.
    #[serde(rename = "static")]
    #[schemars(with = "Option<String>", example = &"public")]
    pub static_dir: Option<SpannedString>,
    /// With `static`: serve it as a single-page app. A path with no file extension that names no
    /// file gets `index.html` (deep links work); a missing file with an extension is still 404.
    #[schemars(with = "Option<bool>", example = true, extend("default" = false))]
    pub spa: Option<Spanned<bool>>,
    /// With `static`: URL prefixes whose files are content-hashed by the build (`/assets/` for
    /// Vite, `/static/` for Create React App). They are cached for a year as immutable; every
    /// other file, `index.html` included, is revalidated on each visit (`no-cache`).
    #[serde(default)]
    #[schemars(with = "Vec<String>", example = ["/assets/"])]
    pub immutable: Vec<SpannedString>,
    /// A private site: only these networks (CIDR, e.g. a tailnet's `100.64.0.0/10` and
    /// `fd7a:115c:a1e0::/48`) reach it; nginx answers everyone else 403. Behind a CDN, the
    /// restored client address is what counts.
    #[serde(default)]
    #[schemars(with = "Vec<String>", example = ["100.64.0.0/10", "fd7a:115c:a1e0::/48"])]
    pub allow_from: Vec<SpannedString>,
    /// The one address of the host nginx answers this site on (e.g. its tailnet address
    /// `100.101.102.103`); by default every address. Elsewhere its names get the catch-all's
    /// closed connection.
    #[schemars(with = "Option<String>", example = &"100.101.102.103")]
    pub listen: Option<SpannedString>,
    /// Users who must log in (HTTP basic auth) to reach the site, e.g. a staging site's
    /// reviewers. Each user's password is generated on the host, never put in the bundle:
    /// `sudo cat /etc/blueprint/basic-auth/<site>.passwords`.
    #[serde(default)]
    #[schemars(with = "Vec<String>", example = ["reviewer"])]
    pub basic_auth: Vec<SpannedString>,
    /// `Strict-Transport-Security` of an HTTPS site (two years).
    #[schemars(with = "Option<RawHsts>")]
    pub hsts: Option<Spanned<RawHsts>>,
    /// Largest accepted request body, in nginx size syntax.
    #[schemars(with = "Option<String>", example = &"10m", extend("default" = "10m"))]
    pub client_max_body_size: Option<SpannedString>,
    /// Directories of the release nginx serves itself beside the app, by URL prefix (a
    /// directory below `/`): `{ "/static/" = "staticfiles" }` for Django's `collectstatic`.
    /// Their files are made readable to nginx in each release; symlinks are followed only to
    /// files of the same owner, dotfiles are 404.
    #[serde(default)]
    #[schemars(with = "BTreeMap<String, String>", example = forms::example_paths())]
    pub paths: BTreeMap<SpannedString, SpannedString>,
    /// URL prefix (a directory below `/`) at which nginx serves the site's `shared/uploads`,
    /// what the app saved there (Django's `MEDIA_ROOT`, user uploads): `"/media/"`. nginx reads
    /// that directory alone, through an ACL the site's user grants; the files are served with
    /// a sandboxing `Content-Security-Policy`, so an uploaded page or SVG runs no script.
    #[schemars(with = "Option<String>", example = "/media/")]
    pub uploads_url: Option<SpannedString>,
    /// Overrides of the default security headers: a header name to a value; an empty value
    /// removes the header.
    #[serde(default)]
    #[schemars(with = "BTreeMap<String, String>", example = forms::example_headers())]
    pub headers: BTreeMap<SpannedString, SpannedString>,
    /// The site's processes, one systemd unit each.
    #[serde(default)]
    #[schemars(with = "BTreeMap<String, RawService>")]
    pub services: BTreeMap<SpannedString, Spanned<RawService>>,
    /// The release phase, written like a service's `run` (`/usr/bin/python3 manage.py migrate`):
    /// `blueprint-deploy` runs it in each new release before the release goes live, as the
    /// site's user with its environment and sandbox (`<site>-release@<release>.service`). When
    /// it fails the deploy stops and the running release keeps serving.
    #[serde(default)]
    #[schemars(schema_with = "forms::release")]
    pub release: Option<Spanned<toml::Value>>,
    /// Commands run on a schedule: a `<site>-<job>.service` run by a `<site>-<job>.timer`.
    #[serde(default)]
    #[schemars(with = "BTreeMap<String, RawJob>")]
    pub jobs: BTreeMap<SpannedString, Spanned<RawJob>>,
}

/// A command of a site run on a schedule, keyed by its name (`[a-z][a-z0-9-]*`, not one of the
/// site's services): the unit `<site>-<job>.service`, run by `<site>-<job>.timer` as the site's
/// user, with the site's environment and the services' sandbox, in its current release.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawJob {
    /// The command, as a service's `run` (no `$PORT`: a job listens on nothing).
    #[schemars(schema_with = "forms::run")]
    pub run: Spanned<toml::Value>,
    /// When it runs, a systemd calendar event: `hourly`, `daily`, `weekly`, `Mon..Fri 08:00`,
    /// `*-*-* 03:30` (the host's local time, or end with ` UTC`). A run missed while the host
    /// was off happens at boot; each run starts up to five minutes late, at random, so jobs of
    /// many sites do not start at once.
    #[schemars(with = "String", example = &"daily")]
    pub schedule: SpannedString,
    /// The longest one run may take before systemd stops it.
    #[schemars(with = "Option<String>", example = &"30m", extend("default" = "1h"))]
    pub timeout: Option<SpannedString>,
    /// `false`: the timer is installed but not enabled.
    #[schemars(example = true, extend("default" = true))]
    pub enabled: Option<bool>,
    /// As a service's `runtime`.
    #[serde(default)]
    #[schemars(schema_with = "forms::runtime")]
    pub runtime: Option<SpannedString>,
    /// systemd `MemoryMax=` of the job's unit.
    #[schemars(with = "Option<String>", example = &"512M", extend("default" = "1G"))]
    pub memory_max: Option<SpannedString>,
    /// systemd `CPUQuota=` of the job's unit.
    #[schemars(with = "Option<String>", example = &"50%", extend("default" = "100%"))]
    pub cpu_quota: Option<SpannedString>,
}

/// One process of a site, keyed by its name (`[a-z][a-z0-9-]*`): the unit
/// `<site>-<service>.service`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawService {
    /// The command, with an absolute executable: a string split like a shell line (quotes group
    /// words, no shell runs it), or an array of arguments. `$PORT` and `$HOST` are expanded;
    /// any other `$` is an error.
    #[schemars(schema_with = "forms::run")]
    pub run: Spanned<toml::Value>,
    /// URL path prefix nginx proxies to this service; without one the service is an internal
    /// worker. A routed service also gets a standby port in the site's block, where a deploy
    /// starts its new release before the switch.
    #[schemars(with = "Option<String>", example = "/api/")]
    pub route: Option<SpannedString>,
    /// Fixed port inside the site's slot block; by default the block's next free port, in
    /// service name order.
    #[schemars(with = "Option<i64>", example = 3101)]
    pub port: Option<Spanned<i64>>,
    /// Request limit of the route, per client address (per /64 for IPv6); past the burst nginx
    /// answers 429.
    #[schemars(with = "Option<RawRateLimit>")]
    pub rate_limit: Option<Spanned<RawRateLimit>>,
    /// How long nginx waits between two reads from the service before it closes the connection
    /// (nginx time: `90s`, `10m`, `1h`; at most `24h`). An idle WebSocket or an event stream
    /// needs more than the default; WebSocket upgrades pass on every route.
    #[schemars(with = "Option<String>", example = "1h", extend("default" = "60s"))]
    pub read_timeout: Option<SpannedString>,
    /// `false`: nginx passes the response on as it arrives (server-sent events, streamed
    /// output) instead of buffering it.
    #[schemars(with = "Option<bool>", example = false, extend("default" = true))]
    pub buffering: Option<Spanned<bool>>,
    /// `false`: the unit is installed but not enabled, and the route answers 503.
    #[schemars(example = true, extend("default" = true))]
    pub enabled: Option<bool>,
    /// Path probed through nginx at the end of `setup.sh`.
    #[schemars(with = "Option<String>", example = "/healthz")]
    pub health: Option<SpannedString>,
    /// Path of the service's Prometheus metrics on its port (or on its own metrics port, with
    /// `separate_metrics_port`), scraped from 127.0.0.1 when `[host] monitoring = "prometheus"`
    /// (never routed through nginx).
    #[schemars(with = "Option<String>", example = "/metrics")]
    pub metrics: Option<SpannedString>,
    /// Serve `metrics` on a port of its own instead of the service's `PORT`: blueprint takes one
    /// from the site's block and sets `METRICS_PORT` (which `run` may name as `$METRICS_PORT`).
    #[schemars(with = "Option<bool>", example = true, extend("default" = false))]
    pub separate_metrics_port: Option<Spanned<bool>>,
    /// Decides which hardening the runtime can bear (node and jvm need writable-executable
    /// memory for their JIT); by default guessed from the executable.
    #[serde(default)]
    #[schemars(schema_with = "forms::runtime")]
    pub runtime: Option<SpannedString>,
    /// systemd `MemoryMax=` of the unit.
    #[schemars(with = "Option<String>", example = "1G", extend("default" = "1G"))]
    pub memory_max: Option<SpannedString>,
    /// systemd `CPUQuota=` of the unit (`100%` is one core).
    #[schemars(with = "Option<String>", example = "100%", extend("default" = "100%"))]
    pub cpu_quota: Option<SpannedString>,
    /// systemd `TasksMax=` of the unit.
    #[schemars(with = "Option<i64>", example = 256, extend("default" = 256))]
    pub tasks_max: Option<Spanned<i64>>,
}

/// `hsts = { include_subdomains = false }`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawHsts {
    /// `includeSubDomains`: browsers also refuse plain HTTP to every subdomain of the site's
    /// domains, hosted here or not. Turn it off when a subdomain is served over HTTP only.
    #[schemars(with = "Option<bool>", example = false, extend("default" = true))]
    pub include_subdomains: Option<Spanned<bool>>,
    /// `preload`: asks to be listed in browsers' built-in HSTS lists (needs
    /// `include_subdomains`; leaving the list takes months).
    #[schemars(with = "Option<bool>", example = true, extend("default" = false))]
    pub preload: Option<Spanned<bool>>,
}

/// When backups run and how many are kept.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawBackups {
    /// `false`: no backup timers (the sites' data is then yours to save).
    #[schemars(example = true, extend("default" = true))]
    pub enabled: Option<bool>,
    /// When each site's backup runs: `daily`, `hourly` or any systemd calendar expression.
    #[schemars(with = "Option<String>", example = &"daily", extend("default" = "daily"))]
    pub schedule: Option<SpannedString>,
    /// The newest backup of each of this many days is kept.
    #[schemars(with = "Option<i64>", example = 7, extend("default" = 7))]
    pub keep_daily: Option<Spanned<i64>>,
    /// And the newest of each of this many ISO weeks.
    #[schemars(with = "Option<i64>", example = 4, extend("default" = 4))]
    pub keep_weekly: Option<Spanned<i64>>,
    /// A restic repository each verified backup is also copied to, with the same retention:
    /// `sftp:USER@HOST:/ABSOLUTE/PATH` (`sftp://USER@HOST:PORT//ABSOLUTE/PATH` for another
    /// port), reached with an ssh key generated on the host, or the absolute path of a
    /// directory on a disk mounted on the host. Its password is generated on the host, in
    /// `/etc/blueprint/offsite/restic-password`: keep a copy of it off the host.
    #[schemars(with = "Option<String>", example = &"sftp:backup@backup.example.net:/srv/restic/vps1")]
    pub offsite: Option<SpannedString>,
}

/// `rate_limit = { rate = "10r/s", burst = 20 }`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawRateLimit {
    /// nginx rate: `<n>r/s` or `<n>r/m`.
    #[schemars(with = "String", example = "10r/s")]
    pub rate: SpannedString,
    /// Requests allowed above the rate before 429.
    #[schemars(with = "Option<i64>", example = 20, extend("default" = 0))]
    pub burst: Option<Spanned<i64>>,
}
