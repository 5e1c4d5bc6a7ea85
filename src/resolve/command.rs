//! Stage 2 (resolve): a service's command line. It reaches systemd's `ExecStart=`, where no
//! shell runs: the renderer quotes every argument and lets systemd expand only the variables
//! allowed here. So this check splits the string form the way a shell would (`shlex`), and
//! refuses what a shell would do differently from systemd: any `$` other than the service's own
//! address (`$PORT`, `${PORT}`, `$HOST`, `${HOST}`), a `#` comment, unbalanced quotes.

use super::invalid::{no_control_chars, Checked, Invalid};
use crate::model::contract::RUN_VARIABLES;

/// Turns `run` (a string split with shell quoting rules, or an array of strings) into argv.
pub(super) fn command(run: &toml::Value) -> Checked<Vec<String>> {
    let argv: Vec<String> = match run {
        toml::Value::String(line) => split_line(line)?,
        toml::Value::Array(items) => items
            .iter()
            .map(|item| item.as_str().map(str::to_owned))
            .collect::<Option<_>>()
            .ok_or_else(|| {
                Invalid::new(
                    "`run` array must contain only strings",
                    "write `run = [\"/usr/bin/node\", \"server.js\"]`",
                )
            })?,
        _ => {
            return Err(Invalid::new(
                format!(
                    "`run` must be a string or an array of strings, found {}",
                    run.type_str()
                ),
                "write `run = \"/usr/bin/node server.js\"`",
            ))
        }
    };
    let Some(executable) = argv.first() else {
        return Err(Invalid::new(
            "`run` is empty",
            "give the absolute path of the executable, e.g. `/usr/bin/node server.js`",
        ));
    };
    for arg in &argv {
        no_control_chars("`run`", arg)?;
        if arg.is_empty() {
            return Err(Invalid::new(
                "`run` has an empty argument",
                "remove the empty string from the array",
            ));
        }
        if let Some(bad) = unknown_variable(arg) {
            return Err(Invalid::new(
                format!("`run` uses `{bad}`, which systemd would not expand"),
                format!(
                    "only `$PORT`, `$HOST` and `$METRICS_PORT` (or `${{PORT}}`…) are expanded (from the unit's `Environment=`); no shell runs, so pass other values through `env` or `secrets` and read them in the app. `run` splits into {}",
                    shown(&argv)
                ),
            ));
        }
    }
    let normalized = executable.starts_with('/')
        && !executable.ends_with('/')
        && !executable.contains("//")
        && !executable.contains('$')
        && !executable.split('/').any(|seg| seg == "." || seg == "..");
    if !normalized {
        return Err(Invalid::new(
            format!("executable `{executable}` is not an absolute path"),
            "systemd runs no shell: give the full path, e.g. `/usr/bin/node` (see `command -v node` on the host)",
        ));
    }
    Ok(argv)
}

/// Splits the string form like a POSIX shell: quotes group words, a backslash escapes.
fn split_line(line: &str) -> Checked<Vec<String>> {
    let argv = shlex::split(line).ok_or_else(|| {
        Invalid::new(
            "`run` has an unbalanced quote or a trailing backslash",
            "close every `\"` and `'`; or write the arguments as an array, e.g. `run = [\"/usr/bin/node\", \"server.js\"]`",
        )
    })?;
    // shlex drops a word starting with an unquoted `#` and the rest of the line, as a shell
    // would; the same text in `ExecStart=` would be arguments. Refuse rather than guess.
    let kept = argv.iter().map(|a| a.matches('#').count()).sum::<usize>();
    if kept != line.matches('#').count() {
        return Err(Invalid::new(
            "`run` has a `#` that a shell would read as a comment",
            format!(
                "quote the argument (`'#x'`) or remove it; as written `run` splits into {}",
                shown(&argv)
            ),
        ));
    }
    Ok(argv)
}

/// Whether `argv` names `variable` (`$NAME` or `${NAME}`).
pub(super) fn mentions(argv: &[String], variable: &str) -> bool {
    let plain = ["$", variable].concat();
    let braced = ["${", variable, "}"].concat();
    argv.iter().any(|arg| {
        arg.contains(&braced)
            || arg.match_indices(&plain).any(|(at, _)| {
                !arg[at + plain.len()..]
                    .starts_with(|c: char| c.is_ascii_alphanumeric() || c == '_')
            })
    })
}

