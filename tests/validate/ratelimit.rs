//! Rate limits behave as nginx.conf says: a real nginx serves a one-site bundle in a network
//! namespace of the test's own, with IPv6 addresses from two /64 networks on its loopback, and
//! requests from each address show what the limit counts: one client address for IPv4, one /64
//! for IPv6 (a host owns a whole /64, so a per-address limit would be sidestepped by switching
//! addresses).

use std::process::Command;
use std::time::{Duration, Instant};

use super::nginx::stage;
use super::support::{require_root, run, tool, Built};

/// A site whose one route allows a request a minute and no burst, proxied to a port nothing
/// listens on: an allowed request answers 502, a limited one 429.
const CONFIG: &str = r#"
[host]
name = "limits"
os = "debian-12"
admin_keys = ["${REPO}/keys/ops.pub"]
fail2ban = false

[sites.limited]
domains = ["limited.test"]
slot = 1
tls = "none"

[sites.limited.services.app]
run = "/usr/bin/true"
route = "/"
rate_limit = { rate = "1r/m" }
"#;

/// Addresses on the namespace's loopback: two in one /64, one in another.
const SAME_64_A: &str = "2001:db8:0:1::a";
const SAME_64_B: &str = "2001:db8:0:1::b";
const OTHER_64: &str = "2001:db8:0:2::a";

/// A network namespace, deleted on drop.
struct Netns(String);

impl Netns {
    fn new(ip: &std::path::Path) -> Netns {
        let name = format!("bp-limits-{}", std::process::id());
        let add = run(Command::new(ip).args(["netns", "add", &name]));
        assert!(add.success, "ip netns add: {}", add.output());
        let ns = Netns(name);
        ns.ip(ip, &["link", "set", "lo", "up"]);
        for addr in [SAME_64_A, SAME_64_B, OTHER_64] {
            ns.ip(
                ip,
                &[
                    "-6",
                    "addr",
                    "add",
                    &format!("{addr}/128"),
                    "dev",
                    "lo",
                    "nodad",
                ],
            );
        }
        ns
    }

    fn ip(&self, ip: &std::path::Path, args: &[&str]) {
        let ran = run(Command::new(ip).args(["-n", &self.0]).args(args));
        assert!(ran.success, "ip {args:?}: {}", ran.output());
    }

    /// `ip netns exec <ns> <program>`.
    fn exec(&self, ip: &std::path::Path, program: &std::path::Path) -> Command {
        let mut cmd = Command::new(ip);
        cmd.args(["netns", "exec", &self.0]).arg(program);
        cmd
    }
}

impl Drop for Netns {
    fn drop(&mut self) {
        let _ = Command::new("ip")
            .args(["netns", "delete", &self.0])
            .status();
    }
}

#[test]
fn rate_limits_count_per_address_and_per_ipv6_64() {
    let (Some(()), Some(nginx), Some(openssl), Some(ip), Some(curl)) = (
        require_root("ratelimit"),
        tool("ratelimit", "nginx"),
        tool("ratelimit", "openssl"),
        tool("ratelimit", "ip"),
        tool("ratelimit", "curl"),
    ) else {
        return;
    };
    let built = Built::from_config("limits", CONFIG);
    let staged = stage(&built, &openssl).unwrap_or_else(|e| panic!("{e}"));
    let ns = Netns::new(&ip);
    let error_log = staged.outside.join("error.log");
    let _server = staged.serve(ns.exec(&ip, &nginx));
    // The status of one request from `from` to `to` (both addresses of the namespace).
    let status = |from: &str, to: &str| -> String {
        let host = if to.contains(':') {
            format!("[{to}]")
        } else {
            to.to_owned()
        };
        let out = ns
            .exec(&ip, &curl)
            .args([
                "-s",
                "-o",
                "/dev/null",
                "-w",
                "%{http_code}",
                "--max-time",
                "5",
            ])
            .args(["--interface", from, "-H", "Host: limited.test"])
            .arg(format!("http://{host}/"))
            .output()
            .expect("curl runs");
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    // Until nginx listens (bounded): a connection answers with some status, not 000.
    let started = Instant::now();
    while status("127.0.0.9", "127.0.0.9") == "000" {
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "nginx did not listen: {}",
            std::fs::read_to_string(&error_log).unwrap_or_default()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    // 127.0.0.9 used its one request while waiting; each other source starts fresh.
    let seen = [
        ("IPv4 A, first", status("127.0.0.1", "127.0.0.1")),
        (
            "IPv4 B, first (another address)",
            status("127.0.0.2", "127.0.0.1"),
        ),
        ("IPv4 A, again", status("127.0.0.1", "127.0.0.1")),
        ("IPv6 /64 one, address a", status(SAME_64_A, SAME_64_A)),
        ("IPv6 /64 one, address b", status(SAME_64_B, SAME_64_A)),
        ("IPv6 /64 two", status(OTHER_64, SAME_64_A)),
    ];
    let got: Vec<String> = seen
        .iter()
        .map(|(what, code)| format!("{what}: {code}"))
        .collect();
    let codes: Vec<&str> = seen.iter().map(|(_, code)| code.as_str()).collect();
    assert_eq!(
        codes,
        ["502", "502", "429", "502", "429", "502"],
        "allowed requests answer 502 (nothing listens behind nginx), limited ones 429:\n{}",
        got.join("\n")
    );
}
