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
//!
//! The properties and their deterministic companions are here; the pieces they use are split by
//! concern: `config` (the generated config and its TOML), `generators` (strategies), `hostile`
//! (hostile strings and the fields they go into), `parsers` (the output languages), `checks`
//! (of an accepted config's output) and `mutate` (the seed corpus and its edits).

mod checks;
mod config;
mod generators;
mod hostile;
mod mutate;
mod parsers;

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

use crate::support::{in_ci, root};
use checks::check_accepted;
use generators::cfg_strategy;
use hostile::{benign, hostile, occurrences, place, Field, FIELDS, FREE_TEXT};
use mutate::{check_rejection, mutate, seeds, DICTIONARY};
use parsers::{
    nginx_directives, parse_unit, structure, systemd_dollars, systemd_specifiers, systemd_words,
};

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
    if !found && in_ci() {
        panic!("bash is required in CI");
    }
    found.then_some("bash")
}

fn fail(msg: impl Into<String>) -> TestCaseError {
    TestCaseError::fail(msg.into())
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
                    Field::RunLine => format!("/opt/bin/app {value}"),
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

/// Slots whose block holds a system port (slot 234 holds 5432): defaulted ports must skip it.
#[test]
fn defaulted_ports_skip_system_ports() {
    let mut text = String::from(
        "[host]\nname = \"h\"\nos = \"debian-12\"\n\n[sites.a]\ndomains = [\"a.example.com\"]\nslot = 234\ntls = \"none\"\n",
    );
    for i in 0..4 {
        let _ = write!(text, "\n[sites.a.services.s{i}]\nrun = \"/opt/bin/app\"\n");
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
    // The parsers in `parsers` are themselves tested on known lines.
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
