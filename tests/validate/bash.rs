//! Every shell script of every bundle parses (`bash -n`) and is clean under `shellcheck -x` at
//! its default severity, run from the bundle directory so `# shellcheck source=` paths resolve.

use std::path::Path;
use std::process::Command;

use super::support::{assert_no_failures, bundles, run, tool, Built};

/// The bundle's shell scripts: `.sh` files and installed programs with a bash shebang.
fn scripts(built: &Built) -> Vec<String> {
    built
        .files("", "")
        .into_iter()
        .filter(|rel| {
            rel.ends_with(".sh")
                || std::fs::read_to_string(built.dir.join(rel)).is_ok_and(|t| {
                    t.starts_with("#!/usr/bin/env bash") || t.starts_with("#!/bin/bash")
                })
        })
        .collect()
}

/// `bash -n` on every shell script of `built`, then [`lint`] over all of them.
fn check_scripts(built: &Built, bash: &Path, shellcheck: &Path) -> Vec<String> {
    let scripts = scripts(built);
    let mut failures = Vec::new();
    if scripts.is_empty() {
        failures.push(format!("bundle {}: no .sh files found", built.name));
        return failures;
    }
    for script in &scripts {
        let parsed = run(Command::new(bash)
            .arg("-n")
            .arg(script)
            .current_dir(&built.dir));
        if !parsed.success {
            failures.push(format!(
                "bash -n rejected {script} (bundle {}):\n{}",
                built.name,
                parsed.output()
            ));
        }
    }
    failures.extend(lint(built, &scripts, shellcheck));
    failures
}

/// One `shellcheck -x` run over `scripts`, from the bundle directory so `source=` paths
/// resolve (shellcheck is slow to start; its gcc-style lines name the file of each finding).
fn lint(built: &Built, scripts: &[String], shellcheck: &Path) -> Vec<String> {
    let mut failures = Vec::new();
    let linted = run(Command::new(shellcheck)
        .args(["-x", "--format=gcc"])
        .args(scripts)
        .current_dir(&built.dir));
    for script in scripts {
        let findings: Vec<&str> = linted
            .stdout
            .lines()
            .filter(|l| l.starts_with(&format!("{script}:")))
            .collect();
        if !findings.is_empty() {
            failures.push(format!(
                "shellcheck -x rejected {script} (bundle {}):\n{}",
                built.name,
                findings.join("\n")
            ));
        }
    }
    if !linted.success && failures.is_empty() {
        failures.push(format!(
            "shellcheck -x failed on bundle {} ({}): {}",
            built.name,
            scripts.join(" "),
            linted.output()
        ));
    }
    failures
}

#[test]
fn scripts_pass_bash_n_and_shellcheck() {
    let (Some(bash), Some(shellcheck)) = (tool("bash", "bash"), tool("bash", "shellcheck")) else {
        return;
    };
    let built = bundles();
    let failures: Vec<String> = std::thread::scope(|scope| {
        let handles: Vec<_> = built
            .iter()
            .map(|b| scope.spawn(|| check_scripts(b, &bash, &shellcheck)))
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().expect("no panic"))
            .collect()
    });
    assert_no_failures("bash/shellcheck", &failures);
}

#[test]
fn script_checks_can_fail() {
    let (Some(bash), Some(shellcheck)) = (tool("bash", "bash"), tool("bash", "shellcheck")) else {
        return;
    };
    let example = bundles().into_iter().next().expect("the example bundle");
    // An unterminated `if` is a syntax error.
    let broken = example.mutated("setup.sh", |text| format!("{text}if true; then\n"));
    let failures = check_scripts(&broken, &bash, &shellcheck);
    assert!(
        failures
            .iter()
            .any(|f| f.starts_with("bash -n rejected setup.sh ")),
        "bash -n accepted a script with an unterminated `if`: {failures:?}"
    );
    // An unquoted expansion is a shellcheck finding (plan.sh alone: it is quick to lint).
    let unquoted = example.mutated("plan.sh", |text| format!("{text}rm -rf $1/tmp\n"));
    let failures = lint(&unquoted, &["plan.sh".to_owned()], &shellcheck);
    assert!(
        failures
            .iter()
            .any(|f| f.starts_with("shellcheck -x rejected plan.sh ") && f.contains("SC2086")),
        "shellcheck accepted an unquoted expansion: {failures:?}"
    );
}
