//! Every `files/etc/logrotate.d/*` file passes `logrotate -d -f` (debug: reads, globs, checks
//! permissions, changes nothing) with exit 0 and no `error:`.
//!
//! logrotate refuses `su`/`create` lines naming unknown users, and checks the log directories'
//! ownership. So each file runs in a private mount namespace (`unshare --mount`) where copies of
//! /etc/passwd and /etc/group, with the site users added, are bind-mounted over the real ones
//! (the real files are never edited), on a copy whose `/srv/` paths point into a temp dir laid
//! out the way setup.sh lays out the host: the directory of an `su U G` block owned by U:G 0750,
//! other log directories root 0755, and one non-empty sample log per pattern so every block is
//! really exercised.

use std::os::unix::fs::PermissionsExt as _;
use std::path::{Path, PathBuf};
use std::process::Command;

use super::support::{
    assert_no_failures, bundles, id_of, read, replace_once, require_root, run, tempdir, tool, Built,
};

const LOGROTATE_D: &str = "files/etc/logrotate.d/";

struct Tools {
    logrotate: PathBuf,
    unshare: PathBuf,
    mount: PathBuf,
}

fn tools() -> Option<Tools> {
    require_root("logrotate")?;
    Some(Tools {
        logrotate: tool("logrotate", "logrotate")?,
        unshare: tool("logrotate", "unshare")?,
        mount: tool("logrotate", "mount")?,
    })
}

/// One `PATTERN… { … }` block of a logrotate file.
#[derive(Default)]
struct Block {
    patterns: Vec<String>,
    /// `su USER GROUP`.
    su: Option<(String, String)>,
    /// Owner and group of `create MODE OWNER GROUP`.
    create: Vec<String>,
}

fn parse(text: &str) -> Vec<Block> {
    let mut blocks = Vec::new();
    let mut current: Option<Block> = None;
    let mut in_script = false;
    for line in text.lines().map(str::trim) {
        if line.starts_with('#') || line.is_empty() {
            continue;
        }
        let words: Vec<&str> = line.split_whitespace().collect();
        if in_script {
            in_script = line != "endscript";
            continue;
        }
        match (&mut current, words.as_slice()) {
            (None, [patterns @ .., "{"]) => {
                current = Some(Block {
                    patterns: patterns
                        .iter()
                        .map(|p| p.trim_matches('"').to_owned())
                        .collect(),
                    ..Block::default()
                });
            }
            (Some(block), ["su", user, group]) => {
                block.su = Some(((*user).to_owned(), (*group).to_owned()))
            }
            (Some(block), ["create", _mode, owner_group @ ..]) => {
                block
                    .create
                    .extend(owner_group.iter().map(|s| (*s).to_owned()));
            }
            (
                Some(_),
                ["postrotate" | "prerotate" | "firstaction" | "lastaction" | "preremove"],
            ) => {
                in_script = true;
            }
            (Some(_), ["}"]) => blocks.extend(current.take()),
            _ => {}
        }
    }
    blocks
}

/// Copies of /etc/passwd and /etc/group with `users` and `groups` added when missing; returns
/// the name → id lookups to use for the sample tree.
fn accounts(dir: &Path, users: &[String], groups: &[String]) -> (PathBuf, PathBuf, String, String) {
    let mut passwd = read(Path::new("/etc/passwd"));
    let mut group = read(Path::new("/etc/group"));
    let mut next = 61000_u32;
    let mut fresh_id = |passwd: &str, group: &str| loop {
        next += 1;
        let taken = |db: &str| {
            db.lines()
                .any(|l| l.split(':').nth(2) == Some(&next.to_string()))
        };
        if !taken(passwd) && !taken(group) {
            break next;
        }
    };
    for name in users.iter().chain(groups) {
        if id_of(&passwd, name).is_none() && users.contains(name) {
            let id = id_of(&group, name).unwrap_or_else(|| fresh_id(&passwd, &group));
            passwd.push_str(&format!(
                "{name}:x:{id}:{id}::/nonexistent:/usr/sbin/nologin\n"
            ));
        }
        if id_of(&group, name).is_none() && groups.contains(name) {
            let id = id_of(&passwd, name).unwrap_or_else(|| fresh_id(&passwd, &group));
            group.push_str(&format!("{name}:x:{id}:\n"));
        }
    }
    let (passwd_path, group_path) = (dir.join("passwd"), dir.join("group"));
    std::fs::write(&passwd_path, &passwd).expect("write passwd copy");
    std::fs::write(&group_path, &group).expect("write group copy");
    (passwd_path, group_path, passwd, group)
}

