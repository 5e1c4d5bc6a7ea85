//! Stage 3 (render): `[host] monitoring = "prometheus"`. Debian's own Prometheus and node
//! exporter, told to listen on 127.0.0.1 only (their `/etc/default` files), with a scrape config
//! naming every service's `metrics` and the alerting rules. Both YAML files must pass
//! `promtool` on the host before they go live; either changing restarts Prometheus.

use serde::Serialize;

use super::templates::view_of;
use super::Renderer;
use crate::bundle::fate::{Action, Validator};
use crate::bundle::{Bundle, Fate};
use crate::model::{layout, Model};

/// The units setup.sh keeps enabled and running when monitoring is on.
pub(super) const UNITS: [&str; 2] = ["prometheus", "prometheus-node-exporter"];

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
}
view_of!(RulesView => PrometheusRules);

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
                port: svc.port,
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
}
