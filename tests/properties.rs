//! Property tests (proptest) over generated configs:
//!
//! - every accepted config renders shell files that `bash -n` accepts, a `plan.sh` that bash
//!   sources back to exactly the configured values, unit files whose `Environment=` and
//!   `ExecStart=` lines unescape to exactly the configured strings, and nginx sites whose quoted
//!   header values round-trip;
//! - a hostile string in any free-text field is either rejected with a positioned diagnostic or
//!   comes out escaped: the parsed structure of every unit file, nginx site and `plan.sh` is the
//!   one of the same config with a benign value;
//! - load → resolve → render never panics on arbitrary bytes or mutated seed configs.
//!
//! Cases per property: 64, or `PROPTEST_CASES`. Bash is required when `CI=true`.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::process::Command;
use std::sync::OnceLock;

use blueprint::bundle::Bundle;
use blueprint::diagnostic::Report;
use blueprint::render::{render_with, Renderer};
use blueprint::source::SourceFile;
use proptest::prelude::*;
use proptest::sample::select;
use proptest::test_runner::{Config, TestCaseError};

use crate::support::root;

// ---------------------------------------------------------------------------------------------
// Running the pipeline

fn renderer() -> &'static Renderer {
    static RENDERER: OnceLock<Renderer> = OnceLock::new();
    RENDERER.get_or_init(Renderer::new)
}

fn config() -> Config {
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|c| c.parse().ok())
        .unwrap_or(64);
    Config {
        cases,
        failure_persistence: None,
        ..Config::default()
    }
}

/// load → resolve → render of `text`, as if it were the file `tests/fixtures/prop.toml`.
fn compile_text(text: &str) -> Result<Bundle, Report> {
    let source = SourceFile::new(root().join("tests/fixtures/prop.toml"), text);
    let raw = blueprint::load::parse(&source)?;
    let model = blueprint::resolve::resolve(&raw, &source)?;
    Ok(render_with(renderer(), &model))
}

/// The bash to run, or `None` (test skipped) when there is none outside CI.
fn bash() -> Option<&'static str> {
    static FOUND: OnceLock<bool> = OnceLock::new();
    let found = *FOUND.get_or_init(|| {
        Command::new("bash")
            .arg("-c")
            .arg("true")
            .status()
            .is_ok_and(|s| s.success())
    });
    if !found && std::env::var("CI").is_ok_and(|v| v == "true") {
        panic!("bash is required in CI");
    }
    found.then_some("bash")
}

// ---------------------------------------------------------------------------------------------
// Generated configs

#[derive(Debug, Clone)]
struct Cfg {
    host_name: String,
    os: &'static str,
    acme_email: Option<String>,
    deploy_user: Option<String>,
    ssh_port: Option<u16>,
    flags: [Option<bool>; 4],
    sites: Vec<SiteCfg>,
}

#[derive(Debug, Clone)]
enum TlsCfg {
    Default,
    Acme,
    Off,
    Files(String, String),
}

#[derive(Debug, Clone)]
struct SiteCfg {
    name: String,
    domains: Vec<String>,
    slot: u16,
    tls: TlsCfg,
    cloudflare: bool,
    database: Option<&'static str>,
    env: Vec<(String, String)>,
    secrets: Vec<String>,
    generated: Vec<String>,
    static_dir: Option<String>,
    body_size: Option<String>,
    headers: Vec<(String, String)>,
    services: Vec<SvcCfg>,
}

#[derive(Debug, Clone)]
enum Run {
    Line(String),
    Argv(Vec<String>),
}

#[derive(Debug, Clone)]
struct SvcCfg {
    name: String,
    run: Run,
    route: Option<String>,
    port: Option<u16>,
    rate: Option<(String, Option<u32>)>,
    enabled: Option<bool>,
    health: Option<String>,
    runtime: Option<&'static str>,
    memory_max: Option<String>,
    cpu_quota: Option<String>,
    tasks_max: Option<u32>,
}

/// A TOML string literal.
fn lit(s: &str) -> String {
    toml::Value::String(s.to_owned()).to_string()
}

