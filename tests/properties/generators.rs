//! proptest strategies for valid configs: names, domains, TLS, env and secrets, headers, services
//! (run lines and argv with hostile arguments, routes, rate limits, resource limits) and unique
//! slots, with explicit ports kept inside each site's block and clear of system ports.

use proptest::prelude::*;
use proptest::sample::select;

use super::config::{Cfg, Run, SiteCfg, SvcCfg, TlsCfg};
use super::hostile::printable;

/// A printable hostile string that is non-empty (a run argument) and names no variable (`run`
/// may only name `$PORT` and `$HOST`).
fn printable_nonempty() -> impl Strategy<Value = String> {
    printable().prop_map(|s| {
        let s: String = s.chars().filter(|c| *c != '$').collect();
        if s.is_empty() {
            "x".to_owned()
        } else {
            s
        }
    })
}

fn header_value() -> impl Strategy<Value = String> {
    printable().prop_map(|s| {
        s.chars()
            .filter(|c| !matches!(c, '$' | '"' | '\\'))
            .collect()
    })
}

pub(super) const SYSTEM_PORTS: &[u16] = &[5432, 6379, 11211];

pub(super) fn block_start(slot: u16) -> u16 {
    3100 + (slot - 1) * 10
}

/// `<base>_<i>` or, for odd `i`, `<base>-<i>`: hyphenated site names round-trip too.
fn site_name(base: String, i: usize) -> String {
    let sep = if i % 2 == 1 { '-' } else { '_' };
    let name = format!("{base}{sep}{i}");
    if name.starts_with("pg_") || name.starts_with("systemd") {
        format!("x{name}")
    } else {
        name
    }
}

#[allow(clippy::too_many_arguments)]
fn service(
    k: usize,
    base: String,
    run: Run,
    route: Option<String>,
    explicit_port: bool,
    rate: Option<(String, Option<u32>)>,
    enabled: Option<bool>,
    health: Option<String>,
    runtime: Option<&'static str>,
    limits: (Option<String>, Option<String>, Option<u32>),
) -> SvcCfg {
    SvcCfg {
        name: format!("{base}{k}"),
        run,
        route: route.map(|r| format!("/{k}{r}")),
        port: explicit_port.then_some(k as u16), // made absolute in `site`
        rate,
        enabled,
        health,
        runtime,
        memory_max: limits.0,
        cpu_quota: limits.1,
        tasks_max: limits.2,
    }
}

fn svc_strategy(k: usize) -> impl Strategy<Value = SvcCfg> {
    let run = prop_oneof![
        (
            "[a-z]{1,8}",
            proptest::collection::vec("[a-zA-Z0-9._=-]{1,8}", 0..3)
        )
            .prop_map(|(exe, args)| {
                // Outside /usr/bin: a random name there is no package's executable.
                let mut line = format!("/opt/bin/{exe}");
                for a in args {
                    line.push(' ');
                    line.push_str(&a);
                }
                Run::Line(line)
            }),
        (
            printable_nonempty(),
            proptest::collection::vec(printable_nonempty(), 0..3)
        )
            .prop_map(|(exe, args)| {
                // An absolute, normalized path whose last segment is hostile.
                let seg: String = exe.replace('/', "_");
                let seg = if seg == "." || seg == ".." {
                    "x".to_owned()
                } else {
                    seg
                };
                let mut argv = vec![format!("/opt/app/{seg}")];
                argv.extend(args);
                Run::Argv(argv)
            }),
    ];
    let limits = (
        proptest::option::of(
            select(&["512M", "1G", "64K", "infinity"][..]).prop_map(str::to_owned),
        ),
        proptest::option::of(select(&["50%", "100%", "250%"][..]).prop_map(str::to_owned)),
        proptest::option::of(1u32..100_000),
    );
    (
        "[a-z][a-z0-9-]{0,6}",
        run,
        proptest::option::of("(/[a-z0-9_~-]{1,6}){0,2}/?"),
        any::<bool>(),
        proptest::option::of((
            select(&["10r/s", "30r/s", "600r/m", "1r/m"][..]).prop_map(str::to_owned),
            proptest::option::of(0u32..200),
        )),
        proptest::option::of(any::<bool>()),
        proptest::option::of("/[a-z0-9_.~-]{0,8}"),
        proptest::option::of(select(&["node", "python", "native", "jvm"][..])),
        limits,
    )
        .prop_map(
            move |(base, run, route, port, rate, enabled, health, runtime, limits)| {
                // Health needs a route; `..`-free by construction (segments start with a digit or
                // contain no dots only when generated so).
                let health = if route.is_some() {
                    health.filter(|h| !h.split('/').any(|s| s == "." || s == ".."))
                } else {
                    None
                };
                service(
                    k, base, run, route, port, rate, enabled, health, runtime, limits,
                )
            },
        )
}

