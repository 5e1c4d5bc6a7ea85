//! The result of a failed value check: what is wrong and what to do. [`super::Resolver`] pins
//! it to the value's span.

/// A rejected value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Invalid {
    /// What is wrong, lowercase, names in backticks.
    pub(super) message: String,
    /// What to do about it.
    pub(super) help: String,
}

impl Invalid {
    /// Builds a rejection.
    pub(super) fn new(message: impl Into<String>, help: impl Into<String>) -> Self {
        Self {
            message: message.into(),
            help: help.into(),
        }
    }
}

/// Result of a value check.
pub(super) type Checked<T> = Result<T, Invalid>;

/// Rejects control characters (newline, NUL, escape, DEL…), which no target format can carry
/// safely and which no legitimate value contains.
pub(super) fn no_control_chars(what: &str, value: &str) -> Checked<()> {
    match value.chars().find(|c| c.is_control()) {
        Some(c) => Err(Invalid::new(
            format!("{what} contains the control character {c}"),
            "remove newlines, tabs and other control characters from the value",
        )),
        None => Ok(()),
    }
}
