//! Helpers for the real-tool validators: the bundles under test, finding a tool (or failing in
//! CI), running a command with its output captured, and small file-tree utilities.

use std::fmt::Write as _;
use std::os::unix::fs::MetadataExt as _;
use std::path::{Path, PathBuf};
use std::process::Command;

use tempfile::TempDir;

use crate::support::{in_ci, inputs, root};

/// One input compiled and written to a private temporary directory.
pub(super) struct Built {
    /// `example` for the shipped `sites.toml`, else the fixture's file stem.
    pub(super) name: String,
    /// The bundle directory (`<tmp>/<host>/`).
    pub(super) dir: PathBuf,
    /// Keeps the directory alive.
    _tmp: TempDir,
}

impl Built {
    /// Bundle files (relative, `/`-separated) under `prefix` whose name ends with `suffix`.
    pub(super) fn files(&self, prefix: &str, suffix: &str) -> Vec<String> {
        let mut found: Vec<String> = walk(&self.dir)
            .into_iter()
            .filter(|rel| rel.starts_with(prefix) && rel.ends_with(suffix))
            .collect();
        found.sort();
        found
    }

    /// A writable copy of the bundle with one file changed by `edit`, for negative tests.
    pub(super) fn mutated(&self, rel: &str, edit: impl FnOnce(&str) -> String) -> Built {
        let tmp = tempdir();
        let dir = tmp
            .path()
            .join(self.dir.file_name().expect("bundle dir name"));
        copy_tree(&self.dir, &dir);
        let path = dir.join(rel);
        let text = read(&path);
        let changed = edit(&text);
        assert_ne!(changed, text, "the mutation of {rel} changed nothing");
        std::fs::write(&path, changed).expect("write mutated file");
        Built {
            name: format!("{} (mutated {rel})", self.name),
            dir,
            _tmp: tmp,
        }
    }
}

impl Built {
    /// `config` (the text of a sites.toml) compiled and written to a temp dir, for checks that
    /// need a host of their own. Relative key paths resolve against the repository root.
    pub(super) fn from_config(name: &str, config: &str) -> Built {
        let tmp = tempdir();
        let path = tmp.path().join("sites.toml");
        std::fs::write(
            &path,
            config.replace("${REPO}", &root().display().to_string()),
        )
        .expect("write sites.toml");
        let bundle = blueprint::compile(&path)
            .unwrap_or_else(|report| panic!("{name} does not compile:\n{report}"));
        let (dir, _) = blueprint::bundle::write::write(&bundle, &tmp.path().join("out"))
            .unwrap_or_else(|e| panic!("writing the bundle of {name}: {e}"));
        Built {
            name: name.to_owned(),
            dir,
            _tmp: tmp,
        }
    }
}

/// The shipped example plus every `tests/fixtures/*.toml`, each built into its own temp dir with
/// the library API (never read from `out/`).
pub(super) fn bundles() -> Vec<Built> {
    inputs()
        .into_iter()
        .map(|input| {
            let config = root().join(&input);
            let bundle = blueprint::compile(&config)
                .unwrap_or_else(|report| panic!("{} does not compile:\n{report}", input.display()));
            let tmp = tempdir();
            let (dir, _) = blueprint::bundle::write::write(&bundle, tmp.path())
                .unwrap_or_else(|e| panic!("writing the bundle of {}: {e}", input.display()));
            let name = if input == Path::new("sites.toml") {
                "example".to_owned()
            } else {
                crate::support::stem(&input)
            };
            Built {
                name,
                dir,
                _tmp: tmp,
            }
        })
        .collect()
}

/// Reports a missing prerequisite: panics in CI, prints a loud skip message otherwise.
/// Returns `None` so callers can write `let Some(x) = … else { return };`.
pub(super) fn missing<T>(check: &str, what: &str) -> Option<T> {
    let message = format!("validate::{check}: {what}");
    assert!(
        !in_ci(),
        "{message} (CI=true: a missing tool fails the build)"
    );
    // Straight to the stderr handle: libtest captures `eprintln!` of passing tests.
    let _ = std::io::Write::write_all(
        &mut std::io::stderr(),
        format!("\n!!!!!!!! SKIPPED {message} — this check did NOT run !!!!!!!!\n\n").as_bytes(),
    );
    None
}