fn site_strategy(i: usize) -> impl Strategy<Value = SiteCfg> {
    let domains =
        proptest::collection::vec(("[a-z0-9]([a-z0-9-]{0,6}[a-z0-9])?", "[a-z]{2,6}"), 1..3);
    let tls = prop_oneof![
        Just(TlsCfg::Default),
        Just(TlsCfg::Acme),
        Just(TlsCfg::Off),
        "[a-z0-9_-]{1,8}".prop_map(|d| TlsCfg::Files(
            format!("/etc/ssl/{d}/fullchain.pem"),
            format!("/etc/ssl/{d}/privkey.pem")
        )),
    ];
    let names = proptest::collection::btree_set("[A-Z_][A-Z0-9_]{0,8}", 0..6);
    let env_values = proptest::collection::vec(printable(), 6);
    let kinds = proptest::collection::vec(0u8..3, 6);
    let headers = (
        proptest::collection::vec(header_value(), 0..3),
        proptest::option::of(header_value()),
    );
    let services = (0usize..4).prop_flat_map(|n| (0..n).map(svc_strategy).collect::<Vec<_>>());
    (
        "[a-z][a-z0-9_]{0,8}",
        domains,
        tls,
        any::<bool>(),
        proptest::option::of(select(&["postgres", "none"][..])),
        (names, env_values, kinds),
        proptest::option::of("[a-z0-9_-]{1,8}(/[a-z0-9_-]{1,8})?"),
        proptest::option::of(select(&["10m", "1g", "512k", "100"][..]).prop_map(str::to_owned)),
        headers,
        services,
    )
        .prop_map(
            move |(
                base,
                domains,
                tls,
                cloudflare,
                database,
                env,
                static_dir,
                body_size,
                headers,
                mut services,
            )| {
                let name = site_name(base, i);
                let domains = domains
                    .into_iter()
                    .enumerate()
                    .map(|(j, (label, tld))| format!("{label}.d{j}s{i}.{tld}"))
                    .collect();
                let (names, values, kinds) = env;
                let (mut vars, mut secrets, mut generated) = (Vec::new(), Vec::new(), Vec::new());
                for ((n, v), kind) in names.into_iter().zip(values).zip(kinds) {
                    if blueprint::model::contract::RESERVED.contains(&n.as_str()) {
                        continue;
                    }
                    match kind {
                        0 => vars.push((n, v)),
                        1 => secrets.push(n),
                        _ => generated.push(n),
                    }
                }
                let (values, frame) = headers;
                let mut headers: Vec<(String, String)> = values
                    .into_iter()
                    .enumerate()
                    .map(|(j, v)| (format!("X-Test-{j}"), v))
                    .collect();
                if let Some(v) = frame {
                    headers.push(("X-Frame-Options".to_owned(), v));
                }
                // Static files own `/`: no service may route there then.
                if static_dir.is_some() {
                    for svc in &mut services {
                        if svc.route.as_deref() == Some("/") {
                            svc.route = Some("/api/".to_owned());
                        }
                    }
                }
                let static_dir = if services.is_empty() {
                    Some(static_dir.unwrap_or_else(|| "public".to_owned()))
                } else {
                    static_dir
                };
                SiteCfg {
                    name,
                    domains,
                    slot: 0, // assigned in `cfg_strategy`
                    tls,
                    cloudflare,
                    database,
                    env: vars,
                    secrets,
                    generated,
                    static_dir,
                    body_size,
                    headers,
                    services,
                }
            },
        )
}

pub(super) fn cfg_strategy() -> impl Strategy<Value = Cfg> {
    let sites = (1usize..4).prop_flat_map(|n| (0..n).map(site_strategy).collect::<Vec<_>>());
    // Every slot, including the three whose block holds a system port (5432, 6379, 11211):
    // defaulted ports must skip those.
    let slots = Just((1u16..=1000).collect::<Vec<_>>()).prop_shuffle();
    (
        "[a-z]([a-z0-9-]{0,10}[a-z0-9])?",
        select(&["debian-12", "ubuntu-24.04"][..]),
        "[a-zA-Z0-9._%+-]{1,12}@[a-z]{1,8}\\.[a-z]{2,4}",
        proptest::option::of(select(&["shipper", "ops_1", "deploy"][..]).prop_map(str::to_owned)),
        // Clear of nginx (80, 443) and of every slot's block (3100–13099), as resolve requires.
        proptest::option::of(prop_oneof![
            1u16..=79,
            81u16..=442,
            444u16..=3099,
            13100u16..=65535
        ]),
        proptest::array::uniform4(proptest::option::of(any::<bool>())),
        sites,
        slots,
    )
        .prop_map(
            |(host_name, os, email, deploy_user, ssh_port, flags, mut sites, slots)| {
                for (site, slot) in sites.iter_mut().zip(slots) {
                    site.slot = slot;
                    for svc in &mut site.services {
                        // Explicit ports stay inside the site's own block, clear of system ports.
                        svc.port = svc
                            .port
                            .map(|k| block_start(slot) + k)
                            .filter(|p| !SYSTEM_PORTS.contains(p));
                    }
                }
                let needs_acme = sites
                    .iter()
                    .any(|s| matches!(s.tls, TlsCfg::Default | TlsCfg::Acme));
                Cfg {
                    host_name,
                    os,
                    acme_email: (needs_acme || ssh_port.is_some_and(|p| p % 2 == 0))
                        .then_some(email),
                    deploy_user,
                    ssh_port,
                    flags,
                    sites,
                }
            },
        )
}
