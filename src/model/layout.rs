//! Stage 2 (model): where things live on the host. Every absolute path the bundle writes or
//! names is built here, once, so the renderers, plan.sh and the templates agree by construction
//! (a path typed twice in two languages is how one copy ends up wrong).

/// Parent of every site's tree: `/srv/sites/<site>/{releases,shared,current}`.
pub const SITES_ROOT: &str = "/srv/sites";
/// Root-only state of setup.sh (records, pending actions, the lock).
pub const STATE_ROOT: &str = "/var/lib/blueprint";
/// Certificates nginx reads: one directory per site with `fullchain.pem` and `privkey.pem`.
pub const TLS_ROOT: &str = "/etc/blueprint/tls";
/// blueprint's own host configuration (the ports ruleset, certificates, basic-auth files).
pub const ETC_ROOT: &str = "/etc/blueprint";
/// Basic-auth files, one pair per site: `<site>.htpasswd` (hashes, read by nginx's workers, so
/// the directory is group `www-data`) and `<site>.passwords` (root's, 0600).
pub const BASIC_AUTH_ROOT: &str = "/etc/blueprint/basic-auth";
/// nginx's logs, one root-owned directory per site. Not under the site's tree: nginx's master
/// (root) opens these files, so no directory on their path may belong to a site or to an app
/// (CVE-2016-1247).
pub const NGINX_LOG_ROOT: &str = "/var/log/nginx";
/// Authorized keys served by sshd from a root-owned place (`AuthorizedKeysFile`), so root never
/// writes inside a home directory another user controls.
pub const AUTHORIZED_KEYS_ROOT: &str = "/etc/ssh/authorized_keys";

/// The sites' backups, root's alone: `<site>/<id>/` with the dumps, the archive of the site's
/// files and the manifest `blueprint-backup` checks them against.
pub const BACKUP_ROOT: &str = "/var/backups/blueprint";
/// Metrics blueprint writes for the node exporter's textfile collector (monitoring on): root's,
/// readable by the exporter.
pub const METRICS_ROOT: &str = "/var/lib/blueprint-metrics";
/// `blueprint-tls-metrics`, which writes each HTTPS site's certificate expiry there.
pub const TLS_METRICS_COMMAND: &str = "/usr/local/sbin/blueprint-tls-metrics";
/// `blueprint-backup`, which takes, verifies, lists and restores them.
pub const BACKUP_COMMAND: &str = "/usr/local/sbin/blueprint-backup";
/// The template unit that copies a site's newest verified backup off the host (instance: the
/// site), started by the site's backup unit.
pub const OFFSITE_UNIT: &str = "blueprint-backup-offsite@";
/// The off-host copy's secrets, made on the host by setup.sh, root's alone and read-only to the
/// backup units: the restic repository's password and, for an sftp repository, the ssh key.
pub const OFFSITE_ROOT: &str = "/etc/blueprint/offsite";
/// The restic repository's password: without it the off-host copy cannot be read.
pub const OFFSITE_PASSWORD: &str = "/etc/blueprint/offsite/restic-password";
/// The ssh key `blueprint-backup` logs in to an sftp repository with (`.pub` beside it).
pub const OFFSITE_SSH_KEY: &str = "/etc/blueprint/offsite/ssh-key";
/// What the off-host copy keeps between runs, root's alone and written by the backup units:
/// the sftp target's host key (`known_hosts`), the repository once reached (`repository`), and
/// restic's cache (`cache/`).
pub const OFFSITE_STATE_ROOT: &str = "/var/lib/blueprint-backup";

/// The unit (`.service` and `.timer`) that backs up `site`. Site names may not start with
/// `blueprint`, so this never names a unit of a site.
pub fn backup_unit(site: &str) -> String {
    ["blueprint-backup-", site].concat()
}

/// First port of slot 1's block: every site owns ten loopback ports chosen by its `slot`.
pub const PORT_BASE: u16 = 3100;
/// Ports per slot.
pub const PORTS_PER_SLOT: u16 = 10;

/// The ports of a slot's block.
pub fn slot_ports(slot: u16) -> std::ops::Range<u16> {
    let start = PORT_BASE + (slot - 1) * PORTS_PER_SLOT;
    start..start + PORTS_PER_SLOT
}

/// `/etc/blueprint/ports.nft`: who may answer on each site's ports.
pub const PORTS_RULESET: &str = "/etc/blueprint/ports.nft";

/// `/srv/sites/<site>`.
pub fn site_root(site: &str) -> String {
    [SITES_ROOT, "/", site].concat()
}

/// A path inside a site's tree, e.g. `site_path("shop", "shared/.env")`.
pub fn site_path(site: &str, rel: &str) -> String {
    [SITES_ROOT, "/", site, "/", rel].concat()
}

/// `<site root>/shared/uploads`: what the app saves, which nginx serves with `uploads_url`.
pub fn uploads_dir(site: &str) -> String {
    site_path(site, "shared/uploads")
}

/// `/var/log/nginx/<site>`.
pub fn nginx_log_dir(site: &str) -> String {
    [NGINX_LOG_ROOT, "/", site].concat()
}

/// `/etc/blueprint/basic-auth/<site>.htpasswd`, the file nginx checks logins against.
pub fn htpasswd(site: &str) -> String {
    [BASIC_AUTH_ROOT, "/", site, ".htpasswd"].concat()
}

/// `/etc/blueprint/basic-auth/<site>.passwords`: each user's password, for the operator.
pub fn basic_auth_passwords(site: &str) -> String {
    [BASIC_AUTH_ROOT, "/", site, ".passwords"].concat()
}

/// `/etc/ssh/authorized_keys/<user>`.
pub fn authorized_keys(user: &str) -> String {
    [AUTHORIZED_KEYS_ROOT, "/", user].concat()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_are_joined_without_doubled_slashes() {
        assert_eq!(site_root("shop"), "/srv/sites/shop");
        assert_eq!(
            site_path("shop", "shared/.env"),
            "/srv/sites/shop/shared/.env"
        );
        assert_eq!(nginx_log_dir("shop"), "/var/log/nginx/shop");
        assert_eq!(authorized_keys("deploy"), "/etc/ssh/authorized_keys/deploy");
    }
}
