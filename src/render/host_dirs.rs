//! Stage 3 (render): the directories setup.sh keeps on the host, with their exact owner, group
//! and mode, in creation order (parents first). Carried to the host as plan.sh data
//! (`BP_DIRS`); setup.sh creates or repairs each and never decides a mode itself.
//!
//! The rule behind the owners: root never writes, chowns or opens a file through a directory
//! another user controls. So a site's tree and its `shared/` belong to root (group: the site, so
//! its processes may traverse them), and only the leaves the app writes to belong to the site.

use crate::model::{contract, layout, Model, Site};

/// One directory: `"<path> <mode> <owner> <group>"` in plan.sh.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct HostDir {
    pub(super) path: String,
    pub(super) mode: u32,
    pub(super) owner: String,
    pub(super) group: String,
}

impl HostDir {
    fn new(path: String, mode: u32, owner: &str, group: &str) -> Self {
        Self {
            path,
            mode,
            owner: owner.to_owned(),
            group: group.to_owned(),
        }
    }

    /// The line plan.sh carries.
    pub(super) fn plan_line(&self) -> String {
        let mode = format!("{:04o}", self.mode);
        [&self.path, " ", &mode, " ", &self.owner, " ", &self.group].concat()
    }
}

/// Every directory of the host, host-wide ones first, then each site's in site order.
pub(super) fn host_dirs(model: &Model) -> Vec<HostDir> {
    let mut dirs = vec![
        HostDir::new(layout::SITES_ROOT.to_owned(), 0o755, "root", "root"),
        HostDir::new(
            layout::AUTHORIZED_KEYS_ROOT.to_owned(),
            0o755,
            "root",
            "root",
        ),
    ];
    let basic_auth = model.sites.iter().any(|site| !site.basic_auth.is_empty());
    let offsite = (model.host.backups.as_ref()).is_some_and(|b| b.offsite.is_some());
    if basic_auth || offsite {
        dirs.push(HostDir::new(
            layout::ETC_ROOT.to_owned(),
            0o755,
            "root",
            "root",
        ));
    }
    if basic_auth {
        // nginx's workers (www-data) read the hashes; the passwords inside are root's alone.
        let auth = layout::BASIC_AUTH_ROOT.to_owned();
        dirs.push(HostDir::new(auth, 0o750, "root", "www-data"));
    }
    if model.host.prometheus {
        // The node exporter's textfile directory: root writes, the exporter reads.
        let metrics = layout::METRICS_ROOT.to_owned();
        dirs.push(HostDir::new(metrics, 0o755, "root", "root"));
    }
    if model.host.backups.is_some() {
        // Every site's data: root's alone.
        let backups = layout::BACKUP_ROOT.to_owned();
        dirs.push(HostDir::new(backups, 0o700, "root", "root"));
    }
    if offsite {
        // The off-host copy's secrets, and what it keeps between runs: root's alone.
        let secrets = layout::OFFSITE_ROOT.to_owned();
        dirs.push(HostDir::new(secrets, 0o700, "root", "root"));
        let state = layout::OFFSITE_STATE_ROOT.to_owned();
        dirs.push(HostDir::new(state, 0o700, "root", "root"));
    }
    for site in &model.sites {
        dirs.extend(site_dirs(site));
    }
    dirs
}

/// One site's directories.
fn site_dirs(site: &Site) -> Vec<HostDir> {
    let name = site.name.as_str();
    // nginx (www-data) serves a static site's files through "other" permissions, so it needs to
    // traverse (not list) the way to the release. It is in no site's group: a group shared with
    // every static site would let one site's release publish another's files.
    let mode = |traversed: bool| if traversed { 0o751 } else { 0o750 };
    let publishes = !site.published_dirs().is_empty();
    // With `uploads_url`, the way to shared/uploads too; the other leaves of shared/ stay the
    // site's alone (0750), and uploads/ itself is opened to nginx by an ACL (`BP_UPLOADS_SERVED`).
    let uploads = site.uploads_url.is_some();
    vec![
        HostDir::new(
            layout::site_root(name),
            mode(publishes || uploads),
            "root",
            name,
        ),
        HostDir::new(
            layout::site_path(name, "releases"),
            mode(publishes),
            name,
            name,
        ),
        HostDir::new(
            layout::site_path(name, "shared"),
            mode(uploads),
            "root",
            name,
        ),
    ]
    .into_iter()
    // The leaves the site's processes write (logs, uploads, state, cache, home).
    .chain(contract::SHARED_WRITABLE.iter().map(|dir| {
        let path = layout::site_path(name, &["shared/", dir].concat());
        HostDir::new(path, 0o750, name, name)
    }))
    // nginx's master (root) opens the logs, its workers (www-data) reopen them after
    // rotation: every directory on the way is root's, and readable like /var/log/nginx.
    .chain([HostDir::new(
        layout::nginx_log_dir(name),
        0o755,
        "root",
        "adm",
    )])
    .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::contract;

    /// Every directory the contract hands a process (STATE_DIRECTORY, HOME…) is created by
    /// setup.sh, owned by the site, and writable in the unit.
    #[test]
    fn every_directory_the_contract_names_is_created_and_writable() {
        let source = crate::source::SourceFile::read("tests/fixtures/full.toml".as_ref()).unwrap();
        let raw = crate::load::parse(&source).unwrap();
        let model = crate::resolve::resolve(&raw, &source).unwrap();
        let bundle = crate::render::render(&model);
        let dirs = host_dirs(&model);
        for site in &model.sites {
            for svc in &site.services {
                let unit = [
                    "files/etc/systemd/system/",
                    &site.name,
                    "-",
                    &svc.name,
                    ".service",
                ];
                let unit = bundle.files[&unit.concat()].contents();
                let rw = unit.lines().find_map(|l| l.strip_prefix("ReadWritePaths="));
                let rw: Vec<&str> = rw.unwrap().split(' ').collect();
                for (name, value) in contract::environment(&site.name, svc.port) {
                    if !value.starts_with(layout::SITES_ROOT) {
                        continue;
                    }
                    let dir = dirs.iter().find(|d| d.path == value);
                    let dir = dir.unwrap_or_else(|| panic!("{name}={value} is not created"));
                    assert_eq!(
                        (dir.owner.as_str(), dir.group.as_str()),
                        (&*site.name, &*site.name)
                    );
                    assert!(rw.contains(&value.as_str()), "{name}={value} not in {rw:?}");
                }
            }
        }
    }
}