/// A TOML key: bare when possible, quoted otherwise.
fn key(s: &str) -> String {
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
    fn to_toml(&self) -> String {
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
    fn deploy(&self) -> &str {
        self.deploy_user.as_deref().unwrap_or("deploy")
    }
}

/// Pieces of hostile text: quoting, command substitution, directive and unit syntax, specifiers,
/// control characters, unicode (including line/paragraph separators and bidi overrides).
const PIECES: &[&str] = &[
    "'",
    "\"",
    "\\",
    "$(",
    ")",
    "`",
    ";",
    "{",
    "}",
    "#",
    "%",
    "%n",
    "%h",
    "$$",
    "${HOME}",
    "$HOME",
    " ",
    "  ",
    "\t",
    "\n",
    "\r",
    "\0",
    "\u{7f}",
    "é",
    "✓",
    "日本",
    "\u{2028}",
    "\u{feff}",
    "\u{202e}",
    "Environment=X=1",
    "\nExecStartPre=/bin/sh",
    "[Service]",
    "return 200;",
    "*",
    "~",
    "-",
    "=",
    "@",
    "plain",
    "a b",
    "\\\"",
    "'\\''",
    "&&",
    "|",
    ">",
    "<",
    "!",
    "..",
    "/",
    "//",
    ":",
    "\\n",
    "\\x41",
    "\\;",
    " ; ",
    "$",
    "include /etc/passwd;",
    "}\nserver {",
];

/// Any hostile string (possibly empty, possibly with control characters).
fn hostile() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => proptest::collection::vec(select(PIECES), 1..6).prop_map(|p| p.concat()),
        1 => "\\PC{0,16}",
        1 => Just(String::new()),
    ]
}

/// A hostile string without control characters (what free-text fields accept).
fn printable() -> impl Strategy<Value = String> {
    hostile().prop_map(|s| s.chars().filter(|c| !c.is_control()).collect())
}

/// A printable hostile string that is non-empty (a run argument).
fn printable_nonempty() -> impl Strategy<Value = String> {
    printable().prop_map(|s| if s.is_empty() { "x".to_owned() } else { s })
}

fn header_value() -> impl Strategy<Value = String> {
    printable().prop_map(|s| {
        s.chars()
            .filter(|c| !matches!(c, '$' | '"' | '\\'))
            .collect()
    })
}

const SYSTEM_PORTS: &[u16] = &[5432, 6379, 11211];

fn block_start(slot: u16) -> u16 {
    3100 + (slot - 1) * 10
}

