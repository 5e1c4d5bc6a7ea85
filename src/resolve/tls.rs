//! Stage 2 (resolve): a site's `tls` (`"acme"`, `"none"` or a cert/key table) into [`Tls`].

use super::invalid::Invalid;
use super::{paths, Resolver};
use crate::model::Tls;
use crate::raw::RawSite;
use crate::suggest;

impl Resolver<'_> {
    pub(super) fn tls(&mut self, site: &RawSite) -> Option<Tls> {
        let Some(raw) = &site.tls else {
            return Some(Tls::Acme);
        };
        let help = "use `\"acme\"`, `\"none\"` or `{ cert = \"/etc/ssl/…/fullchain.pem\", key = \"/etc/ssl/…/privkey.pem\" }`";
        match raw.get_ref() {
            toml::Value::String(mode) if mode == "acme" => Some(Tls::Acme),
            toml::Value::String(mode) if mode == "none" => Some(Tls::None),
            toml::Value::Table(table) => {
                let unknown: Vec<_> = table
                    .keys()
                    .filter(|k| !matches!(k.as_str(), "cert" | "key"))
                    .collect();
                let cert = table.get("cert").and_then(toml::Value::as_str);
                let key = table.get("key").and_then(toml::Value::as_str);
                match (cert, key, unknown.is_empty()) {
                    (Some(cert), Some(key), true) => {
                        let cert = self.check(raw.span(), paths::host_path("tls.cert", cert));
                        let key = self.check(raw.span(), paths::host_path("tls.key", key));
                        Some(Tls::Files {
                            cert: cert?,
                            key: key?,
                        })
                    }
                    _ => {
                        self.report(
                            raw.span(),
                            Invalid::new(
                                "`tls` table needs exactly the string keys `cert` and `key`",
                                help,
                            ),
                        );
                        None
                    }
                }
            }
            other => {
                let guess = other
                    .as_str()
                    .map_or_else(String::new, |m| suggest::hint(m, ["acme", "none"]));
                self.report(
                    raw.span(),
                    Invalid::new(
                        format!("unknown tls mode {other}"),
                        format!("{guess}{help}"),
                    ),
                );
                None
            }
        }
    }
}
