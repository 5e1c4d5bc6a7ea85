//! The SQL of every bundle against a real, throwaway PostgreSQL cluster (initdb in a temp dir,
//! listening on 127.0.0.1 and a private socket directory, stopped and removed by a Drop guard):
//!
//! - idempotence: `sql/host.sql` then every `sql/<site>.sql`, applied twice as setup.sh does,
//!   leave an identical catalog fingerprint (roles and their attributes, databases with owners
//!   and ACLs, schema owners and ACLs in every database);
//! - isolation, for every bundle with two or more databases, over TCP with scram-sha-256:
//!   each site role reaches only its own database, strangers reach none (nor `postgres` or
//!   `template1`), wrong passwords are refused, and a stray grant is revoked by a re-run.

use std::path::{Path, PathBuf};
use std::process::Command;

use tempfile::TempDir;

use super::support::{
    assert_no_failures, bundles, free_port, id_of, read, require_root, run, tempdir, Built, Ran,
};

/// The newest `/usr/lib/postgresql/<major>/bin` with `initdb`, or the PATH's.
fn pg_bin() -> Option<PathBuf> {
    require_root("postgres")?;
    let mut majors: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .filter_map(|e| {
            let e = e.ok()?;
            let major = e.file_name().to_str()?.parse().ok()?;
            let bin = e.path().join("bin");
            bin.join("initdb").is_file().then_some((major, bin))
        })
        .collect();
    majors.sort();
    let bin = match majors.pop() {
        Some((_, bin)) => bin,
        None => {
            let initdb = super::support::tool("postgres", "initdb")?;
            initdb.parent().expect("bin dir").to_path_buf()
        }
    };
    super::support::tool("postgres", "runuser")?;
    for program in ["pg_ctl", "psql"] {
        if !bin.join(program).is_file() {
            return super::support::missing(
                "postgres",
                &format!("no {program} next to {}/initdb", bin.display()),
            );
        }
    }
    if id_of(&read(Path::new("/etc/passwd")), "postgres").is_none() {
        return super::support::missing("postgres", "no `postgres` user to run initdb as");
    }
    Some(bin)
}

/// `runuser`, whose presence [`pg_bin`] checked.
fn runuser() -> PathBuf {
    super::support::tool("postgres", "runuser").expect("checked by pg_bin")
}

/// A running throwaway cluster; stopped (immediately) and deleted on drop.
struct Cluster {
    bin: PathBuf,
    data: PathBuf,
    socket_dir: PathBuf,
    port: u16,
    _dir: TempDir,
}

impl Cluster {
    fn start(bin: &Path) -> Cluster {
        let passwd = read(Path::new("/etc/passwd"));
        let uid =
            id_of(&passwd, "postgres").expect("the postgres user exists (postgresql package)");
        let gid = passwd
            .lines()
            .find(|l| l.starts_with("postgres:"))
            .and_then(|l| l.split(':').nth(3)?.parse().ok())
            .expect("postgres gid");
        let dir = tempdir();
        std::os::unix::fs::chown(dir.path(), Some(uid), Some(gid)).expect("chown cluster dir");
        let data = dir.path().join("data");
        let initdb = run(Command::new(runuser())
            .args(["-u", "postgres", "--"])
            .arg(bin.join("initdb"))
            .args([
                "--no-sync",
                "-U",
                "postgres",
                "--auth-local=trust",
                "--auth-host=scram-sha-256",
            ])
            .arg("-D")
            .arg(&data));
        assert!(initdb.success, "initdb failed: {}", initdb.output());
        let mut cluster = Cluster {
            bin: bin.to_path_buf(),
            socket_dir: dir.path().to_path_buf(),
            data,
            port: 0,
            _dir: dir,
        };
        // A free port can be taken between probing and binding: retry with a fresh one.
        for _ in 0..5 {
            cluster.port = free_port();
            let options = format!(
                "-c listen_addresses=127.0.0.1 -c port={} -c unix_socket_directories={} -c fsync=off",
                cluster.port,
                cluster.socket_dir.display()
            );
            let started = run(Command::new(runuser())
                .args(["-u", "postgres", "--"])
                .arg(cluster.bin.join("pg_ctl"))
                .arg("-D")
                .arg(&cluster.data)
                .arg("-l")
                .arg(cluster.socket_dir.join("server.log"))
                .args(["-o", &options, "-w", "start"]));
            if started.success {
                return cluster;
            }
        }
        let log =
            std::fs::read_to_string(cluster.socket_dir.join("server.log")).unwrap_or_default();
        panic!("the throwaway PostgreSQL cluster did not start: {log}");
    }

    /// psql as the superuser over the private socket.
    fn superuser(&self, db: &str) -> Command {
        let mut cmd = self.psql_env();
        cmd.arg("-h")
            .arg(&self.socket_dir)
            .args(["-U", "postgres", "-d", db]);
        cmd
    }

    /// A superuser query that must succeed; its unaligned, tuples-only output.
    fn query(&self, db: &str, sql: &str) -> String {
        let ran = run(self.superuser(db).args(["-At", "-c", sql]));
        assert!(
            ran.success,
            "superuser query failed in {db}: {sql}\n{}",
            ran.output()
        );
        ran.stdout
    }

    /// Applies one bundle SQL file as setup.sh does.
    fn apply(&self, file: &Path, password: &str) -> Ran {
        run(self
            .superuser("postgres")
            .env("BLUEPRINT_DB_PASSWORD", password)
            .arg("-f")
            .arg(file))
    }

