//! The template registry: every file of `blueprints/` embedded into the binary at compile time,
//! under a typed id. A unit test proves every id parses.

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
    /// `<site>-<service>.service`.
    SystemdService,
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
}

impl Template {
    /// Every template, for registration and the self-test.
    pub const ALL: [Template; 20] = [
        Template::SetupSh,
        Template::PlanSh,
        Template::PlanMd,
        Template::NginxConf,
        Template::NginxSite,
        Template::NginxAcme,
        Template::NginxProxy,
        Template::NginxCloudflare,
        Template::SystemdService,
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
        }
    }

    /// The registry name.
    pub fn name(self) -> &'static str {
        self.source().0
    }
}