/// `name` on `PATH` (plus the sbin directories), or [`missing`].
pub(super) fn tool(check: &str, name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    let dirs = std::env::split_paths(&path)
        .chain(["/usr/local/sbin", "/usr/sbin", "/sbin"].map(PathBuf::from));
    for dir in dirs {
        let candidate = dir.join(name);
        if candidate.is_file() {
            return Some(candidate);
        }
    }
    missing(check, &format!("`{name}` is not installed (not on PATH)"))
}

/// The checks that create files for other users, bind-mount or switch users need root.
pub(super) fn require_root(check: &str) -> Option<()> {
    let euid = std::fs::metadata("/proc/self")
        .map(|m| m.uid())
        .unwrap_or(u32::MAX);
    if euid == 0 {
        Some(())
    } else {
        missing(
            check,
            "needs to run as root (chown, mount namespace, runuser)",
        )
    }
}

/// A finished command.
pub(super) struct Ran {
    pub(super) success: bool,
    pub(super) stdout: String,
    pub(super) stderr: String,
}

impl Ran {
    /// stdout and stderr together, for messages and searches.
    pub(super) fn output(&self) -> String {
        let mut all = self.stdout.clone();
        if !all.is_empty() && !all.ends_with('\n') {
            all.push('\n');
        }
        all.push_str(&self.stderr);
        all
    }
}

/// Runs `cmd` to completion with stdin closed and output captured; panics only if it cannot
/// be started at all.
pub(super) fn run(cmd: &mut Command) -> Ran {
    let shown = format!("{cmd:?}");
    let out = cmd
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("cannot run {shown}: {e}"));
    Ran {
        success: out.status.success(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// A fresh temporary directory.
pub(super) fn tempdir() -> TempDir {
    tempfile::Builder::new()
        .prefix("bp-validate-")
        .tempdir()
        .expect("create a temporary directory")
}

/// Reads a text file, panicking with its path.
pub(super) fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()))
}

/// Every regular file under `dir`, relative and `/`-separated.
pub(super) fn walk(dir: &Path) -> Vec<String> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(current) = stack.pop() {
        for entry in std::fs::read_dir(&current).expect("readable dir") {
            let path = entry.expect("dir entry").path();
            if path.is_dir() {
                stack.push(path);
            } else {
                let rel = path.strip_prefix(dir).expect("under dir");
                out.push(rel.to_string_lossy().replace('\\', "/"));
            }
        }
    }
    out
}

/// Copies the regular files of `from` into `to` (created), keeping the layout.
pub(super) fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("create copy root");
    for rel in walk(from) {
        let target = to.join(&rel);
        std::fs::create_dir_all(target.parent().expect("parent")).expect("create dirs");
        std::fs::copy(from.join(&rel), &target).expect("copy file");
    }
}

/// Fails the test with every collected problem, one block each.
pub(super) fn assert_no_failures(check: &str, failures: &[String]) {
    if failures.is_empty() {
        return;
    }
    let mut message = format!("{check}: {} failure(s)\n", failures.len());
    for failure in failures {
        let _ = write!(message, "\n--- {failure}\n");
    }
    panic!("{message}");
}

/// Numeric id of `name` in an `/etc/passwd`-style file's text (`None` if absent).
pub(super) fn id_of(db_text: &str, name: &str) -> Option<u32> {
    db_text.lines().find_map(|line| {
        let mut fields = line.split(':');
        (fields.next() == Some(name))
            .then(|| fields.nth(1).and_then(|id| id.parse().ok()))
            .flatten()
    })
}

/// Replaces each `from` in one pass, so a replacement is never rewritten again.
pub(super) fn replace_once(text: &str, pairs: &[(&str, String)]) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    'scan: while let Some(c) = rest.chars().next() {
        for (from, to) in pairs {
            if let Some(after) = rest.strip_prefix(from) {
                out.push_str(to);
                rest = after;
                continue 'scan;
            }
        }
        out.push(c);
        rest = &rest[c.len_utf8()..];
    }
    out
}

/// A TCP port on 127.0.0.1 that was free a moment ago (for throwaway servers).
pub(super) fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port()
}
