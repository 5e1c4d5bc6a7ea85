//! Stage 3 (render): the directories setup.sh keeps on the host, with their exact owner, group
//! and mode, in creation order (parents first). Carried to the host as plan.sh data
//! (`BP_DIRS`); setup.sh creates or repairs each and never decides a mode itself.
//!
//! The rule behind the owners: root never writes, chowns or opens a file through a directory
//! another user controls. So a site's tree and its `shared/` belong to root (group: the site, so
//! its processes may traverse them), and only the leaves the app writes to belong to the site.

use crate::model::{layout, Model, Site};

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
    let traverse = if site.static_dir.is_some() {
        0o751
    } else {
        0o750
    };
    vec![
        HostDir::new(layout::site_root(name), traverse, "root", name),
        HostDir::new(layout::site_path(name, "releases"), traverse, name, name),
        HostDir::new(layout::site_path(name, "shared"), 0o750, "root", name),
        HostDir::new(layout::site_path(name, "shared/logs"), 0o750, name, name),
        HostDir::new(layout::site_path(name, "shared/uploads"), 0o750, name, name),
        // nginx's master (root) opens the logs, its workers (www-data) reopen them after
        // rotation: every directory on the way is root's, and readable like /var/log/nginx.
        HostDir::new(layout::nginx_log_dir(name), 0o755, "root", "adm"),
    ]
}
