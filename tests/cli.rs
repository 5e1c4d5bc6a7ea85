//! The binary: exit codes 0/1/2, and that invalid input never writes anything.

use std::path::Path;
use std::process::{Command, Output};

use crate::support::root;

fn blueprint(args: &[&str], cwd: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_blueprint"))
        .args(args)
        .current_dir(cwd)
        .output()
        .expect("binary runs")
}

/// `blueprint build --config <config> --out <out> [extra…]`, run in `cwd`.
fn build(config: &Path, out: &Path, extra: &[&str], cwd: &Path) -> Output {
    let (config, out) = (config.display().to_string(), out.display().to_string());
    let mut args = vec!["build", "--config", &config, "--out", &out];
    args.extend_from_slice(extra);
    blueprint(&args, cwd)
}

fn code(out: &Output) -> i32 {
    out.status.code().expect("exited normally")
}

#[test]
fn check_accepts_the_example_and_rejects_bad_input() {
    assert_eq!(code(&blueprint(&["check"], &root())), 0);
    let bad = blueprint(&["check", "--config", "tests/errors/many.toml"], &root());
    assert_eq!(code(&bad), 2);
    let stderr = String::from_utf8_lossy(&bad.stderr);
    assert!(stderr.contains("--> tests/errors/many.toml:"), "{stderr}");
}

#[test]
fn usage_errors_exit_2() {
    assert_eq!(code(&blueprint(&["frobnicate"], &root())), 2);
}

#[test]
fn build_then_check_then_stale() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let config = root().join("sites.toml");
    let run = |check: bool| {
        let extra: &[&str] = if check { &["--check"] } else { &[] };
        build(&config, &out, extra, dir.path())
    };
    // Nothing on disk yet: stale.
    assert_eq!(code(&run(true)), 1);
    let first = run(false);
    assert_eq!(code(&first), 0);
    assert!(String::from_utf8_lossy(&first.stderr).starts_with("wrote "));
    assert_eq!(code(&run(true)), 0);
    // Building again changes no byte on disk, so nothing is written.
    let again = run(false);
    assert_eq!(code(&again), 0);
    let stderr = String::from_utf8_lossy(&again.stderr);
    assert!(
        stderr.contains("is up to date (32 files, nothing written)"),
        "{stderr}"
    );
    // A hand edit makes it stale, and the diff names the file.
    let conf = out.join("vps1/files/etc/nginx/nginx.conf");
    let text = std::fs::read_to_string(&conf).unwrap();
    std::fs::write(
        &conf,
        text.replace("server_tokens off;", "server_tokens on;"),
    )
    .unwrap();
    let stale = run(true);
    assert_eq!(code(&stale), 1);
    let diff = String::from_utf8_lossy(&stale.stdout);
    assert!(
        diff.contains("--- a/vps1/files/etc/nginx/nginx.conf")
            && diff.contains("+    server_tokens off;"),
        "{diff}"
    );
    // An extra file is stale too.
    std::fs::write(out.join("vps1/extra.txt"), "x").unwrap();
    assert_eq!(code(&run(false)), 0);
    assert!(
        !out.join("vps1/extra.txt").exists(),
        "build replaces the whole bundle"
    );
}

#[test]
fn invalid_input_writes_nothing_and_keeps_the_old_bundle() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    std::fs::create_dir_all(out.join("vps1")).unwrap();
    std::fs::write(out.join("vps1/sentinel"), "previous bundle").unwrap();
    let bad = root().join("tests/errors/many.toml");
    let result = build(&bad, &out, &[], dir.path());
    assert_eq!(code(&result), 2);
    let entries: Vec<_> = std::fs::read_dir(&out)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(entries, ["vps1"], "nothing else appeared in out/");
    assert_eq!(
        std::fs::read_to_string(out.join("vps1/sentinel")).unwrap(),
        "previous bundle"
    );
}

