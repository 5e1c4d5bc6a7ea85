//! Stage 4: the rendered bundle as bytes, and what to do with it — write it atomically
//! ([`write`]) or compare it with what is on disk ([`check`]). The checksum manifest is part of
//! the bundle ([`manifest`]).

pub mod changes;
pub mod check;
pub mod fate;
pub mod manifest;
pub mod plan_data;
pub mod write;

use std::collections::btree_map::Entry;
use std::collections::BTreeMap;

pub use fate::Fate;

/// One generated file. Immutable once made, so its digest always matches its contents.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct File {
    contents: String,
    mode: u32,
    sha256: String,
    fate: Option<Fate>,
}

impl File {
    /// A file with `contents` (a trailing newline is ensured: every file is a proper text file).
    /// Hashed here, by whichever thread rendered it, so sealing a large bundle costs little.
    fn new(mut contents: String, mode: u32) -> Self {
        if !contents.ends_with('\n') {
            contents.push('\n');
        }
        let sha256 = manifest::sha256_hex(contents.as_bytes());
        Self {
            contents,
            mode,
            sha256,
            fate: None,
        }
    }

    /// Contents; always UTF-8 text ending in a newline.
    pub fn contents(&self) -> &str {
        &self.contents
    }

    /// Unix permission bits in the bundle (0o755 for scripts, 0o644 otherwise).
    pub fn mode(&self) -> u32 {
        self.mode
    }

    /// Lowercase hex SHA-256 of the contents, as in `SHA256SUMS`.
    pub fn sha256(&self) -> &str {
        &self.sha256
    }

    /// For a file under `files/`: how setup.sh installs it on the host.
    pub fn fate(&self) -> Option<&Fate> {
        self.fate.as_ref()
    }
}

/// Every file of `out/<host>/`, by path relative to it (`/`-separated, sorted).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bundle {
    /// The host name: the bundle's directory under the output root.
    pub host: String,
    /// Files by relative path.
    pub files: BTreeMap<String, File>,
}

impl Bundle {
    /// An empty bundle for `host`.
    pub fn new(host: impl Into<String>) -> Self {
        Self {
            host: host.into(),
            files: BTreeMap::new(),
        }
    }

    /// Adds a file; a trailing newline is ensured so every file is a proper text file.
    ///
    /// # Panics
    /// If two artifacts claim the same path: that is a bug in a renderer, never an input error,
    /// because names are validated to be unique before rendering.
    pub fn add(&mut self, path: impl Into<String>, contents: String, mode: u32) {
        self.insert(path.into(), File::new(contents, mode));
    }

    /// Adds a file that setup.sh installs at `host_path` (absolute) with `fate`. It is stored
    /// under `files/<host_path>`, executable in the bundle when it is on the host.
    ///
    /// # Panics
    /// Like [`Bundle::add`].
    pub fn add_host_file(&mut self, host_path: &str, contents: String, fate: Fate) {
        debug_assert!(host_path.starts_with('/'), "{host_path}");
        let mode = if fate.mode & 0o111 == 0 { 0o644 } else { 0o755 };
        let mut file = File::new(contents, mode);
        file.fate = Some(fate);
        self.insert(["files", host_path].concat(), file);
    }

    /// Moves every file of `part` (rendered separately, e.g. one site's files) into this bundle.
    ///
    /// # Panics
    /// Like [`Bundle::add`], if a path is already taken.
    pub fn merge(&mut self, part: Bundle) {
        for (path, file) in part.files {
            self.insert(path, file);
        }
    }

    fn insert(&mut self, path: String, file: File) {
        match self.files.entry(path) {
            Entry::Vacant(slot) => {
                slot.insert(file);
            }
            Entry::Occupied(taken) => panic!("two artifacts render to `{}`", taken.key()),
        }
    }

    /// Adds `SHA256SUMS` over every other file; call last.
    pub fn seal(&mut self) {
        let sums = manifest::sha256sums(self);
        self.files
            .insert(manifest::FILE_NAME.to_owned(), File::new(sums, 0o644));
    }
}
