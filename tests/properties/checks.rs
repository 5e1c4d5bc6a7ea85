//! Checks of an accepted config's output: `bash -n` on every shell file and `plan.sh` sourced back
//! to the configured values, unit environments and argv unescaped to the configured strings, and
//! nginx sites parsed with their header values round-tripped.

use std::collections::{BTreeMap, BTreeSet};
use std::process::Command;

use blueprint::bundle::Bundle;
use proptest::prelude::*;
use proptest::test_runner::TestCaseError;

use super::config::{Cfg, Run, SiteCfg, TlsCfg};
use super::generators::{block_start, SYSTEM_PORTS};
use super::parsers::{nginx_directives, parse_unit, structure, unit_argv, unit_environment};
use super::{bash, fail};

/// `bash -n` on every shell file, and `plan.sh` sourced back to exactly the configured values.
fn check_shell(cfg: &Cfg, bundle: &Bundle) -> Result<(), TestCaseError> {
    let Some(bash) = bash() else { return Ok(()) };
    let dir = tempfile::tempdir().map_err(|e| fail(e.to_string()))?;
    for (path, file) in bundle.files.iter().filter(|(p, _)| p.ends_with(".sh")) {
        let on_disk = dir.path().join(path.replace('/', "_"));
        std::fs::write(&on_disk, file.contents()).map_err(|e| fail(e.to_string()))?;
        let out = Command::new(bash)
            .arg("-n")
            .arg(&on_disk)
            .output()
            .map_err(|e| fail(e.to_string()))?;
        if !out.status.success() {
            return Err(fail(format!(
                "bash -n {path}: {}\n{}",
                String::from_utf8_lossy(&out.stderr),
                file.contents()
            )));
        }
    }
    let script = r#"source ./plan.sh
printf '%s\0' "$BP_HOST" "$BP_DEPLOY_USER" "$BP_ACME_EMAIL" "$BP_SSH_PORT" "${#BP_SITES[@]}"
for s in "${BP_SITES[@]}"; do
  printf '%s\0' "$s" "${BP_SITE_DOMAINS[$s]}" "${BP_SITE_STATIC[$s]}" "${BP_SITE_TLS_CERT[$s]}" \
    "${BP_SITE_TLS_KEY[$s]}" "${BP_SITE_SECRETS[$s]}" "${BP_SITE_GENERATED[$s]}"
done
for u in "${BP_UNITS[@]}"; do printf '%s\0' "$u" "${BP_UNIT_PORT[$u]}" "${BP_UNIT_HEALTH[$u]}"; done
"#;
    std::fs::write(
        dir.path().join("plan.sh"),
        bundle.files["plan.sh"].contents(),
    )
    .map_err(|e| fail(e.to_string()))?;
    let out = Command::new(bash)
        .args(["--norc", "--noprofile", "-c", script])
        .current_dir(dir.path())
        .output()
        .map_err(|e| fail(e.to_string()))?;
    if !out.status.success() || !out.stderr.is_empty() {
        return Err(fail(format!(
            "sourcing plan.sh: {}",
            String::from_utf8_lossy(&out.stderr)
        )));
    }
    let got: Vec<String> = String::from_utf8_lossy(&out.stdout)
        .split_terminator('\0')
        .map(str::to_owned)
        .collect();

    let mut want = vec![
        cfg.host_name.clone(),
        cfg.deploy().to_owned(),
        cfg.acme_email.clone().unwrap_or_default(),
        cfg.ssh_port.unwrap_or(22).to_string(),
        cfg.sites.len().to_string(),
    ];
    let mut sites: Vec<&SiteCfg> = cfg.sites.iter().collect();
    sites.sort_by(|a, b| a.name.cmp(&b.name));
    for s in &sites {
        let sorted = |v: &[String]| {
            let set: BTreeSet<&String> = v.iter().collect();
            set.into_iter().cloned().collect::<Vec<_>>().join(" ")
        };
        let (cert, key) = match &s.tls {
            TlsCfg::Files(c, k) => (c.clone(), k.clone()),
            _ => (String::new(), String::new()),
        };
        want.extend([
            s.name.clone(),
            s.domains.join(" "),
            s.static_dir.clone().unwrap_or_default(),
            cert,
            key,
            sorted(&s.secrets),
            sorted(&s.generated),
        ]);
    }
    // Units are sorted by unit name; ports are checked separately (assigned by blueprint).
    let mut units: Vec<(String, String)> = Vec::new();
    for s in &sites {
        for svc in &s.services {
            // Disabled services are not probed.
            let health = match svc.enabled {
                Some(false) => String::new(),
                _ => svc.health.clone().unwrap_or_default(),
            };
            units.push((format!("{}-{}", s.name, svc.name), health));
        }
    }
    units.sort();
    let head = want.len();
    prop_assert_eq!(&got[..head.min(got.len())], &want[..], "plan.sh values");
    let rest = &got[head..];
    prop_assert_eq!(rest.len(), units.len() * 3, "plan.sh units");
    let mut ports = BTreeSet::new();
    for (chunk, (unit, health)) in rest.chunks(3).zip(&units) {
        prop_assert_eq!(&chunk[0], unit);
        prop_assert_eq!(&chunk[2], health);
        let port: u16 = chunk[1]
            .parse()
            .map_err(|_| fail(format!("port {:?}", chunk[1])))?;
        prop_assert!(port >= 1024, "port {} of {} is privileged", port, unit);
        prop_assert!(
            !SYSTEM_PORTS.contains(&port),
            "port {} of {} belongs to a system service",
            port,
            unit
        );
        prop_assert!(ports.insert(port), "port {} assigned twice", port);
    }
    Ok(())
}

