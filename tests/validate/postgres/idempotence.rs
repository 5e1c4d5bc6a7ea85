//! Idempotence: the bundle's SQL files in setup.sh's order, applied twice, and the catalog
//! fingerprint (roles, memberships, databases with owners and ACLs, settings, schemas and default
//! ACLs in every database) after each run; the first run also names each site's role and database.

use std::path::PathBuf;

use super::cluster::Cluster;
use crate::validate::support::Built;

/// A password with every character that could break quoting on its way into `ALTER ROLE`.
fn password_for(site: &str) -> String {
    format!("pw {site} 'q' \"dq\" \\ $HOME; %s :x")
}

/// The bundle's SQL files in setup.sh's order: host.sql, then the sites sorted.
pub(super) fn sql_files(built: &Built) -> Vec<(String, PathBuf)> {
    let mut files: Vec<(String, PathBuf)> = built
        .files("sql/", ".sql")
        .into_iter()
        .filter(|rel| rel != "sql/host.sql")
        .map(|rel| {
            let site = rel
                .trim_start_matches("sql/")
                .trim_end_matches(".sql")
                .to_owned();
            (site, built.dir.join(rel))
        })
        .collect();
    if built.dir.join("sql/host.sql").is_file() {
        files.insert(0, ("host".to_owned(), built.dir.join("sql/host.sql")));
    }
    files
}

/// Roles, databases and schemas — everything the bundle's SQL decides — as comparable text.
/// Password hashes are salted anew by every `ALTER ROLE … PASSWORD`, so only their presence
/// counts.
fn fingerprint(cluster: &Cluster) -> String {
    let mut out = cluster.query(
        "postgres",
        "SELECT 'role', rolname, rolsuper, rolinherit, rolcreaterole, rolcreatedb, rolcanlogin, \
                rolreplication, rolbypassrls, rolconnlimit, rolvaliduntil, rolpassword IS NOT NULL \
           FROM pg_authid WHERE rolname !~ '^pg_' ORDER BY rolname;
         SELECT 'member', r.rolname, m.rolname FROM pg_auth_members a \
           JOIN pg_roles r ON r.oid = a.roleid JOIN pg_roles m ON m.oid = a.member ORDER BY 2, 3;
         SELECT 'db', datname, pg_get_userbyid(datdba), datacl, datallowconn, datconnlimit, \
                pg_encoding_to_char(encoding) FROM pg_database ORDER BY datname;
         SELECT 'setting', setdatabase, setrole, setconfig FROM pg_db_role_setting ORDER BY 2, 3;",
    );
    let databases = cluster.query(
        "postgres",
        "SELECT datname FROM pg_database WHERE datallowconn ORDER BY 1",
    );
    for db in databases.lines() {
        out.push_str(&format!("-- in {db}\n"));
        out.push_str(&cluster.query(
            db,
            "SELECT 'schema', nspname, pg_get_userbyid(nspowner), nspacl FROM pg_namespace \
              WHERE nspname NOT LIKE 'pg\\_%' AND nspname <> 'information_schema' ORDER BY 2;
             SELECT 'default acl', defaclrole, defaclnamespace, defaclobjtype, defaclacl \
               FROM pg_default_acl ORDER BY 2, 3, 4;",
        ));
    }
    out
}

/// The role and database a site's SQL created (the catalog difference it made on first run).
#[derive(Debug, Clone)]
pub(super) struct SiteDb {
    pub(super) site: String,
    pub(super) role: String,
    pub(super) db: String,
    pub(super) password: String,
}

fn names(cluster: &Cluster, sql: &str) -> Vec<String> {
    cluster
        .query("postgres", sql)
        .lines()
        .map(str::to_owned)
        .collect()
}

/// Applies all files twice; returns the fingerprints and each site's role and database.
pub(super) fn apply_twice(
    built: &Built,
    cluster: &Cluster,
) -> Result<(String, String, Vec<SiteDb>), String> {
    let files = sql_files(built);
    let mut sites = Vec::new();
    let mut prints = Vec::new();
    for round in 1..=2 {
        for (site, file) in &files {
            let roles_before = names(cluster, "SELECT rolname FROM pg_roles");
            let dbs_before = names(cluster, "SELECT datname FROM pg_database");
            let password = password_for(site);
            let ran = cluster.apply(file, &password);
            let rel = format!("sql/{}", file.file_name().expect("name").to_string_lossy());
            let noisy: Vec<&str> = ran
                .stderr
                .lines()
                .filter(|l| l.contains("ERROR") || l.contains("WARNING") || l.contains("FATAL"))
                .collect();
            if !ran.success || !noisy.is_empty() {
                return Err(format!(
                    "psql -v ON_ERROR_STOP=1 -f rejected {rel} (bundle {}, run {round}): {}",
                    built.name,
                    ran.output().replace(&file.display().to_string(), &rel)
                ));
            }
            if round == 1 && site != "host" {
                let new = |before: &[String], now: Vec<String>| -> Vec<String> {
                    now.into_iter().filter(|n| !before.contains(n)).collect()
                };
                let roles = new(
                    &roles_before,
                    names(cluster, "SELECT rolname FROM pg_roles"),
                );
                let dbs = new(
                    &dbs_before,
                    names(cluster, "SELECT datname FROM pg_database"),
                );
                match (roles.as_slice(), dbs.as_slice()) {
                    ([role], [db]) => sites.push(SiteDb {
                        site: site.clone(),
                        role: role.clone(),
                        db: db.clone(),
                        password,
                    }),
                    _ => {
                        return Err(format!(
                            "{rel} (bundle {}) should create one role and one database, created roles \
                             {roles:?} and databases {dbs:?}",
                            built.name
                        ));
                    }
                }
            }
        }
        prints.push(fingerprint(cluster));
    }
    let second = prints.pop().expect("two runs");
    let first = prints.pop().expect("two runs");
    Ok((first, second, sites))
}
