//! Stage 2 (model): the app's contract — what every service process gets from its unit: the
//! address to listen on under the names common frameworks read, and where it may write. One
//! place, so the unit's `Environment=`, its `ReadWritePaths=`, the directories setup.sh creates,
//! the names a site may not redefine and README's table agree by construction.

/// Variables `run` may name (`$PORT`, `${HOST}`…); systemd expands them from `Environment=`.
pub const RUN_VARIABLES: [&str; 2] = ["PORT", "HOST"];

/// Names blueprint sets in every unit (plus `DATABASE_URL` with a database); a site's `env`,
/// `secrets` and `generated_secrets` may not use them.
pub const RESERVED: [&str; 6] = [
    "HOST",
    "HOSTNAME",
    "PORT",
    "UVICORN_HOST",
    "UVICORN_PORT",
    "DATABASE_URL",
];

/// The loopback address every service binds.
pub const LISTEN_HOST: &str = "127.0.0.1";

/// The environment of one service of `site` listening on `port`, in a fixed order.
pub fn environment(_site: &str, port: u16) -> Vec<(&'static str, String)> {
    let port = port.to_string();
    vec![
        // The address: `HOST`/`PORT` by convention (Express, Rails, Go apps), `HOSTNAME` for
        // Next.js standalone (which otherwise binds 0.0.0.0), `UVICORN_*` for uvicorn (which
        // ignores `PORT`; its own default port is 8000).
        ("HOST", LISTEN_HOST.to_owned()),
        ("HOSTNAME", LISTEN_HOST.to_owned()),
        ("PORT", port.clone()),
        ("UVICORN_HOST", LISTEN_HOST.to_owned()),
        ("UVICORN_PORT", port),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_exported_name_is_reserved() {
        let env = environment("shop", 3101);
        for (name, _) in &env {
            assert!(RESERVED.contains(name), "{name} is not reserved");
        }
        assert!(env.contains(&("PORT", "3101".to_owned())));
        assert!(env.contains(&("HOSTNAME", "127.0.0.1".to_owned())));
        assert!(RUN_VARIABLES.iter().all(|v| RESERVED.contains(v)));
    }
}
