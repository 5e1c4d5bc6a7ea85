//! Security measurements of the generated nginx configuration with the tools an auditor would
//! use: gixy (static analysis) on every bundle, and testssl.sh against the example's TLS settings
//! served by a throwaway nginx on 127.0.0.1.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use crate::support::{root, toml_files};

/// Whether `tool` is on PATH; in CI a missing tool fails the test instead of skipping it.
fn require(tool: &str) -> bool {
    let found = Command::new("sh").arg("-c").arg(format!("command -v {tool}")).output().is_ok_and(|o| o.status.success());
    if !found {
        assert!(std::env::var("CI").as_deref() != Ok("true"), "{tool} is required in CI (tests/run.sh installs it)");
        eprintln!("SKIPPED: {tool} is not installed (run tests/run.sh)");
    }
    found
}

/// Copies the bundle's /etc/nginx into `dir` with Debian's mime.types, sites enabled, and every
/// absolute host path redirected into `dir`; returns the nginx.conf path.
fn stage_nginx(bundle: &blueprint::bundle::Bundle, dir: &Path, http: u16, https: u16) -> PathBuf {
    let conf_dir = dir.join("nginx");
    for (path, file) in bundle.files.iter().filter(|(p, _)| p.starts_with("files/etc/nginx/")) {
        let target = conf_dir.join(path.trim_start_matches("files/etc/nginx/"));
        std::fs::create_dir_all(target.parent().unwrap()).unwrap();
        let text = file
            .contents
            .replace("/etc/blueprint/tls/", &format!("{}/tls/", dir.display()))
            .replace("/srv/sites/", &format!("{}/srv/", dir.display()))
            .replace("/var/log/nginx/", &format!("{}/", dir.display()))
            .replace("pid /run/nginx.pid;", &format!("pid {}/nginx.pid;", dir.display()))
            .replace("user www-data;", "")
            .replace("listen 443 ssl", &format!("listen 127.0.0.1:{https} ssl"))
            .replace("listen 80", &format!("listen 127.0.0.1:{http}"))
            .lines()
            .filter(|l| !l.trim_start().starts_with("listen [::]"))
            .collect::<Vec<_>>()
            .join("\n");
        std::fs::write(&target, text).unwrap();
    }
    std::fs::create_dir_all(conf_dir.join("modules-enabled")).unwrap();
    std::fs::create_dir_all(conf_dir.join("sites-enabled")).unwrap();
    std::fs::write(conf_dir.join("mime.types"), "types { text/html html; text/plain txt; }\n").unwrap();
    for site in bundle.files.keys().filter_map(|p| p.strip_prefix("files/etc/nginx/sites-available/")) {
        std::os::unix::fs::symlink(format!("../sites-available/{site}"), conf_dir.join("sites-enabled").join(site)).unwrap();
        let name = site.trim_end_matches(".conf");
        std::fs::create_dir_all(dir.join("srv").join(name).join("shared/logs/nginx")).unwrap();
        let tls = dir.join("tls").join(name);
        std::fs::create_dir_all(&tls).unwrap();
        let status = Command::new("openssl")
            .args(["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-days", "2", "-subj"])
            .arg(format!("/CN={name}.test"))
            .arg("-keyout")
            .arg(tls.join("privkey.pem"))
            .arg("-out")
            .arg(tls.join("fullchain.pem"))
            .output()
            .expect("openssl runs");
        assert!(status.status.success(), "openssl: {}", String::from_utf8_lossy(&status.stderr));
    }
    conf_dir.join("nginx.conf")
}

fn bundles() -> Vec<(PathBuf, blueprint::bundle::Bundle)> {
    let mut inputs = vec![PathBuf::from("sites.toml")];
    inputs.extend(toml_files("tests/fixtures"));
    inputs.into_iter().map(|p| (p.clone(), blueprint::compile(&root().join(&p)).expect("valid fixture"))).collect()
}

