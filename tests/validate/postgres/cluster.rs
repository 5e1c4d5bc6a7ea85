//! A throwaway PostgreSQL cluster for the SQL checks: the newest installed server binaries,
//! `initdb` in a temp dir as the `postgres` user, listening on 127.0.0.1 (a free port, retried)
//! and a private socket directory, psql with a clean environment, stopped and removed on drop.

use std::path::{Path, PathBuf};
use std::process::Command;

use tempfile::TempDir;

use crate::validate::support::{self, free_port, id_of, read, require_root, run, tempdir, Ran};

/// The newest `/usr/lib/postgresql/<major>/bin` with `initdb`, or the PATH's.
pub(super) fn pg_bin() -> Option<PathBuf> {
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
            let initdb = support::tool("postgres", "initdb")?;
            initdb.parent().expect("bin dir").to_path_buf()
        }
    };
    support::tool("postgres", "runuser")?;
    for program in ["pg_ctl", "psql"] {
        if !bin.join(program).is_file() {
            return support::missing(
                "postgres",
                &format!("no {program} next to {}/initdb", bin.display()),
            );
        }
    }
    if id_of(&read(Path::new("/etc/passwd")), "postgres").is_none() {
        return support::missing("postgres", "no `postgres` user to run initdb as");
    }
    Some(bin)
}

/// `program` run as the `postgres` user (through `runuser`, whose presence [`pg_bin`] checked).
fn as_postgres(program: PathBuf) -> Command {
    let runuser = support::tool("postgres", "runuser").expect("checked by pg_bin");
    let mut cmd = Command::new(runuser);
    cmd.args(["-u", "postgres", "--"]).arg(program);
    cmd
}

/// A running throwaway cluster; stopped (immediately) and deleted on drop.
pub(super) struct Cluster {
    bin: PathBuf,
    data: PathBuf,
    socket_dir: PathBuf,
    port: u16,
    _dir: TempDir,
}

impl Cluster {
    pub(super) fn start(bin: &Path) -> Cluster {
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
        let initdb = run(as_postgres(bin.join("initdb"))
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
            let started = run(as_postgres(cluster.bin.join("pg_ctl"))
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
    pub(super) fn query(&self, db: &str, sql: &str) -> String {
        let ran = run(self.superuser(db).args(["-At", "-c", sql]));
        assert!(
            ran.success,
            "superuser query failed in {db}: {sql}\n{}",
            ran.output()
        );
        ran.stdout
    }

    /// The server's log so far.
    pub(super) fn log(&self) -> String {
        std::fs::read_to_string(self.socket_dir.join("server.log")).unwrap_or_default()
    }

    /// Applies one bundle SQL file as setup.sh does.
    pub(super) fn apply(&self, file: &Path, password: &str) -> Ran {
        run(self
            .superuser("postgres")
            .env("BLUEPRINT_DB_PASSWORD", password)
            .arg("-f")
            .arg(file))
    }

    /// `sql` as `user` with `password` over TCP (scram-sha-256 per initdb's pg_hba).
    pub(super) fn tcp(&self, user: &str, password: &str, db: &str, sql: &str) -> Ran {
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

    /// A bash command line that runs psql as the superuser on this cluster, reading SQL from
    /// stdin, the way setup.sh's `bp_psql` does on a host.
    pub(super) fn psql_for_bash(&self) -> String {
        format!(
            "{} -X -q -w -v ON_ERROR_STOP=1 -h {} -p {} -U postgres -d postgres -f -",
            self.bin.join("psql").display(),
            self.socket_dir.display(),
            self.port
        )
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
        let _ = run(as_postgres(self.bin.join("pg_ctl"))
            .arg("-D")
            .arg(&self.data)
            .args(["-m", "immediate", "-w", "stop"]));
    }
}
