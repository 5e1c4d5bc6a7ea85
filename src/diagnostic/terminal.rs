//! What may reach the terminal from untrusted input. Every stage quotes `sites.toml` in its
//! messages, and a `sites.toml` from elsewhere must not be able to rewrite its own error
//! message, clear the screen or reorder the text; the renderers ([`super::human`],
//! [`super::json`] keeps the raw text, JSON escapes it) pass everything through here.

use unicode_width::UnicodeWidthChar as _;

/// A message for the terminal. Messages quote values from the input as they are written, so
/// characters that would garble the terminal ([`garbles_terminal`]) are shown as escapes such as
/// `\n`, `\u{1b}` or `\u{202e}`. Quotes and backslashes stay as they are, so a quoted value
/// reads like the TOML line under the message.
pub(super) fn shown(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for c in value.chars() {
        if garbles_terminal(c) {
            out.extend(c.escape_debug());
        } else {
            out.push(c);
        }
    }
    out
}

/// A source line for the quote under a message: a tab becomes a space and anything that would
/// garble the terminal becomes `\u{fffd}`, so what is printed is exactly what [`width`] measures.
pub(super) fn printable_line(line: &str) -> String {
    line.chars().map(printable).collect()
}

fn printable(c: char) -> char {
    match c {
        '\t' => ' ',
        c if garbles_terminal(c) => '\u{fffd}',
        c => c,
    }
}

/// How many terminal columns the printable form of `text` takes: wide characters (CJK, most
/// emoji) take two, combining marks none, so the carets stay under the value.
pub(super) fn width(text: &str) -> usize {
    text.chars()
        .map(|c| printable(c).width().unwrap_or(0))
        .sum()
}

/// Whether printing `c` could change how the rest of the line reads: control characters
/// (newline, escape sequences, NUL…) and the invisible Unicode characters that reorder or hide
/// text (bidirectional overrides, zero-width spaces).
pub(super) fn garbles_terminal(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{200b}'..='\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2060}'..='\u{2069}' | '\u{feff}'
        )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoted_values_cannot_garble_the_terminal() {
        assert_eq!(
            shown(r#"it's "a\b""#),
            r#"it's "a\b""#,
            "quotes stay as written"
        );
        assert_eq!(shown("a\nb\u{1b}[2Jc"), r"a\nb\u{1b}[2Jc");
        assert_eq!(shown("evil\u{202e}txt.exe"), r"evil\u{202e}txt.exe");
        assert_eq!(shown("café ✓"), "café ✓");
    }

    #[test]
    fn width_counts_terminal_columns() {
        assert_eq!(width("abc"), 3);
        assert_eq!(width("日本"), 4, "wide characters take two columns");
        assert_eq!(width("e\u{301}"), 1, "a combining accent takes none");
        assert_eq!(
            width("\t\u{1b}"),
            2,
            "a tab and a replaced escape take one each"
        );
    }
}
