//! `blueprint plan`: what applying the new bundle will do on the host, in words, from comparing
//! it with the bundle already in `out/<host>/`. File differences give the actions (a changed
//! unit file restarts its unit, any nginx file reloads nginx…); the data of both `plan.sh` files
//! ([`super::plan_data`]) gives the per-site changes (ports, domains, TLS, database, secrets).

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use super::plan_data::{self, Var};
use super::Bundle;

/// What changes, as lines of text in a fixed order; empty when there is nothing to do.
pub fn describe(bundle: &Bundle, out_root: &Path) -> Vec<String> {
    let root = out_root.join(&bundle.host);
    let old: BTreeMap<String, String> = super::check::list_files(&root)
        .into_iter()
        .filter_map(|p| Some((p.clone(), std::fs::read_to_string(root.join(&p)).ok()?)))
        .collect();
    let new: BTreeMap<&str, &str> = bundle
        .files
        .iter()
        .map(|(p, f)| (p.as_str(), f.contents()))
        .collect();
    let mut files = Files::default();
    for path in old
        .keys()
        .map(String::as_str)
        .chain(new.keys().copied())
        .collect::<BTreeSet<_>>()
    {
        match (old.get(path).map(String::as_str), new.get(path).copied()) {
            (Some(a), Some(b)) if a == b => {}
            (Some(_), Some(_)) => files.changed.push(path.to_owned()),
            (None, _) => files.added.push(path.to_owned()),
            (_, None) => files.removed.push(path.to_owned()),
        }
    }
    let before = plan_data::parse(old.get("plan.sh").map_or("", String::as_str));
    let after = plan_data::parse(new.get("plan.sh").copied().unwrap_or(""));
    let mut lines = Vec::new();
    if old.is_empty() {
        lines.push(format!(
            "new host `{}`: nothing of it is in {} yet",
            bundle.host,
            root.display()
        ));
    }
    added_removed(&mut lines, "sites", &before, &after, "BP_SITES");
    added_removed(&mut lines, "services", &before, &after, "BP_UNITS");
    if !old.is_empty() {
        // On a new host everything is installed and started; restarts mean nothing there.
        actions(&mut lines, &files, &before, &after);
    }
    per_key(&mut lines, &before, &after);
    secrets(&mut lines, &before, &after);
    files.summary(&mut lines);
    lines
}

#[derive(Default)]
struct Files {
    added: Vec<String>,
    changed: Vec<String>,
    removed: Vec<String>,
}

impl Files {
    fn all(&self) -> impl Iterator<Item = &String> {
        self.added.iter().chain(&self.changed).chain(&self.removed)
    }

    fn any_under(&self, prefix: &str) -> bool {
        self.all().any(|p| p.starts_with(prefix))
    }

    /// `files: nginx 1 changed; systemd 1 added`, host files by kind (the bundle's own PLAN.md
    /// and SHA256SUMS change nothing on the host and are left out).
    fn summary(&self, lines: &mut Vec<String>) {
        let mut counts: BTreeMap<&str, [usize; 3]> = BTreeMap::new();
        for (i, list) in [&self.added, &self.changed, &self.removed]
            .into_iter()
            .enumerate()
        {
            for path in list {
                if let Some(kind) = kind(path) {
                    counts.entry(kind).or_default()[i] += 1;
                }
            }
        }
        let parts: Vec<String> = counts
            .iter()
            .map(|(kind, [a, c, r])| {
                let words: Vec<String> = [(a, "added"), (c, "changed"), (r, "removed")]
                    .iter()
                    .filter(|(n, _)| **n > 0)
                    .map(|(n, w)| format!("{n} {w}"))
                    .collect();
                format!("{kind} {}", words.join(", "))
            })
            .collect();
        if !parts.is_empty() {
            lines.push(format!("files: {}", parts.join("; ")));
        }
    }
}

/// The kind of a bundle file, for the summary; `None` for files that change nothing on the host.
fn kind(path: &str) -> Option<&'static str> {
    const KINDS: [(&str, &str); 11] = [
        ("files/etc/nginx/", "nginx"),
        ("files/etc/systemd/", "systemd"),
        ("files/etc/logrotate.d/", "logrotate"),
        ("files/etc/ssh/", "ssh"),
        ("files/etc/fail2ban/", "fail2ban"),
        ("files/etc/sudoers.d/", "sudoers"),
        ("files/etc/apt/", "apt"),
        ("files/home/", "authorized_keys"),
        ("files/usr/", "deploy tool"),
        ("sql/", "sql"),
        ("files/", "other"),
    ];
    if matches!(path, "PLAN.md" | "SHA256SUMS") {
        return None;
    }
    Some(
        KINDS
            .iter()
            .find(|(prefix, _)| path.starts_with(prefix))
            .map_or("scripts", |(_, kind)| kind),
    )
}

fn list<'a>(vars: &'a BTreeMap<String, Var>, name: &str) -> BTreeSet<&'a str> {
    match vars.get(name) {
        Some(Var::List(items)) => items.iter().map(String::as_str).collect(),
        _ => BTreeSet::new(),
    }
}

