//! setup.sh's database step itself (`bp_sql_apply` in `blueprints/setup/lib.sh`, real bash)
//! against the throwaway cluster: one psql session applies every site's SQL, records a digest
//! of what it asserted, and on a re-run skips each site whose digest still matches, but applies
//! a site again when its password, a grant, its role or its SQL changed.

use super::cluster::Cluster;
use crate::support::root;
use crate::validate::support::{bundles, read, run, tempdir, Built, Ran};

/// A temp host: each site's `.env` with blueprint's DATABASE_URL, lib.sh's state directory.
struct Host<'a> {
    built: &'a Built,
    cluster: &'a Cluster,
    dir: tempfile::TempDir,
}

impl<'a> Host<'a> {
    fn new(built: &'a Built, cluster: &'a Cluster, sites: &[&str]) -> Host<'a> {
        let host = Host {
            built,
            cluster,
            dir: tempdir(),
        };
        for site in sites {
            host.set_password(site, &format!("{:0>32}", site.len()));
        }
        std::fs::create_dir_all(host.dir.path().join("var/state/pending")).unwrap();
        host
    }

    fn set_password(&self, site: &str, hex: &str) {
        let shared = self.dir.path().join(format!("srv/{site}/shared"));
        std::fs::create_dir_all(&shared).unwrap();
        std::fs::write(
            shared.join(".env"),
            format!("DATABASE_URL=postgresql://{site}:{hex}@127.0.0.1:5432/{site}\n"),
        )
        .unwrap();
    }

    /// Runs the database step; its stdout ends with one line per BP_CHANGES entry.
    fn apply(&self) -> Ran {
        let t = self.dir.path().display();
        let script = format!(
            "set -euo pipefail
source {bundle}/plan.sh
BP_SITES_ROOT={t}/srv BP_STATE_ROOT={t}/var BP_BUNDLE={bundle}
source {lib}
bp_test_psql() {{ {psql}; }}
bp_sql_apply bp_test_psql
printf 'change: %s\\n' \"${{BP_CHANGES[@]}}\"",
            bundle = self.built.dir.display(),
            lib = root().join("blueprints/setup/lib.sh").display(),
            psql = self.cluster.psql_for_bash(),
        );
        run(std::process::Command::new("bash").arg("-c").arg(script))
    }

    /// The sites the step applied (its BP_CHANGES), asserting it succeeded.
    fn applied(&self) -> Vec<String> {
        let ran = self.apply();
        assert!(ran.success, "the database step failed: {}", ran.output());
        ran.stdout
            .lines()
            .filter_map(|l| l.strip_prefix("change: "))
            .filter_map(|l| l.strip_suffix(": database role, password and grants applied"))
            .map(str::to_owned)
            .collect()
    }

    fn verifier(&self, site: &str) -> String {
        self.cluster.query(
            "postgres",
            &format!("SELECT rolpassword FROM pg_authid WHERE rolname = '{site}'"),
        )
    }
}

#[test]
fn the_database_step_applies_a_site_again_only_when_something_changed() {
    let Some(bin) = super::cluster::pg_bin() else {
        return;
    };
    let built = bundles()
        .into_iter()
        .find(|b| b.name == "two-databases")
        .expect("tests/fixtures/two-databases.toml is built");
    let cluster = Cluster::start(&bin);
    // Every statement logged, so a password in one would show.
    cluster.query("postgres", "ALTER SYSTEM SET log_statement = 'all'");
    cluster.query("postgres", "SELECT pg_reload_conf()");
    let host = Host::new(&built, &cluster, &["alpha", "beta"]);
    let login = |site: &str, pw: &str| cluster.tcp(site, pw, site, "SELECT 1").success;

    assert_eq!(host.applied(), ["alpha", "beta"], "first run applies both");
    assert!(login("alpha", &format!("{:0>32}", 5)));
    let verifier = host.verifier("alpha");

    assert_eq!(
        host.applied(),
        Vec::<String>::new(),
        "a re-run applies nothing"
    );
    assert_eq!(
        host.verifier("alpha"),
        verifier,
        "a skipped site's password is not set again (a new salt would show)"
    );

    cluster.query("postgres", "GRANT CONNECT ON DATABASE alpha TO beta");
    assert_eq!(
        host.applied(),
        ["alpha"],
        "a stray grant on alpha's database"
    );
    let acl = cluster.query(
        "postgres",
        "SELECT datacl FROM pg_database WHERE datname = 'alpha'",
    );
    assert!(!acl.contains("beta="), "the stray grant is revoked: {acl}");

    cluster.query("postgres", "ALTER ROLE beta PASSWORD 'changed by hand'");
    assert_eq!(
        host.applied(),
        ["beta"],
        "beta's password changed in the database"
    );
    assert!(
        login("beta", &format!("{:0>32}", 4)),
        "the .env password works again"
    );

    cluster.query("postgres", "ALTER ROLE beta CREATEDB");
    assert_eq!(host.applied(), ["beta"], "an attribute changed by hand");

    host.set_password("alpha", &"ab".repeat(16));
    assert_eq!(host.applied(), ["alpha"], "alpha's .env password rotated");
    assert!(login("alpha", &"ab".repeat(16)));

    let changed = built.mutated("sql/beta.sql", |sql| {
        let at = sql.find("CONNECTION LIMIT ").expect("a connection limit") + 17;
        let end = at + sql[at..].find(';').expect("its statement ends");
        format!("{}7{}", &sql[..at], &sql[end..])
    });
    let sums = read(&changed.dir.join("SHA256SUMS"));
    let digest = run(std::process::Command::new("sha256sum").arg(changed.dir.join("sql/beta.sql")));
    let digest = digest.stdout.split_whitespace().next().unwrap().to_owned();
    let sums: String = sums
        .lines()
        .map(|l| match l.strip_suffix("  sql/beta.sql") {
            Some(_) => format!("{digest}  sql/beta.sql\n"),
            None => format!("{l}\n"),
        })
        .collect();
    std::fs::write(changed.dir.join("SHA256SUMS"), sums).unwrap();
    let host2 = Host {
        built: &changed,
        cluster: &cluster,
        dir: host.dir,
    };
    assert_eq!(
        host2.applied(),
        ["beta"],
        "beta's SQL changed in the bundle"
    );
    let limit = cluster.query(
        "postgres",
        "SELECT rolconnlimit FROM pg_roles WHERE rolname = 'beta'",
    );
    assert_eq!(limit.trim(), "7");
    assert_eq!(
        host2.applied(),
        Vec::<String>::new(),
        "and then nothing again"
    );
}
