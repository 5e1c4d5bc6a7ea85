//! `SHA256SUMS`: one `<hex>  <path>` line per file, sorted by path, in the format
//! `sha256sum -c` reads. setup.sh verifies it before touching the host, so a partial copy or an
//! edited file is refused.

use std::fmt::Write as _;

use sha2::{Digest, Sha256};

use super::Bundle;

/// Name of the manifest inside the bundle.
pub const FILE_NAME: &str = "SHA256SUMS";

/// Lowercase hex SHA-256 of `bytes`.
pub fn sha256_hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let digest = Sha256::digest(bytes);
    let mut hex = String::with_capacity(64);
    for byte in digest {
        hex.push(char::from(DIGITS[usize::from(byte >> 4)]));
        hex.push(char::from(DIGITS[usize::from(byte & 0x0f)]));
    }
    hex
}

/// The manifest text for every file of the bundle except the manifest itself. Each file was
/// hashed when it was added ([`super::File::sha256`]).
pub fn sha256sums(bundle: &Bundle) -> String {
    let mut out = String::new();
    for (path, file) in bundle.files.iter().filter(|(p, _)| p.as_str() != FILE_NAME) {
        let _ = writeln!(out, "{}  {path}", file.sha256());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_digest_and_sorted_lines() {
        assert_eq!(
            sha256_hex(b"abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        let mut b = Bundle::new("h");
        b.add("z.txt", "z".into(), 0o644);
        b.add("a/b.txt", "b".into(), 0o644);
        b.seal();
        let sums = b.files[FILE_NAME].contents();
        let paths: Vec<_> = sums
            .lines()
            .map(|l| l.split_once("  ").unwrap().1)
            .collect();
        assert_eq!(paths, ["a/b.txt", "z.txt"]);
        assert!(sums.starts_with(&sha256_hex(b"b\n")));
    }
}
