//! The bundle's nginx tree is accepted by `nginx -t`: a copy of `files/etc/nginx/` becomes a
//! private prefix with what Debian's package adds (mime.types, modules-enabled/, the
//! sites-enabled/ links setup.sh makes), and every path outside the tree (logs, pid, the site
//! certificates) is pointed into a temp dir. The system's nginx is never touched.

use std::path::{Path, PathBuf};
use std::process::Command;

use super::support::{
    assert_no_failures, bundles, read, replace_once, run, tempdir, tool, walk, Built,
};

/// The one warning a throwaway self-signed certificate can cause (OCSP stapling needs a real
/// issuer); any other `[warn]` is a failure.
const TOLERATED_WARNINGS: &[&str] = &["\"ssl_stapling\" ignored"];

struct Tools {
    nginx: PathBuf,
    openssl: PathBuf,
}

fn tools() -> Option<Tools> {
    // As root, like the real master process (`user` is only honoured, not warned about, then).
    super::support::require_root("nginx")?;
    Some(Tools {
        nginx: tool("nginx", "nginx")?,
        openssl: tool("nginx", "openssl")?,
    })
}

/// A private copy of a bundle's nginx tree that nginx can load without touching the system.
pub(super) struct Staged {
    /// The copy of `files/etc/nginx/` (nginx's prefix).
    pub(super) prefix: PathBuf,
    /// Where paths outside the tree (logs, pid, site directories) now point.
    pub(super) outside: PathBuf,
    /// Keeps the directory alive.
    _tmp: tempfile::TempDir,
}

/// nginx in the foreground; SIGTERM on drop so the master takes its workers down with it.
pub(super) struct Server(std::process::Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .arg("-TERM")
            .arg(self.0.id().to_string())
            .status();
        let _ = self.0.wait();
    }
}

impl Staged {
    /// Serves the staged tree in the foreground with `nginx` (a command naming the binary, or
    /// wrapping it, e.g. `ip netns exec NS nginx`); errors go to `outside/error.log`.
    pub(super) fn serve(&self, mut nginx: Command) -> Server {
        Server(
            nginx
                .arg("-p")
                .arg(&self.prefix)
                .arg("-c")
                .arg(self.prefix.join("nginx.conf"))
                .arg("-e")
                .arg(self.outside.join("error.log"))
                .args(["-g", "daemon off;"])
                .stdin(std::process::Stdio::null())
                .stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::null())
                .spawn()
                .expect("nginx starts"),
        )
    }
}

/// Copies the bundle's nginx tree into a temp prefix, adds what Debian's package provides
/// (mime.types, modules-enabled/, the sites-enabled/ links setup.sh makes) and points every path
/// outside the tree, and the site certificates, into the temp dir.
pub(super) fn stage(built: &Built, openssl: &Path) -> Result<Staged, String> {
    let source = built.dir.join("files/etc/nginx");
    if !source.join("nginx.conf").is_file() {
        return Err(format!(
            "bundle {}: no files/etc/nginx/nginx.conf",
            built.name
        ));
    }
    let tmp = tempdir();
    let prefix = tmp.path().join("etc/nginx");
    let outside = tmp.path().join("outside");
    super::support::copy_tree(&source, &prefix);
    // What Debian's nginx package provides next to our files.
    if !prefix.join("mime.types").exists() {
        let stock = Path::new("/etc/nginx/mime.types");
        if stock.is_file() {
            std::fs::copy(stock, prefix.join("mime.types")).expect("copy mime.types");
        } else {
            std::fs::write(
                prefix.join("mime.types"),
                "types {\n    text/html html;\n}\n",
            )
            .expect("write mime.types");
        }
    }
    std::fs::create_dir_all(prefix.join("modules-enabled")).expect("modules-enabled");
    // setup.sh enables every site with a symlink.
    let enabled = prefix.join("sites-enabled");
    std::fs::create_dir_all(&enabled).expect("sites-enabled");
    for rel in walk(&prefix.join("sites-available")) {
        std::os::unix::fs::symlink(
            Path::new("../sites-available").join(&rel),
            enabled.join(&rel),
        )
        .expect("symlink site");
    }

    let (cert, key) = self_signed(tmp.path(), openssl)?;
    let user_exists =
        |name: &str| super::support::id_of(&read(Path::new("/etc/passwd")), name).is_some();
    for rel in walk(&prefix) {
        let path = prefix.join(&rel);
        let Ok(text) = std::fs::read_to_string(&path) else {
            continue;
        };
        let rewritten = rewrite(&text, &prefix, &outside, &cert, &key, &user_exists);
        if rewritten != text {
            std::fs::write(&path, rewritten).expect("write rewritten conf");
        }
    }
    // nginx opens (creates) every log file and the pid file while testing, so the directories
    // of all redirected paths must exist.
    for rel in walk(&prefix) {
        let Ok(text) = std::fs::read_to_string(prefix.join(&rel)) else {
            continue;
        };
        for word in text.split_whitespace() {
            let path = Path::new(word.trim_end_matches(';').trim_matches('"'));
            if let Some(parent) = path.parent().filter(|_| path.starts_with(&outside)) {
                std::fs::create_dir_all(parent).expect("redirected dir");
            }
        }
    }
    std::fs::create_dir_all(&outside).expect("outside dir");

    Ok(Staged {
        prefix,
        outside,
        _tmp: tmp,
    })
}