#[test]
fn an_unwritable_output_keeps_the_previous_bundle() {
    let dir = tempfile::tempdir().unwrap();
    // The output root is a regular file: creating the staging directory fails.
    let out = dir.path().join("out");
    std::fs::write(&out, "not a directory").unwrap();
    let config = root().join("sites.toml");
    let result = build(&config, &out, &[], dir.path());
    assert_eq!(code(&result), 2);
    assert!(String::from_utf8_lossy(&result.stderr).contains("cannot write the bundle"));
    assert_eq!(std::fs::read_to_string(&out).unwrap(), "not a directory");
}

#[test]
fn a_write_failing_half_way_keeps_the_previous_bundle() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let config = root().join("sites.toml");
    let build = |limit: &str| {
        // `ulimit -f` caps the size of any file the process writes, like a disk that fills up:
        // the small files are written, then lib/blueprint.sh (about 40 KB) fails with EFBIG.
        // SIGXFSZ is ignored so the write returns the error instead of killing the process.
        Command::new("bash")
            .arg("-c")
            .arg(r#"ulimit -f "$1" && trap '' XFSZ && exec "$0" build --config "$2" --out "$3""#)
            .arg(env!("CARGO_BIN_EXE_blueprint"))
            .arg(limit)
            .arg(&config)
            .arg(&out)
            .output()
            .unwrap()
    };
    assert_eq!(code(&build("unlimited")), 0);
    // The previous bundle differs from the new one, so the second build must write.
    let plan = out.join("vps1/PLAN.md");
    let mut previous = std::fs::read_to_string(&plan).unwrap();
    previous.push_str("an older plan\n");
    std::fs::write(&plan, &previous).unwrap();
    let before = tree(&out);

    let failed = build("8");
    assert_eq!(code(&failed), 2);
    let stderr = String::from_utf8_lossy(&failed.stderr);
    assert!(stderr.contains("cannot write the bundle"), "{stderr}");
    assert!(
        stderr.contains("File too large"),
        "the OS error is named: {stderr}"
    );
    assert_eq!(
        tree(&out),
        before,
        "out/ is exactly as before, no staging left"
    );
}

/// Every regular file under `dir` with its bytes, and every directory (as `None`).
fn tree(dir: &Path) -> std::collections::BTreeMap<std::path::PathBuf, Option<Vec<u8>>> {
    let mut found = std::collections::BTreeMap::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(current) = pending.pop() {
        for entry in std::fs::read_dir(&current).unwrap() {
            let path = entry.unwrap().path();
            let relative = path.strip_prefix(dir).unwrap().to_path_buf();
            if path.is_dir() {
                found.insert(relative, None);
                pending.push(path);
            } else {
                found.insert(relative, Some(std::fs::read(&path).unwrap()));
            }
        }
    }
    found
}

