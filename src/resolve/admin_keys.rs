//! `admin_keys`: paths on the build machine (with `~` and `${VAR}` expanded by shellexpand) of
//! OpenSSH public keys. The keys themselves are read at build time and copied into the bundle;
//! the paths never are, so the bundle does not depend on the laptop that built it.

use std::io::Read as _;
use std::path::{Path, PathBuf};

use super::invalid::{Checked, Invalid};

/// Key types OpenSSH accepts in `authorized_keys`.
const KEY_TYPES: &[&str] = &[
    "ssh-ed25519",
    "ssh-rsa",
    "ecdsa-sha2-nistp256",
    "ecdsa-sha2-nistp384",
    "ecdsa-sha2-nistp521",
    "sk-ssh-ed25519@openssh.com",
    "sk-ecdsa-sha2-nistp256@openssh.com",
];

/// Largest key file read: a public key file is a few hundred bytes per key.
const MAX_KEY_FILE: u64 = 64 * 1024;

/// Expands, reads and validates one key file; relative paths are relative to `base`.
///
/// Messages name the path as written, never expanded: `${CI_DEPLOY_TOKEN}` must not print the
/// token. Only a regular file of at most 64 KiB is read, so `/dev/zero` or a FIFO cannot make
/// the build read forever or hang.
pub(super) fn read_key_file(raw_path: &str, base: &Path) -> Checked<Vec<String>> {
    let expanded = shellexpand::full(raw_path).map_err(|err| {
        Invalid::new(
            format!("cannot expand `{raw_path}`: {}", err.var_name),
            "set the variable in the environment that runs `blueprint build`, or write the path literally",
        )
    })?;
    let path = PathBuf::from(expanded.as_ref());
    let path = if path.is_absolute() {
        path
    } else {
        base.join(path)
    };
    let unreadable = |why: String| {
        Invalid::new(
            format!("cannot read admin key `{raw_path}`: {why}"),
            "point `admin_keys` at an existing public key file, e.g. a copy in `keys/` beside sites.toml",
        )
    };
    let meta = std::fs::metadata(&path).map_err(|err| unreadable(err.to_string()))?;
    if !meta.is_file() {
        return Err(unreadable("not a regular file".to_owned()));
    }
    if meta.len() > MAX_KEY_FILE {
        return Err(unreadable(format!(
            "larger than {} KiB, too large for a public key file",
            MAX_KEY_FILE / 1024
        )));
    }
    let mut text = String::new();
    std::fs::File::open(&path)
        .and_then(|file| file.take(MAX_KEY_FILE + 1).read_to_string(&mut text))
        .map_err(|err| unreadable(err.to_string()))?;
    if text.len() as u64 > MAX_KEY_FILE {
        return Err(unreadable(
            "it grew past 64 KiB while being read".to_owned(),
        ));
    }
    parse_keys(&text, raw_path)
}

/// Validates the lines of a public key file; comments and blank lines are dropped.
pub(super) fn parse_keys(text: &str, shown_path: &str) -> Checked<Vec<String>> {
    if text.contains("PRIVATE KEY") {
        return Err(Invalid::new(
            format!("`{shown_path}` is a private key"),
            "use the public half (the `.pub` file); a private key must never leave your machine",
        ));
    }
    let mut keys = Vec::new();
    for line in text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
    {
        keys.push(key_line(line, shown_path)?);
    }
    if keys.is_empty() {
        return Err(Invalid::new(
            format!("`{shown_path}` holds no public key"),
            "point `admin_keys` at a `.pub` file",
        ));
    }
    Ok(keys)
}

/// One `type base64 [comment]` line, re-joined with single spaces.
fn key_line(line: &str, shown_path: &str) -> Checked<String> {
    let bad = || {
        Invalid::new(
            format!("`{shown_path}` contains a line that is not an OpenSSH public key"),
            "each line must look like `ssh-ed25519 AAAA… comment` (options before the key are not supported)",
        )
    };
    let mut parts = line.split_ascii_whitespace();
    let (Some(kind), Some(blob)) = (parts.next(), parts.next()) else {
        return Err(bad());
    };
    let blob_ok = blob.len() >= 16
        && blob
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '/' | '='));
    if !KEY_TYPES.contains(&kind) || !blob_ok {
        return Err(bad());
    }
    let comment: Vec<&str> = parts.collect();
    let comment_ok = comment.iter().all(|w| {
        w.chars()
            .all(|c| c.is_ascii_graphic() && !matches!(c, '\'' | '"' | '\\' | '`' | '$'))
    });
    let mut key = format!("{kind} {blob}");
    if comment_ok && !comment.is_empty() {
        key.push(' ');
        key.push_str(&comment.join(" "));
    }
    Ok(key)
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &str =
        "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIFakeKeyForTestsOnly0000000000000000000000 ops@laptop";

    #[test]
    fn keys() {
        assert_eq!(
            parse_keys(&format!("# mine\n{KEY}\n\n"), "k").unwrap(),
            [KEY]
        );
        // A comment with shell syntax is dropped rather than copied.
        let odd = KEY.replace("ops@laptop", "$(reboot)");
        assert_eq!(
            parse_keys(&odd, "k").unwrap()[0],
            KEY.replace(" ops@laptop", "")
        );
        assert!(parse_keys("-----BEGIN OPENSSH PRIVATE KEY-----\n", "k").is_err());
        assert!(parse_keys("", "k").is_err());
        assert!(parse_keys("command=\"x\" ssh-ed25519 AAAA", "k").is_err());
        assert!(parse_keys("ssh-ed25519 AAAA;rm", "k").is_err());
    }

    #[test]
    fn a_missing_file_is_named_as_written_never_expanded() {
        std::env::set_var("BLUEPRINT_TEST_TOKEN", "s3cr3t-token-value");
        let err = read_key_file("/tmp/${BLUEPRINT_TEST_TOKEN}.pub", Path::new(".")).unwrap_err();
        assert!(
            err.message.contains("`/tmp/${BLUEPRINT_TEST_TOKEN}.pub`"),
            "{}",
            err.message
        );
        assert!(!err.message.contains("s3cr3t"), "{}", err.message);
        assert!(!err.help.contains("s3cr3t"), "{}", err.help);
    }

    #[test]
    fn only_small_regular_files_are_read() {
        for path in ["/dev/zero", "/dev/null", "/"] {
            let err = read_key_file(path, Path::new(".")).unwrap_err();
            assert!(
                err.message.contains("not a regular file"),
                "{path}: {}",
                err.message
            );
        }
        let dir = tempfile::tempdir().unwrap();
        let big = dir.path().join("big.pub");
        std::fs::write(&big, vec![b'#'; 64 * 1024 + 1]).unwrap();
        let err = read_key_file(big.to_str().unwrap(), Path::new(".")).unwrap_err();
        assert!(
            err.message.contains("larger than 64 KiB"),
            "{}",
            err.message
        );
    }

    #[test]
    fn a_fifo_is_refused_without_blocking() {
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("key.pub");
        let made = std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap();
        assert!(made.success());
        let err = read_key_file(fifo.to_str().unwrap(), Path::new(".")).unwrap_err();
        assert!(
            err.message.contains("not a regular file"),
            "{}",
            err.message
        );
    }
}
