//! Isolation over TCP with scram-sha-256: each site role is unprivileged and reaches only its
//! own database with only its own password; a role without grants (PUBLIC) reaches no database;
//! a stray grant is revoked by a re-run; a re-run without a password keeps the role's password.

use super::cluster::Cluster;
use super::idempotence::SiteDb;
use crate::validate::support::Built;

/// Every isolation property of one bundle's sites; problems are collected, not panicked.
pub(super) fn check_isolation(built: &Built, cluster: &Cluster, sites: &[SiteDb]) -> Vec<String> {
    let mut failures = Vec::new();
    let name = &built.name;
    let mut fail = |message: String| failures.push(format!("bundle {name}: {message}"));

    for s in sites {
        let attrs = cluster.query(
            "postgres",
            &format!(
                "SELECT rolsuper, rolcreatedb, rolcreaterole, rolreplication, rolbypassrls, rolcanlogin \
                   FROM pg_roles WHERE rolname = '{}'",
                s.role.replace('\'', "''")
            ),
        );
        if attrs.trim() != "f|f|f|f|f|t" {
            fail(format!(
                "role {} (sql/{}.sql) must be LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION \
                 NOBYPASSRLS; pg_roles says super|createdb|createrole|replication|bypassrls|login = {}",
                s.role,
                s.site,
                attrs.trim()
            ));
        }
        // The owner works in its own database...
        let own = cluster.tcp(
            &s.role,
            &s.password,
            &s.db,
            "CREATE TABLE bp_probe (id int); INSERT INTO bp_probe VALUES (42); SELECT id FROM bp_probe;",
        );
        if !own.success || own.stdout.lines().last() != Some("42") {
            fail(format!(
                "role {} cannot use its own database {} over TCP with its password: {}",
                s.role,
                s.db,
                own.output()
            ));
        }
        // ...only with the right password.
        let wrong = cluster.tcp(&s.role, &format!("{}x", s.password), &s.db, "SELECT 1");
        if wrong.success || !wrong.stderr.contains("password authentication failed") {
            fail(format!(
                "role {} got in with a wrong password: {}",
                s.role,
                wrong.output()
            ));
        }
    }

    for a in sites {
        for b in sites.iter().filter(|b| b.db != a.db) {
            // B's data exists (created by B above); A must not reach it: it cannot even connect.
            let read = cluster.tcp(&a.role, &a.password, &b.db, "SELECT id FROM bp_probe");
            if read.success || !read.stderr.contains("permission denied for database") {
                fail(format!(
                    "role {} (site {}) reached database {} of site {}: {}",
                    a.role,
                    a.site,
                    b.db,
                    b.site,
                    read.output()
                ));
            }
        }
    }

    // A role with LOGIN and no grants stands for PUBLIC.
    cluster.query(
        "postgres",
        "CREATE ROLE bp_stranger LOGIN PASSWORD 'stranger-pw'",
    );
    let mut targets: Vec<&str> = sites.iter().map(|s| s.db.as_str()).collect();
    targets.extend(["postgres", "template1"]);
    for db in targets {
        let ran = cluster.tcp("bp_stranger", "stranger-pw", db, "SELECT 1");
        if ran.success || !ran.stderr.contains("permission denied for database") {
            fail(format!(
                "a role without grants (PUBLIC) connected to database {db}: {}",
                ran.output()
            ));
        }
    }
    failures
}

/// Applies `site`'s SQL again with `password`; `when` says how, in the error.
fn reapply(
    built: &Built,
    cluster: &Cluster,
    site: &SiteDb,
    password: &str,
    when: &str,
) -> Result<(), String> {
    let file = built.dir.join(format!("sql/{}.sql", site.site));
    let rerun = cluster.apply(&file, password);
    if !rerun.success {
        return Err(format!(
            "psql rejected sql/{}.sql {when}: {}",
            site.site,
            rerun.output()
        ));
    }
    Ok(())
}

/// A stray `GRANT CONNECT ON DATABASE a TO b` works, then re-running a's SQL revokes it.
pub(super) fn check_stray_grant_is_revoked(
    built: &Built,
    cluster: &Cluster,
    a: &SiteDb,
    b: &SiteDb,
) -> Result<(), String> {
    let grant = format!("GRANT CONNECT ON DATABASE \"{}\" TO \"{}\"", a.db, b.role);
    cluster.query("postgres", &grant);
    let before = cluster.tcp(&b.role, &b.password, &a.db, "SELECT 1");
    if !before.success {
        return Err(format!(
            "bundle {}: after `{grant}` role {} still cannot connect, so the revoke test proves nothing: {}",
            built.name,
            b.role,
            before.output()
        ));
    }
    reapply(built, cluster, a, &a.password, "on re-run")?;
    let after = cluster.tcp(&b.role, &b.password, &a.db, "SELECT 1");
    if after.success || !after.stderr.contains("permission denied for database") {
        return Err(format!(
            "bundle {}: re-running sql/{}.sql did not revoke `{grant}`: {}",
            built.name,
            a.site,
            after.output()
        ));
    }
    Ok(())
}

/// Re-running a's SQL without a password (setup.sh does that when the site's DATABASE_URL was
/// replaced by hand) leaves the role's password alone: a can still log in with it.
pub(super) fn check_no_password_keeps_the_role_password(
    built: &Built,
    cluster: &Cluster,
    a: &SiteDb,
) -> Result<(), String> {
    reapply(built, cluster, a, "", "without a password")?;
    let login = cluster.tcp(&a.role, &a.password, &a.db, "SELECT 1");
    if !login.success {
        return Err(format!(
            "bundle {}: re-running sql/{}.sql with BLUEPRINT_DB_PASSWORD empty changed role {}'s password: {}",
            built.name,
            a.site,
            a.role,
            login.output()
        ));
    }
    Ok(())
}
