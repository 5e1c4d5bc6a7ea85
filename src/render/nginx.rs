//! nginx artifacts: the whole `nginx.conf` and the shared snippets ([`render_host`]), and one file
//! per site in `sites-available/` ([`render_site`]: upstreams, rate-limit zones, the ACME
//! location, routes, per-site logs).

use std::collections::BTreeMap;

use serde::Serialize;

use super::templates::{static_view, view_of};
use super::Renderer;
use crate::bundle::{Bundle, Fate};
use crate::model::{layout, Cdn, Domain, Model, Os, RateLimit, Site};

/// Cloudflare's published edge ranges (<https://www.cloudflare.com/ips/>), trusted for
/// `CF-Connecting-IP`. Kept in the bundle so a build is offline and reviewable.
const CLOUDFLARE_RANGES: &[&str] = &[
    "173.245.48.0/20",
    "103.21.244.0/22",
    "103.22.200.0/22",
    "103.31.4.0/22",
    "141.101.64.0/18",
    "108.162.192.0/18",
    "190.93.240.0/20",
    "188.114.96.0/20",
    "197.234.240.0/22",
    "198.41.128.0/17",
    "162.158.0.0/15",
    "104.16.0.0/13",
    "104.24.0.0/14",
    "172.64.0.0/13",
    "131.0.72.0/22",
    "2400:cb00::/32",
    "2606:4700::/32",
    "2803:f800::/32",
    "2405:b500::/32",
    "2405:8100::/32",
    "2a06:98c0::/29",
    "2c0f:f248::/32",
];

#[derive(Serialize)]
struct ConfView {
    nginx_version: &'static str,
    /// The sites' `listen` addresses, each once: the catch-all is their default server too
    /// (nginx matches a request's address before its Host, so a wildcard default never sees
    /// a connection to an address some server names).
    listen: Vec<String>,
}
view_of!(ConfView => NginxConf);

static_view!(
    /// The ACME challenge location: nothing of the model.
    AcmeView => NginxAcme
);
static_view!(
    /// The proxy headers: nothing of the model.
    ProxyView => NginxProxy
);

#[derive(Serialize)]
struct CloudflareView {
    ranges: &'static [&'static str],
}
view_of!(CloudflareView => NginxCloudflare);

/// One site's server blocks: the site, then its routed services.
#[derive(Serialize)]
struct NginxSiteView<'a> {
    site: SiteView<'a>,
    proxied: Vec<RouteView<'a>>,
}
view_of!(NginxSiteView<'_> => NginxSite);

#[derive(Serialize)]
struct SiteView<'a> {
    name: &'a str,
    domains: &'a [Domain],
    https: bool,
    headers: &'a BTreeMap<String, String>,
    client_max_body_size: &'a str,
    cloudflare: bool,
    static_root: Option<String>,
    /// `paths`, then `uploads_url`: each URL prefix with the directory nginx aliases it to
    /// (with a trailing `/`).
    paths: Vec<PathView<'a>>,
    spa: bool,
    immutable: &'a [String],
    /// A private site's networks; empty for a public one.
    allow_from: &'a [String],
    /// `listen`'s address as nginx writes it before `:port` (`[…]` for IPv6).
    listen: Option<String>,
    /// The same address as a geo network: the host itself (setup.sh's probes come from it).
    listen_self: Option<String>,
    /// A private site's `geo` variable: 1 for an address outside `allow_from`.
    outsider: String,
    /// Basic auth: the `geo` variable holding the realm (`off` for loopback), and the file.
    auth_realm: Option<String>,
    htpasswd: String,
    passwords: String,
    /// The `Strict-Transport-Security` value.
    hsts: &'static str,
    log_dir: String,
    tls_dir: String,
}

#[derive(Serialize)]
struct PathView<'a> {
    prefix: &'a str,
    alias: String,
    /// The site's uploads (visitors' files), served sandboxed, rather than its release's.
    uploads: bool,
}

#[derive(Serialize)]
struct RouteView<'a> {
    name: &'a str,
    zone: String,
    port: u16,
    /// Where the new release answers during a deploy (the upstream's `backup` server).
    standby_port: Option<u16>,
    route: &'a str,
    enabled: bool,
    rate_limit: Option<RateView>,
    read_timeout: &'a str,
    buffering: bool,
}

#[derive(Serialize)]
struct RateView {
    rate: String,
    burst: u32,
}

impl From<RateLimit> for RateView {
    fn from(limit: RateLimit) -> Self {
        Self {
            rate: limit.rate(),
            burst: limit.burst,
        }
    }
}

