//! Stage 2 (resolve): one `[sites.<site>.services.<name>]` into a [`Service`] (with the port
//! planned host-wide by `plan_ports`), and the routes of one site, which may not collide.

use std::collections::BTreeMap;

use toml::Spanned;

use super::host_wide::PlannedPorts;
use super::invalid::Invalid;
use super::port_range::{port_invalid, port_unusable};
use super::process::RawLimits;
use super::{command, names, rate, serving, url_path, Resolver};
use crate::diagnostic::Diagnostic;
use crate::model::{Host, Service, SiteName};
use crate::raw::{RawService, RawSite, SpannedString};

impl Resolver<'_> {
    pub(super) fn service(
        &mut self,
        name: &SpannedString,
        raw: &Spanned<RawService>,
        host: Option<&Host>,
        ports: Option<PlannedPorts>,
        site: Option<&SiteName>,
    ) -> Option<Service> {
        let svc = raw.get_ref();
        let checked_name = self.check(name.span(), names::service_name(name.get_ref()));
        let name_ok = checked_name.is_some();
        let (argv, package) = self.process_command(&svc.run, host);
        let route = svc.route.as_ref().and_then(|r| {
            self.check(r.span(), url_path::url_path("route", r.get_ref()))
                .map(|()| r.get_ref().clone())
        });
        let route_ok = svc.route.is_none() || route.is_some();
        let health = svc.health.as_ref().and_then(|h| {
            self.check(h.span(), url_path::url_path("health path", h.get_ref()))
                .map(|()| h.get_ref().clone())
        });
        let metrics = svc.metrics.as_ref().and_then(|m| {
            self.check(m.span(), url_path::url_path("metrics path", m.get_ref()))
                .map(|()| m.get_ref().clone())
        });
        // (Without a resolved host, its own errors are reported; no guess here.)
        if let (Some(m), Some(false)) = (&svc.metrics, host.map(|h| h.prometheus)) {
            self.diagnostics.push(
                Diagnostic::warning_at(m.span(), "nothing scrapes these metrics")
                    .with_help("set `monitoring = \"prometheus\"` in [host], or remove `metrics`"),
            );
        }
        let separate_metrics = svc.separate_metrics_port.as_ref().filter(|f| *f.get_ref());
        if let (Some(flag), None) = (separate_metrics, &svc.metrics) {
            self.report(flag.span(), Invalid::new("`separate_metrics_port` needs `metrics`", "add `metrics = \"/metrics\"` (the path Prometheus scrapes on that port), or remove `separate_metrics_port`"));
        }
        let argv_ref = argv.as_deref().unwrap_or_default();
        if separate_metrics.is_none() && command::mentions(argv_ref, "METRICS_PORT") {
            self.report(svc.run.span(), Invalid::new("`$METRICS_PORT` is set only with `separate_metrics_port = true`", "add `separate_metrics_port = true` to give the metrics a port of their own, or serve them on `$PORT`"));
        }
        if let (Some(h), None) = (&svc.health, &svc.route) {
            self.report(h.span(), Invalid::new("`health` needs a `route`", "the health path is probed through nginx: give the service a `route`, or remove `health`"));
        }
        let read_timeout = match &svc.read_timeout {
            None => Some(serving::DEFAULT_READ_TIMEOUT.to_owned()),
            Some(t) => self
                .check(t.span(), serving::read_timeout(t.get_ref()))
                .map(|()| t.get_ref().clone()),
        };
        // Only a value other than the default needs a route to act on.
        let custom_timeout = svc
            .read_timeout
            .as_ref()
            .filter(|t| t.get_ref() != serving::DEFAULT_READ_TIMEOUT);
        let unbuffered = svc.buffering.as_ref().filter(|b| !*b.get_ref());
        for (key, span) in [
            ("read_timeout", custom_timeout.map(|t| t.span())),
            ("buffering", unbuffered.map(|b| b.span())),
        ] {
            if let (Some(span), None) = (span, &svc.route) {
                self.report(span, Invalid::new(format!("`{key}` needs a `route`"), format!("`{key}` sets how nginx proxies the service's route: give the service a `route`, or remove `{key}`")));
            }
        }
        let rate_limit = match &svc.rate_limit {
            None => Some(None),
            Some(rl) => {
                let rl = rl.get_ref();
                let burst = rl.burst.as_ref().map_or(0, |b| *b.get_ref());
                let span = match &rl.burst {
                    Some(b) if rate::rate_limit("1r/s", burst).is_err() => b.span(),
                    _ => rl.rate.span(),
                };
                self.check(span, rate::rate_limit(rl.rate.get_ref(), burst))
                    .map(Some)
            }
        };
        let runtime = self.process_runtime(svc.runtime.as_ref(), argv.as_ref());
        let limits = self.process_limits(
            &RawLimits {
                memory_max: svc.memory_max.as_ref(),
                cpu_quota: svc.cpu_quota.as_ref(),
                tasks_max: svc.tasks_max.as_ref(),
            },
            raw.span(),
        );
        // Checked here as well as in `assign_ports`, which sees only services that resolved: a
        // wrong port must not hide behind another mistake of the same service.
        let port_ok = match &svc.port {
            Some(port) if port_unusable(*port.get_ref()) => {
                self.report(port.span(), port_invalid(*port.get_ref()));
                false
            }
            _ => true,
        };
        if !name_ok || !route_ok || !port_ok {
            return None;
        }
        // No planned port: its problem is reported by `plan_ports`. No site name: the site's
        // own error says so, and the site is not built.
        let PlannedPorts {
            port,
            metrics: metrics_port,
            standby,
            standby_metrics,
        } = ports?;
        let name = checked_name?;
        let unit = names::unit_name(site?, &name);
        Some(Service {
            name,
            unit,
            port,
            standby_port: standby,
            argv: argv?,
            package: package?,
            route,
            rate_limit: rate_limit?,
            enabled: svc.enabled.unwrap_or(true),
            health,
            metrics,
            metrics_port,
            standby_metrics_port: standby_metrics,
            read_timeout: read_timeout?,
            buffering: svc.buffering.as_ref().is_none_or(|b| *b.get_ref()),
            runtime: runtime?,
            limits: limits?,
        })
    }

    /// Two services of a site may not claim the same route, nor `/` when nginx serves static files there.
    pub(super) fn routes_within_site(&mut self, site: &RawSite, has_static: bool) {
        let mut seen: BTreeMap<&str, &str> = BTreeMap::new();
        for (name, svc) in &site.services {
            let Some(route) = &svc.get_ref().route else {
                continue;
            };
            if let Some(other) = seen.insert(route.get_ref(), name.get_ref()) {
                self.report(
                    route.span(),
                    Invalid::new(
                        format!(
                            "route `{}` is already used by service `{other}`",
                            route.get_ref()
                        ),
                        "give each service its own route",
                    ),
                );
            } else if site.paths.keys().any(|p| p.get_ref() == route.get_ref()) {
                self.report(
                    route.span(),
                    Invalid::new(
                        format!(
                            "route `{}` is also one of the site's `paths`",
                            route.get_ref()
                        ),
                        "serve that prefix from the app or from the release's files, not both",
                    ),
                );
            } else if site
                .uploads_url
                .as_ref()
                .is_some_and(|u| u.get_ref() == route.get_ref())
            {
                self.report(
                    route.span(),
                    Invalid::new(
                        format!(
                            "route `{}` is also the site's `uploads_url`",
                            route.get_ref()
                        ),
                        "serve that prefix from the app or from the uploads, not both",
                    ),
                );
            } else if has_static && route.get_ref() == "/" {
                self.report(route.span(), Invalid::new("route `/` conflicts with the site's `static` directory", "serve static files from the app, or move the service to a sub-path like `/api/`"));
            }
        }
    }
}
