//! A service's command line. It reaches systemd's `ExecStart=`, where the renderer quotes every
//! argument; here we make sure the executable is an absolute, normalized path and no argument
//! carries control characters.

use super::invalid::{no_control_chars, Checked, Invalid};

/// Turns `run` (a string split on whitespace, or an array of strings) into argv.
pub(super) fn command(run: &toml::Value) -> Checked<Vec<String>> {
    let argv: Vec<String> = match run {
        toml::Value::String(line) => line.split_ascii_whitespace().map(str::to_owned).collect(),
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
    }
    let normalized = executable.starts_with('/')
        && !executable.ends_with('/')
        && !executable.contains("//")
        && !executable.split('/').any(|seg| seg == "." || seg == "..");
    if !normalized {
        return Err(Invalid::new(
            format!("executable `{executable}` is not an absolute path"),
            "systemd runs no shell: give the full path, e.g. `/usr/bin/node` (see `command -v node` on the host)",
        ));
    }
    Ok(argv)
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
        ] {
            assert!(command(&s(bad)).is_err(), "{bad:?} accepted");
        }
        assert!(command(&toml::Value::Integer(1)).is_err());
        assert!(command(&toml::Value::Array(vec![s("/bin/x"), s("a\nb")])).is_err());
    }
}
