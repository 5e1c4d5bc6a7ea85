//! Writing `out/<host>/` atomically: the bundle is written into a fresh temporary directory next
//! to its destination, then moved into place with `rename`. Invalid input never reaches this
//! stage, and an I/O error while writing leaves the previous bundle untouched.

use std::fs;
use std::io;
use std::os::unix::fs::PermissionsExt as _;
use std::path::{Path, PathBuf};

use super::Bundle;

/// Writes `bundle` to `<out_root>/<host>/`, replacing what was there.
///
/// # Errors
/// Any I/O error; the previous bundle is then still in place.
pub fn write(bundle: &Bundle, out_root: &Path) -> io::Result<PathBuf> {
    fs::create_dir_all(out_root)?;
    let destination = out_root.join(&bundle.host);
    // The staging directory lives on the same filesystem as the destination so the final
    // rename is atomic; it is deleted on every early return.
    let staging = tempfile::Builder::new()
        .prefix(".blueprint-staging-")
        .tempdir_in(out_root)?;
    let fresh = staging.path().join("new");
    for (relative, file) in &bundle.files {
        let path = fresh.join(relative);
        if let Some(parent) = path.parent() {
            fs::create_dir_all(parent)?;
        }
        // No fsync per file: the rename below is what makes the bundle appear at once, and a
        // bundle lost to a crash is rebuilt from sites.toml (fsync made `build` 2-4× `cp -r`).
        fs::write(&path, file.contents())?;
        fs::set_permissions(&path, fs::Permissions::from_mode(file.mode()))?;
    }
    if destination.exists() {
        fs::rename(&destination, staging.path().join("old"))?;
    }
    if let Err(err) = fs::rename(&fresh, &destination) {
        // Put the previous bundle back before reporting.
        let _ = fs::rename(staging.path().join("old"), &destination);
        return Err(err);
    }
    Ok(destination)
}