#[test]
fn modes_are_exact_whatever_the_umask() {
    use std::os::unix::fs::PermissionsExt as _;
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let config = root().join("sites.toml");
    let status = Command::new("sh")
        .arg("-c")
        .arg(r#"umask 077 && exec "$0" build --config "$1" --out "$2""#)
        .arg(env!("CARGO_BIN_EXE_blueprint"))
        .arg(&config)
        .arg(&out)
        .status()
        .unwrap();
    assert!(status.success());
    let mode = |path: &str| {
        std::fs::metadata(out.join("vps1").join(path))
            .unwrap()
            .permissions()
            .mode()
            & 0o7777
    };
    assert_eq!(mode("setup.sh"), 0o755);
    assert_eq!(mode("plan.sh"), 0o644);
}

#[test]
fn init_writes_a_starter_that_checks_and_never_overwrites() {
    let dir = tempfile::tempdir().unwrap();
    let key = root().join("keys/ops.pub");
    let key = key.to_str().unwrap();
    let init = blueprint(
        &[
            "init",
            "--host",
            "web1",
            "--os",
            "debian-12",
            "--admin-key",
            key,
        ],
        dir.path(),
    );
    assert_eq!(code(&init), 0, "{}", String::from_utf8_lossy(&init.stderr));
    let text = std::fs::read_to_string(dir.path().join("sites.toml")).unwrap();
    assert!(text.contains("name = \"web1\"") && text.contains("os = \"debian-12\""));
    let check = blueprint(&["check"], dir.path());
    assert_eq!(
        code(&check),
        0,
        "{}",
        String::from_utf8_lossy(&check.stderr)
    );
    std::fs::write(dir.path().join("sites.toml"), "mine").unwrap();
    assert_eq!(
        std::fs::read(dir.path().join("keys/admin.pub")).unwrap(),
        std::fs::read(root().join("keys/ops.pub")).unwrap(),
        "the key is copied beside the file"
    );
    assert!(text.contains("admin_keys = [\"keys/admin.pub\"]"), "{text}");
    let again = blueprint(&["init", "--admin-key", key], dir.path());
    assert_eq!(code(&again), 2);
    assert!(String::from_utf8_lossy(&again.stderr).contains("`sites.toml` already exists"));
    assert_eq!(
        std::fs::read_to_string(dir.path().join("sites.toml")).unwrap(),
        "mine"
    );
    let bad = blueprint(
        &["init", "--config", "b.toml", "--host", "Bad Name"],
        dir.path(),
    );
    assert_eq!(code(&bad), 2);
    assert!(
        !dir.path().join("b.toml").exists(),
        "an invalid starter is not written"
    );
}

/// The example with one edit, next to a copy of its key, and `out/` built from the original.
fn example_with(edit: impl Fn(&str) -> String) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let example = std::fs::read_to_string(root().join("sites.toml")).unwrap();
    std::fs::create_dir(dir.path().join("keys")).unwrap();
    std::fs::copy(root().join("keys/ops.pub"), dir.path().join("keys/ops.pub")).unwrap();
    std::fs::write(dir.path().join("sites.toml"), &example).unwrap();
    assert_eq!(code(&blueprint(&["build"], dir.path())), 0);
    std::fs::write(dir.path().join("sites.toml"), edit(&example)).unwrap();
    dir
}

