//! The monitoring files of every bundle that asks for Prometheus pass `promtool`, as setup.sh
//! checks them before they go live: the alerting rules with `promtool check rules`, and the
//! scrape config with `promtool check config`, beside the rules it names (a relative path, as
//! on the host). A broken copy must be refused.

use std::path::Path;
use std::process::Command;

use super::support::{assert_no_failures, bundles, read, run, tempdir, tool, Built};

const CONFIG: &str = "files/etc/prometheus/prometheus.yml";
const RULES: &str = "files/etc/prometheus/blueprint-rules.yml";

/// Both checks on copies of the bundle's two files, `edit` applied to the config.
fn check(built: &Built, promtool: &Path, edit: impl Fn(&str) -> String) -> Result<(), String> {
    let tmp = tempdir();
    let config = tmp.path().join("prometheus.yml");
    let rules = tmp.path().join("blueprint-rules.yml");
    std::fs::write(&config, edit(&read(&built.dir.join(CONFIG)))).expect("write config");
    std::fs::write(&rules, read(&built.dir.join(RULES))).expect("write rules");
    for (what, args) in [("rules", &rules), ("config", &config)] {
        let ran = run(Command::new(promtool).arg("check").arg(what).arg(args));
        if !ran.success {
            return Err(format!(
                "promtool check {what} rejected bundle {}: {}",
                built.name,
                ran.output()
            ));
        }
    }
    Ok(())
}

fn monitored() -> Vec<Built> {
    let all: Vec<Built> = bundles();
    let with: Vec<Built> = all
        .into_iter()
        .filter(|b| b.dir.join(CONFIG).exists())
        .collect();
    assert!(!with.is_empty(), "no fixture enables monitoring");
    with
}

#[test]
fn promtool_accepts_every_monitoring_config() {
    let Some(promtool) = tool("prometheus", "promtool") else {
        return;
    };
    let failures: Vec<String> = monitored()
        .iter()
        .filter_map(|b| check(b, &promtool, str::to_owned).err())
        .collect();
    assert_no_failures("promtool", &failures);
}

#[test]
fn promtool_check_can_fail() {
    let Some(promtool) = tool("prometheus", "promtool") else {
        return;
    };
    let built = &monitored()[0];
    let broken = check(built, &promtool, |text| {
        text.replace("scrape_interval: 15s", "scrape_interval: soon")
    });
    assert!(broken.is_err(), "promtool accepted a broken config");
}
