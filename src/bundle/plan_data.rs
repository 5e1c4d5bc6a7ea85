//! Reads back the data of a bundle's `plan.sh` (scalars, one-line arrays and associative
//! arrays, every value quoted for bash by the renderer) so `blueprint plan` can compare what two
//! bundles say about sites, ports, domains, TLS, databases and secrets without the model of the
//! old one. Lines it does not understand are skipped: a plan degrades to fewer words, never fails.

use std::collections::BTreeMap;

/// One variable of plan.sh.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Var {
    /// `NAME=value`
    Scalar(String),
    /// `NAME=(a b)`
    List(Vec<String>),
    /// `declare -A NAME=([k]=v)`
    Map(BTreeMap<String, String>),
}

/// The variables of a plan.sh, by name.
pub fn parse(text: &str) -> BTreeMap<String, Var> {
    let mut vars = BTreeMap::new();
    for line in text.lines() {
        let (map, line) = match line.strip_prefix("declare -A ") {
            Some(rest) => (true, rest),
            None => (false, line),
        };
        let Some((name, value)) = line.split_once('=') else {
            continue;
        };
        if name.is_empty()
            || !name
                .chars()
                .all(|c| c.is_ascii_uppercase() || c == '_' || c.is_ascii_digit())
        {
            continue;
        }
        let var = match value.strip_prefix('(') {
            // A multi-line array starts with a lone `(`: not needed here.
            Some("") => continue,
            Some(inner) => {
                let items = words(inner.strip_suffix(')').unwrap_or(inner));
                if map {
                    Var::Map(
                        items
                            .iter()
                            .filter_map(|item| {
                                let (k, v) = item.strip_prefix('[')?.split_once("]=")?;
                                Some((k.to_owned(), v.to_owned()))
                            })
                            .collect(),
                    )
                } else {
                    Var::List(items)
                }
            }
            None => Var::Scalar(words(value).concat()),
        };
        vars.insert(name.to_owned(), var);
    }
    vars
}

/// Splits bash words: single quotes keep everything literally, a backslash escapes one
/// character, unquoted spaces separate words.
fn words(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut word = String::new();
    let mut in_word = false;
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        match c {
            '\'' => {
                in_word = true;
                for q in chars.by_ref() {
                    if q == '\'' {
                        break;
                    }
                    word.push(q);
                }
            }
            '\\' => {
                in_word = true;
                word.extend(chars.next());
            }
            ' ' | '\t' => {
                if in_word {
                    out.push(std::mem::take(&mut word));
                    in_word = false;
                }
            }
            c => {
                in_word = true;
                word.push(c);
            }
        }
    }
    if in_word {
        out.push(word);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_scalars_lists_and_maps_as_bash_would() {
        let vars = parse(
            "BP_SSH_PORT=22\nBP_SITES=(a 'b c')\ndeclare -A BP_D=([a]='x.com www.x.com' [b]=y\\'s)\nBP_FILES=(\n  'x'\n)\n# c\n",
        );
        assert_eq!(vars["BP_SSH_PORT"], Var::Scalar("22".into()));
        assert_eq!(vars["BP_SITES"], Var::List(vec!["a".into(), "b c".into()]));
        let Var::Map(map) = &vars["BP_D"] else {
            panic!()
        };
        assert_eq!(map["a"], "x.com www.x.com");
        assert_eq!(map["b"], "y's");
        assert!(!vars.contains_key("BP_FILES"));
    }
}
