//! The SQL of every bundle against a real, throwaway PostgreSQL cluster (initdb in a temp dir,
//! listening on 127.0.0.1 and a private socket directory, stopped and removed by a Drop guard):
//!
//! - idempotence: `sql/host.sql` then every `sql/<site>.sql`, applied twice as setup.sh does,
//!   leave an identical catalog fingerprint (roles and their attributes, databases with owners
//!   and ACLs, schema owners and ACLs in every database);
//! - isolation, for every bundle with two or more databases, over TCP with scram-sha-256:
//!   each site role reaches only its own database, strangers reach none (nor `postgres` or
//!   `template1`), wrong passwords are refused, and a stray grant is revoked by a re-run.
//!
//! The tests are here; `cluster` starts and stops the throwaway cluster, `idempotence` applies the
//! SQL and fingerprints the catalog, `isolation` holds the cross-site checks.

mod cluster;
mod idempotence;
mod isolation;
mod setup_step;

use std::path::Path;

use cluster::{pg_bin, Cluster};
use idempotence::{apply_twice, sql_files};
use isolation::{
    check_isolation, check_no_password_keeps_the_role_password, check_stray_grant_is_revoked,
};

use super::support::{assert_no_failures, bundles, Built};

/// `check` on each bundle in a thread of its own, each with a fresh cluster; all their failures.
fn on_fresh_clusters(
    bundles: &[Built],
    bin: &Path,
    check: impl Fn(&Built, &Cluster) -> Vec<String> + Sync,
) -> Vec<String> {
    std::thread::scope(|scope| {
        let handles: Vec<_> = bundles
            .iter()
            .map(|built| {
                let check = &check;
                scope.spawn(move || check(built, &Cluster::start(bin)))
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().expect("no panic"))
            .collect()
    })
}

/// Whether the bundle has SQL for two or more sites (what the isolation checks need).
fn has_two_databases(built: &Built) -> bool {
    sql_files(built)
        .iter()
        .filter(|(site, _)| site != "host")
        .count()
        >= 2
}

#[test]
fn sql_is_idempotent() {
    let Some(bin) = pg_bin() else { return };
    let with_sql: Vec<Built> = bundles()
        .into_iter()
        .filter(|b| !sql_files(b).is_empty())
        .collect();
    assert!(!with_sql.is_empty(), "no bundle has SQL");
    let failures = on_fresh_clusters(&with_sql, &bin, |built, cluster| {
        match apply_twice(built, cluster) {
            Err(e) => vec![e],
            Ok((first, second, _)) if first != second => vec![format!(
                "bundle {}: the catalog after the second run of its SQL differs from the first:\n{}",
                built.name,
                similar::TextDiff::from_lines(&first, &second)
                    .unified_diff()
                    .header("run 1", "run 2")
            )],
            Ok((first, _, _)) if std::env::var_os("BP_SHOW_FINGERPRINT").is_some() => {
                eprintln!("fingerprint of bundle {}:\n{first}", built.name);
                vec![]
            }
            Ok(_) => vec![],
        }
    });
    assert_no_failures("postgres idempotence", &failures);
}

#[test]
fn site_databases_are_isolated() {
    let Some(bin) = pg_bin() else { return };
    let multi: Vec<Built> = bundles().into_iter().filter(has_two_databases).collect();
    assert!(
        !multi.is_empty(),
        "no bundle has two databases (tests/fixtures/two-databases.toml should)"
    );
    let failures = on_fresh_clusters(&multi, &bin, |built, cluster| {
        let sites = match apply_twice(built, cluster) {
            Ok((_, _, sites)) => sites,
            Err(e) => return vec![e],
        };
        let mut failures = check_isolation(built, cluster, &sites);
        if let Err(e) = check_stray_grant_is_revoked(built, cluster, &sites[0], &sites[1]) {
            failures.push(e);
        }
        if let Err(e) = check_no_password_keeps_the_role_password(built, cluster, &sites[0]) {
            failures.push(e);
        }
        failures
    });
    assert_no_failures("postgres isolation", &failures);
}

#[test]
fn postgres_checks_can_fail() {
    let Some(bin) = pg_bin() else { return };
    let built = bundles()
        .into_iter()
        .find(has_two_databases)
        .expect("a bundle with two databases");
    let (site, _) = sql_files(&built)
        .into_iter()
        .find(|(site, _)| site != "host")
        .expect("a site");
    let rel = format!("sql/{site}.sql");
    std::thread::scope(|scope| {
        // Without its guard, CREATE ROLE fails on the second run, and the file is named.
        scope.spawn(|| {
            let unguarded = built.mutated(&rel, |text| {
                let guard = text
                    .find("\\if :role_missing\n")
                    .expect("the CREATE ROLE guard");
                let end = guard + text[guard..].find("\\endif\n").expect("its \\endif");
                let body = &text[guard..end + "\\endif\n".len()];
                let unguarded = body
                    .replace("\\if :role_missing\n", "")
                    .replace("\\endif\n", "");
                text.replacen(body, &unguarded, 1)
            });
            let cluster = Cluster::start(&bin);
            let err =
                apply_twice(&unguarded, &cluster).expect_err("an unguarded CREATE ROLE re-ran");
            eprintln!("expected failure: {err}");
            assert!(
                err.starts_with(&format!("psql -v ON_ERROR_STOP=1 -f rejected {rel} ")),
                "{err}"
            );
            assert!(err.contains("run 2"), "{err}");
        });
        // Without the REVOKE from PUBLIC, a stranger connects and the isolation check says so.
        scope.spawn(|| {
            let open = built.mutated(&rel, |text| {
                text.lines()
                    .filter(|l| !l.starts_with("REVOKE ALL ON DATABASE"))
                    .map(|l| format!("{l}\n"))
                    .collect()
            });
            let cluster = Cluster::start(&bin);
            let (_, _, sites) = apply_twice(&open, &cluster).unwrap_or_else(|e| panic!("{e}"));
            let failures = check_isolation(&open, &cluster, &sites);
            eprintln!("expected failures: {failures:#?}");
            assert!(
                failures
                    .iter()
                    .any(|f| f.contains("a role without grants (PUBLIC) connected to database")),
                "isolation held without REVOKE ALL ON DATABASE … FROM PUBLIC: {failures:?}"
            );
        });
    });
}

/// With every statement logged (`log_statement = 'all'`, as an operator debugging might set), a
/// site's SQL still keeps its password out of the server log; without the SQL's guard it would
/// be there, so the check can fail.
#[test]
fn passwords_never_reach_the_server_log() {
    let Some(bin) = pg_bin() else { return };
    let built = bundles()
        .into_iter()
        .find(|b| !sql_files(b).is_empty())
        .expect("a bundle with SQL");
    let (site, file) = sql_files(&built)
        .into_iter()
        .find(|(site, _)| site != "host")
        .expect("a site");
    let rel = format!("sql/{site}.sql");
    let unguarded = built.mutated(&rel, |text| {
        text.lines()
            .filter(|l| !l.starts_with("SET log_") && !l.starts_with("RESET log_"))
            .map(|l| format!("{l}\n"))
            .collect()
    });
    let logged = |file: &Path, password: &str| {
        let cluster = Cluster::start(&bin);
        cluster.query("postgres", "ALTER SYSTEM SET log_statement = 'all'");
        cluster.query("postgres", "SELECT pg_reload_conf()");
        for _ in 0..2 {
            let ran = cluster.apply(file, password);
            assert!(
                ran.success,
                "psql rejected {}: {}",
                file.display(),
                ran.output()
            );
        }
        cluster.log()
    };
    let password = "bp0b5e55ed0f0a1a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f7081923";
    let log = logged(&file, password);
    assert!(
        log.contains("CONNECTION LIMIT"),
        "statement logging was not on, so the check proves nothing:\n{log}"
    );
    assert!(
        !log.contains(password),
        "{rel} of bundle {} put the role's password into the server log:\n{log}",
        built.name
    );
    let log = logged(&unguarded.dir.join(&rel), password);
    assert!(
        log.contains(password),
        "without its SET log_* lines the password should be logged (the check cannot fail):\n{log}"
    );
}
