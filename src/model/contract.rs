//! Stage 2 (model): the app's contract — what every service process gets from its unit: the
//! address to listen on under the names common frameworks read, and where it may write. One
//! place, so the unit's `Environment=`, its `ReadWritePaths=`, the directories setup.sh creates,
//! the names a site may not redefine and README's table agree by construction.

use super::{layout, Database};

/// Variables `run` may name (`$PORT`, `${HOST}`…); systemd expands them from `Environment=`.
pub const RUN_VARIABLES: [&str; 3] = ["PORT", "HOST", "METRICS_PORT"];

/// The directories under `shared/` a site's services may write, each owned by the site user.
/// `logs` and `uploads` by name; `data` is the persistent state (`STATE_DIRECTORY`), `cache`
/// what may be lost (`CACHE_DIRECTORY`, `XDG_CACHE_HOME`), `home` the writable `HOME`.
pub const SHARED_WRITABLE: [&str; 5] = ["logs", "uploads", "data", "cache", "home"];

/// Names blueprint sets in every unit (plus `DATABASE_URL` with a database); a site's `env`,
/// `secrets` and `generated_secrets` may not use them.
pub const RESERVED: [&str; 13] = [
    "HOST",
    "HOSTNAME",
    "PORT",
    "METRICS_PORT",
    "UVICORN_HOST",
    "UVICORN_PORT",
    "STATE_DIRECTORY",
    "CACHE_DIRECTORY",
    "XDG_CACHE_HOME",
    "HOME",
    "TMPDIR",
    "DATABASE_URL",
    "SQLITE_PATH",
];

/// The database file of a site with `database = "sqlite"`, in its state directory.
pub fn sqlite_path(site: &str) -> String {
    layout::site_path(site, &["shared/data/", site, ".sqlite3"].concat())
}

/// What a site's database adds to every unit's environment: for SQLite its file, as a path and
/// as the URL SQLAlchemy and Django's dj-database-url read (PostgreSQL's `DATABASE_URL` holds
/// the password, so it lives in the root-only `.env` instead).
pub fn database_environment(site: &str, database: Database) -> Vec<(&'static str, String)> {
    match database {
        Database::Sqlite => {
            let path = sqlite_path(site);
            vec![
                ("DATABASE_URL", ["sqlite:///", &path].concat()),
                ("SQLITE_PATH", path),
            ]
        }
        Database::Postgres | Database::None => Vec::new(),
    }
}

/// The loopback address every service binds.
pub const LISTEN_HOST: &str = "127.0.0.1";

/// The environment of one service of `site` listening on `port`, in a fixed order.
pub fn environment(site: &str, port: u16) -> Vec<(&'static str, String)> {
    let port = port.to_string();
    let shared = |dir: &str| layout::site_path(site, &["shared/", dir].concat());
    vec![
        // The address: `HOST`/`PORT` by convention (Express, Rails, Go apps), `HOSTNAME` for
        // Next.js standalone (which otherwise binds 0.0.0.0), `UVICORN_*` for uvicorn (which
        // ignores `PORT`; its own default port is 8000).
        ("HOST", LISTEN_HOST.to_owned()),
        ("HOSTNAME", LISTEN_HOST.to_owned()),
        ("PORT", port.clone()),
        ("UVICORN_HOST", LISTEN_HOST.to_owned()),
        ("UVICORN_PORT", port),
        // Writable state: systemd's own names (`StateDirectory=`/`CacheDirectory=` set them),
        // so apps written for systemd find them; the XDG cache and `HOME` for libraries that
        // write under `~` (the site user's home directory is not writable).
        ("STATE_DIRECTORY", shared("data")),
        ("CACHE_DIRECTORY", shared("cache")),
        ("XDG_CACHE_HOME", shared("cache")),
        ("HOME", shared("home")),
        // `PrivateTmp=` gives the unit its own /tmp.
        ("TMPDIR", "/tmp".to_owned()),
    ]
}

/// What a service with `separate_metrics_port` adds to [`environment`]: where to serve its
/// Prometheus metrics.
pub fn metrics_environment(metrics_port: Option<u16>) -> Vec<(&'static str, String)> {
    metrics_port
        .map(|port| ("METRICS_PORT", port.to_string()))
        .into_iter()
        .collect()
}

/// The names of [`environment`] that say where to listen: a job (which listens on nothing)
/// gets the rest.
const ADDRESS: [&str; 5] = ["HOST", "HOSTNAME", "PORT", "UVICORN_HOST", "UVICORN_PORT"];

/// The environment of a job of `site`: [`environment`] without the address.
pub fn job_environment(site: &str) -> Vec<(&'static str, String)> {
    let mut env = environment(site, 0);
    env.retain(|(name, _)| !ADDRESS.contains(name));
    env
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_exported_name_is_reserved_and_points_at_a_writable_dir() {
        let env = environment("shop", 3101);
        for (name, value) in &env {
            assert!(RESERVED.contains(name), "{name} is not reserved");
            if let Some(dir) = value.strip_prefix("/srv/sites/shop/shared/") {
                assert!(SHARED_WRITABLE.contains(&dir), "{name}={value}");
            }
        }
        assert!(env.contains(&("PORT", "3101".to_owned())));
        assert!(env.contains(&("HOSTNAME", "127.0.0.1".to_owned())));
        assert!(RUN_VARIABLES.iter().all(|v| RESERVED.contains(v)));
    }

    #[test]
    fn a_sqlite_site_gets_its_file_in_its_state_directory() {
        let env = database_environment("wiki", Database::Sqlite);
        for (name, _) in &env {
            assert!(RESERVED.contains(name), "{name} is not reserved");
        }
        let path = "/srv/sites/wiki/shared/data/wiki.sqlite3";
        assert_eq!(
            env,
            [
                ("DATABASE_URL", format!("sqlite:///{path}")),
                ("SQLITE_PATH", path.to_owned())
            ]
        );
        assert!(database_environment("shop", Database::Postgres).is_empty());
    }
}
