//! testssl.sh rates the TLS settings of the generated nginx.conf: the example's tree is served by
//! a throwaway nginx on 127.0.0.1 and no finding may be LOW or worse, except the findings that only
//! describe the throwaway self-signed certificate (trust chain, expiry, revocation, CAA in DNS).

use std::net::TcpStream;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use super::nginx::stage;
use super::support::{assert_no_failures, bundles, free_port, read, tool, walk};

/// Finding ids caused by the test's own certificate or the missing DNS, not by the config.
const CAUSED_BY_THE_TEST_CERTIFICATE: &[&str] =
    &["cert_", "intermediate_cert", "DNS_CAArecord", "OCSP_"];

/// Moves every `listen` of the staged tree to 127.0.0.1 test ports (IPv6 listeners dropped).
fn listen_on_loopback(prefix: &Path, http: u16, https: u16) {
    for rel in walk(prefix) {
        let path = prefix.join(&rel);
        let text = read(&path);
        let moved: String = text
            .lines()
            .filter(|l| !l.trim_start().starts_with("listen [::]"))
            .map(|l| {
                l.replace("listen 443 ", &format!("listen 127.0.0.1:{https} "))
                    .replace("listen 80", &format!("listen 127.0.0.1:{http}"))
            })
            .map(|l| l + "\n")
            .collect();
        if moved != text {
            std::fs::write(&path, moved).expect("rewrite listen");
        }
    }
}

/// `"key" : "value"` of one finding in testssl's flat JSON output.
fn field(entry: &str, key: &str) -> String {
    let Some(at) = entry.find(&format!("\"{key}\"")) else {
        return String::new();
    };
    let rest = entry[at + key.len() + 2..]
        .trim_start_matches([' ', ':'])
        .trim_start_matches('"');
    rest[..rest.find('"').unwrap_or(rest.len())].to_owned()
}

#[test]
fn testssl_rates_nothing_low_or_worse() {
    let (Some(testssl), Some(nginx), Some(openssl)) = (
        tool("testssl", "testssl"),
        tool("testssl", "nginx"),
        tool("testssl", "openssl"),
    ) else {
        return;
    };
    let built = bundles().into_iter().next().expect("the example bundle");
    let staged = stage(&built, &openssl).unwrap_or_else(|e| panic!("{e}"));
    let (http, https) = (free_port(), free_port());
    listen_on_loopback(&staged.prefix, http, https);
    let error_log = staged.outside.join("error.log");
    let _server = staged.serve(Command::new(&nginx));
    let started = Instant::now();
    while TcpStream::connect(("127.0.0.1", https)).is_err() {
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "nginx did not listen: {}",
            std::fs::read_to_string(&error_log).unwrap_or_default()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let json = staged.outside.join("testssl.json");
    let ran = Command::new(&testssl)
        .args([
            "--quiet",
            "--color",
            "0",
            "--warnings",
            "off",
            "--fast",
            "--ip",
            "127.0.0.1",
            "--jsonfile",
        ])
        .arg(&json)
        .arg(format!("chienstreats.com:{https}"))
        .output()
        .expect("testssl runs");
    let findings = std::fs::read_to_string(&json).unwrap_or_else(|_| {
        panic!(
            "testssl wrote no JSON:\n{}",
            String::from_utf8_lossy(&ran.stdout)
        )
    });
    let mut failures = Vec::new();
    for entry in findings.split("},").filter(|e| e.contains("\"severity\"")) {
        let (id, severity) = (field(entry, "id"), field(entry, "severity"));
        let rated = matches!(severity.as_str(), "LOW" | "MEDIUM" | "HIGH" | "CRITICAL");
        if rated
            && !CAUSED_BY_THE_TEST_CERTIFICATE
                .iter()
                .any(|p| id.starts_with(p))
        {
            failures.push(format!(
                "{severity} {id}: {} (files/etc/nginx/nginx.conf of bundle {})",
                field(entry, "finding"),
                built.name
            ));
        }
    }
    assert_no_failures("testssl", &failures);
}