#[test]
fn gixy_finds_nothing_of_medium_severity_or_above() {
    if !require("gixy") {
        return;
    }
    for (input, bundle) in bundles() {
        let dir = tempfile::tempdir().unwrap();
        let conf = stage_nginx(&bundle, dir.path(), 80, 443);
        let out = Command::new("gixy").args(["--skips", "nginx_cves", "-ll"]).arg(&conf).output().expect("gixy runs");
        let report = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
        let serious = report.contains("Severity: MEDIUM") || report.contains("Severity: HIGH");
        assert!(out.status.success() && !serious, "gixy flags the nginx config of {}:\n{report}", input.display());
    }
}

/// nginx serving the staged example; stopped on drop.
struct Nginx {
    child: Child,
}

impl Drop for Nginx {
    fn drop(&mut self) {
        // SIGTERM, not SIGKILL: the master must take its workers down with it.
        let _ = Command::new("kill").arg("-TERM").arg(self.child.id().to_string()).status();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

#[test]
fn testssl_rates_nothing_low_or_worse_except_the_throwaway_certificate() {
    if !require("testssl") || !require("nginx") {
        return;
    }
    let (_, bundle) = bundles().into_iter().next().expect("the example");
    let dir = tempfile::tempdir().unwrap();
    let (http, https) = (free_port(), free_port());
    let conf = stage_nginx(&bundle, dir.path(), http, https);
    let prefix = dir.path().display().to_string();
    let error_log = format!("{prefix}/error.log");
    let conf_arg = conf.display().to_string();
    let nginx_args = ["-p", prefix.as_str(), "-c", conf_arg.as_str(), "-e", error_log.as_str(), "-g", "daemon off;"];
    let _nginx = Nginx { child: Command::new("nginx").args(nginx_args).stdin(Stdio::null()).stdout(Stdio::null()).stderr(Stdio::null()).spawn().expect("nginx starts") };
    // Wait for the listener rather than sleeping a fixed time.
    let started = std::time::Instant::now();
    while std::net::TcpStream::connect(("127.0.0.1", https)).is_err() {
        assert!(started.elapsed().as_secs() < 10, "nginx did not listen: {}", std::fs::read_to_string(&error_log).unwrap_or_default());
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let json = dir.path().join("testssl.json");
    let out = Command::new("testssl")
        .args(["--quiet", "--color", "0", "--warnings", "off", "--fast", "--ip", "127.0.0.1", "--jsonfile"])
        .arg(&json)
        .arg(format!("chienstreats.com:{https}"))
        .output()
        .expect("testssl runs");
    let findings = std::fs::read_to_string(&json).unwrap_or_else(|_| panic!("testssl wrote no JSON: {}", String::from_utf8_lossy(&out.stdout)));
    // Findings that only describe the throwaway self-signed certificate or the test's missing DNS.
    let caused_by_test_certificate = ["cert_", "DNS_CAArecord", "OCSP", "intermediate_cert"];
    let mut bad = Vec::new();
    for entry in findings.split("},").filter(|e| e.contains("\"severity\"")) {
        let field = |name: &str| {
            let start = entry.find(&format!("\"{name}\"")).map(|i| i + name.len() + 2)?;
            let rest = entry[start..].trim_start_matches([' ', ':']).trim_start_matches('"');
            Some(rest[..rest.find('"').unwrap_or(rest.len())].to_owned())
        };
        let (Some(id), Some(severity)) = (field("id"), field("severity")) else { continue };
        let rated = matches!(severity.as_str(), "LOW" | "MEDIUM" | "HIGH" | "CRITICAL");
        if rated && !caused_by_test_certificate.iter().any(|p| id.starts_with(p)) {
            bad.push(format!("{severity} {id}: {}", field("finding").unwrap_or_default()));
        }
    }
    assert!(bad.is_empty(), "testssl findings on the generated TLS configuration:\n{}", bad.join("\n"));
}
