//! The bad-input corpus: every file in `tests/errors/` must fail with exactly the pinned
//! diagnostics (message, file:line:col, caret, help), never a panic.

use crate::support::{snapshot_settings, stem, toml_files};

#[test]
fn every_bad_input_is_reported_with_positions() {
    let files = toml_files("tests/errors");
    assert!(files.len() >= 5, "the corpus is missing");
    for file in files {
        let report = match blueprint::compile(&file) {
            Ok(_) => panic!("{} was accepted", file.display()),
            Err(report) => report,
        };
        let text = report.to_string();
        for d in report.diagnostics() {
            assert!(
                d.span.is_some() || file.ends_with("syntax.toml"),
                "{}: `{}` has no position",
                file.display(),
                d.message
            );
            assert!(
                d.help.is_some(),
                "{}: `{}` has no hint",
                file.display(),
                d.message
            );
        }
        snapshot_settings()
            .bind(|| insta::assert_snapshot!(format!("errors@{}", stem(&file)), text));
    }
}

#[test]
fn several_errors_are_collected_in_one_run() {
    let report = blueprint::compile(std::path::Path::new("tests/errors/many.toml")).unwrap_err();
    assert!(
        report.diagnostics().len() >= 10,
        "only {} diagnostics",
        report.diagnostics().len()
    );
}

#[test]
fn a_missing_config_is_an_error_not_a_panic() {
    let report =
        blueprint::compile(std::path::Path::new("tests/errors/does-not-exist.toml")).unwrap_err();
    assert!(report
        .to_string()
        .contains("cannot read `tests/errors/does-not-exist.toml`"));
}