fn map<'a>(vars: &'a BTreeMap<String, Var>, name: &str) -> BTreeMap<&'a str, &'a str> {
    match vars.get(name) {
        Some(Var::Map(m)) => m.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect(),
        _ => BTreeMap::new(),
    }
}

fn scalar<'a>(vars: &'a BTreeMap<String, Var>, name: &str) -> Option<&'a str> {
    match vars.get(name) {
        Some(Var::Scalar(s)) => Some(s),
        _ => None,
    }
}

fn added_removed(
    lines: &mut Vec<String>,
    what: &str,
    before: &BTreeMap<String, Var>,
    after: &BTreeMap<String, Var>,
    name: &str,
) {
    let (a, b) = (list(before, name), list(after, name));
    let added: Vec<&str> = b.difference(&a).copied().collect();
    let removed: Vec<&str> = a.difference(&b).copied().collect();
    if !added.is_empty() {
        lines.push(format!("{what} added: {}", added.join(", ")));
    }
    if !removed.is_empty() {
        lines.push(format!(
            "{what} removed (stopped; their data stays): {}",
            removed.join(", ")
        ));
    }
}

/// Restarts and reloads setup.sh will do.
fn actions(
    lines: &mut Vec<String>,
    files: &Files,
    before: &BTreeMap<String, Var>,
    after: &BTreeMap<String, Var>,
) {
    let (was, now) = (
        map(before, "BP_UNIT_ENABLED"),
        map(after, "BP_UNIT_ENABLED"),
    );
    // setup.sh restarts only enabled units; a disabled one just gets its new unit file.
    let (enabled, disabled): (Vec<&str>, Vec<&str>) = files
        .changed
        .iter()
        .filter_map(|p| p.strip_prefix("files/etc/systemd/system/"))
        .partition(|unit| now.get(unit.trim_end_matches(".service")) != Some(&"0"));
    if !enabled.is_empty() {
        lines.push(format!(
            "restart: {} (unit file changed)",
            enabled.join(", ")
        ));
    }
    if !disabled.is_empty() {
        lines.push(format!(
            "update, not started: {} (disabled)",
            disabled.join(", ")
        ));
    }
    for (unit, enabled) in &now {
        if was.get(unit).is_some_and(|w| w != enabled) {
            let verb = if *enabled == "1" {
                "enable and start"
            } else {
                "stop and disable"
            };
            lines.push(format!("{verb}: {unit}.service"));
        }
    }
    if files.any_under("files/etc/nginx/") {
        lines.push("reload: nginx (its configuration changed)".to_owned());
    }
    let ssh_port = (scalar(before, "BP_SSH_PORT"), scalar(after, "BP_SSH_PORT"));
    if files.any_under("files/etc/ssh/") || ssh_port.0.is_some() && ssh_port.0 != ssh_port.1 {
        lines.push("restart: ssh (sshd configuration changed; keep a session open)".to_owned());
    }
    if let (Some(a), Some(b)) = ssh_port {
        if a != b {
            lines.push(format!("ssh port: {a} → {b} (the firewall follows)"));
        }
    }
    if files.any_under("files/etc/fail2ban/") {
        lines.push("restart: fail2ban (its jails changed)".to_owned());
    }
}

/// Per-site and per-service values that changed.
fn per_key(lines: &mut Vec<String>, before: &BTreeMap<String, Var>, after: &BTreeMap<String, Var>) {
    for (name, what) in [
        ("BP_SITE_DOMAINS", "domains"),
        ("BP_SITE_TLS", "tls"),
        ("BP_SITE_TLS_CERT", "tls cert"),
        ("BP_SITE_TLS_KEY", "tls key"),
        ("BP_SITE_DATABASE", "database"),
        ("BP_UNIT_PORT", "port"),
    ] {
        let (was, now) = (map(before, name), map(after, name));
        for (key, value) in &now {
            if let Some(old) = was.get(key).filter(|old| *old != value) {
                let whose = if name.starts_with("BP_UNIT") {
                    "service"
                } else {
                    "site"
                };
                lines.push(format!("{whose} {key}: {what} `{old}` → `{value}`"));
            }
        }
    }
}

/// Secret names that are new: the operator must fill them in on the host.
fn secrets(lines: &mut Vec<String>, before: &BTreeMap<String, Var>, after: &BTreeMap<String, Var>) {
    let (was, now) = (
        map(before, "BP_SITE_SECRETS"),
        map(after, "BP_SITE_SECRETS"),
    );
    for (site, names) in &now {
        let old: BTreeSet<&str> = was
            .get(site)
            .map(|n| n.split(' ').collect())
            .unwrap_or_default();
        let new: Vec<&str> = names
            .split(' ')
            .filter(|n| !n.is_empty() && !old.contains(n))
            .collect();
        if !new.is_empty() {
            lines.push(format!(
                "secrets to fill in: {} in /srv/sites/{site}/shared/.env",
                new.join(", ")
            ));
        }
    }
}
