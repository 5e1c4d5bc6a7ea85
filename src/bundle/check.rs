//! `blueprint build --check`: compare a freshly rendered bundle with `out/<host>/` on disk and
//! describe every difference as a unified diff, so CI can show exactly what is stale.

use std::collections::BTreeSet;
use std::fs;
use std::os::unix::fs::PermissionsExt as _;
use std::path::Path;

use similar::TextDiff;

use super::Bundle;

/// Returns a unified diff from what is on disk to what the bundle would write; empty when equal.
///
/// `SHA256SUMS` is left out of the diff: it changes with every other file, and ten lines of
/// hashes add nothing to review. Should it alone differ (edited by hand), one line says so.
pub fn diff(bundle: &Bundle, out_root: &Path) -> String {
    let root = out_root.join(&bundle.host);
    let on_disk = list_files(&root);
    let expected: BTreeSet<&str> = bundle.files.keys().map(String::as_str).collect();
    let mut out = String::new();
    let mut sums_differ = None;
    for path in on_disk
        .iter()
        .map(String::as_str)
        .chain(expected.iter().copied())
        .collect::<BTreeSet<_>>()
    {
        let disk_path = root.join(path);
        let old = fs::read_to_string(&disk_path).ok();
        let new = bundle.files.get(path);
        let shown = format!("{}/{path}", bundle.host);
        if path == super::manifest::FILE_NAME {
            let same = old.as_deref() == new.map(super::File::contents);
            if !same {
                sums_differ = Some(shown);
            }
            continue;
        }
        match (old.as_deref(), new) {
            (Some(old), Some(file)) if old == file.contents() => {
                let mode = fs::metadata(&disk_path)
                    .map(|m| m.permissions().mode() & 0o777)
                    .unwrap_or(0);
                if mode & 0o111 != file.mode() & 0o111 {
                    out.push_str(&format!(
                        "mode of {shown}: {mode:o} on disk, {:o} expected\n",
                        file.mode()
                    ));
                }
            }
            (old, new) => {
                let old_text = old.unwrap_or("");
                let new_text = new.map_or("", |f| f.contents());
                let a = if old.is_some() {
                    format!("a/{shown}")
                } else {
                    "/dev/null".to_owned()
                };
                let b = if new.is_some() {
                    format!("b/{shown}")
                } else {
                    "/dev/null".to_owned()
                };
                out.push_str(
                    &TextDiff::from_lines(old_text, new_text)
                        .unified_diff()
                        .context_radius(3)
                        .header(&a, &b)
                        .to_string(),
                );
            }
        }
    }
    if let (true, Some(shown)) = (out.is_empty(), sums_differ) {
        out = format!("{shown} differs (its diff is not shown)\n");
    }
    out
}

/// Every file below `root`, as `/`-separated relative paths (empty when `root` does not exist).
pub(crate) fn list_files(root: &Path) -> BTreeSet<String> {
    let mut files = BTreeSet::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let Ok(entries) = fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else if let Ok(relative) = path.strip_prefix(root) {
                files.insert(relative.to_string_lossy().replace('\\', "/"));
            }
        }
    }
    files
}