/// The variables of [`RUN_VARIABLES`] that name a port, which a process listening on nothing
/// (a job, the release phase) does not have.
pub(super) const PORT_VARIABLES: [&str; 2] = ["PORT", "METRICS_PORT"];

/// The first `$` reference in `arg` that is not one of [`RUN_VARIABLES`], as written.
fn unknown_variable(arg: &str) -> Option<String> {
    let mut rest = arg;
    while let Some(at) = rest.find('$') {
        let after = &rest[at + 1..];
        let (name, written, len) = match after.strip_prefix('{') {
            Some(braced) => match braced.find('}') {
                Some(end) => (
                    &braced[..end],
                    ["${", &braced[..end], "}"].concat(),
                    end + 2,
                ),
                None => return Some(["$", after].concat()),
            },
            None => {
                let end = after
                    .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                    .unwrap_or(after.len());
                (&after[..end], ["$", &after[..end]].concat(), end)
            }
        };
        if !RUN_VARIABLES.contains(&name) {
            return Some(written);
        }
        rest = &after[len..];
    }
    None
}

/// argv as the reader should see it: `["/usr/bin/node", "server.js"]`.
fn shown(argv: &[String]) -> String {
    let quoted: Vec<String> = argv.iter().map(|a| format!("`{a}`")).collect();
    ["[", &quoted.join(", "), "]"].concat()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &str) -> toml::Value {
        toml::Value::String(v.into())
    }

    #[test]
    fn splits_and_validates() {
        assert_eq!(
            command(&s("/usr/bin/pnpm start")).unwrap(),
            ["/usr/bin/pnpm", "start"]
        );
        let arr = toml::Value::Array(vec![s("/usr/bin/node"), s("a b.js")]);
        assert_eq!(command(&arr).unwrap(), ["/usr/bin/node", "a b.js"]);
        for bad in [
            "",
            "node x",
            "./x",
            "/usr/../bin/x",
            "/bin/",
            "/bin/x\u{0}y",
            "$HOME/x",
        ] {
            assert!(command(&s(bad)).is_err(), "{bad:?} accepted");
        }
        assert!(command(&toml::Value::Integer(1)).is_err());
        assert!(command(&toml::Value::Array(vec![s("/bin/x"), s("a\nb")])).is_err());
    }

    #[test]
    fn the_string_form_follows_shell_quoting() {
        assert_eq!(
            command(&s(r#"/usr/bin/python3 -c 'print("a b")' "x y" z\ w"#)).unwrap(),
            ["/usr/bin/python3", "-c", r#"print("a b")"#, "x y", "z w"]
        );
        for bad in [
            "/usr/bin/x 'open",
            "/usr/bin/x \"open",
            "/usr/bin/x trailing\\",
        ] {
            let err = command(&s(bad)).unwrap_err();
            assert!(err.message.contains("unbalanced"), "{bad:?}: {err:?}");
        }
        let err = command(&s("/usr/bin/x a #b")).unwrap_err();
        assert!(err.message.contains("comment"), "{err:?}");
        assert_eq!(
            command(&s("/usr/bin/x a '#b' c#d")).unwrap(),
            ["/usr/bin/x", "a", "#b", "c#d"]
        );
    }

    #[test]
    fn only_the_services_address_may_be_expanded() {
        let ok = command(&s(
            "/usr/bin/x --port $PORT --bind=${HOST}:${PORT} \"$HOST\" a$PORT-b",
        ))
        .unwrap();
        assert_eq!(ok[2], "$PORT");
        assert_eq!(ok[3], "--bind=${HOST}:${PORT}");
        for (bad, named) in [
            ("/usr/bin/x $FOO", "$FOO"),
            ("/usr/bin/x ${FOO}", "${FOO}"),
            ("/usr/bin/x $PORTS", "$PORTS"),
            ("/usr/bin/x ${PORT", "${PORT"),
            ("/usr/bin/x price$", "$"),
            ("/usr/bin/x $$", "$"),
            ("/usr/bin/x '$HOME'", "$HOME"),
        ] {
            let err = command(&s(bad)).unwrap_err();
            assert!(
                err.message.contains(&format!("`{named}`")),
                "{bad:?}: {err:?}"
            );
            assert!(err.help.contains("$PORT") && err.help.contains("splits into"));
        }
        let arr = toml::Value::Array(vec![s("/bin/x"), s("$DATABASE_URL")]);
        assert!(command(&arr).is_err());
    }
}
