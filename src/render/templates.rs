//! The template registry: every file of `blueprints/` embedded into the binary at compile time,
//! under a typed id, and the [`View`] trait that binds each template to the one context type it
//! is rendered with. Unit tests prove every id parses and every template has exactly one view.

use serde::Serialize;

/// The context of one template. Each template has exactly one view type, and the view names its
/// template, so [`super::Renderer::render`] takes the view alone: a template cannot receive
/// another template's context.
pub trait View: Serialize {
    /// The template this view fills.
    const TEMPLATE: Template;
}

/// Declares the view of a template that reads nothing but the global `header`.
macro_rules! static_view {
    ($(#[$doc:meta])* $view:ident => $template:ident) => {
        $(#[$doc])*
        #[derive(serde::Serialize)]
        pub(crate) struct $view;
        impl $crate::render::templates::View for $view {
            const TEMPLATE: $crate::render::templates::Template =
                $crate::render::templates::Template::$template;
        }
    };
}
pub(crate) use static_view;

/// Binds a view type to its template.
macro_rules! view_of {
    ($view:ident<'_> => $template:ident) => {
        impl $crate::render::templates::View for $view<'_> {
            const TEMPLATE: $crate::render::templates::Template =
                $crate::render::templates::Template::$template;
        }
    };
    ($view:ident => $template:ident) => {
        impl $crate::render::templates::View for $view {
            const TEMPLATE: $crate::render::templates::Template =
                $crate::render::templates::Template::$template;
        }
    };
}
pub(crate) use view_of;

/// A template of `blueprints/`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Template {
    /// `setup.sh`, the entry point.
    SetupSh,
    /// `plan.sh`, the desired state as bash data.
    PlanSh,
    /// `PLAN.md`.
    PlanMd,
    /// `/etc/nginx/nginx.conf`.
    NginxConf,
    /// `/etc/nginx/sites-available/<site>.conf`.
    NginxSite,
    /// ACME challenge snippet.
    NginxAcme,
    /// Proxy header snippet.
    NginxProxy,
    /// Cloudflare real-IP snippet.
    NginxCloudflare,
    /// `<site>-<service>.service`, and a job's `<site>-<job>.service`.
    SystemdService,
    /// `<site>-<job>.timer`.
    SystemdTimer,
    /// `/etc/logrotate.d/blueprint-<site>`.
    Logrotate,
    /// `sql/<site>.sql`.
    SqlSite,
    /// `sql/host.sql`.
    SqlHost,
    /// sshd drop-in.
    Sshd,
    /// sudoers drop-in for the deploy user.
    Sudoers,
    /// fail2ban jails.
    Fail2ban,
    /// apt periodic settings.
    UnattendedUpgrades,
    /// Deploy user's authorized_keys.
    AuthorizedKeys,
    /// `/usr/local/sbin/blueprint-deploy`, the deploy user's one sudo command.
    DeployScript,
    /// `/etc/blueprint/ports.nft`: each site's ports answer only its own processes.
    PortsRuleset,
    /// `blueprint-ports.service`, which loads it.
    PortsUnit,
    /// `/etc/prometheus/prometheus.yml`.
    PrometheusConfig,
    /// `/etc/prometheus/blueprint-rules.yml`.
    PrometheusRules,
    /// `/usr/local/sbin/blueprint-backup`.
    BackupScript,
    /// `blueprint-backup-<site>.service`.
    BackupUnit,
    /// `blueprint-backup-offsite@.service`: a site's off-host copy.
    BackupOffsiteUnit,
    /// `/usr/local/sbin/blueprint-tls-metrics`.
    TlsMetricsScript,
    /// `blueprint-tls-metrics.service`.
    TlsMetricsUnit,
}

