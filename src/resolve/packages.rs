//! Stage 2 (resolve): the distribution packages a host needs beyond the bundle's own — the
//! names listed in `[host] packages`, and the package that provides each service's executable
//! when `run` names one from the system's directories (`/usr/bin/node` → `nodejs`). setup.sh
//! installs what is missing, so a unit is never written for a binary that cannot exist: an
//! executable there that no known or listed package provides is an error.

use super::invalid::{Checked, Invalid};
use crate::model::Os;

/// A Debian package name (Debian policy 5.6.1): `[a-z0-9][a-z0-9+.-]+`.
pub(super) fn package_name(name: &str) -> Checked<()> {
    let mut chars = name.chars();
    let first_ok = chars
        .next()
        .is_some_and(|c| c.is_ascii_lowercase() || c.is_ascii_digit());
    let rest_ok = chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "+.-".contains(c));
    if first_ok && rest_ok && (2..=100).contains(&name.len()) {
        Ok(())
    } else {
        Err(Invalid::new(
            format!("`{name}` is not a Debian package name"),
            "package names are lowercase letters, digits, `+`, `-` and `.`, at least two characters, e.g. `nodejs`",
        ))
    }
}

/// Where packages put executables; anything else (`/srv/sites/<site>/current/…`, `/opt/…`) is
/// the release's or the operator's.
const SYSTEM_DIRS: [&str; 4] = ["/usr/bin/", "/bin/", "/usr/sbin/", "/sbin/"];

/// Executables of the system's directories and the package that provides them, the same on
/// Debian 12 and Ubuntu 24.04.
const PROVIDED_BY: [(&str, &str); 22] = [
    ("bash", "bash"),
    ("cat", "coreutils"),
    ("dash", "dash"),
    ("env", "coreutils"),
    ("false", "coreutils"),
    ("go", "golang-go"),
    ("gunicorn", "gunicorn"),
    ("java", "default-jre-headless"),
    ("node", "nodejs"),
    ("nodejs", "nodejs"),
    ("npm", "npm"),
    ("npx", "npm"),
    ("perl", "perl-base"),
    ("php", "php-cli"),
    ("python", "python-is-python3"),
    ("python3", "python3"),
    ("ruby", "ruby"),
    ("sh", "dash"),
    ("sleep", "coreutils"),
    ("true", "coreutils"),
    ("uvicorn", "python3-uvicorn"),
    ("yarnpkg", "yarnpkg"),
];

/// Tools people run apps with that neither distribution packages, with what to do instead.
const NOT_PACKAGED: [(&str, &str); 5] = [
    ("pnpm", "run the built app with `/usr/bin/node` (Next.js standalone: `/usr/bin/node server.js`), or ship pnpm in the release"),
    ("yarn", "Debian's package `yarnpkg` provides `/usr/bin/yarnpkg`; or run the built app with `/usr/bin/node`"),
    ("bun", "ship bun in the release and run it from `/srv/sites/<site>/current/…`"),
    ("deno", "ship deno in the release and run it from `/srv/sites/<site>/current/…`"),
    ("pm2", "systemd already supervises the process: run the app itself, e.g. `/usr/bin/node server.js`"),
];

/// The package that provides `executable` when it lies in a system directory (`None`
/// elsewhere, or when `listed` names a package of the executable's own name).
pub(super) fn executable_package(
    executable: &str,
    os: Option<Os>,
    listed: &[String],
) -> Checked<Option<&'static str>> {
    let Some(name) = SYSTEM_DIRS
        .iter()
        .find_map(|dir| executable.strip_prefix(dir))
    else {
        return Ok(None);
    };
    if let Some((_, package)) = PROVIDED_BY.iter().find(|(exe, _)| *exe == name) {
        return Ok(Some(package));
    }
    // The interpreter of the OS's own Python version, e.g. `/usr/bin/python3.11`.
    let versioned = match os {
        Some(Os::Debian12) => ("python3.11", "python3.11"),
        Some(Os::Ubuntu2404) => ("python3.12", "python3.12"),
        None => ("", ""),
    };
    if name == versioned.0 {
        return Ok(Some(versioned.1));
    }
    if listed.iter().any(|p| p == name) {
        return Ok(None);
    }
    let os_name = os.map_or("the target OS", Os::id);
    if let Some((_, instead)) = NOT_PACKAGED.iter().find(|(exe, _)| *exe == name) {
        return Err(Invalid::new(
            format!("`{executable}` does not exist on {os_name}: no package provides `{name}`"),
            *instead,
        ));
    }
    Err(Invalid::new(
        format!("blueprint does not know which package provides `{executable}`"),
        format!("if {os_name}'s package `{name}` provides it, add `packages = [\"{name}\"]` to `[host]`; otherwise ship the executable in the release and run it from `/srv/sites/<site>/current/…`"),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn package_names_follow_debian_policy() {
        for ok in ["nodejs", "python3", "g++", "libc6.1-1", "0ad"] {
            assert!(package_name(ok).is_ok(), "{ok}");
        }
        for bad in [
            "", "a", "Node", "-x", "node js", "a;b", "a_b", "x/y", "$(x)",
        ] {
            assert!(package_name(bad).is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn interpreters_bring_their_package() {
        let none: &[String] = &[];
        let deb = Some(Os::Debian12);
        let ubu = Some(Os::Ubuntu2404);
        assert_eq!(
            executable_package("/usr/bin/node", deb, none),
            Ok(Some("nodejs"))
        );
        assert_eq!(
            executable_package("/usr/bin/python3", ubu, none),
            Ok(Some("python3"))
        );
        assert_eq!(
            executable_package("/bin/perl", deb, none),
            Ok(Some("perl-base"))
        );
        assert_eq!(
            executable_package("/usr/bin/python3.11", deb, none),
            Ok(Some("python3.11"))
        );
        assert!(executable_package("/usr/bin/python3.11", ubu, none).is_err());
        assert_eq!(
            executable_package("/srv/sites/a/current/app", deb, none),
            Ok(None)
        );
        assert_eq!(executable_package("/opt/app/bin/x", deb, none), Ok(None));
    }

    #[test]
    fn an_executable_no_package_provides_is_an_error() {
        let err = executable_package("/usr/bin/pnpm", Some(Os::Debian12), &[]).unwrap_err();
        assert!(
            err.message.contains("does not exist on debian-12"),
            "{err:?}"
        );
        assert!(err.help.contains("/usr/bin/node server.js"), "{err:?}");
        let err = executable_package("/usr/bin/redis-server", None, &[]).unwrap_err();
        assert!(
            err.help.contains("packages = [\"redis-server\"]"),
            "{err:?}"
        );
        let listed = ["redis-server".to_owned()];
        let ok = executable_package("/usr/bin/redis-server", None, &listed);
        assert_eq!(ok, Ok(None));
    }
}
