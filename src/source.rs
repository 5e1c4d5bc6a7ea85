//! The input file as read from disk: its path (as the user wrote it) and its text.
//! Diagnostics use it to turn byte offsets into `line:column` and to quote the offending line.

use std::fmt;
use std::path::{Path, PathBuf};

use crate::diagnostic::{Diagnostic, Report};

/// One source file; positions in diagnostics are byte offsets into `text`.
#[derive(Debug, Clone)]
pub struct SourceFile {
    path: PathBuf,
    text: String,
}

/// A 1-based line and column (columns count characters, not bytes).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Position {
    /// 1-based line number.
    pub line: usize,
    /// 1-based column, in characters.
    pub column: usize,
}

impl SourceFile {
    /// Builds a source from text already in memory (tests, fuzzing, benchmarks).
    pub fn new(path: impl Into<PathBuf>, text: impl Into<String>) -> Self {
        Self {
            path: path.into(),
            text: text.into(),
        }
    }

    /// Reads `path`; a missing or unreadable file is a diagnostic, not a panic.
    ///
    /// # Errors
    /// A report naming the path and the I/O error.
    pub fn read(path: &Path) -> Result<Self, Report> {
        match std::fs::read_to_string(path) {
            Ok(text) => Ok(Self::new(path, text)),
            Err(err) => Err(Report::without_source(Diagnostic::error(format!(
                "cannot read `{}`: {}",
                path.display(),
                err
            ))
            .with_help("pass the config with `--config <path>` or run from the directory that holds sites.toml"))),
        }
    }

    /// The path as given by the user (kept relative so output never names the build machine).
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The directory that relative paths in the file are resolved against.
    pub fn dir(&self) -> &Path {
        match self.path.parent() {
            Some(parent) if !parent.as_os_str().is_empty() => parent,
            _ => Path::new("."),
        }
    }

    /// The whole text.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// Position of a byte offset (clamped to the text, snapped back to a char boundary).
    pub fn position(&self, offset: usize) -> Position {
        let mut offset = offset.min(self.text.len());
        while !self.text.is_char_boundary(offset) {
            offset -= 1;
        }
        let before = &self.text[..offset];
        let line = before.matches('\n').count() + 1;
        let line_start = before.rfind('\n').map_or(0, |i| i + 1);
        let column = self.text[line_start..offset].chars().count() + 1;
        Position { line, column }
    }

    /// The text of 1-based line `line`, without its newline.
    pub fn line_text(&self, line: usize) -> &str {
        self.text.lines().nth(line.saturating_sub(1)).unwrap_or("")
    }
}

impl fmt::Display for Position {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.line, self.column)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_are_one_based_and_count_characters() {
        let src = SourceFile::new("s.toml", "a = 1\nné = \"x\"\n");
        assert_eq!(src.position(0), Position { line: 1, column: 1 });
        assert_eq!(src.position(6), Position { line: 2, column: 1 });
        // `=` on line 2 follows the two-byte `é`: byte 10, character column 4.
        assert_eq!(src.position(10), Position { line: 2, column: 4 });
        assert_eq!(src.position(9999), Position { line: 3, column: 1 });
        assert_eq!(src.line_text(2), "né = \"x\"");
    }
}