#[test]
fn plan_on_a_changed_rate_limit_names_the_nginx_reload_and_nothing_else() {
    let dir = example_with(|e| e.replace(r#"rate = "30r/s""#, r#"rate = "40r/s""#));
    let plan = blueprint(&["plan"], dir.path());
    assert_eq!(code(&plan), 1);
    let stdout = String::from_utf8_lossy(&plan.stdout);
    let actions: Vec<&str> = stdout.lines().filter(|l| l.starts_with("  ")).collect();
    assert_eq!(
        actions,
        [
            "  reload: nginx (its configuration changed)",
            "  files: nginx 1 changed"
        ],
        "{stdout}"
    );
}

#[test]
fn plan_names_sites_ports_secrets_and_restarts() {
    let dir = example_with(|e| {
        e.replace("port = 3101", "port = 3102").replace(
            r#"secrets = ["STRIPE_SECRET_KEY"]"#,
            r#"secrets = ["STRIPE_SECRET_KEY", "MAIL_KEY"]"#,
        ) + "\n[sites.blog]\ndomains = [\"blog.example.com\"]\nslot = 3\nstatic = \"public\"\n"
    });
    plan_mentions(
        dir.path(),
        &[
            "sites added: blog",
            "service chienstreats-frontend: port `3101` → `3102`",
            "restart: chienstreats-frontend.service (unit file changed)",
            "reload: nginx",
            "secrets to fill in: MAIL_KEY in /srv/sites/chienstreats/shared/.env",
        ],
    );
    // Nothing to do once built.
    assert_eq!(code(&blueprint(&["build"], dir.path())), 0);
    let after = blueprint(&["plan"], dir.path());
    assert_eq!(code(&after), 0);
    assert!(String::from_utf8_lossy(&after.stdout).starts_with("nothing to do"));
}

#[test]
fn build_check_leaves_sha256sums_out_of_its_diff() {
    let dir = example_with(|e| e.replace(r#"rate = "30r/s""#, r#"rate = "40r/s""#));
    let check = blueprint(&["build", "--check"], dir.path());
    assert_eq!(code(&check), 1);
    let diff = String::from_utf8_lossy(&check.stdout);
    assert!(diff.contains("+++ b/vps1/files/etc/nginx/"), "{diff}");
    assert!(!diff.contains("SHA256SUMS"), "{diff}");
}

#[test]
fn completions_pass_bash_n_and_man_is_roff() {
    let completions = blueprint(&["completions", "bash"], &root());
    assert_eq!(code(&completions), 0);
    let dir = tempfile::tempdir().unwrap();
    let script = dir.path().join("blueprint.bash");
    std::fs::write(&script, &completions.stdout).unwrap();
    let syntax = Command::new("bash")
        .arg("-n")
        .arg(&script)
        .output()
        .unwrap();
    assert!(
        syntax.status.success(),
        "{}",
        String::from_utf8_lossy(&syntax.stderr)
    );
    assert!(String::from_utf8_lossy(&completions.stdout).contains("plan"));
    let man = blueprint(&["man"], &root());
    assert_eq!(code(&man), 0);
    let page = String::from_utf8_lossy(&man.stdout);
    assert!(
        page.contains(".TH blueprint 1") && page.contains(".SH NAME"),
        "{page}"
    );
}

#[test]
fn schema_prints_json_and_diagnostics_can_be_json_and_coloured() {
    let schema = blueprint(&["schema"], &root());
    assert_eq!(code(&schema), 0);
    let value: serde_json::Value = serde_json::from_slice(&schema.stdout).unwrap();
    assert_eq!(value["title"], "sites.toml");
    let args = ["check", "--config", "tests/errors/wrong-type.toml"];
    let json = blueprint(
        &[&["--message-format", "json"], &args[..]].concat(),
        &root(),
    );
    assert_eq!(code(&json), 2);
    let lines: Vec<serde_json::Value> = String::from_utf8_lossy(&json.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let line = lines
        .iter()
        .find(|l| l["message"].as_str().unwrap().starts_with("`slot`"))
        .unwrap();
    assert_eq!(line["span"]["line"], 7);
    assert_eq!(line["severity"], "error");
    let always = blueprint(&[&["--color", "always"], &args[..]].concat(), &root());
    assert!(String::from_utf8_lossy(&always.stderr).starts_with("\x1b[1;31merror"));
    // Not a terminal: no colour by default.
    let auto = blueprint(&args, &root());
    assert!(!String::from_utf8_lossy(&auto.stderr).contains('\x1b'));
}

#[test]
fn plan_names_removed_sites_tls_database_and_leaves_disabled_units_stopped() {
    let dir = example_with(|e| {
        let kept = &e[..e
            .find("[sites.secondsite]")
            .expect("the example has two sites")];
        kept.replace(r#"tls = "acme""#, r#"tls = "none""#)
            .replace(r#"database = "postgres""#, r#"database = "none""#)
    });
    let stdout = plan_mentions(
        dir.path(),
        &[
            "sites removed (stopped; their data stays): secondsite",
            "site chienstreats: tls `acme` → `none`",
            "site chienstreats: database `postgres` → `none`",
            "update, not started: chienstreats-api.service (disabled)",
        ],
    );
    assert!(!stdout.contains("restart: chienstreats-api"), "{stdout}");
}

/// Runs `plan` (which must find changes) and checks that its output names each of `expected`.
fn plan_mentions(dir: &Path, expected: &[&str]) -> String {
    let plan = blueprint(&["plan"], dir);
    assert_eq!(code(&plan), 1);
    let stdout = String::from_utf8_lossy(&plan.stdout).into_owned();
    for expected in expected {
        assert!(stdout.contains(expected), "`{expected}` missing:\n{stdout}");
    }
    stdout
}

#[test]
fn init_without_a_key_says_how_to_give_one_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_blueprint"))
        .arg("init")
        .current_dir(dir.path())
        .env("HOME", dir.path())
        .output()
        .unwrap();
    assert_eq!(code(&out), 2);
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("--admin-key"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
}

#[test]
fn check_rejects_a_variable_systemd_would_not_expand() {
    let bad = blueprint(&["check", "--config", "tests/errors/run.toml"], &root());
    assert_eq!(code(&bad), 2);
    let stderr = String::from_utf8_lossy(&bad.stderr);
    assert!(
        stderr.contains("`run` uses `$ROOT_PATH`, which systemd would not expand")
            && stderr.contains("help: only `$PORT`"),
        "{stderr}"
    );
}