/// Every unit's environment and argv unescape to exactly the configured strings.
fn check_units(cfg: &Cfg, bundle: &Bundle) -> Result<(), TestCaseError> {
    for site in &cfg.sites {
        for svc in &site.services {
            let path = format!(
                "files/etc/systemd/system/{}-{}.service",
                site.name, svc.name
            );
            let file = bundle
                .files
                .get(&path)
                .ok_or_else(|| fail(format!("no {path}")))?;
            let unit = parse_unit(file.contents());
            prop_assert!(
                unit.iter().all(|(_, k, _)| k != "<garbage>"),
                "{}: a line is not an assignment:\n{}",
                path,
                file.contents()
            );
            let env = unit_environment(&unit).map_err(|e| fail(format!("{path}: {e}")))?;
            let mut want: BTreeMap<String, String> = site.env.iter().cloned().collect();
            let port = env.get("PORT").and_then(|p| p.parse().ok()).unwrap_or(0);
            for (k, v) in blueprint::model::contract::environment(&site.name, port) {
                want.insert(k.into(), v);
            }
            prop_assert_eq!(env, want, "{}", path);
            let argv = unit_argv(&unit).map_err(|e| fail(format!("{path}: {e}")))?;
            let want_argv: Vec<String> = match &svc.run {
                Run::Line(l) => shlex::split(l).unwrap_or_default(),
                Run::Argv(a) => a.clone(),
            };
            prop_assert_eq!(argv, want_argv, "{}", path);
        }
    }
    Ok(())
}

/// Every nginx file parses; each site's configured header values come back exactly.
fn check_nginx(cfg: &Cfg, bundle: &Bundle) -> Result<(), TestCaseError> {
    for (path, file) in bundle
        .files
        .iter()
        .filter(|(p, _)| p.starts_with("files/etc/nginx/"))
    {
        nginx_directives(file.contents())
            .map_err(|e| fail(format!("{path}: {e}\n{}", file.contents())))?;
    }
    let mut upstream_ports = BTreeSet::new();
    for site in &cfg.sites {
        let path = format!("files/etc/nginx/sites-available/{}.conf", site.name);
        let file = bundle
            .files
            .get(&path)
            .ok_or_else(|| fail(format!("no {path}")))?;
        let directives = nginx_directives(file.contents()).map_err(fail)?;
        // Every upstream server port is a port of its own (a standby port is no other
        // service's), and a standby (`backup`) port lies in the site's own block.
        let upstream_servers = directives
            .iter()
            .filter(|(_, n, args)| n == "server" && !args.is_empty());
        for (_, _, args) in upstream_servers {
            let port: u16 = args[0]
                .strip_prefix("127.0.0.1:")
                .and_then(|p| p.parse().ok())
                .ok_or_else(|| fail(format!("{path}: upstream server {args:?}")))?;
            prop_assert!(
                upstream_ports.insert(port),
                "{}: port {} in two upstream servers",
                path,
                port
            );
            if args.iter().any(|a| a == "backup") {
                let block = block_start(site.slot)..block_start(site.slot) + 10;
                prop_assert!(
                    block.contains(&port),
                    "{}: standby port {} outside {:?}",
                    path,
                    port,
                    block
                );
            }
        }
        let mut got: BTreeMap<String, String> = BTreeMap::new();
        for (_, _, args) in directives.iter().filter(|(_, n, _)| n == "add_header") {
            prop_assert_eq!(args.len(), 3, "{}: add_header {:?}", path, args);
            prop_assert!(!args[1].contains('$'), "{}: variable in {:?}", path, args);
            got.insert(args[0].clone(), args[1].clone());
        }
        for (name, value) in &site.headers {
            if value.is_empty() {
                prop_assert!(!got.contains_key(name), "{}: {} not removed", path, name);
            } else {
                prop_assert_eq!(got.get(name), Some(value), "{}: {}", path, name);
            }
        }
    }
    Ok(())
}

pub(super) fn check_accepted(cfg: &Cfg, bundle: &Bundle) -> Result<(), TestCaseError> {
    check_shell(cfg, bundle)?;
    check_units(cfg, bundle)?;
    check_nginx(cfg, bundle)?;
    structure(bundle).map_err(fail)?;
    Ok(())
}