/// Runs `nginx -t` on a staged copy of the bundle's tree; the error names the bundle file.
fn check_nginx(built: &Built, tools: &Tools) -> Result<(), String> {
    let Staged {
        prefix, outside, ..
    } = &stage(built, &tools.openssl)?;
    let conf = prefix.join("nginx.conf");
    let ran = run(Command::new(&tools.nginx)
        .arg("-t")
        .arg("-q")
        .arg("-p")
        .arg(format!("{}/", prefix.display()))
        .arg("-c")
        .arg(&conf)
        .arg("-e")
        .arg(outside.join("error.log")));
    // Messages name files of the copy: map them back to the bundle's paths.
    let output = ran
        .output()
        .replace(
            &format!("{}/sites-enabled/", prefix.display()),
            "files/etc/nginx/sites-available/",
        )
        .replace(&format!("{}/", prefix.display()), "files/etc/nginx/");
    let blamed = blamed_file(&output).unwrap_or_else(|| "files/etc/nginx/nginx.conf".to_owned());
    if !ran.success {
        return Err(format!(
            "nginx -t rejected {blamed} (bundle {}): {output}",
            built.name
        ));
    }
    let warnings: Vec<&str> = output
        .lines()
        .filter(|l| l.contains("[warn]") && !TOLERATED_WARNINGS.iter().any(|t| l.contains(t)))
        .collect();
    if !warnings.is_empty() {
        return Err(format!(
            "nginx -t warned about {blamed} (bundle {}): {}",
            built.name,
            warnings.join("\n")
        ));
    }
    Ok(())
}

/// Points every path outside the tree into the temp dir (the copy only).
fn rewrite(
    text: &str,
    prefix: &Path,
    outside: &Path,
    cert: &Path,
    key: &Path,
    user_exists: &dyn Fn(&str) -> bool,
) -> String {
    let outside = outside.display().to_string();
    let mut out = String::with_capacity(text.len());
    for line in text.split_inclusive('\n') {
        let trimmed = line.trim_start();
        let indent = &line[..line.len() - trimmed.len()];
        let directive = trimmed.split_whitespace().next().unwrap_or("");
        let replaced = match directive {
            "ssl_certificate" | "ssl_trusted_certificate" => {
                format!("{indent}{directive} {};\n", cert.display())
            }
            "ssl_certificate_key" => format!("{indent}ssl_certificate_key {};\n", key.display()),
            // Debian has www-data; elsewhere any existing account will do for a syntax test.
            "user"
                if !user_exists(
                    trimmed
                        .split_whitespace()
                        .nth(1)
                        .unwrap_or("")
                        .trim_end_matches(';'),
                ) =>
            {
                format!("{indent}user root;\n")
            }
            _ => replace_once(
                line,
                &[
                    ("/etc/nginx/", format!("{}/", prefix.display())),
                    ("/srv/", format!("{outside}/srv/")),
                    ("/var/log/", format!("{outside}/var/log/")),
                    ("/run/", format!("{outside}/run/")),
                ],
            ),
        };
        out.push_str(&replaced);
    }
    out
}

/// A throwaway self-signed certificate and key.
fn self_signed(dir: &Path, openssl: &Path) -> Result<(PathBuf, PathBuf), String> {
    let cert = dir.join("cert.pem");
    let key = dir.join("key.pem");
    let ran = run(Command::new(openssl)
        .args([
            "req",
            "-x509",
            "-nodes",
            "-days",
            "2",
            "-subj",
            "/CN=blueprint.test",
        ])
        .args(["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1"])
        .arg("-keyout")
        .arg(&key)
        .arg("-out")
        .arg(&cert));
    if ran.success {
        Ok((cert, key))
    } else {
        Err(format!(
            "openssl could not make a test certificate: {}",
            ran.output()
        ))
    }
}

/// The first `files/etc/nginx/…` path nginx mentions, without the `:line` suffix.
fn blamed_file(output: &str) -> Option<String> {
    let start = output.find("files/etc/nginx/")?;
    let rest = &output[start..];
    let end = rest
        .find(|c: char| c == ':' || c == '"' || c.is_whitespace())
        .unwrap_or(rest.len());
    Some(rest[..end].to_owned())
}

#[test]
fn nginx_accepts_every_bundle() {
    let Some(tools) = tools() else { return };
    let mut failures = Vec::new();
    for built in bundles() {
        if let Err(failure) = check_nginx(&built, &tools) {
            failures.push(failure);
        }
    }
    assert_no_failures("nginx -t", &failures);
}

#[test]
fn nginx_check_can_fail_and_names_the_file() {
    let Some(tools) = tools() else { return };
    let mut checked = 0;
    for built in bundles() {
        let Some(site) = built
            .files("files/etc/nginx/sites-available/", ".conf")
            .into_iter()
            .next()
        else {
            continue;
        };
        // Delete the last closing brace.
        let unbalanced = built.mutated(&site, |text| {
            let at = text.rfind('}').expect("a site file has a block");
            format!("{}{}", &text[..at], &text[at + 1..])
        });
        let err =
            check_nginx(&unbalanced, &tools).expect_err("nginx accepted an unbalanced site file");
        eprintln!("expected failure: {err}");
        assert!(
            err.starts_with(&format!("nginx -t rejected {site} ")),
            "{err}"
        );
        // Drop the `;` of a proxy_pass line, where there is one.
        if read(&built.dir.join(&site)).contains("proxy_pass ") {
            let glued = built.mutated(&site, |text| {
                let line = text.find("proxy_pass ").expect("proxy_pass");
                let semicolon = line + text[line..].find(';').expect("terminated");
                format!("{}{}", &text[..semicolon], &text[semicolon + 1..])
            });
            let err =
                check_nginx(&glued, &tools).expect_err("nginx accepted proxy_pass without `;`");
            eprintln!("expected failure: {err}");
            assert!(
                err.starts_with(&format!("nginx -t rejected {site} ")),
                "{err}"
            );
        }
        checked += 1;
    }
    assert!(checked > 0, "no bundle has a site file to break");
}
