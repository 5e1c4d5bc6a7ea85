//! The host drop-ins are accepted by the programs that read them: `visudo -c` for the deploy
//! user's sudoers file, `sshd -t` for the sshd drop-in, `fail2ban-client -t` for the jails and
//! `apt-config` for the unattended-upgrades settings. All run on copies; sshd runs in a private
//! mount namespace so its privilege-separation directory never touches the real /run.

use std::process::Command;

use super::support::{
    assert_no_failures, bundles, copy_tree, read, require_root, run, tempdir, tool, Built,
};

/// visudo on the sudoers drop-in of `built`, if it has one.
fn check_sudoers(built: &Built, visudo: &std::path::Path) -> Result<(), String> {
    for rel in built.files("files/etc/sudoers.d/", "") {
        let ran = run(Command::new(visudo)
            .arg("-c")
            .arg("-f")
            .arg(built.dir.join(&rel)));
        if !ran.success {
            return Err(format!(
                "visudo -c rejected {rel} (bundle {}): {}",
                built.name,
                ran.output()
            ));
        }
    }
    Ok(())
}

#[test]
fn sudoers_pass_visudo() {
    let Some(visudo) = tool("host", "visudo") else {
        return;
    };
    let failures: Vec<String> = bundles()
        .iter()
        .filter_map(|b| check_sudoers(b, &visudo).err())
        .collect();
    assert_no_failures("visudo", &failures);
}

#[test]
fn visudo_check_can_fail() {
    let Some(visudo) = tool("host", "visudo") else {
        return;
    };
    let built = bundles().into_iter().next().expect("example");
    let broken = built.mutated("files/etc/sudoers.d/blueprint-deploy", |t| {
        t.replacen("NOPASSWD:", "NOPASSWD", 1)
    });
    let err = check_sudoers(&broken, &visudo).expect_err("visudo accepted a broken line");
    assert!(
        err.starts_with("visudo -c rejected files/etc/sudoers.d/blueprint-deploy"),
        "{err}"
    );
}

#[test]
fn sshd_accepts_the_drop_in() {
    let (Some(()), Some(sshd), Some(keygen), Some(unshare)) = (
        require_root("host"),
        tool("host", "sshd"),
        tool("host", "ssh-keygen"),
        tool("host", "unshare"),
    ) else {
        return;
    };
    let mut failures = Vec::new();
    for built in bundles() {
        for rel in built.files("files/etc/ssh/sshd_config.d/", ".conf") {
            let tmp = tempdir();
            let key = tmp.path().join("host_key");
            let made = run(Command::new(&keygen)
                .args(["-q", "-t", "ed25519", "-N", ""])
                .arg("-f")
                .arg(&key));
            assert!(made.success, "ssh-keygen: {}", made.output());
            let config = tmp.path().join("sshd_config");
            std::fs::write(
                &config,
                format!("Include {}\n", built.dir.join(&rel).display()),
            )
            .unwrap();
            let script = format!(
                "mount -t tmpfs tmpfs /run && mkdir -m 0755 /run/sshd && exec {} -t -f {} -h {}",
                sshd.display(),
                config.display(),
                key.display()
            );
            let ran = run(Command::new(&unshare).args(["--mount", "sh", "-c", &script]));
            if !ran.success {
                failures.push(format!(
                    "sshd -t rejected {rel} (bundle {}): {}",
                    built.name,
                    ran.output()
                ));
            }
        }
    }
    assert_no_failures("sshd -t", &failures);
}

#[test]
fn fail2ban_accepts_the_jails() {
    let Some(client) = tool("host", "fail2ban-client") else {
        return;
    };
    let mut failures = Vec::new();
    for built in bundles() {
        for rel in built.files("files/etc/fail2ban/jail.d/", ".conf") {
            let tmp = tempdir();
            let conf = tmp.path().join("fail2ban");
            copy_tree(std::path::Path::new("/etc/fail2ban"), &conf);
            // The nginx jail names every site's error log, as nginx creates them on the host.
            let logs = tmp.path().join("log");
            let jail = read(&built.dir.join(&rel))
                .replace("/var/log/nginx/", &format!("{}/", logs.display()));
            for path in jail
                .split_whitespace()
                .filter(|w| w.ends_with("/error.log"))
            {
                let path = std::path::Path::new(path);
                std::fs::create_dir_all(path.parent().unwrap()).unwrap();
                std::fs::write(path, "").unwrap();
            }
            std::fs::write(conf.join("jail.d/blueprint.conf"), jail).unwrap();
            let ran = run(Command::new(&client).arg("-c").arg(&conf).arg("-t"));
            if !ran.success {
                failures.push(format!(
                    "fail2ban-client -t rejected {rel} (bundle {}): {}",
                    built.name,
                    ran.output()
                ));
            }
        }
    }
    assert_no_failures("fail2ban-client -t", &failures);
}

#[test]
fn apt_reads_the_unattended_upgrades_settings() {
    let Some(apt_config) = tool("host", "apt-config") else {
        return;
    };
    let mut failures = Vec::new();
    for built in bundles() {
        for rel in built.files("files/etc/apt/apt.conf.d/", "") {
            let ran = run(Command::new(&apt_config)
                .arg("-c")
                .arg(built.dir.join(&rel))
                .arg("dump"));
            if !ran.success
                || !ran
                    .output()
                    .contains("APT::Periodic::Unattended-Upgrade \"1\";")
            {
                failures.push(format!(
                    "apt-config did not read {rel} (bundle {}): {}",
                    built.name,
                    ran.output()
                ));
            }
        }
    }
    assert_no_failures("apt-config", &failures);
}
