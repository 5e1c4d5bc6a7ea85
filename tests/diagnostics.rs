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

#[test]
fn five_independent_mistakes_are_all_reported_in_one_run() {
    let report =
        blueprint::compile(std::path::Path::new("tests/errors/five-mistakes.toml")).unwrap_err();
    let text = report.to_string();
    for expected in [
        "unsupported os `debian12`",
        "did you mean `debian-12`?",
        "`ops@example` is not a plain email address",
        "cannot read admin key `../../keys/missing.pub`",
        "site name `Blog` is not allowed",
        "unknown key `domain` in `[sites.Blog]`",
        "did you mean `domains`?",
        // Within one service, no error hides another.
        "port 80 cannot be used",
        "cpu_quota `lots` is not a percentage",
        "tasks_max 0 is out of range",
    ] {
        assert!(
            text.contains(expected),
            "`{expected}` missing from:\n{text}"
        );
    }
}

#[test]
fn a_machine_dependent_key_path_is_a_warning_not_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("sites.toml");
    let example = std::fs::read_to_string("sites.toml").unwrap();
    let keys = std::fs::canonicalize("keys/ops.pub").unwrap();
    std::fs::write(
        &config,
        example.replace(
            r#"admin_keys = ["keys/ops.pub"]"#,
            &format!(
                r#"admin_keys = ["${{BLUEPRINT_TEST_NOPE:-{}}}"]"#,
                keys.display()
            ),
        ),
    )
    .unwrap();
    let (bundle, report) = blueprint::compile_all(&config);
    assert!(bundle.is_some(), "{report}");
    assert_eq!(report.diagnostics().len(), 1, "{report}");
    assert!(!report.has_errors());
    assert!(
        report.to_string().starts_with("warning: admin key `${"),
        "{report}"
    );
}

#[test]
fn a_wrong_type_is_one_error_and_hides_nothing_else() {
    let report = blueprint::compile(std::path::Path::new(
        "tests/errors/wrong-types-recovered.toml",
    ))
    .unwrap_err();
    let messages: Vec<&str> = report
        .diagnostics()
        .iter()
        .map(|d| d.message.as_str())
        .collect();
    assert_eq!(
        messages,
        [
            "`acme_email` must be a string, not a whole number",
            "`ssh_port` must be a whole number, not a string",
            "site name `Blog` is not allowed",
            "`domains` must be a list of strings, not a string",
            "`slot` must be a whole number, not a string",
            "`port` must be a whole number, not a string",
            "`tasks_max` must be a whole number, not a string",
        ]
    );
}

/// `tests/fixtures/serving.toml` with `from` replaced by `to`, written as `sites.toml` in `dir`
/// with its admin key path made absolute; the path and the text.
fn serving_variant(dir: &tempfile::TempDir, from: &str, to: &str) -> (std::path::PathBuf, String) {
    let config = dir.path().join("sites.toml");
    let fixture = std::fs::read_to_string("tests/fixtures/serving.toml").unwrap();
    let keys = std::fs::canonicalize("keys/ops.pub").unwrap();
    let text = fixture
        .replace(from, to)
        .replace("../../keys/ops.pub", &keys.display().to_string());
    std::fs::write(&config, &text).unwrap();
    (config, text)
}

#[test]
fn hsts_covering_a_plain_http_sibling_is_a_positioned_warning() {
    let dir = tempfile::tempdir().unwrap();
    let (config, text) = serving_variant(&dir, "hsts = { include_subdomains = false }\n", "");
    let (bundle, report) = blueprint::compile_all(&config);
    assert!(
        bundle.is_some(),
        "a warning does not stop the build: {report}"
    );
    assert!(!report.has_errors(), "{report}");
    let shown = report.to_string();
    assert_eq!(report.diagnostics().len(), 1, "{shown}");
    assert!(
        shown.starts_with(
            "warning: HSTS of site `app` covers `status.app.example.com` (site `status`, HTTP only)"
        ),
        "{shown}"
    );
    let line = text
        .lines()
        .position(|l| l.starts_with("domains = [\"app.example.com\"]"))
        .unwrap()
        + 1;
    assert!(shown.contains(&format!("sites.toml:{line}:11")), "{shown}");
}

#[test]
fn metrics_nothing_scrapes_is_a_positioned_warning() {
    let dir = tempfile::tempdir().unwrap();
    let (config, text) = serving_variant(
        &dir,
        "[sites.shop.services.web]\n",
        "[sites.shop.services.web]\nmetrics = \"/metrics\"\n",
    );
    let (bundle, report) = blueprint::compile_all(&config);
    assert!(
        bundle.is_some(),
        "a warning does not stop the build: {report}"
    );
    let shown = report.to_string();
    let line = text
        .lines()
        .position(|l| l.starts_with("metrics = "))
        .unwrap()
        + 1;
    assert!(
        shown.contains("warning: nothing scrapes these metrics")
            && shown.contains(&format!("sites.toml:{line}:11")),
        "{shown}"
    );
    // With monitoring on, the same service is scraped and nothing is said of it.
    let monitored = text.replace("[host]\n", "[host]\nmonitoring = \"prometheus\"\n");
    std::fs::write(&config, &monitored).unwrap();
    let (bundle, report) = blueprint::compile_all(&config);
    let bundle = bundle.expect("builds");
    assert!(!report.to_string().contains("nothing scrapes"), "{report}");
    let scrape = bundle.files["files/etc/prometheus/prometheus.yml"].contents();
    assert!(scrape.contains("job_name: \"shop-web\""), "{scrape}");
}

