//! Stage 1 types: `sites.toml` exactly as written.
//!
//! Every struct denies unknown fields, so a typo is an error with a position instead of a
//! silently ignored setting. Values that later checks must point at are `Spanned`. Nothing here
//! is validated or defaulted; that is [`crate::resolve`]'s job.

use std::collections::BTreeMap;

use serde::Deserialize;
use toml::Spanned;

/// A string with its position in the file.
pub type SpannedString = Spanned<String>;

/// The whole file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawConfig {
    /// `[host]`: the machine the bundle is for.
    pub host: Spanned<RawHost>,
    /// `[sites.<name>]`, keyed by site name.
    #[serde(default)]
    pub sites: BTreeMap<SpannedString, Spanned<RawSite>>,
}

/// `[host]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawHost {
    /// Host name; also the bundle directory `out/<name>/`.
    pub name: SpannedString,
    /// Target distribution: `debian-12` or `ubuntu-24.04`.
    pub os: SpannedString,
    /// Contact address for Let's Encrypt; required when a site uses `tls = "acme"`.
    pub acme_email: Option<SpannedString>,
    /// Paths of public keys (shell-expanded) installed for the deploy user.
    #[serde(default)]
    pub admin_keys: Vec<SpannedString>,
    /// Name of the deploy user (default `deploy`).
    pub deploy_user: Option<SpannedString>,
    /// SSH port kept open by the firewall (default 22).
    pub ssh_port: Option<Spanned<i64>>,
    /// Manage the firewall (default true).
    pub firewall: Option<bool>,
    /// Install fail2ban jails (default true).
    pub fail2ban: Option<bool>,
    /// Enable unattended security upgrades (default true).
    pub unattended_upgrades: Option<bool>,
    /// Keys-only sshd, no root password login (default true).
    pub harden_ssh: Option<bool>,
    /// Extra distribution packages to install (runtimes, tools the apps run).
    #[serde(default)]
    pub packages: Vec<SpannedString>,
}

/// `[sites.<name>]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawSite {
    /// Host names served by this site.
    pub domains: Spanned<Vec<SpannedString>>,
    /// Stable port block number: ports never move when other sites come or go.
    pub slot: Spanned<i64>,
    /// `"acme"`, `"none"` or `{ cert = "...", key = "..." }`; a string or a table, so kept raw.
    pub tls: Option<Spanned<toml::Value>>,
    /// A CDN in front of the site whose client addresses must be restored (`"cloudflare"`).
    pub behind: Option<SpannedString>,
    /// `"postgres"` or `"none"`.
    pub database: Option<SpannedString>,
    /// Non-secret environment variables.
    #[serde(default)]
    pub env: BTreeMap<SpannedString, SpannedString>,
    /// Names of secrets the operator fills in on the host.
    #[serde(default)]
    pub secrets: Vec<SpannedString>,
    /// Names of secrets the host generates once (random, 256 bits).
    #[serde(default)]
    pub generated_secrets: Vec<SpannedString>,
    /// Paths inside the release the site's services may write (e.g. `.next` for Next.js ISR).
    #[serde(default)]
    pub writable: Vec<SpannedString>,
    /// Directory under the release served as static files by nginx.
    #[serde(rename = "static")]
    pub static_dir: Option<SpannedString>,
    /// Largest accepted request body, nginx size syntax (default `10m`).
    pub client_max_body_size: Option<SpannedString>,
    /// Security header overrides: a header name to a value; an empty value removes the header.
    #[serde(default)]
    pub headers: BTreeMap<SpannedString, SpannedString>,
    /// `[sites.<name>.services.<service>]`.
    #[serde(default)]
    pub services: BTreeMap<SpannedString, Spanned<RawService>>,
}

/// `[sites.<site>.services.<name>]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawService {
    /// The command: a string split on whitespace, or an array of arguments.
    pub run: Spanned<toml::Value>,
    /// URL path prefix proxied to this service.
    pub route: Option<SpannedString>,
    /// Fixed port; by default the site's slot block gives one.
    pub port: Option<Spanned<i64>>,
    /// Per-route request limit.
    pub rate_limit: Option<Spanned<RawRateLimit>>,
    /// Disabled services get a unit that is not enabled, and a route that answers 503.
    pub enabled: Option<bool>,
    /// Health path probed through nginx after apply.
    pub health: Option<SpannedString>,
    /// `node`, `python`, `native` or `jvm`: decides which hardening the runtime can bear.
    pub runtime: Option<SpannedString>,
    /// systemd `MemoryMax=` (default `1G`).
    pub memory_max: Option<SpannedString>,
    /// systemd `CPUQuota=` (default `100%`).
    pub cpu_quota: Option<SpannedString>,
    /// systemd `TasksMax=` (default 256).
    pub tasks_max: Option<Spanned<i64>>,
}

/// `rate_limit = { rate = "10r/s", burst = 20 }`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawRateLimit {
    /// nginx rate: `<n>r/s` or `<n>r/m`.
    pub rate: SpannedString,
    /// Requests allowed above the rate before 429 (default 0).
    pub burst: Option<Spanned<i64>>,
}
