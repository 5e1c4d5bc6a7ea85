//! Small parsers for the output languages, strict where a value could break out: systemd unit
//! assignments, specifiers, word splitting with C unescaping and `$` expansion; nginx tokens and
//! directives; and the structure of a whole bundle (what a hostile value must not change).

use std::collections::BTreeMap;

use blueprint::bundle::Bundle;

/// systemd unit: `(section, key, value)` per assignment, with continuation lines joined.
/// Lines that are neither comments, sections nor assignments come out as key `<garbage>`.
pub(super) fn parse_unit(text: &str) -> Vec<(String, String, String)> {
    let mut out = Vec::new();
    let mut section = String::new();
    let mut lines = text.lines();
    while let Some(line) = lines.next() {
        let mut line = line.to_owned();
        while line.ends_with('\\') {
            line.pop();
            line.push(' ');
            match lines.next() {
                Some(next) => line.push_str(next),
                None => break,
            }
        }
        let t = line.trim_matches(|c| matches!(c, ' ' | '\t'));
        if t.is_empty() || t.starts_with('#') || t.starts_with(';') {
            continue;
        }
        if t.starts_with('[') && t.ends_with(']') {
            section = t[1..t.len() - 1].to_owned();
            continue;
        }
        match t.split_once('=') {
            Some((k, v)) => out.push((section.clone(), k.trim().to_owned(), v.trim().to_owned())),
            None => out.push((section.clone(), "<garbage>".to_owned(), t.to_owned())),
        }
    }
    out
}

/// systemd specifier expansion, accepting only `%%` (any other specifier would change the value).
pub(super) fn systemd_specifiers(value: &str) -> Result<String, String> {
    let mut out = String::new();
    let mut chars = value.chars();
    while let Some(c) = chars.next() {
        if c == '%' {
            match chars.next() {
                Some('%') => out.push('%'),
                other => return Err(format!("unescaped specifier %{other:?} in {value:?}")),
            }
        } else {
            out.push(c);
        }
    }
    Ok(out)
}

/// systemd's word splitting with unquoting and C unescaping (`extract_first_word` with
/// `EXTRACT_UNQUOTE | EXTRACT_CUNESCAPE`).
pub(super) fn systemd_words(value: &str) -> Result<Vec<String>, String> {
    Ok(systemd_words_quoted(value)?
        .into_iter()
        .map(|(w, _)| w)
        .collect())
}

/// Like [`systemd_words`], with whether each word used quotes or escapes.
fn systemd_words_quoted(value: &str) -> Result<Vec<(String, bool)>, String> {
    let ws = |c: char| matches!(c, ' ' | '\t' | '\n' | '\r');
    let mut words = Vec::new();
    let mut chars = value.chars().peekable();
    loop {
        while chars.peek().is_some_and(|c| ws(*c)) {
            chars.next();
        }
        if chars.peek().is_none() {
            return Ok(words);
        }
        let mut word = String::new();
        let mut quote: Option<char> = None;
        let mut quoted = false;
        while let Some(c) = chars.next() {
            match (quote, c) {
                (_, '\\') => {
                    quoted = true;
                    let e = chars.next().ok_or("trailing backslash")?;
                    word.push(match e {
                        'n' => '\n',
                        't' => '\t',
                        'r' => '\r',
                        'a' => '\u{7}',
                        'b' => '\u{8}',
                        'f' => '\u{c}',
                        'v' => '\u{b}',
                        's' => ' ',
                        '\\' | '"' | '\'' => e,
                        other => return Err(format!("unexpected escape \\{other}")),
                    });
                }
                (None, q @ ('"' | '\'')) => {
                    quote = Some(q);
                    quoted = true;
                }
                (Some(q), c) if c == q => quote = None,
                (None, c) if ws(c) => break,
                (_, c) => word.push(c),
            }
        }
        if quote.is_some() {
            return Err(format!("unterminated quote in {value:?}"));
        }
        words.push((word, quoted));
    }
}

/// `ExecStart=` argument: `$$` is a literal `$`; any other `$NAME`/`${NAME}` would be expanded.
pub(super) fn systemd_dollars(word: &str) -> Result<String, String> {
    let mut out = String::new();
    let mut chars = word.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '$' {
            match chars.peek() {
                Some('$') => {
                    chars.next();
                    out.push('$');
                }
                Some(n) if n.is_ascii_alphanumeric() || *n == '_' || *n == '{' => {
                    return Err(format!("variable expansion in {word:?}"))
                }
                _ => out.push('$'),
            }
        } else {
            out.push(c);
        }
    }
    Ok(out)
}

/// The `KEY=value` assignments of every `Environment=` line of a unit.
pub(super) fn unit_environment(
    unit: &[(String, String, String)],
) -> Result<BTreeMap<String, String>, String> {
    let mut env = BTreeMap::new();
    for (_, _, v) in unit
        .iter()
        .filter(|(s, k, _)| s == "Service" && k == "Environment")
    {
        for word in systemd_words(&systemd_specifiers(v)?)? {
            let (name, value) = word.split_once('=').ok_or("assignment without `=`")?;
            if env.insert(name.to_owned(), value.to_owned()).is_some() {
                return Err(format!("`{name}` assigned twice"));
            }
        }
    }
    Ok(env)
}

