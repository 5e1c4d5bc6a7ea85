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
        stderr.contains("is up to date (24 files, nothing written)"),
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