/// `logrotate -d -f` on one file of the bundle, in a namespace where its users exist.
fn check_logrotate(built: &Built, rel: &str, tools: &Tools) -> Result<(), String> {
    let tmp = tempdir();
    // The su'd logrotate must be able to traverse to the logs.
    std::fs::set_permissions(tmp.path(), std::fs::Permissions::from_mode(0o755)).expect("chmod");
    let outside = tmp.path().join("root");
    let text = replace_once(
        &read(&built.dir.join(rel)),
        &[
            ("/srv/", format!("{}/srv/", outside.display())),
            ("/var/log/", format!("{}/var/log/", outside.display())),
        ],
    );
    let blocks = parse(&text);
    if blocks.is_empty() {
        return Err(format!("{rel} (bundle {}) has no log block", built.name));
    }
    let mut users = Vec::new();
    let mut groups = Vec::new();
    for block in &blocks {
        if let Some((user, group)) = &block.su {
            users.push(user.clone());
            groups.push(group.clone());
        }
        if let [owner, rest @ ..] = block.create.as_slice() {
            users.push(owner.clone());
            groups.extend(rest.first().cloned());
        }
    }
    let (passwd_path, group_path, passwd, group) = accounts(tmp.path(), &users, &groups);

    let mut samples = Vec::new();
    for block in &blocks {
        let (uid, gid, mode) = match &block.su {
            Some((user, group_name)) => (
                id_of(&passwd, user).expect("added"),
                id_of(&group, group_name).expect("added"),
                0o750,
            ),
            None => (0, 0, 0o755),
        };
        for pattern in &block.patterns {
            let pattern = Path::new(pattern);
            let (Some(dir), Some(file)) = (pattern.parent(), pattern.file_name()) else {
                continue;
            };
            if !dir.starts_with(&outside) {
                return Err(format!(
                    "{rel} (bundle {}): log pattern {} is outside the paths this test redirects \
                     (/srv/, /var/log/); extend the rewrite in tests/validate/logrotate.rs",
                    built.name,
                    pattern.display()
                ));
            }
            std::fs::create_dir_all(dir).expect("log dir");
            std::os::unix::fs::chown(dir, Some(uid), Some(gid)).expect("chown log dir");
            std::fs::set_permissions(dir, std::fs::Permissions::from_mode(mode)).expect("chmod");
            let file = file.to_string_lossy();
            if file.contains(['?', '[', '{']) {
                continue;
            }
            let sample = dir.join(file.replace('*', "bp-sample"));
            std::fs::write(&sample, "a log line\n").expect("sample log");
            std::os::unix::fs::chown(&sample, Some(uid), Some(gid)).expect("chown sample");
            std::fs::set_permissions(&sample, std::fs::Permissions::from_mode(0o640))
                .expect("chmod");
            samples.push(sample);
        }
    }

    let conf = tmp
        .path()
        .join(Path::new(rel).file_name().expect("file name"));
    std::fs::write(&conf, &text).expect("write config copy");
    let state = tmp.path().join("state");
    let ran = run(Command::new(&tools.unshare)
        .args(["--mount", "--propagation", "private", "--", "/bin/sh", "-c"])
        .arg(r#""$1" --bind "$2" /etc/passwd && "$1" --bind "$3" /etc/group && exec "$4" -d -f -s "$5" "$6""#)
        .arg("sh")
        .args([&tools.mount, &passwd_path, &group_path, &tools.logrotate, &state, &conf]));
    let output = ran
        .output()
        .replace(&conf.display().to_string(), rel)
        .replace(&format!("{}/", outside.display()), "/");
    let errors: Vec<&str> = output.lines().filter(|l| l.contains("error:")).collect();
    if !ran.success || !errors.is_empty() {
        return Err(format!(
            "logrotate -d rejected {rel} (bundle {}): {}",
            built.name,
            if errors.is_empty() {
                output.clone()
            } else {
                errors.join("\n")
            }
        ));
    }
    let raw = ran.output();
    for sample in &samples {
        if !raw.contains(&format!("considering log {}", sample.display())) {
            return Err(format!(
                "logrotate -d ignored the sample log {} of {rel} (bundle {}): {output}",
                sample.display(),
                built.name
            ));
        }
    }
    Ok(())
}

#[test]
fn logrotate_accepts_every_file() {
    let Some(tools) = tools() else { return };
    let mut failures = Vec::new();
    let mut checked = 0;
    for built in bundles() {
        for rel in built.files(LOGROTATE_D, "") {
            checked += 1;
            if let Err(failure) = check_logrotate(&built, &rel, &tools) {
                failures.push(failure);
            }
        }
    }
    assert!(checked > 0, "no bundle has a logrotate file");
    assert_no_failures("logrotate -d", &failures);
}

#[test]
fn logrotate_check_can_fail_and_names_the_file() {
    let Some(tools) = tools() else { return };
    let example = bundles().into_iter().next().expect("the example bundle");
    let rel = example
        .files(LOGROTATE_D, "")
        .into_iter()
        .next()
        .expect("a logrotate file");
    let typo = example.mutated(&rel, |text| text.replacen(" {\n", " {\n    rotat 14\n", 1));
    let err =
        check_logrotate(&typo, &rel, &tools).expect_err("logrotate accepted an unknown option");
    eprintln!("expected failure: {err}");
    assert!(
        err.starts_with(&format!("logrotate -d rejected {rel} ")),
        "{err}"
    );
    assert!(err.contains("rotat"), "{err}");
}