/// The argv of the unit's `ExecStart=`.
pub(super) fn unit_argv(unit: &[(String, String, String)]) -> Result<Vec<String>, String> {
    let lines: Vec<_> = unit.iter().filter(|(_, k, _)| k == "ExecStart").collect();
    if lines.len() != 1 {
        return Err(format!("{} ExecStart= lines", lines.len()));
    }
    let words = systemd_words_quoted(&systemd_specifiers(&lines[0].2)?)?;
    // An unquoted lone `;` would start a second command line.
    if words.iter().any(|(w, quoted)| w == ";" && !quoted) {
        return Err("unquoted `;` in ExecStart=".to_owned());
    }
    words.iter().map(|(w, _)| systemd_dollars(w)).collect()
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Tok {
    Word(String),
    Open,
    Close,
    Semi,
}

/// nginx configuration tokens, with quotes removed and escapes resolved.
fn nginx_tokens(text: &str) -> Result<Vec<Tok>, String> {
    let mut toks = Vec::new();
    let mut chars = text.chars().peekable();
    while let Some(&c) = chars.peek() {
        match c {
            c if c.is_ascii_whitespace() => {
                chars.next();
            }
            '#' => while chars.next().is_some_and(|c| c != '\n') {},
            '{' | '}' | ';' => {
                chars.next();
                toks.push(match c {
                    '{' => Tok::Open,
                    '}' => Tok::Close,
                    _ => Tok::Semi,
                });
            }
            '"' | '\'' => {
                chars.next();
                let mut word = String::new();
                loop {
                    match chars.next() {
                        None => return Err("unterminated quoted string".to_owned()),
                        Some(q) if q == c => break,
                        Some('\\') => match chars.next() {
                            Some(e @ ('"' | '\'' | '\\')) => word.push(e),
                            Some('n') => word.push('\n'),
                            Some('t') => word.push('\t'),
                            Some('r') => word.push('\r'),
                            Some(e) => {
                                word.push('\\');
                                word.push(e);
                            }
                            None => return Err("unterminated escape".to_owned()),
                        },
                        Some(x) => word.push(x),
                    }
                }
                toks.push(Tok::Word(word));
            }
            _ => {
                let mut word = String::new();
                while let Some(&x) = chars.peek() {
                    if x.is_ascii_whitespace() || matches!(x, '{' | '}' | ';' | '"' | '\'') {
                        break;
                    }
                    chars.next();
                    if x == '\\' {
                        if let Some(e) = chars.next() {
                            word.push(e);
                        }
                    } else {
                        word.push(x);
                    }
                }
                toks.push(Tok::Word(word));
            }
        }
    }
    Ok(toks)
}

/// One directive: its block depth, name and arguments.
type Directive = (usize, String, Vec<String>);

/// The directives of an nginx file, in order; errors on unbalanced blocks or a dangling directive.
pub(super) fn nginx_directives(text: &str) -> Result<Vec<Directive>, String> {
    let mut out = Vec::new();
    let mut depth = 0usize;
    let mut current: Vec<String> = Vec::new();
    for tok in nginx_tokens(text)? {
        match tok {
            Tok::Word(w) => current.push(w),
            Tok::Semi | Tok::Open => {
                if current.is_empty() {
                    return Err("empty directive".to_owned());
                }
                let name = current.remove(0);
                out.push((depth, name, std::mem::take(&mut current)));
                if tok == Tok::Open {
                    depth += 1;
                }
            }
            Tok::Close => {
                if !current.is_empty() {
                    return Err(format!("directive {current:?} without `;`"));
                }
                depth = depth.checked_sub(1).ok_or("unbalanced `}`")?;
            }
        }
    }
    if depth != 0 || !current.is_empty() {
        return Err("unterminated block or directive".to_owned());
    }
    Ok(out)
}

/// The shape of the bundle: every file's path, plus its parsed structure (directive names or
/// unit keys) for the languages whose syntax a value could break out of.
pub(super) fn structure(bundle: &Bundle) -> Result<BTreeMap<String, Vec<String>>, String> {
    let mut out = BTreeMap::new();
    for (path, file) in &bundle.files {
        let shape = if path.ends_with(".service") {
            parse_unit(file.contents())
                .into_iter()
                .map(|(s, k, _)| format!("{s}/{k}"))
                .collect()
        } else if path.starts_with("files/etc/nginx/") {
            nginx_directives(file.contents())
                .map_err(|e| format!("{path}: {e}"))?
                .into_iter()
                .map(|(d, n, args)| format!("{d}:{n}/{}", args.len()))
                .collect()
        } else {
            Vec::new()
        };
        out.insert(path.clone(), shape);
    }
    Ok(out)
}