impl Template {
    /// Every template, for registration and the self-test.
    pub const ALL: [Template; 28] = [
        Template::SetupSh,
        Template::PlanSh,
        Template::PlanMd,
        Template::NginxConf,
        Template::NginxSite,
        Template::NginxAcme,
        Template::NginxProxy,
        Template::NginxCloudflare,
        Template::SystemdService,
        Template::SystemdTimer,
        Template::Logrotate,
        Template::SqlSite,
        Template::SqlHost,
        Template::Sshd,
        Template::Sudoers,
        Template::Fail2ban,
        Template::UnattendedUpgrades,
        Template::AuthorizedKeys,
        Template::DeployScript,
        Template::PortsRuleset,
        Template::PortsUnit,
        Template::PrometheusConfig,
        Template::PrometheusRules,
        Template::BackupScript,
        Template::BackupUnit,
        Template::BackupOffsiteUnit,
        Template::TlsMetricsScript,
        Template::TlsMetricsUnit,
    ];

    /// Name (its path under `blueprints/`) and source.
    pub fn source(self) -> (&'static str, &'static str) {
        macro_rules! t {
            ($path:literal) => {
                ($path, include_str!(concat!("../../blueprints/", $path)))
            };
        }
        match self {
            Template::SetupSh => t!("setup/setup.sh.j2"),
            Template::PlanSh => t!("setup/plan.sh.j2"),
            Template::PlanMd => t!("PLAN.md.j2"),
            Template::NginxConf => t!("nginx/nginx.conf.j2"),
            Template::NginxSite => t!("nginx/site.conf.j2"),
            Template::NginxAcme => t!("nginx/acme.conf.j2"),
            Template::NginxProxy => t!("nginx/proxy.conf.j2"),
            Template::NginxCloudflare => t!("nginx/cloudflare.conf.j2"),
            Template::SystemdService => t!("systemd/service.j2"),
            Template::SystemdTimer => t!("systemd/timer.j2"),
            Template::Logrotate => t!("logrotate/site.j2"),
            Template::SqlSite => t!("sql/site.sql.j2"),
            Template::SqlHost => t!("sql/host.sql.j2"),
            Template::Sshd => t!("host/sshd.conf.j2"),
            Template::Sudoers => t!("host/sudoers.j2"),
            Template::Fail2ban => t!("host/fail2ban.conf.j2"),
            Template::UnattendedUpgrades => t!("host/unattended-upgrades.conf.j2"),
            Template::AuthorizedKeys => t!("host/authorized_keys.j2"),
            Template::DeployScript => t!("host/deploy.sh.j2"),
            Template::PortsRuleset => t!("host/ports.nft.j2"),
            Template::PortsUnit => t!("host/ports.service.j2"),
            Template::PrometheusConfig => t!("monitoring/prometheus.yml.j2"),
            Template::PrometheusRules => t!("monitoring/rules.yml.j2"),
            Template::BackupScript => t!("host/backup.sh.j2"),
            Template::BackupUnit => t!("systemd/backup.service.j2"),
            Template::BackupOffsiteUnit => t!("systemd/backup-offsite.service.j2"),
            Template::TlsMetricsScript => t!("monitoring/tls-metrics.sh.j2"),
            Template::TlsMetricsUnit => t!("monitoring/tls-metrics.service.j2"),
        }
    }

    /// The registry name.
    pub fn name(self) -> &'static str {
        self.source().0
    }
}

#[cfg(test)]
mod tests {
    use super::Template;

    /// The templates named by `view_of!`/`static_view!` in the render modules, with repeats.
    fn bound_templates() -> Vec<String> {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/render");
        let mut found = Vec::new();
        for entry in std::fs::read_dir(dir).expect("src/render") {
            let path = entry.expect("entry").path();
            let text = std::fs::read_to_string(&path).expect("readable");
            for binding in text
                .split("view!(")
                .skip(1)
                .chain(text.split("view_of!(").skip(1))
            {
                let Some((_, rest)) = binding.split_once("=> ") else {
                    continue;
                };
                let name: String = rest
                    .chars()
                    .take_while(char::is_ascii_alphanumeric)
                    .collect();
                if name != "$template" && !name.is_empty() {
                    found.push(name);
                }
            }
        }
        found.sort();
        found
    }

    #[test]
    fn every_template_has_exactly_one_view() {
        let mut expected: Vec<String> = Template::ALL.iter().map(|t| format!("{t:?}")).collect();
        expected.sort();
        assert_eq!(bound_templates(), expected);
    }
}
