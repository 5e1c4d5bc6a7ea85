//! Stage 4 (bundle): what becomes of one file under `files/` on the host — its mode and owner,
//! whether it goes live directly or through nginx's validated staging tree, the command that
//! must accept it before it goes live, and what must happen once it changed.
//!
//! The renderer that makes a file decides its fate when it adds it; plan.sh carries the fate
//! as data, and setup.sh applies it without looking at the path. One table, one language.

/// How a file reaches the host.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fate {
    /// Permission bits on the host, e.g. `0o644`.
    pub mode: u32,
    /// Owning user; the group is the same name.
    pub owner: String,
    /// Direct install, or part of nginx's tree (validated as a whole with `nginx -t`).
    pub stage: Stage,
    /// Run on the temp file before it replaces the live one; a failure keeps the live file.
    pub validator: Validator,
    /// What a change of this file requires.
    pub on_change: Action,
}

/// Where a file is validated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    /// Installed on its own (temp file, validator, rename).
    Direct,
    /// Staged with every other nginx file, the whole tree checked by `nginx -t` first.
    Nginx,
}

/// A command that must accept the file before it goes live.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Validator {
    /// Nothing to run.
    None,
    /// `visudo -qcf`: a broken sudoers drop-in would disable sudo for everyone.
    Visudo,
    /// `sshd -t` on the whole resulting config: a broken drop-in would stop sshd.
    Sshd,
    /// `ssh-keygen -lf`: an authorized keys file that holds no key locks the deploy user out.
    AuthorizedKeys,
    /// `nft -c -f`: a ruleset nftables would refuse.
    Nft,
    /// `promtool check config`: Prometheus would not start with a broken config.
    PromtoolConfig,
    /// `promtool check rules`: nor with broken alerting rules.
    PromtoolRules,
}

/// What a change of the file requires, in the words setup.sh records as pending actions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Nothing: the consumer reads the file each time (logrotate, apt, sudo, sshd keys).
    None,
    /// `systemctl daemon-reload`, then restart this unit (name without `.service`).
    RestartUnit(String),
    /// systemd re-reads its units; nothing restarts (a job's service, started by its timer).
    DaemonReload,
    /// Reload nginx (the file is part of its validated tree).
    ReloadNginx,
    /// Restart sshd (or its socket on Ubuntu 24.04).
    RestartSsh,
    /// Restart fail2ban, which reads its jails and their log files at start.
    RestartFail2ban,
}

impl Fate {
    /// A root-owned file with `mode`, installed directly, with no validator and no action.
    pub fn root(mode: u32) -> Self {
        Self {
            mode,
            owner: "root".to_owned(),
            stage: Stage::Direct,
            validator: Validator::None,
            on_change: Action::None,
        }
    }

    /// A root-owned 0644 nginx file: staged, validated as a tree, nginx reloaded on change.
    pub fn nginx() -> Self {
        Self {
            stage: Stage::Nginx,
            on_change: Action::ReloadNginx,
            ..Self::root(0o644)
        }
    }

    /// With `validator`.
    pub fn validated_by(self, validator: Validator) -> Self {
        Self { validator, ..self }
    }

    /// With `action` on change.
    pub fn then(self, on_change: Action) -> Self {
        Self { on_change, ..self }
    }

    /// The line plan.sh carries: `"<path> <mode> <owner> <group> <stage> <validator> <actions>"`,
    /// where actions are setup.sh's pending-action names joined by `,` (or `-`).
    pub fn plan_line(&self, host_path: &str) -> String {
        let stage = match self.stage {
            Stage::Direct => "direct",
            Stage::Nginx => "nginx",
        };
        let validator = match self.validator {
            Validator::None => "-",
            Validator::Visudo => "visudo",
            Validator::Sshd => "sshd",
            Validator::AuthorizedKeys => "keys",
            Validator::Nft => "nft",
            Validator::PromtoolConfig => "promtool-config",
            Validator::PromtoolRules => "promtool-rules",
        };
        let actions = match &self.on_change {
            Action::None => "-".to_owned(),
            Action::RestartUnit(unit) => ["daemon-reload,restart-", unit].concat(),
            Action::DaemonReload => "daemon-reload".to_owned(),
            Action::ReloadNginx => "nginx-reload".to_owned(),
            Action::RestartSsh => "ssh-reload".to_owned(),
            Action::RestartFail2ban => "fail2ban-restart".to_owned(),
        };
        let mode = format!("{:04o}", self.mode);
        [
            host_path,
            " ",
            &mode,
            " ",
            &self.owner,
            " ",
            &self.owner,
            " ",
            stage,
            " ",
            validator,
            " ",
            &actions,
        ]
        .concat()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_unit_file_names_its_reload_and_restart() {
        let fate = Fate::root(0o644).then(Action::RestartUnit("shop-web".into()));
        assert_eq!(
            fate.plan_line("/etc/systemd/system/shop-web.service"),
            "/etc/systemd/system/shop-web.service 0644 root root direct - daemon-reload,restart-shop-web"
        );
    }

    #[test]
    fn nginx_files_are_staged_and_reload_nginx() {
        assert_eq!(
            Fate::nginx().plan_line("/etc/nginx/nginx.conf"),
            "/etc/nginx/nginx.conf 0644 root root nginx - nginx-reload"
        );
    }

    #[test]
    fn validators_are_named() {
        let line = Fate::root(0o440)
            .validated_by(Validator::Visudo)
            .plan_line("/etc/sudoers.d/x");
        assert_eq!(line, "/etc/sudoers.d/x 0440 root root direct visudo -");
    }
}
