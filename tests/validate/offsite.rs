//! The off-host copy's sftp command line, which no test machine can reach: `blueprint-backup`
//! hands restic its repository and `sftp.command`, and restic runs that command. Here restic
//! itself runs it, with a stub in ssh's place that records the words it was given (so restic's
//! own splitting is what is checked), and `ssh -G` evaluates those words as ssh would, without
//! connecting: the login, port, key and host-key policy `blueprint-backup` means to use.

use std::os::unix::fs::PermissionsExt;
use std::process::Command;

use super::support::{bundles, read, run, tempdir, tool, Built};

const SCRIPT: &str = "files/usr/local/sbin/blueprint-backup";

/// The value of `readonly NAME=…` in the script, unquoted as bash would.
fn value(script: &str, name: &str) -> Option<String> {
    let prefix = ["readonly ", name, "="].concat();
    let line = script.lines().find(|line| line.starts_with(&prefix))?;
    let words = shlex::split(&line[prefix.len()..]).expect("a bash word");
    assert!(words.len() <= 1, "{name} is not one word: {line}");
    Some(words.into_iter().next().unwrap_or_default())
}

/// The bundles whose off-host copy goes over sftp, with their repository and ssh command.
fn sftp_bundles() -> Vec<(Built, String, String)> {
    let with: Vec<_> = bundles()
        .into_iter()
        .filter_map(|built| {
            let script = read(&built.dir.join(SCRIPT));
            let ssh = value(&script, "OFFSITE_SSH").filter(|ssh| !ssh.is_empty())?;
            let repository = value(&script, "OFFSITE").expect("OFFSITE beside OFFSITE_SSH");
            Some((built, repository, ssh))
        })
        .collect();
    assert!(!with.is_empty(), "no fixture copies its backups over sftp");
    with
}

#[test]
fn restic_runs_the_sftp_command_word_for_word() {
    let Some(restic) = tool("restic", "restic") else {
        return;
    };
    for (built, repository, ssh) in sftp_bundles() {
        let words: Vec<&str> = ssh.split(' ').collect();
        assert_eq!(words[0], "ssh", "{}: {ssh}", built.name);
        let tmp = tempdir();
        let stub = tmp.path().join("ssh");
        let args = tmp.path().join("args");
        std::fs::write(
            &stub,
            format!(
                "#!/bin/sh\nprintf '%s\\n' \"$@\" >'{}'\nexit 1\n",
                args.display()
            ),
        )
        .unwrap();
        std::fs::set_permissions(&stub, std::fs::Permissions::from_mode(0o755)).unwrap();
        let password = tmp.path().join("password");
        std::fs::write(&password, "test").unwrap();
        let command = [stub.to_str().unwrap(), &ssh["ssh".len()..]].concat();
        // Fails (the stub is no server); what matters is what the stub was given.
        let ran = run(Command::new(&restic)
            .args(["--no-cache", "--repo", &repository, "--password-file"])
            .arg(&password)
            .args(["--option", &["sftp.command=", &command].concat()])
            .args(["cat", "config"]));
        assert!(!ran.success, "{}: restic reached a stub", built.name);
        let given = std::fs::read_to_string(&args).unwrap_or_else(|e| {
            panic!(
                "{}: restic did not run the command ({e}): {}",
                built.name,
                ran.output()
            )
        });
        assert_eq!(
            given.lines().collect::<Vec<_>>(),
            words[1..],
            "{}",
            built.name
        );
    }
}

#[test]
fn ssh_reads_the_sftp_command_as_meant() {
    let Some(ssh) = tool("openssh-client", "ssh") else {
        return;
    };
    for (built, repository, command) in sftp_bundles() {
        // `sftp:USER@HOST:/PATH`: the login and host ssh must use.
        let (login, _) = repository["sftp:".len()..].split_once(':').unwrap();
        let (user, host) = login.split_once('@').unwrap();
        // ssh -G leaves out a key file that does not exist: a stand-in for the host's.
        let tmp = tempdir();
        let key = tmp.path().join("ssh-key");
        std::fs::write(&key, "").unwrap();
        let key = key.to_str().unwrap();
        let mut words: Vec<&str> = command.split(' ').skip(1).collect();
        let i = words.iter().position(|w| *w == "-i").expect("-i KEY");
        assert_eq!(words[i + 1], "/etc/blueprint/offsite/ssh-key", "{command}");
        words[i + 1] = key;
        let ran = run(Command::new(&ssh).arg("-G").args(&words));
        assert!(
            ran.success,
            "{}: ssh -G refused {command}: {}",
            built.name,
            ran.output()
        );
        let config: Vec<&str> = ran.stdout.lines().collect();
        for expected in [
            &["user ", user].concat(),
            &["hostname ", host].concat(),
            "batchmode yes",
            "identitiesonly yes",
            "stricthostkeychecking accept-new",
            "userknownhostsfile /var/lib/blueprint-backup/known_hosts",
        ] {
            assert!(
                config.contains(&expected),
                "{}: `ssh -G {command}` lacks `{expected}`",
                built.name
            );
        }
        // blueprint's key and no other (none of root's own).
        let keys: Vec<&&str> = config
            .iter()
            .filter(|l| l.starts_with("identityfile "))
            .collect();
        assert_eq!(keys, [&["identityfile ", key].concat()], "{}", built.name);
    }
    // full.toml names port 2200, which only the ssh command carries.
    let (_, _, full) = sftp_bundles()
        .into_iter()
        .find(|(built, _, _)| built.name == "full")
        .expect("full.toml copies over sftp");
    let words: Vec<&str> = full.split(' ').skip(1).collect();
    let ran = run(Command::new(&ssh).arg("-G").args(&words));
    assert!(ran.stdout.lines().any(|line| line == "port 2200"), "{full}");
}