    /// `sql` as `user` with `password` over TCP (scram-sha-256 per initdb's pg_hba).
    fn tcp(&self, user: &str, password: &str, db: &str, sql: &str) -> Ran {
        run(self
            .psql_env()
            .env("PGPASSWORD", password)
            .args([
                "-h",
                "127.0.0.1",
                "-p",
                &self.port.to_string(),
                "-U",
                user,
                "-d",
                db,
            ])
            .args(["-At", "-c", sql]))
    }

    /// psql with a clean environment: nothing from the caller's PG* variables leaks in.
    fn psql_env(&self) -> Command {
        let mut cmd = Command::new(self.bin.join("psql"));
        cmd.env_clear()
            .env("PATH", "/usr/bin:/bin")
            .env("LC_ALL", "C")
            .env("PGCONNECT_TIMEOUT", "10")
            .env("PGPORT", self.port.to_string())
            .args(["-X", "-w", "-v", "ON_ERROR_STOP=1"]);
        cmd
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let _ = run(Command::new(runuser())
            .args(["-u", "postgres", "--"])
            .arg(self.bin.join("pg_ctl"))
            .arg("-D")
            .arg(&self.data)
            .args(["-m", "immediate", "-w", "stop"]));
    }
}

/// A password with every character that could break quoting on its way into `ALTER ROLE`.
fn password_for(site: &str) -> String {
    format!("pw {site} 'q' \"dq\" \\ $HOME; %s :x")
}

/// The bundle's SQL files in setup.sh's order: host.sql, then the sites sorted.
fn sql_files(built: &Built) -> Vec<(String, PathBuf)> {
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
struct SiteDb {
    site: String,
    role: String,
    db: String,
    password: String,
}

fn names(cluster: &Cluster, sql: &str) -> Vec<String> {
    cluster
        .query("postgres", sql)
        .lines()
        .map(str::to_owned)
        .collect()
}

/// Applies all files twice; returns the fingerprints and each site's role and database.
fn apply_twice(built: &Built, cluster: &Cluster) -> Result<(String, String, Vec<SiteDb>), String> {
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

#[test]
fn sql_is_idempotent() {
    let Some(bin) = pg_bin() else { return };
    let with_sql: Vec<Built> = bundles()
        .into_iter()
        .filter(|b| !sql_files(b).is_empty())
        .collect();
    assert!(!with_sql.is_empty(), "no bundle has SQL");
    let failures: Vec<String> = std::thread::scope(|scope| {
        let handles: Vec<_> = with_sql
            .iter()
            .map(|built| {
                let bin = &bin;
                scope.spawn(move || {
                    let cluster = Cluster::start(bin);
                    match apply_twice(built, &cluster) {
                        Err(e) => Some(e),
                        Ok((first, second, _)) if first != second => Some(format!(
                            "bundle {}: the catalog after the second run of its SQL differs from the first:\n{}",
                            built.name,
                            similar::TextDiff::from_lines(&first, &second)
                                .unified_diff()
                                .header("run 1", "run 2")
                        )),
                        Ok((first, _, _)) if std::env::var_os("BP_SHOW_FINGERPRINT").is_some() => {
                            eprintln!("fingerprint of bundle {}:\n{first}", built.name);
                            None
                        }
                        Ok(_) => None,
                    }
                })
            })
            .collect();
        handles
            .into_iter()
            .filter_map(|h| h.join().expect("no panic"))
            .collect()
    });
    assert_no_failures("postgres idempotence", &failures);
}

/// Every isolation property of one bundle's sites; problems are collected, not panicked.
fn check_isolation(built: &Built, cluster: &Cluster, sites: &[SiteDb]) -> Vec<String> {
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
fn check_stray_grant_is_revoked(
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
fn check_no_password_keeps_the_role_password(
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

#[test]
fn site_databases_are_isolated() {
    let Some(bin) = pg_bin() else { return };
    let multi: Vec<Built> = bundles()
        .into_iter()
        .filter(|b| {
            sql_files(b)
                .iter()
                .filter(|(site, _)| site != "host")
                .count()
                >= 2
        })
        .collect();
    assert!(
        !multi.is_empty(),
        "no bundle has two databases (tests/fixtures/two-databases.toml should)"
    );
    let failures: Vec<String> = std::thread::scope(|scope| {
        let handles: Vec<_> = multi
            .iter()
            .map(|built| {
                let bin = &bin;
                scope.spawn(move || {
                    let cluster = Cluster::start(bin);
                    let sites = match apply_twice(built, &cluster) {
                        Ok((_, _, sites)) => sites,
                        Err(e) => return vec![e],
                    };
                    let mut failures = check_isolation(built, &cluster, &sites);
                    if let Err(e) =
                        check_stray_grant_is_revoked(built, &cluster, &sites[0], &sites[1])
                    {
                        failures.push(e);
                    }
                    if let Err(e) =
                        check_no_password_keeps_the_role_password(built, &cluster, &sites[0])
                    {
                        failures.push(e);
                    }
                    failures
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().expect("no panic"))
            .collect()
    });
    assert_no_failures("postgres isolation", &failures);
}

#[test]
fn postgres_checks_can_fail() {
    let Some(bin) = pg_bin() else { return };
    let built = bundles()
        .into_iter()
        .find(|b| {
            sql_files(b)
                .iter()
                .filter(|(site, _)| site != "host")
                .count()
                >= 2
        })
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
