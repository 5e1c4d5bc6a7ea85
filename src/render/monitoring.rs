//! Stage 3 (render): `[host] monitoring = "prometheus"`. Debian's own Prometheus and node
//! exporter, told to listen on 127.0.0.1 only (their `/etc/default` files), with a scrape config
//! naming every service's `metrics` and the alerting rules. Both YAML files must pass
//! `promtool` on the host before they go live; either changing restarts Prometheus. The node
//! exporter also reads root's textfile directory, where `blueprint-backup` writes each site's
//! last verified backup and `blueprint-tls-metrics` (hourly, rendered here) each HTTPS site's
//! certificate expiry, for the `BackupStale` and `CertificateExpiring` rules.

use serde::Serialize;

use super::templates::view_of;
use super::Renderer;
use crate::bundle::fate::{Action, Validator};
use crate::bundle::{Bundle, Fate};
use crate::model::{layout, Model};

/// The units setup.sh keeps enabled and running when monitoring is on.
pub(super) const UNITS: [&str; 2] = ["prometheus", "prometheus-node-exporter"];
/// The unit that writes the certificates' expiry metrics (with any HTTPS site); setup.sh keeps
/// its timer running.
pub(super) const TLS_METRICS_UNIT: &str = "blueprint-tls-metrics";
/// Its timer, as plan.sh's `BP_HOST_UNITS` names it.
pub(super) const TLS_METRICS_TIMER: &str = "blueprint-tls-metrics.timer";

/// Whether the host exports certificate expiry: monitoring on and some site on HTTPS.
pub(super) fn tls_metrics(model: &Model) -> bool {
    model.host.prometheus && model.sites.iter().any(|site| site.tls.https())
}

#[derive(Serialize)]
struct PrometheusView<'a> {
    host: &'a str,
    targets: Vec<TargetView<'a>>,
}
view_of!(PrometheusView<'_> => PrometheusConfig);

#[derive(Serialize)]
struct TargetView<'a> {
    site: &'a str,
    service: &'a str,
    unit: &'a str,
    port: u16,
    path: &'a str,
}

/// The alerting rules: the same for every host, but for the backups' age limit.
#[derive(Serialize)]
struct RulesView {
    /// Seconds after which a site's newest verified backup is stale; 0 with backups off.
    backup_stale_after: u64,
    /// Whether certificate expiry is exported (some site on HTTPS).
    certificates: bool,
    /// Whether backups are copied off the host (`offsite`), whose age has the same limit.
    offsite: bool,
}
view_of!(RulesView => PrometheusRules);

#[derive(Serialize)]
struct TlsMetricsScriptView<'a> {
    tls_root: &'static str,
    metrics_root: &'static str,
    /// The HTTPS sites.
    sites: Vec<&'a str>,
}
view_of!(TlsMetricsScriptView<'_> => TlsMetricsScript);

#[derive(Serialize)]
struct TlsMetricsUnitView {
    unit: &'static str,
    command: &'static str,
    metrics_root: &'static str,
}
view_of!(TlsMetricsUnitView => TlsMetricsUnit);

/// Adds the monitoring files when the host asks for them.
pub(super) fn render(renderer: &Renderer, model: &Model, bundle: &mut Bundle) {
    if !model.host.prometheus {
        return;
    }
    let targets = model
        .sites
        .iter()
        .flat_map(|site| site.services.iter().map(move |svc| (site, svc)))
        .filter(|(_, svc)| svc.enabled)
        .filter_map(|(site, svc)| {
            Some(TargetView {
                site: &site.name,
                service: &svc.name,
                unit: &svc.unit,
                port: svc.metrics_port.unwrap_or(svc.port),
                path: svc.metrics.as_deref()?,
            })
        })
        .collect();
    let restart = || Action::RestartUnit(UNITS[0].to_owned());
    // Installed before prometheus.yml (files go in path order), which names it.
    bundle.add_host_file(
        "/etc/prometheus/blueprint-rules.yml",
        renderer.render(&RulesView {
            backup_stale_after: (model.host.backups.as_ref())
                .map_or(0, super::backups::stale_after_seconds),
            certificates: tls_metrics(model),
            offsite: (model.host.backups.as_ref()).is_some_and(|b| b.offsite.is_some()),
        }),
        Fate::root(0o644)
            .validated_by(Validator::PromtoolRules)
            .then(restart()),
    );
    let view = PrometheusView {
        host: &model.host.name,
        targets,
    };
    bundle.add_host_file(
        "/etc/prometheus/prometheus.yml",
        renderer.render(&view),
        Fate::root(0o644)
            .validated_by(Validator::PromtoolConfig)
            .then(restart()),
    );
    // Debian's units read ARGS from these; the packages' own files say nothing else we keep.
    for (unit, args) in [
        (UNITS[0], "--web.listen-address=127.0.0.1:9090"),
        (
            UNITS[1],
            // The textfile directory holds blueprint-backup's metrics: root's, read-only to the
            // exporter (the package's own directory belongs to the prometheus user).
            &[
                "--web.listen-address=127.0.0.1:9100 --collector.systemd --collector.textfile.directory=",
                layout::METRICS_ROOT,
            ]
            .concat(),
        ),
    ] {
        let text = [
            "# ",
            super::HEADER,
            "\n# Listens on 127.0.0.1 only: reach it through `ssh -L`.\nARGS=\"",
            args,
            "\"\n",
        ]
        .concat();
        bundle.add_host_file(
            &["/etc/default/", unit].concat(),
            text,
            Fate::root(0o644).then(Action::RestartUnit(unit.to_owned())),
        );
    }
    if tls_metrics(model) {
        render_tls_metrics(renderer, model, bundle);
    }
}

/// `blueprint-tls-metrics`, its service and its hourly timer.
fn render_tls_metrics(renderer: &Renderer, model: &Model, bundle: &mut Bundle) {
    let script = TlsMetricsScriptView {
        tls_root: layout::TLS_ROOT,
        metrics_root: layout::METRICS_ROOT,
        sites: (model.sites.iter())
            .filter(|site| site.tls.https())
            .map(|site| site.name.as_str())
            .collect(),
    };
    bundle.add_host_file(
        layout::TLS_METRICS_COMMAND,
        renderer.render(&script),
        Fate::root(0o755),
    );
    let unit = TlsMetricsUnitView {
        unit: TLS_METRICS_UNIT,
        command: layout::TLS_METRICS_COMMAND,
        metrics_root: layout::METRICS_ROOT,
    };
    bundle.add_host_file(
        &["/etc/systemd/system/", TLS_METRICS_UNIT, ".service"].concat(),
        renderer.render(&unit),
        Fate::root(0o644).then(Action::DaemonReload),
    );
    let timer_unit = TLS_METRICS_TIMER.to_owned();
    let timer = super::systemd::TimerView {
        what: "blueprint-tls-metrics (certificate expiry for Prometheus)".to_owned(),
        description: "blueprint: certificate expiry metrics timer".to_owned(),
        unit: TLS_METRICS_UNIT,
        schedule: "hourly",
    };
    bundle.add_host_file(
        &["/etc/systemd/system/", &timer_unit].concat(),
        renderer.render(&timer),
        Fate::root(0o644).then(Action::RestartUnit(timer_unit.clone())),
    );
}