/// Adds the host-wide nginx files: `nginx.conf` and the shared snippets.
pub(super) fn render_host(renderer: &Renderer, model: &Model, bundle: &mut Bundle) {
    let nginx_version = match model.host.os {
        Os::Debian12 => "1.22",
        Os::Ubuntu2404 => "1.24",
    };
    bundle.add_host_file(
        "/etc/nginx/nginx.conf",
        renderer.render(&ConfView {
            nginx_version,
            listen: (model.sites.iter())
                .filter_map(Site::listen_host)
                .collect::<std::collections::BTreeSet<_>>()
                .into_iter()
                .collect(),
        }),
        Fate::nginx(),
    );
    bundle.add_host_file(
        "/etc/nginx/snippets/blueprint-acme.conf",
        renderer.render(&AcmeView),
        Fate::nginx(),
    );
    bundle.add_host_file(
        "/etc/nginx/snippets/blueprint-proxy.conf",
        renderer.render(&ProxyView),
        Fate::nginx(),
    );
    if model
        .sites
        .iter()
        .any(|s| s.behind == Some(Cdn::Cloudflare))
    {
        let view = CloudflareView {
            ranges: CLOUDFLARE_RANGES,
        };
        bundle.add_host_file(
            "/etc/nginx/snippets/blueprint-cloudflare.conf",
            renderer.render(&view),
            Fate::nginx(),
        );
    }
}

/// Adds `files/etc/nginx/sites-available/<site>.conf`.
pub(super) fn render_site(renderer: &Renderer, site: &Site, bundle: &mut Bundle) {
    let view = SiteView {
        name: &site.name,
        domains: &site.domains,
        https: site.tls.https(),
        headers: &site.headers,
        client_max_body_size: &site.client_max_body_size,
        cloudflare: site.behind == Some(Cdn::Cloudflare),
        static_root: site
            .static_dir
            .as_ref()
            .map(|dir| layout::site_path(&site.name, &["current/", dir].concat())),
        paths: (site.paths.iter())
            .map(|(prefix, dir)| PathView {
                prefix,
                // Both end in `/`: an alias without it would let `/static../x` escape.
                alias: layout::site_path(&site.name, &["current/", dir, "/"].concat()),
                uploads: false,
            })
            .chain(site.uploads_url.as_deref().map(|prefix| PathView {
                prefix,
                alias: [layout::uploads_dir(&site.name).as_str(), "/"].concat(),
                uploads: true,
            }))
            .collect(),
        spa: site.spa,
        immutable: &site.immutable,
        allow_from: &site.allow_from,
        listen: site.listen_host(),
        listen_self: site.listen.map(|address| {
            let bits = if address.is_ipv4() { 32 } else { 128 };
            format!("{address}/{bits}")
        }),
        outsider: ["bp_outsider_", &variable_part(&site.name)].concat(),
        auth_realm: (!site.basic_auth.is_empty())
            .then(|| ["bp_auth_", &variable_part(&site.name)].concat()),
        htpasswd: layout::htpasswd(&site.name),
        passwords: layout::basic_auth_passwords(&site.name),
        hsts: match (site.hsts.include_subdomains, site.hsts.preload) {
            (true, true) => "max-age=63072000; includeSubDomains; preload",
            (true, false) => "max-age=63072000; includeSubDomains",
            (false, _) => "max-age=63072000",
        },
        log_dir: layout::nginx_log_dir(&site.name),
        tls_dir: [layout::TLS_ROOT, "/", &site.name].concat(),
    };
    let proxied: Vec<RouteView> = site
        .services
        .iter()
        .filter_map(|svc| {
            Some(RouteView {
                name: &svc.name,
                zone: [&site.name, "_", &svc.name].concat(),
                port: svc.port,
                standby_port: svc.standby_port,
                route: svc.route.as_deref()?,
                enabled: svc.enabled,
                rate_limit: svc.rate_limit.map(RateView::from),
                read_timeout: &svc.read_timeout,
                buffering: svc.buffering,
            })
        })
        .collect();
    bundle.add_host_file(
        &["/etc/nginx/sites-available/", &site.name, ".conf"].concat(),
        renderer.render(&NginxSiteView {
            site: view,
            proxied,
        }),
        Fate::nginx(),
    );
}

/// A site name as part of an nginx variable name, which takes only `[A-Za-z0-9_]`: `_` becomes
/// `__` and `-` becomes `_d`, so two sites (`a-b`, `a_b`) never share a variable.
fn variable_part(name: &str) -> String {
    name.chars()
        .map(|c| match c {
            '_' => "__".to_owned(),
            '-' => "_d".to_owned(),
            c => c.to_string(),
        })
        .collect()
}
