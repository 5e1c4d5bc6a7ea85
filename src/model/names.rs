//! Stage 2 (model): the names and host paths that reach bash, nginx, systemd and SQL, each a
//! type of its own. A value can only be made with a [`Validated`] token, which only
//! [`crate::resolve`] can create, after the value passed its check there: a renderer holding a
//! [`SiteName`] knows it is a valid Unix user, role, database and unit prefix, and a function
//! that wants a domain cannot be handed a site name.

use std::fmt;

use serde::Serialize;

use crate::resolve::Validated;

macro_rules! validated {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
        #[serde(transparent)]
        pub struct $name(String);

        impl $name {
            /// Wraps `value`, which `resolve` has checked (the token says so).
            pub fn new(value: String, _checked: Validated) -> Self {
                Self(value)
            }

            /// The text.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl std::ops::Deref for $name {
            type Target = str;
            fn deref(&self) -> &str {
                &self.0
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }

        impl std::borrow::Borrow<str> for $name {
            fn borrow(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl PartialEq<str> for $name {
            fn eq(&self, other: &str) -> bool {
                self.0 == other
            }
        }

        impl PartialEq<String> for $name {
            fn eq(&self, other: &String) -> bool {
                &self.0 == other
            }
        }
    };
}

validated!(
    /// A site: its Unix user and group, PostgreSQL role and database, the prefix of its units,
    /// nginx zones and files.
    SiteName
);
validated!(
    /// A service of a site.
    ServiceName
);
validated!(
    /// A systemd unit name without `.service`: `<site>-<service>`.
    UnitName
);
validated!(
    /// A fully qualified, lowercase ASCII domain name.
    Domain
);
validated!(
    /// A Unix user that is not a site (the deploy user).
    UserName
);
validated!(
    /// An absolute, normalized path on the host (no `..`, no empty or `.` components).
    HostPath
);
