//! Hostile input: the strings (quoting, substitution, directive and unit syntax, specifiers,
//! control characters, unicode separators and bidi overrides), the fields they are placed in, the
//! benign stand-in a value is compared with, and where a value stands in the TOML text.

use proptest::prelude::*;
use proptest::sample::select;

use super::config::{key, lit, Cfg, Run, TlsCfg};

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
pub(super) fn hostile() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => proptest::collection::vec(select(PIECES), 1..6).prop_map(|p| p.concat()),
        1 => "\\PC{0,16}",
        1 => Just(String::new()),
    ]
}

/// A hostile string without control characters (what free-text fields accept).
pub(super) fn printable() -> impl Strategy<Value = String> {
    hostile().prop_map(|s| s.chars().filter(|c| !c.is_control()).collect())
}

#[derive(Debug, Clone, Copy)]
pub(super) enum Field {
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

pub(super) const FIELDS: &[Field] = &[
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
pub(super) const FREE_TEXT: &[Field] = &[
    Field::EnvValue,
    Field::RunArg,
    Field::RunExe,
    Field::RunExeUnder,
    Field::HeaderValue,
];

impl Field {
    /// Free-text fields: a hostile value may be accepted, and must then be escaped.
    pub(super) fn free_text(self) -> bool {
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
pub(super) fn place(cfg: &Cfg, field: Field, value: &str) -> Option<Cfg> {
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
                        Run::Line(l) => shlex::split(l).unwrap_or_default(),
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
                Field::RunLine => svc.run = Run::Line(format!("/opt/bin/app {v}")),
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
pub(super) fn benign(field: Field, value: &str) -> String {
    match field {
        Field::RunExe => "/opt/app/benign".to_owned(),
        Field::RunExeUnder => "benign".to_owned(),
        Field::RunLine => "benign".to_owned(),
        _ if value.is_empty() => String::new(),
        _ => "benign".to_owned(),
    }
}

/// Where the TOML text holds `value` (as literal or key), for checking diagnostic positions.
pub(super) fn occurrences(text: &str, value: &str) -> Vec<std::ops::Range<usize>> {
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
