//! Every unit passes `systemd-analyze verify` and meets the hardening bar of
//! `systemd-analyze security --offline=yes` (overall exposure ≤ 1.5). Neither needs systemd as
//! PID 1 and neither changes the system.
//!
//! `verify` fails when an `Exec*=` binary does not exist on the machine running it (the apps live
//! under `/srv/sites/…/current` and the runtimes are not installed here), so it runs on a copy
//! whose missing executables are replaced by `/bin/true`; everything else is verified as
//! generated, and any output at all (an unknown key, a bad value) is a failure. systemd 252's
//! `verify` does not resolve `User=`/`Group=` (that happens at start), so the site users need
//! not exist here.

use std::path::{Path, PathBuf};
use std::process::Command;

use tempfile::TempDir;

use super::support::{assert_no_failures, bundles, read, run, tempdir, tool, Built};

/// The highest overall exposure a unit may have.
const MAX_EXPOSURE: f64 = 1.5;
const UNITS: &str = "files/etc/systemd/system/";

/// A stub that exists on every Linux machine.
const STUB: &str = "/bin/true";

fn analyze() -> Option<PathBuf> {
    tool("systemd", "systemd-analyze")
}

/// `value` of an `Exec*=` line with its first word (the executable, maybe quoted, after the
/// `-@:+!` prefixes) replaced by [`STUB`] when it does not exist here.
fn stub_executable(value: &str) -> String {
    let prefix_len = value.len() - value.trim_start_matches(['-', '@', ':', '+', '!']).len();
    let (prefix, command) = value.split_at(prefix_len);
    let (executable, rest) = match command.chars().next() {
        Some(quote @ ('"' | '\'')) => {
            let close = command[1..].find(quote).map_or(command.len(), |i| i + 1);
            (
                command[1..close].to_owned(),
                command.get(close + 1..).unwrap_or(""),
            )
        }
        _ => {
            let end = command.find(char::is_whitespace).unwrap_or(command.len());
            (command[..end].to_owned(), &command[end..])
        }
    };
    if Path::new(&executable).is_absolute() && Path::new(&executable).exists() {
        value.to_owned()
    } else {
        format!("{prefix}{STUB}{rest}")
    }
}

/// The unit files of a bundle (drop-in directories are not units of their own).
fn unit_files(built: &Built) -> Vec<String> {
    built
        .files(UNITS, "")
        .into_iter()
        .filter(|rel| !rel[UNITS.len()..].contains('/'))
        .collect()
}

/// `text` with every missing `Exec*=` executable stubbed; line numbers are kept.
fn stubbed(text: &str) -> String {
    let mut out = String::new();
    for line in text.lines() {
        match line.split_once('=') {
            Some((key, value)) if key.starts_with("Exec") => {
                out.push_str(&format!("{key}={}\n", stub_executable(value)));
            }
            _ => {
                out.push_str(line);
                out.push('\n');
            }
        }
    }
    out
}

/// Every unit file of the bundle, stubbed, side by side in one temp dir: `verify` adds a unit
/// file's directory to its search path, so a timer or socket finds its service there.
fn stubbed_units(built: &Built) -> TempDir {
    let tmp = tempdir();
    for rel in unit_files(built) {
        let name = Path::new(&rel).file_name().expect("unit file name");
        std::fs::write(tmp.path().join(name), stubbed(&read(&built.dir.join(&rel))))
            .expect("write unit copy");
    }
    tmp
}

/// `systemd-analyze verify` on the stubbed copy of `unit` (relative to the bundle) in `copies`.
fn check_verify(built: &Built, unit: &str, copies: &Path, analyze: &Path) -> Result<(), String> {
    if unit.ends_with(".service") && !read(&built.dir.join(unit)).contains("\nExecStart=") {
        return Err(format!("{unit} (bundle {}) has no ExecStart=", built.name));
    }
    let copy = copies.join(Path::new(unit).file_name().expect("unit file name"));
    let ran = run(Command::new(analyze)
        .args(["verify", "--recursive-errors=no"])
        .arg(&copy)
        .current_dir(copies));
    let output = ran.output().replace(&copy.display().to_string(), unit);
    if !ran.success || !output.trim().is_empty() {
        return Err(format!(
            "systemd-analyze verify rejected {unit} (bundle {}, executables stubbed): {output}",
            built.name
        ));
    }
    Ok(())
}

