//! Target distributions and the facts about them that templates depend on.

use serde::Serialize;

/// A supported target distribution.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Os {
    /// Debian 12 "bookworm": nginx 1.22, PostgreSQL 15, OpenSSL 3.0.
    #[serde(rename = "debian-12")]
    Debian12,
    /// Ubuntu 24.04 "noble": nginx 1.24, PostgreSQL 16, OpenSSL 3.0.
    #[serde(rename = "ubuntu-24.04")]
    Ubuntu2404,
}

impl Os {
    /// Every supported target, for error messages.
    pub const ALL: [Os; 2] = [Os::Debian12, Os::Ubuntu2404];

    /// The spelling used in `sites.toml`.
    pub fn id(self) -> &'static str {
        match self {
            Os::Debian12 => "debian-12",
            Os::Ubuntu2404 => "ubuntu-24.04",
        }
    }

    /// `ID` in `/etc/os-release`.
    pub fn os_release_id(self) -> &'static str {
        match self {
            Os::Debian12 => "debian",
            Os::Ubuntu2404 => "ubuntu",
        }
    }

    /// `VERSION_ID` in `/etc/os-release`.
    pub fn os_release_version(self) -> &'static str {
        match self {
            Os::Debian12 => "12",
            Os::Ubuntu2404 => "24.04",
        }
    }

    /// Major version of the distribution's PostgreSQL.
    pub fn postgres_major(self) -> u16 {
        match self {
            Os::Debian12 => 15,
            Os::Ubuntu2404 => 16,
        }
    }

    /// Parses the `sites.toml` spelling.
    pub fn from_id(id: &str) -> Option<Os> {
        Os::ALL.into_iter().find(|os| os.id() == id)
    }
}
