//! The generated config as data (`Cfg`, its sites and services) and its TOML text: what the
//! strategies in `generators` produce and what every property compiles.

use std::fmt::Write as _;

#[derive(Debug, Clone)]
pub(super) struct Cfg {
    pub(super) host_name: String,
    pub(super) os: &'static str,
    pub(super) acme_email: Option<String>,
    pub(super) deploy_user: Option<String>,
    pub(super) ssh_port: Option<u16>,
    pub(super) flags: [Option<bool>; 4],
    pub(super) sites: Vec<SiteCfg>,
}

#[derive(Debug, Clone)]
pub(super) enum TlsCfg {
    Default,
    Acme,
    Off,
    Files(String, String),
}

#[derive(Debug, Clone)]
pub(super) struct SiteCfg {
    pub(super) name: String,
    pub(super) domains: Vec<String>,
    pub(super) slot: u16,
    pub(super) tls: TlsCfg,
    pub(super) cloudflare: bool,
    pub(super) database: Option<&'static str>,
    pub(super) env: Vec<(String, String)>,
    pub(super) secrets: Vec<String>,
    pub(super) generated: Vec<String>,
    pub(super) static_dir: Option<String>,
    pub(super) body_size: Option<String>,
    pub(super) headers: Vec<(String, String)>,
    pub(super) services: Vec<SvcCfg>,
}

#[derive(Debug, Clone)]
pub(super) enum Run {
    Line(String),
    Argv(Vec<String>),
}

#[derive(Debug, Clone)]
pub(super) struct SvcCfg {
    pub(super) name: String,
    pub(super) run: Run,
    pub(super) route: Option<String>,
    pub(super) port: Option<u16>,
    pub(super) rate: Option<(String, Option<u32>)>,
    pub(super) enabled: Option<bool>,
    pub(super) health: Option<String>,
    pub(super) runtime: Option<&'static str>,
    pub(super) memory_max: Option<String>,
    pub(super) cpu_quota: Option<String>,
    pub(super) tasks_max: Option<u32>,
}

/// A TOML string literal.
pub(super) fn lit(s: &str) -> String {
    toml::Value::String(s.to_owned()).to_string()
}

/// A TOML key: bare when possible, quoted otherwise.
pub(super) fn key(s: &str) -> String {
    let bare = !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    if bare {
        s.to_owned()
    } else {
        lit(s)
    }
}

fn list(items: &[String]) -> String {
    let items: Vec<String> = items.iter().map(|i| lit(i)).collect();
    format!("[{}]", items.join(", "))
}

fn table(items: &[(String, String)]) -> String {
    let items: Vec<String> = items
        .iter()
        .map(|(k, v)| format!("{} = {}", key(k), lit(v)))
        .collect();
    format!("{{ {} }}", items.join(", "))
}

impl Cfg {
    pub(super) fn to_toml(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "[host]\nname = {}\nos = {}",
            lit(&self.host_name),
            lit(self.os)
        );
        // The shipped example's key (relative to tests/fixtures/, where these configs "live").
        out.push_str("admin_keys = [\"../../keys/ops.pub\"]\n");
        if let Some(e) = &self.acme_email {
            let _ = writeln!(out, "acme_email = {}", lit(e));
        }
        if let Some(u) = &self.deploy_user {
            let _ = writeln!(out, "deploy_user = {}", lit(u));
        }
        if let Some(p) = self.ssh_port {
            let _ = writeln!(out, "ssh_port = {p}");
        }
        let names = ["firewall", "fail2ban", "unattended_upgrades", "harden_ssh"];
        for (name, flag) in names.iter().zip(self.flags) {
            if let Some(flag) = flag {
                let _ = writeln!(out, "{name} = {flag}");
            }
        }
        for site in &self.sites {
            let s = key(&site.name);
            let _ = writeln!(out, "\n[sites.{s}]");
            let _ = writeln!(out, "domains = {}", list(&site.domains));
            let _ = writeln!(out, "slot = {}", site.slot);
            match &site.tls {
                TlsCfg::Default => {}
                TlsCfg::Acme => out.push_str("tls = \"acme\"\n"),
                TlsCfg::Off => out.push_str("tls = \"none\"\n"),
                TlsCfg::Files(c, k) => {
                    let _ = writeln!(out, "tls = {{ cert = {}, key = {} }}", lit(c), lit(k));
                }
            }
            if site.cloudflare {
                out.push_str("behind = \"cloudflare\"\n");
            }
            if let Some(db) = site.database {
                let _ = writeln!(out, "database = {}", lit(db));
            }
            if !site.env.is_empty() {
                let _ = writeln!(out, "env = {}", table(&site.env));
            }
            if !site.secrets.is_empty() {
                let _ = writeln!(out, "secrets = {}", list(&site.secrets));
            }
            if !site.generated.is_empty() {
                let _ = writeln!(out, "generated_secrets = {}", list(&site.generated));
            }
            if let Some(d) = &site.static_dir {
                let _ = writeln!(out, "static = {}", lit(d));
            }
            if let Some(b) = &site.body_size {
                let _ = writeln!(out, "client_max_body_size = {}", lit(b));
            }
            if !site.headers.is_empty() {
                let _ = writeln!(out, "headers = {}", table(&site.headers));
            }
            for svc in &site.services {
                let _ = writeln!(out, "\n[sites.{s}.services.{}]", key(&svc.name));
                match &svc.run {
                    Run::Line(line) => {
                        let _ = writeln!(out, "run = {}", lit(line));
                    }
                    Run::Argv(argv) => {
                        let _ = writeln!(out, "run = {}", list(argv));
                    }
                }
                if let Some(r) = &svc.route {
                    let _ = writeln!(out, "route = {}", lit(r));
                }
                if let Some(p) = svc.port {
                    let _ = writeln!(out, "port = {p}");
                }
                if let Some((rate, burst)) = &svc.rate {
                    match burst {
                        Some(b) => {
                            let _ = writeln!(
                                out,
                                "rate_limit = {{ rate = {}, burst = {b} }}",
                                lit(rate)
                            );
                        }
                        None => {
                            let _ = writeln!(out, "rate_limit = {{ rate = {} }}", lit(rate));
                        }
                    }
                }
                if let Some(e) = svc.enabled {
                    let _ = writeln!(out, "enabled = {e}");
                }
                if let Some(h) = &svc.health {
                    let _ = writeln!(out, "health = {}", lit(h));
                }
                if let Some(r) = svc.runtime {
                    let _ = writeln!(out, "runtime = {}", lit(r));
                }
                if let Some(m) = &svc.memory_max {
                    let _ = writeln!(out, "memory_max = {}", lit(m));
                }
                if let Some(c) = &svc.cpu_quota {
                    let _ = writeln!(out, "cpu_quota = {}", lit(c));
                }
                if let Some(t) = svc.tasks_max {
                    let _ = writeln!(out, "tasks_max = {t}");
                }
            }
        }
        out
    }

    /// The deploy user in effect.
    pub(super) fn deploy(&self) -> &str {
        self.deploy_user.as_deref().unwrap_or("deploy")
    }
}
