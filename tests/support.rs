//! Shared helpers for the integration tests.

use std::path::{Path, PathBuf};

/// The repository root (tests run with it as the working directory too).
pub(crate) fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Every `*.toml` in `dir` (relative to the root), sorted, as relative paths.
pub(crate) fn toml_files(dir: &str) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(root().join(dir))
        .expect("fixture directory exists")
        .map(|e| e.expect("readable entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .map(|p| p.strip_prefix(root()).expect("under root").to_path_buf())
        .collect();
    files.sort();
    files
}

/// The valid inputs every bundle test covers: the shipped example, then every
/// `tests/fixtures/*.toml`, as paths relative to the root.
pub(crate) fn inputs() -> Vec<PathBuf> {
    let mut inputs = vec![PathBuf::from("sites.toml")];
    inputs.extend(toml_files("tests/fixtures"));
    inputs
}

/// Whether we run in CI, where a missing tool is a failure instead of a skip.
pub(crate) fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| !v.is_empty() && v != "false" && v != "0")
}

/// insta settings that write snapshots to the top-level `snapshots/` directory.
pub(crate) fn snapshot_settings() -> insta::Settings {
    let mut settings = insta::Settings::clone_current();
    settings.set_snapshot_path(root().join("snapshots"));
    settings.set_prepend_module_to_snapshot(false);
    settings.set_omit_expression(true);
    settings
}

/// The file stem, for snapshot names.
pub(crate) fn stem(path: &Path) -> String {
    path.file_stem()
        .expect("file name")
        .to_string_lossy()
        .into_owned()
}