fn site_name(base: String, i: usize) -> String {
    let name = format!("{base}_{i}");
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
                let mut line = format!("/usr/bin/{exe}");
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
                    if matches!(n.as_str(), "HOST" | "PORT" | "DATABASE_URL") {
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

fn cfg_strategy() -> impl Strategy<Value = Cfg> {
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

// ---------------------------------------------------------------------------------------------
// Parsers for the output languages

/// systemd unit: `(section, key, value)` per assignment, with continuation lines joined.
/// Lines that are neither comments, sections nor assignments come out as key `<garbage>`.
fn parse_unit(text: &str) -> Vec<(String, String, String)> {
    let mut out = Vec::new();
    let mut section = String::new();
    let mut lines = text.lines();
    while let Some(line) = lines.next() {
        let mut line = line.to_owned();
        while line.ends_with('\\') {
            line.pop();
            line.push(' ');
            match lines.next() {
                Some(next) => line.push_str(next),
                None => break,
            }
        }
        let t = line.trim_matches(|c| matches!(c, ' ' | '\t'));
        if t.is_empty() || t.starts_with('#') || t.starts_with(';') {
            continue;
        }
        if t.starts_with('[') && t.ends_with(']') {
            section = t[1..t.len() - 1].to_owned();
            continue;
        }
        match t.split_once('=') {
            Some((k, v)) => out.push((section.clone(), k.trim().to_owned(), v.trim().to_owned())),
            None => out.push((section.clone(), "<garbage>".to_owned(), t.to_owned())),
        }
    }
    out
}

/// systemd specifier expansion, accepting only `%%` (any other specifier would change the value).
fn systemd_specifiers(value: &str) -> Result<String, String> {
    let mut out = String::new();
    let mut chars = value.chars();
    while let Some(c) = chars.next() {
        if c == '%' {
            match chars.next() {
                Some('%') => out.push('%'),
                other => return Err(format!("unescaped specifier %{other:?} in {value:?}")),
            }
        } else {
            out.push(c);
        }
    }
    Ok(out)
}

/// systemd's word splitting with unquoting and C unescaping (`extract_first_word` with
/// `EXTRACT_UNQUOTE | EXTRACT_CUNESCAPE`).
fn systemd_words(value: &str) -> Result<Vec<String>, String> {
    Ok(systemd_words_quoted(value)?
        .into_iter()
        .map(|(w, _)| w)
        .collect())
}

/// Like [`systemd_words`], with whether each word used quotes or escapes.
fn systemd_words_quoted(value: &str) -> Result<Vec<(String, bool)>, String> {
    let ws = |c: char| matches!(c, ' ' | '\t' | '\n' | '\r');
    let mut words = Vec::new();
    let mut chars = value.chars().peekable();
    loop {
        while chars.peek().is_some_and(|c| ws(*c)) {
            chars.next();
        }
        if chars.peek().is_none() {
            return Ok(words);
        }
        let mut word = String::new();
        let mut quote: Option<char> = None;
        let mut quoted = false;
        while let Some(c) = chars.next() {
            match (quote, c) {
                (_, '\\') => {
                    quoted = true;
                    let e = chars.next().ok_or("trailing backslash")?;
                    word.push(match e {
                        'n' => '\n',
                        't' => '\t',
                        'r' => '\r',
                        'a' => '\u{7}',
                        'b' => '\u{8}',
                        'f' => '\u{c}',
                        'v' => '\u{b}',
                        's' => ' ',
                        '\\' | '"' | '\'' => e,
                        other => return Err(format!("unexpected escape \\{other}")),
                    });
                }
                (None, q @ ('"' | '\'')) => {
                    quote = Some(q);
                    quoted = true;
                }
                (Some(q), c) if c == q => quote = None,
                (None, c) if ws(c) => break,
                (_, c) => word.push(c),
            }
        }
        if quote.is_some() {
            return Err(format!("unterminated quote in {value:?}"));
        }
        words.push((word, quoted));
    }
}

/// `ExecStart=` argument: `$$` is a literal `$`; any other `$NAME`/`${NAME}` would be expanded.
fn systemd_dollars(word: &str) -> Result<String, String> {
    let mut out = String::new();
    let mut chars = word.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '$' {
            match chars.peek() {
                Some('$') => {
                    chars.next();
                    out.push('$');
                }
                Some(n) if n.is_ascii_alphanumeric() || *n == '_' || *n == '{' => {
                    return Err(format!("variable expansion in {word:?}"))
                }
                _ => out.push('$'),
            }
        } else {
            out.push(c);
        }
    }
    Ok(out)
}

/// The `KEY=value` assignments of every `Environment=` line of a unit.
fn unit_environment(unit: &[(String, String, String)]) -> Result<BTreeMap<String, String>, String> {
    let mut env = BTreeMap::new();
    for (_, _, v) in unit
        .iter()
        .filter(|(s, k, _)| s == "Service" && k == "Environment")
    {
        for word in systemd_words(&systemd_specifiers(v)?)? {
            let (name, value) = word.split_once('=').ok_or("assignment without `=`")?;
            if env.insert(name.to_owned(), value.to_owned()).is_some() {
                return Err(format!("`{name}` assigned twice"));
            }
        }
    }
    Ok(env)
}

/// The argv of the unit's `ExecStart=`.
fn unit_argv(unit: &[(String, String, String)]) -> Result<Vec<String>, String> {
    let lines: Vec<_> = unit.iter().filter(|(_, k, _)| k == "ExecStart").collect();
    if lines.len() != 1 {
        return Err(format!("{} ExecStart= lines", lines.len()));
    }
    let words = systemd_words_quoted(&systemd_specifiers(&lines[0].2)?)?;
    // An unquoted lone `;` would start a second command line.
    if words.iter().any(|(w, quoted)| w == ";" && !quoted) {
        return Err("unquoted `;` in ExecStart=".to_owned());
    }
    words.iter().map(|(w, _)| systemd_dollars(w)).collect()
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Tok {
    Word(String),
    Open,
    Close,
    Semi,
}

/// nginx configuration tokens, with quotes removed and escapes resolved.
fn nginx_tokens(text: &str) -> Result<Vec<Tok>, String> {
    let mut toks = Vec::new();
    let mut chars = text.chars().peekable();
    while let Some(&c) = chars.peek() {
        match c {
            c if c.is_ascii_whitespace() => {
                chars.next();
            }
            '#' => while chars.next().is_some_and(|c| c != '\n') {},
            '{' | '}' | ';' => {
                chars.next();
                toks.push(match c {
                    '{' => Tok::Open,
                    '}' => Tok::Close,
                    _ => Tok::Semi,
                });
            }
            '"' | '\'' => {
                chars.next();
                let mut word = String::new();
                loop {
                    match chars.next() {
                        None => return Err("unterminated quoted string".to_owned()),
                        Some(q) if q == c => break,
                        Some('\\') => match chars.next() {
                            Some(e @ ('"' | '\'' | '\\')) => word.push(e),
                            Some('n') => word.push('\n'),
                            Some('t') => word.push('\t'),
                            Some('r') => word.push('\r'),
                            Some(e) => {
                                word.push('\\');
                                word.push(e);
                            }
                            None => return Err("unterminated escape".to_owned()),
                        },
                        Some(x) => word.push(x),
                    }
                }
                toks.push(Tok::Word(word));
            }
            _ => {
                let mut word = String::new();
                while let Some(&x) = chars.peek() {
                    if x.is_ascii_whitespace() || matches!(x, '{' | '}' | ';' | '"' | '\'') {
                        break;
                    }
                    chars.next();
                    if x == '\\' {
                        if let Some(e) = chars.next() {
                            word.push(e);
                        }
                    } else {
                        word.push(x);
                    }
                }
                toks.push(Tok::Word(word));
            }
        }
    }
    Ok(toks)
}

/// One directive: its block depth, name and arguments.
type Directive = (usize, String, Vec<String>);

/// The directives of an nginx file, in order; errors on unbalanced blocks or a dangling directive.
fn nginx_directives(text: &str) -> Result<Vec<Directive>, String> {
    let mut out = Vec::new();
    let mut depth = 0usize;
    let mut current: Vec<String> = Vec::new();
    for tok in nginx_tokens(text)? {
        match tok {
            Tok::Word(w) => current.push(w),
            Tok::Semi | Tok::Open => {
                if current.is_empty() {
                    return Err("empty directive".to_owned());
                }
                let name = current.remove(0);
                out.push((depth, name, std::mem::take(&mut current)));
                if tok == Tok::Open {
                    depth += 1;
                }
            }
            Tok::Close => {
                if !current.is_empty() {
                    return Err(format!("directive {current:?} without `;`"));
                }
                depth = depth.checked_sub(1).ok_or("unbalanced `}`")?;
            }
        }
    }
    if depth != 0 || !current.is_empty() {
        return Err("unterminated block or directive".to_owned());
    }
    Ok(out)
}

/// The shape of the bundle: every file's path, plus its parsed structure (directive names or
/// unit keys) for the languages whose syntax a value could break out of.
fn structure(bundle: &Bundle) -> Result<BTreeMap<String, Vec<String>>, String> {
    let mut out = BTreeMap::new();
    for (path, file) in &bundle.files {
        let shape = if path.ends_with(".service") {
            parse_unit(file.contents())
                .into_iter()
                .map(|(s, k, _)| format!("{s}/{k}"))
                .collect()
        } else if path.starts_with("files/etc/nginx/") {
            nginx_directives(file.contents())
                .map_err(|e| format!("{path}: {e}"))?
                .into_iter()
                .map(|(d, n, args)| format!("{d}:{n}/{}", args.len()))
                .collect()
        } else {
            Vec::new()
        };
        out.insert(path.clone(), shape);
    }
    Ok(out)
}

// ---------------------------------------------------------------------------------------------
// Checks of an accepted config's output

fn fail(msg: impl Into<String>) -> TestCaseError {
    TestCaseError::fail(msg.into())
}

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
            want.insert("HOST".into(), "127.0.0.1".into());
            let port = env.get("PORT").cloned().unwrap_or_default();
            want.insert("PORT".into(), port);
            prop_assert_eq!(env, want, "{}", path);
            let argv = unit_argv(&unit).map_err(|e| fail(format!("{path}: {e}")))?;
            let want_argv: Vec<String> = match &svc.run {
                Run::Line(l) => l.split_ascii_whitespace().map(str::to_owned).collect(),
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
    for site in &cfg.sites {
        let path = format!("files/etc/nginx/sites-available/{}.conf", site.name);
        let file = bundle
            .files
            .get(&path)
            .ok_or_else(|| fail(format!("no {path}")))?;
        let directives = nginx_directives(file.contents()).map_err(fail)?;
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

fn check_accepted(cfg: &Cfg, bundle: &Bundle) -> Result<(), TestCaseError> {
    check_shell(cfg, bundle)?;
    check_units(cfg, bundle)?;
    check_nginx(cfg, bundle)?;
    structure(bundle).map_err(fail)?;
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Hostile fields

#[derive(Debug, Clone, Copy)]
enum Field {
    EnvValue,
    EnvKey,
    RunArg,
    RunExe,
    RunExeUnder,
    RunLine,
    HeaderValue,
    HeaderName,
    Domain,
    Route,
    Health,
    Static,
    TlsCert,
    BodySize,
    Email,
    HostName,
    DeployUser,
    SiteName,
    ServiceName,
    Secret,
    Rate,
    MemoryMax,
}

const FIELDS: &[Field] = &[
    Field::EnvValue,
    Field::EnvKey,
    Field::RunArg,
    Field::RunExe,
    Field::RunExeUnder,
    Field::RunLine,
    Field::HeaderValue,
    Field::HeaderName,
    Field::Domain,
    Field::Route,
    Field::Health,
    Field::Static,
    Field::TlsCert,
    Field::BodySize,
    Field::Email,
    Field::HostName,
    Field::DeployUser,
    Field::SiteName,
    Field::ServiceName,
    Field::Secret,
    Field::Rate,
    Field::MemoryMax,
];

/// The fields where a hostile value may be accepted (drawn more often).
const FREE_TEXT: &[Field] = &[
    Field::EnvValue,
    Field::RunArg,
    Field::RunExe,
    Field::RunExeUnder,
    Field::HeaderValue,
];

impl Field {
    /// Free-text fields: a hostile value may be accepted, and must then be escaped.
    fn free_text(self) -> bool {
        matches!(
            self,
            Field::EnvValue
                | Field::RunArg
                | Field::RunExe
                | Field::RunExeUnder
                | Field::HeaderValue
        )
    }
}

/// Puts `value` into `field` of the first site (and its first service). `None` when the config
/// has no such place.
fn place(cfg: &Cfg, field: Field, value: &str) -> Option<Cfg> {
    let mut cfg = cfg.clone();
    let site = &mut cfg.sites[0];
    let v = value.to_owned();
    match field {
        Field::EnvValue => site.env.push(("HOSTILE".into(), v)),
        Field::EnvKey => site.env.push((v, "x".into())),
        Field::Secret => site.secrets.push(v),
        Field::HeaderValue => site.headers.push(("X-Hostile".into(), v)),
        Field::HeaderName => site.headers.push((v, "x".into())),
        Field::Domain => site.domains.push(v),
        Field::Static => site.static_dir = Some(v),
        Field::TlsCert => site.tls = TlsCfg::Files(v, "/etc/ssl/k.pem".into()),
        Field::BodySize => site.body_size = Some(v),
        Field::Email => cfg.acme_email = Some(v),
        Field::HostName => cfg.host_name = v,
        Field::DeployUser => cfg.deploy_user = Some(v),
        Field::SiteName => site.name = v,
        Field::RunArg
        | Field::RunExe
        | Field::RunExeUnder
        | Field::RunLine
        | Field::Route
        | Field::Health
        | Field::ServiceName
        | Field::Rate
        | Field::MemoryMax => {
            let svc = site.services.first_mut()?;
            match field {
                Field::RunArg => {
                    let mut argv = match &svc.run {
                        Run::Line(l) => l.split_ascii_whitespace().map(str::to_owned).collect(),
                        Run::Argv(a) => a.clone(),
                    };
                    argv.push(v);
                    svc.run = Run::Argv(argv);
                }
                Field::RunExe | Field::RunExeUnder => {
                    let exe = match field {
                        Field::RunExe => v,
                        _ => format!("/opt/app/{v}"),
                    };
                    svc.run = Run::Argv(vec![exe, "arg".into()]);
                    svc.runtime = Some("native");
                }
                Field::RunLine => svc.run = Run::Line(format!("/usr/bin/app {v}")),
                Field::Route => svc.route = Some(v),
                Field::Health => {
                    svc.route.get_or_insert_with(|| "/9/".into());
                    svc.health = Some(v);
                }
                Field::ServiceName => svc.name = v,
                Field::Rate => svc.rate = Some((v, None)),
                Field::MemoryMax => svc.memory_max = Some(v),
                _ => unreachable!(),
            }
        }
    }
    Some(cfg)
}

/// The benign stand-in for a hostile free-text `value` (same emptiness, plain characters).
fn benign(field: Field, value: &str) -> String {
    match field {
        Field::RunExe => "/opt/app/benign".to_owned(),
        Field::RunExeUnder => "benign".to_owned(),
        Field::RunLine => "benign".to_owned(),
        _ if value.is_empty() => String::new(),
        _ => "benign".to_owned(),
    }
}

/// Where the TOML text holds `value` (as literal or key), for checking diagnostic positions.
fn occurrences(text: &str, value: &str) -> Vec<std::ops::Range<usize>> {
    let mut out = Vec::new();
    for needle in [lit(value), key(value)] {
        let mut from = 0;
        while let Some(i) = text[from..].find(&needle) {
            out.push(from + i..from + i + needle.len());
            from += i + 1;
        }
    }
    out
}

// ---------------------------------------------------------------------------------------------
// The properties

proptest! {
    #![proptest_config(config())]

    /// Every generated valid config is accepted, and its output passes every parser.
    #[test]
    fn accepted_configs_render_to_parseable_output(cfg in cfg_strategy()) {
        let text = cfg.to_toml();
        let bundle = compile_text(&text)
            .map_err(|report| fail(format!("rejected:\n{report}\n---\n{text}")))?;
        check_accepted(&cfg, &bundle)?;
    }

    /// A hostile string in any field is rejected at its position, or escaped so that the output
    /// has exactly the structure it has with a benign value, and the value round-trips.
    #[test]
    fn hostile_strings_are_rejected_or_escaped(
        cfg in cfg_strategy(),
        field in prop_oneof![2 => select(FREE_TEXT), 3 => select(FIELDS)],
        value in hostile(),
    ) {
        let Some(hostile_cfg) = place(&cfg, field, &value) else {
            return Ok(());
        };
        let text = hostile_cfg.to_toml();
        match compile_text(&text) {
            Err(report) => {
                let diags = report.diagnostics();
                prop_assert!(!diags.is_empty());
                prop_assert!(
                    diags.iter().all(|d| d.span.is_some()),
                    "unpositioned diagnostic:\n{}", report
                );
                let placed = match field {
                    Field::RunLine => format!("/usr/bin/app {value}"),
                    Field::RunExeUnder => format!("/opt/app/{value}"),
                    _ => value.clone(),
                };
                let places = occurrences(&text, &placed);
                let at_value = diags.iter().filter_map(|d| d.span.clone()).any(|s| {
                    places.iter().any(|p| s.start < p.end.max(p.start + 1) && p.start < s.end.max(s.start + 1))
                });
                prop_assert!(at_value, "no diagnostic at {:?}:\n{}\n---\n{}", value, report, text);
            }
            Ok(bundle) => {
                check_accepted(&hostile_cfg, &bundle)?;
                if field.free_text() {
                    let benign_cfg = place(&cfg, field, &benign(field, &value)).expect("same place");
                    let benign_bundle = compile_text(&benign_cfg.to_toml())
                        .map_err(|r| fail(format!("benign stand-in rejected:\n{r}")))?;
                    let got = structure(&bundle).map_err(fail)?;
                    let want = structure(&benign_bundle).map_err(fail)?;
                    prop_assert_eq!(got, want, "structure changed by {:?} in {:?}", value, field);
                }
            }
        }
    }

    /// Arbitrary bytes never panic any stage, and a rejection is positioned and terminal-safe.
    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        let text = String::from_utf8_lossy(&bytes);
        if let Err(report) = compile_text(&text) {
            check_rejection(&report)?;
        }
    }

    /// Seed configs with random edits (TOML-ish text) never panic, and every rejection is
    /// positioned and terminal-safe.
    #[test]
    fn mutated_seeds_never_panic(
        seed in select(seeds()),
        edits in proptest::collection::vec((any::<prop::sample::Index>(), 0u8..5, select(DICTIONARY)), 1..8),
    ) {
        let mut text = seed.into_bytes();
        for (at, op, piece) in edits {
            let at = at.index(text.len() + 1);
            mutate(&mut text, at, op, piece.as_bytes());
        }
        let text = String::from_utf8_lossy(&text).into_owned();
        if let Err(report) = compile_text(&text) {
            check_rejection(&report)?;
        }
    }
}

/// A rejection as the user reads it: every diagnostic says something and points into the file,
/// and the printed report holds nothing a terminal would act on (escape sequences, carriage
/// returns, bidi overrides, zero-width characters), whatever the input held.
fn check_rejection(report: &Report) -> Result<(), TestCaseError> {
    let text = report.to_string();
    let acts_on = |c: char| {
        c != '\n'
            && (c.is_control()
                || matches!(c, '\u{200b}'..='\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2060}'..='\u{2069}' | '\u{feff}'))
    };
    if let Some(c) = text.chars().find(|&c| acts_on(c)) {
        return Err(fail(format!("the report prints {c:?}: {text:?}")));
    }
    for d in report.diagnostics() {
        if d.span.is_none() || d.message.trim().is_empty() {
            return Err(fail(format!("not positioned or says nothing: {d:?}")));
        }
    }
    Ok(())
}

/// Tokens and values that make TOML-ish edits interesting.
const DICTIONARY: &[&str] = &[
    "[host]\n",
    "[sites.x]\n",
    "[sites.x.services.y]\n",
    "\n",
    "=",
    "\"",
    "'",
    "[",
    "]",
    "{",
    "}",
    ",",
    "#",
    "\\",
    "\\u0000",
    "\\n",
    "0",
    "-1",
    "99999999999999999999",
    "1e400",
    "nan",
    "true",
    "slot = 1000\n",
    "slot = 1001\n",
    "port = 5432\n",
    "port = 3100\n",
    "route = \"/\"\n",
    "static = \"public\"\n",
    "tls = { cert = 1 }\n",
    "tls = \"none\"\n",
    "domains = []\n",
    "run = []\n",
    "run = [1]\n",
    "run = \"\"\n",
    "env = { PORT = \"1\" }\n",
    "$(reboot)",
    "`id`",
    "%n",
    "é",
    "\u{2028}",
    "\u{0}",
    "\u{1b}[2J",
    "\\u001b[31m",
    "\u{202e}",
    "\r",
    "headers = { \"X-A\" = \"$host\" }\n",
    "health = \"/h\"\n",
    "secrets = [\"A\", \"A\"]\n",
    "rate_limit = { rate = \"0r/s\" }\n",
    "admin_keys = [\"~\"]\n",
    "admin_keys = [\"${NOPE}\"]\n",
];

/// The seed corpus: the shipped example, the fixtures and the bad-input corpus.
fn seeds() -> Vec<String> {
    let mut paths = vec![root().join("sites.toml")];
    for dir in ["tests/fixtures", "tests/errors"] {
        paths.extend(
            crate::support::toml_files(dir)
                .into_iter()
                .map(|p| root().join(p)),
        );
    }
    paths
        .iter()
        .map(|p| std::fs::read_to_string(p).expect("seed readable"))
        .collect()
}

/// One edit of `text` at byte `at`: insert, replace, delete a run, duplicate a line, truncate.
fn mutate(text: &mut Vec<u8>, at: usize, op: u8, piece: &[u8]) {
    let at = at.min(text.len());
    match op {
        0 => {
            text.splice(at..at, piece.iter().copied());
        }
        1 => {
            let end = (at + piece.len()).min(text.len());
            text.splice(at..end, piece.iter().copied());
        }
        2 => {
            let end = (at + 1 + piece.len() * 3).min(text.len());
            text.drain(at..end);
        }
        3 => {
            let start = text[..at]
                .iter()
                .rposition(|b| *b == b'\n')
                .map_or(0, |i| i + 1);
            let end = text[at..]
                .iter()
                .position(|b| *b == b'\n')
                .map_or(text.len(), |i| at + i + 1);
            let line = text[start..end].to_vec();
            text.splice(end..end, line);
        }
        _ => text.truncate(at),
    }
}

/// Slots whose block holds a system port (slot 234 holds 5432): defaulted ports must skip it.
#[test]
fn defaulted_ports_skip_system_ports() {
    let mut text = String::from(
        "[host]\nname = \"h\"\nos = \"debian-12\"\n\n[sites.a]\ndomains = [\"a.example.com\"]\nslot = 234\ntls = \"none\"\n",
    );
    for i in 0..4 {
        let _ = write!(text, "\n[sites.a.services.s{i}]\nrun = \"/usr/bin/app\"\n");
    }
    match compile_text(&text) {
        Err(report) => assert!(
            report.diagnostics().iter().all(|d| d.span.is_some()),
            "{report}"
        ),
        Ok(bundle) => {
            let plan = &bundle.files["plan.sh"].contents();
            let ports_line = plan
                .lines()
                .find(|l| l.starts_with("declare -A BP_UNIT_PORT="))
                .expect("port line");
            assert!(
                !ports_line.contains("=5432 "),
                "a service got PostgreSQL's port: {ports_line}"
            );
        }
    }
}

#[test]
fn parsers_see_through_escapes() {
    // The helpers above are themselves tested on known lines.
    assert_eq!(
        systemd_words(&systemd_specifiers(r#""A=it's \"q\" 100%%" "B=\\""#).unwrap()).unwrap(),
        ["A=it's \"q\" 100%", "B=\\"]
    );
    assert!(systemd_specifiers("100%").is_err());
    assert_eq!(systemd_dollars("$$HOME").unwrap(), "$HOME");
    assert!(systemd_dollars("$HOME").is_err());
    let d = nginx_directives("a \"b;c\" 'd}'; x { y \"\\\"\"; }").unwrap();
    assert_eq!(
        d,
        [
            (0, "a".to_owned(), vec!["b;c".to_owned(), "d}".to_owned()]),
            (0, "x".to_owned(), vec![]),
            (1, "y".to_owned(), vec!["\"".to_owned()]),
        ]
    );
    assert!(nginx_directives("a \"b;").is_err());
    assert_eq!(
        parse_unit("[S]\n# c\nA=1\nB=x \\\n y\n"),
        [
            ("S".to_owned(), "A".to_owned(), "1".to_owned()),
            ("S".to_owned(), "B".to_owned(), "x   y".to_owned()),
        ]
    );
}
