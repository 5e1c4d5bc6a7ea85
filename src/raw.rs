//! Stage 1 types: `sites.toml` exactly as written.
//!
//! Every struct denies unknown fields, so a typo is an error with a position instead of a
//! silently ignored setting. Values that later checks must point at are `Spanned`. Nothing here
//! is validated or defaulted; that is [`crate::resolve`]'s job.
//!
//! The same types, through `schemars`, are the JSON Schema of `sites.toml` ([`crate::schema`]):
//! the doc comments become its descriptions and the `example`s its examples, and the loader
//! checks the shape of the file against that schema before deserializing ([`crate::load`]).

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

/// `[host]`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawHost {
    /// Host name; also the bundle directory `out/<name>/`.
    #[schemars(with = "String", example = &"vps1")]
    pub name: SpannedString,
    /// Target distribution: `debian-12` or `ubuntu-24.04`.
    #[schemars(schema_with = "forms::os")]
    pub os: SpannedString,
    /// Contact address for Let's Encrypt; required when a site uses `tls = "acme"`.
    #[schemars(with = "Option<String>", example = "ops@example.com")]
    pub acme_email: Option<SpannedString>,
    /// Paths of public keys (shell-expanded) installed for the deploy user.
    #[serde(default)]
    #[schemars(with = "Vec<String>", example = ["keys/ops.pub"])]
    pub admin_keys: Vec<SpannedString>,
    /// Name of the deploy user (default `deploy`).
    #[schemars(with = "Option<String>", example = &"deploy")]
    pub deploy_user: Option<SpannedString>,
    /// SSH port kept open by the firewall (default 22).
    #[schemars(with = "Option<i64>", example = 22)]
    pub ssh_port: Option<Spanned<i64>>,
    /// Manage the firewall (default true).
    #[schemars(example = true)]
    pub firewall: Option<bool>,
    /// Install fail2ban jails (default true).
    #[schemars(example = true)]
    pub fail2ban: Option<bool>,
    /// Enable unattended security upgrades (default true).
    #[schemars(example = true)]
    pub unattended_upgrades: Option<bool>,
    /// Keys-only sshd, no root password login (default true).
    #[schemars(example = true)]
    pub harden_ssh: Option<bool>,
    /// Extra distribution packages to install (runtimes, tools the apps run).
    #[serde(default)]
    #[schemars(with = "Vec<String>", example = ["nodejs"])]
    pub packages: Vec<SpannedString>,
}

/// `[sites.<name>]`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawSite {
    /// Host names served by this site.
    #[schemars(with = "Vec<String>", example = ["example.com", "www.example.com"])]
    pub domains: Spanned<Vec<SpannedString>>,
    /// Stable port block number: ports never move when other sites come or go.
    #[schemars(with = "i64", example = 1)]
    pub slot: Spanned<i64>,
    /// `"acme"`, `"none"` or `{ cert = "...", key = "..." }`; a string or a table, so kept raw.
    #[serde(default)]
    #[schemars(schema_with = "forms::tls")]
    pub tls: Option<Spanned<toml::Value>>,
    /// A CDN in front of the site whose client addresses must be restored (`"cloudflare"`).
    #[serde(default)]
    #[schemars(schema_with = "forms::behind")]
    pub behind: Option<SpannedString>,
    /// `"postgres"` or `"none"`.
    #[serde(default)]
    #[schemars(schema_with = "forms::database")]
    pub database: Option<SpannedString>,
    /// Non-secret environment variables.
    #[serde(default)]
    #[schemars(with = "BTreeMap<String, String>", example = forms::example_env())]
    pub env: BTreeMap<SpannedString, SpannedString>,
    /// Names of secrets the operator fills in on the host.
    #[serde(default)]
    #[schemars(with = "Vec<String>", example = ["STRIPE_SECRET_KEY"])]
    pub secrets: Vec<SpannedString>,
    /// Names of secrets the host generates once (random, 256 bits).
    #[serde(default)]
    #[schemars(with = "Vec<String>", example = ["SESSION_SECRET"])]
    pub generated_secrets: Vec<SpannedString>,
    /// Paths inside the release the site's services may write (e.g. `.next` for Next.js ISR).
    #[serde(default)]
    #[schemars(with = "Vec<String>", example = [".next"])]
    pub writable: Vec<SpannedString>,
    /// Directory under the release served as static files by nginx.
    #[serde(rename = "static")]
    #[schemars(with = "Option<String>", example = &"public")]
    pub static_dir: Option<SpannedString>,
    /// Largest accepted request body, nginx size syntax (default `10m`).
    #[schemars(with = "Option<String>", example = &"10m")]
    pub client_max_body_size: Option<SpannedString>,
    /// Security header overrides: a header name to a value; an empty value removes the header.
    #[serde(default)]
    #[schemars(with = "BTreeMap<String, String>", example = forms::example_headers())]
    pub headers: BTreeMap<SpannedString, SpannedString>,
    /// `[sites.<name>.services.<service>]`.
    #[serde(default)]
    #[schemars(with = "BTreeMap<String, RawService>")]
    pub services: BTreeMap<SpannedString, Spanned<RawService>>,
}

/// `[sites.<site>.services.<name>]`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawService {
    /// The command: a string split on whitespace, or an array of arguments.
    #[schemars(schema_with = "forms::run")]
    pub run: Spanned<toml::Value>,
    /// URL path prefix proxied to this service.
    #[schemars(with = "Option<String>", example = "/api/")]
    pub route: Option<SpannedString>,
    /// Fixed port; by default the site's slot block gives one.
    #[schemars(with = "Option<i64>", example = 3101)]
    pub port: Option<Spanned<i64>>,
    /// Per-route request limit.
    #[schemars(with = "Option<RawRateLimit>")]
    pub rate_limit: Option<Spanned<RawRateLimit>>,
    /// Disabled services get a unit that is not enabled, and a route that answers 503.
    #[schemars(example = true)]
    pub enabled: Option<bool>,
    /// Health path probed through nginx after apply.
    #[schemars(with = "Option<String>", example = "/healthz")]
    pub health: Option<SpannedString>,
    /// `node`, `python`, `native` or `jvm`: decides which hardening the runtime can bear.
    #[serde(default)]
    #[schemars(schema_with = "forms::runtime")]
    pub runtime: Option<SpannedString>,
    /// systemd `MemoryMax=` (default `1G`).
    #[schemars(with = "Option<String>", example = "1G")]
    pub memory_max: Option<SpannedString>,
    /// systemd `CPUQuota=` (default `100%`).
    #[schemars(with = "Option<String>", example = "100%")]
    pub cpu_quota: Option<SpannedString>,
    /// systemd `TasksMax=` (default 256).
    #[schemars(with = "Option<i64>", example = 256)]
    pub tasks_max: Option<Spanned<i64>>,
}

/// `rate_limit = { rate = "10r/s", burst = 20 }`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawRateLimit {
    /// nginx rate: `<n>r/s` or `<n>r/m`.
    #[schemars(with = "String", example = "10r/s")]
    pub rate: SpannedString,
    /// Requests allowed above the rate before 429 (default 0).
    #[schemars(with = "Option<i64>", example = 20)]
    pub burst: Option<Spanned<i64>>,
}