#[test]
fn listen_on_a_private_address_with_acme_is_a_positioned_warning() {
    let dir = tempfile::tempdir().unwrap();
    let (config, text) = serving_variant(
        &dir,
        "domains = [\"shop.example.com\"]\n",
        "domains = [\"shop.example.com\"]\nlisten = \"100.101.102.103\"\n",
    );
    let (bundle, report) = blueprint::compile_all(&config);
    let bundle = bundle.expect("a warning does not stop the build");
    let shown = report.to_string();
    let line = text
        .lines()
        .position(|l| l.starts_with("listen = "))
        .unwrap()
        + 1;
    assert!(
        shown.contains("warning: Let's Encrypt cannot reach `100.101.102.103`")
            && shown.contains(&format!("sites.toml:{line}:10")),
        "{shown}"
    );
    // nginx answers the site on that address alone.
    let conf = bundle.files["files/etc/nginx/sites-available/shop.conf"].contents();
    assert!(
        conf.contains("listen 100.101.102.103:443 ssl http2;"),
        "{conf}"
    );
    assert!(!conf.contains("listen 443 ssl"), "{conf}");
    // A public address earns no warning.
    std::fs::write(&config, text.replace("100.101.102.103", "203.0.113.7")).unwrap();
    let (_, report) = blueprint::compile_all(&config);
    assert!(!report.to_string().contains("cannot reach"), "{report}");
}

#[test]
fn a_block_without_a_standby_port_is_a_positioned_warning() {
    let dir = tempfile::tempdir().unwrap();
    // Nine internal services and `web` fill slot 3's ten ports: none is left for the new
    // release of `web` to start on during a deploy.
    let workers: String = (1..=9)
        .map(|i| format!("[sites.shop.services.worker{i}]\nrun = \"/usr/bin/node w.js\"\n\n"))
        .collect();
    let (config, text) = serving_variant(
        &dir,
        "[sites.shop.services.web]\n",
        &format!("{workers}[sites.shop.services.web]\n"),
    );
    let (bundle, report) = blueprint::compile_all(&config);
    let bundle = bundle.expect("a warning does not stop the build");
    let shown = report.to_string();
    let line = text
        .lines()
        .position(|l| l == "[sites.shop.services.web]")
        .unwrap()
        + 1;
    assert!(
        shown.contains(
            "warning: service `web` of site `shop` restarts in place when a release is deployed"
        ) && shown.contains(&format!("sites.toml:{line}:22")),
        "{shown}"
    );
    let conf = bundle.files["files/etc/nginx/sites-available/shop.conf"].contents();
    assert!(!conf.contains(" backup "), "{conf}");
    // The fixture as it is: `web` and the app's services each have a standby port in their
    // own block, and a new release starts there.
    let (bundle, report) = blueprint::compile_all(&serving_variant(&dir, "", "").0);
    let bundle = bundle.expect("builds");
    assert!(
        !report.to_string().contains("restarts in place"),
        "{report}"
    );
    let conf = bundle.files["files/etc/nginx/sites-available/shop.conf"].contents();
    assert!(
        conf.contains(
            "server 127.0.0.1:3120 max_fails=0;\n    server 127.0.0.1:3121 backup max_fails=0;"
        ),
        "{conf}"
    );
    let unit = bundle.files["files/etc/systemd/system/shop-web-next@.service"].contents();
    assert!(
        unit.contains("Environment=\"PORT=3121\"")
            && unit.contains("WorkingDirectory=/srv/sites/shop/releases/%i")
            && unit.contains("SocketBindAllow=tcp:3121")
            && !unit.contains("[Install]"),
        "{unit}"
    );
}

#[test]
fn an_offsite_repository_that_could_reach_a_shell_is_refused_where_it_is_written() {
    let dir = tempfile::tempdir().unwrap();
    let keys = std::fs::canonicalize("keys/ops.pub").unwrap();
    // (TOML escapes: `\n` is a newline in the value.)
    for (value, expected) in [
        (
            r#""sftp:a@b.example:/x;rm -rf /""#,
            "the path on the target is not a plain absolute path",
        ),
        (
            r#""sftp:$(id)@b.example:/x""#,
            "the user is 1 to 32 letters",
        ),
        (
            r#""sftp:a@-oProxyCommand=sh:/x""#,
            "the host is a host name",
        ),
        (
            r#""sftp:a@b.example:/x\nExecStart=/bin/sh""#,
            "the path on the target is not a plain absolute path",
        ),
        (
            r#""sftp://a@b.example:2222/x""#,
            "names a path relative to the login directory",
        ),
        (r#""/mnt/`id`""#, "it is not a plain absolute path"),
        (
            r#""/var/backups/blueprint/copy""#,
            "is inside or contains `/var/backups/blueprint`",
        ),
        (r#""/etc/restic""#, "is inside or contains `/etc`"),
    ] {
        let config = dir.path().join("sites.toml");
        std::fs::write(
            &config,
            format!(
                "[host]\nname = \"vps1\"\nos = \"debian-12\"\nadmin_keys = [\"{}\"]\n\n[host.backups]\noffsite = {value}\n\n[sites.shop]\ndomains = [\"shop.example.com\"]\nslot = 1\ntls = \"none\"\nstatic = \"public\"\n",
                keys.display()
            ),
        )
        .unwrap();
        let report = blueprint::compile(&config).unwrap_err();
        let text = report.to_string();
        assert_eq!(report.diagnostics().len(), 1, "{value}: {text}");
        let d = &report.diagnostics()[0];
        assert!(d.message.contains(expected), "{value}: {text}");
        assert!(d.help.is_some(), "{value}: no help");
        // Line 7, where `offsite` is written, from its value's first character.
        assert!(text.contains("sites.toml:7:11"), "{value}: {text}");
    }
}