/// The overall exposure `systemd-analyze security --offline=yes` gives `path`.
fn exposure(path: &Path, analyze: &Path) -> Result<f64, String> {
    let ran = run(Command::new(analyze)
        .args(["security", "--offline=yes", "--no-pager"])
        .arg(path));
    let output = ran.output();
    // "→ Overall exposure level for NAME.service: 1.1 OK 🙂"
    output
        .lines()
        .find_map(|line| {
            let rest = &line[line.find("Overall exposure level for ")?..];
            let score = rest.split(": ").nth(1)?.split_whitespace().next()?;
            score.parse::<f64>().ok()
        })
        .ok_or_else(|| format!("no overall exposure in the output: {output}"))
}

#[test]
fn units_pass_systemd_analyze_verify() {
    let Some(analyze) = analyze() else { return };
    let mut failures = Vec::new();
    let mut checked = 0;
    for built in bundles() {
        let copies = stubbed_units(&built);
        for unit in unit_files(&built) {
            checked += 1;
            if let Err(failure) = check_verify(&built, &unit, copies.path(), &analyze) {
                failures.push(failure);
            }
        }
    }
    assert!(checked > 0, "no bundle has a systemd unit");
    assert_no_failures("systemd-analyze verify", &failures);
}

#[test]
fn units_meet_the_hardening_bar() {
    let Some(analyze) = analyze() else { return };
    let mut failures = Vec::new();
    let mut scores = Vec::new();
    for built in bundles() {
        for unit in built.files(UNITS, ".service") {
            match exposure(&built.dir.join(&unit), &analyze) {
                Ok(score) => {
                    scores.push(format!("{:>4.1}  {} ({})", score, unit, built.name));
                    if score > MAX_EXPOSURE {
                        failures.push(format!(
                            "systemd-analyze security scored {unit} (bundle {}) {score:.1} > {MAX_EXPOSURE}; \
                             `systemd-analyze security --offline=yes` on it lists the missing directives",
                            built.name
                        ));
                    }
                }
                Err(e) => failures.push(format!(
                    "systemd-analyze security on {unit} (bundle {}): {e}",
                    built.name
                )),
            }
        }
    }
    eprintln!(
        "systemd-analyze security --offline=yes, overall exposure:\n{}",
        scores.join("\n")
    );
    assert!(
        !scores.is_empty() || !failures.is_empty(),
        "no bundle has a systemd unit"
    );
    assert_no_failures("systemd-analyze security", &failures);
}

#[test]
fn verify_and_security_can_fail() {
    let Some(analyze) = analyze() else { return };
    let mut checked = 0;
    for built in bundles() {
        let Some(unit) = built.files(UNITS, ".service").into_iter().next() else {
            continue;
        };
        // A misspelt key is reported by verify, naming the file.
        let typo = built.mutated(&unit, |text| {
            text.replace("[Service]\n", "[Service]\nTaskMax=64\n")
        });
        let copies = stubbed_units(&typo);
        let err = check_verify(&typo, &unit, copies.path(), &analyze)
            .expect_err("verify accepted an unknown key");
        eprintln!("expected failure: {err}");
        assert!(
            err.starts_with(&format!("systemd-analyze verify rejected {unit} ")),
            "{err}"
        );
        assert!(err.contains("TaskMax"), "{err}");
        // Dropping two sandbox directives must raise the measured exposure.
        let weak = built.mutated(&unit, |text| {
            text.lines()
                .filter(|l| {
                    !l.starts_with("CapabilityBoundingSet=")
                        && !l.starts_with("MemoryDenyWriteExecute=")
                })
                .map(|l| format!("{l}\n"))
                .collect()
        });
        let before = exposure(&built.dir.join(&unit), &analyze).expect("score");
        let after = exposure(&weak.dir.join(&unit), &analyze).expect("score");
        assert!(
            after > before,
            "{unit} (bundle {}): removing CapabilityBoundingSet=/MemoryDenyWriteExecute= did not raise \
             the exposure ({before} → {after})",
            built.name
        );
        checked += 1;
    }
    assert!(checked > 0, "no bundle has a systemd unit");
}

#[test]
fn stubbing_keeps_arguments_and_prefixes() {
    assert_eq!(
        stub_executable("/srv/x/bin/web --port 1"),
        "/bin/true --port 1"
    );
    assert_eq!(stub_executable("-\"/srv/a b/web\" --x"), "-/bin/true --x");
    assert_eq!(stub_executable("/bin/sh -c true"), "/bin/sh -c true");
}
