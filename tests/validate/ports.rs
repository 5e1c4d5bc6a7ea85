//! The ports ruleset (`/etc/blueprint/ports.nft`) is accepted by `nft -c` as setup.sh checks it
//! before it goes live. The site users do not exist here, so each `meta skuid` names root in the
//! copy; everything else is checked as generated. A broken copy must be refused.
//! (What the rules do is shown on a fresh machine: tests/e2e/security.sh, `security_port_squat`.)

use std::path::Path;
use std::process::Command;

use super::support::{assert_no_failures, bundles, read, require_root, run, tempdir, tool, Built};

const RULESET: &str = "files/etc/blueprint/ports.nft";

/// `nft -c -f` on a copy of the bundle's ruleset with every user replaced by root.
fn check(built: &Built, nft: &Path, edit: impl Fn(&str) -> String) -> Result<(), String> {
    let text = read(&built.dir.join(RULESET));
    let mut copy = String::new();
    for line in text.lines() {
        match line.find("meta skuid != \"") {
            Some(at) => {
                let rest = &line[at + "meta skuid != \"".len()..];
                let end = rest.find('"').unwrap_or(rest.len());
                copy.push_str(&format!(
                    "{}meta skuid != \"root\"{}\n",
                    &line[..at],
                    &rest[end + 1..]
                ));
            }
            None => copy.push_str(&format!("{line}\n")),
        }
    }
    let tmp = tempdir();
    let path = tmp.path().join("ports.nft");
    std::fs::write(&path, edit(&copy)).expect("write ruleset");
    let ran = run(Command::new(nft).arg("-c").arg("-f").arg(&path));
    if ran.success {
        Ok(())
    } else {
        Err(format!(
            "nft -c rejected {RULESET} (bundle {}): {}",
            built.name,
            ran.output()
        ))
    }
}

#[test]
fn nft_accepts_every_ports_ruleset() {
    let (Some(()), Some(nft)) = (require_root("ports"), tool("ports", "nft")) else {
        return;
    };
    let failures: Vec<String> = bundles()
        .iter()
        .filter_map(|b| check(b, &nft, str::to_owned).err())
        .collect();
    assert_no_failures("nft -c", &failures);
}

#[test]
fn nft_check_can_fail() {
    let (Some(()), Some(nft)) = (require_root("ports"), tool("ports", "nft")) else {
        return;
    };
    let built = bundles().into_iter().next().expect("the example");
    let err = check(&built, &nft, |text| text.replace("tcp sport", "tcp spurt"))
        .expect_err("a broken ruleset was accepted");
    assert!(err.contains(RULESET), "{err}");
}
