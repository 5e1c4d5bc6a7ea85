//! How diagnostics reach the user: `--message-format human|json` and `--color auto|always|never`
//! (auto: colour only when stderr is a terminal and `NO_COLOR` is unset or empty, as
//! no-color.org asks).

use std::io::IsTerminal as _;

use clap::ValueEnum;

use crate::diagnostic::{Report, Style};

/// `--color`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Default)]
pub enum Color {
    /// Colour when stderr is a terminal and `NO_COLOR` is not set.
    #[default]
    Auto,
    /// Always colour.
    Always,
    /// Never colour.
    Never,
}

/// `--message-format`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Default)]
pub enum MessageFormat {
    /// rustc-style text on stderr.
    #[default]
    Human,
    /// One JSON object per diagnostic and line, on stdout.
    Json,
}

/// Where and how a report is printed.
#[derive(Debug, Clone, Copy)]
pub struct Output {
    /// Text or JSON.
    pub format: MessageFormat,
    /// Colour choice, already decided.
    pub style: Style,
}

impl Output {
    /// Decides the style from the flag, the environment and the terminal.
    pub fn new(format: MessageFormat, color: Color) -> Self {
        let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
        let colored = wants_color(color, no_color, std::io::stderr().is_terminal());
        Self {
            format,
            style: if colored {
                Style::Colored
            } else {
                Style::Plain
            },
        }
    }

    /// Prints a report (nothing when it is empty).
    pub fn report(&self, report: &Report) {
        if report.diagnostics().is_empty() {
            return;
        }
        match self.format {
            MessageFormat::Human => eprintln!("{}", report.human(self.style)),
            MessageFormat::Json => print!("{}", report.json()),
        }
    }
}

/// `--color` wins; `auto` colours a terminal unless `NO_COLOR` is set (and not empty).
fn wants_color(color: Color, no_color: bool, terminal: bool) -> bool {
    match color {
        Color::Always => true,
        Color::Never => false,
        Color::Auto => !no_color && terminal,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_color_and_the_flag_decide() {
        assert!(wants_color(Color::Auto, false, true));
        assert!(!wants_color(Color::Auto, true, true), "NO_COLOR");
        assert!(!wants_color(Color::Auto, false, false), "not a terminal");
        assert!(wants_color(Color::Always, true, false));
        assert!(!wants_color(Color::Never, false, true));
    }
}
