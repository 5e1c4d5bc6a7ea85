//! gixy (PyPI `gixy-ng`), the static analyser for nginx configurations, finds nothing of MEDIUM
//! severity or above in any bundle. Only its `nginx_cves` check is skipped: it compares version
//! numbers and cannot see the security fixes Debian and Ubuntu backport.

use std::process::Command;

use super::nginx::{stage, Staged};
use super::support::{assert_no_failures, bundles, run, tool};

#[test]
fn gixy_finds_nothing_of_medium_severity_or_above() {
    let (Some(gixy), Some(openssl)) = (tool("gixy", "gixy"), tool("gixy", "openssl")) else {
        return;
    };
    let mut failures = Vec::new();
    for built in bundles() {
        let staged: Staged = match stage(&built, &openssl) {
            Ok(staged) => staged,
            Err(err) => {
                failures.push(err);
                continue;
            }
        };
        let ran = run(Command::new(&gixy)
            .args(["--skips", "nginx_cves"])
            .arg(staged.prefix.join("nginx.conf")));
        let report = ran.output();
        if !ran.success || report.contains("Severity: MEDIUM") || report.contains("Severity: HIGH")
        {
            failures.push(format!(
                "gixy flags the nginx tree of bundle {}:\n{report}",
                built.name
            ));
        }
    }
    assert_no_failures("gixy", &failures);
}
