//! PostgreSQL artifacts: `sql/host.sql` (host-wide revokes) and one re-runnable `sql/<site>.sql`
//! per site with a database. Passwords are never in these files.

use serde::Serialize;

use super::templates::{static_view, view_of};
use super::Renderer;
use crate::bundle::Bundle;
use crate::model::{Database, Model, Site};

/// Connections one site may hold, so a leaking pool cannot exhaust the server's 100.
const CONNECTION_LIMIT: u32 = 20;

static_view!(
    /// The host-wide revokes: nothing of the model.
    HostSqlView => SqlHost
);

#[derive(Serialize)]
struct SiteSqlView<'a> {
    site: &'a str,
    connection_limit: u32,
}
view_of!(SiteSqlView<'_> => SqlSite);

/// Adds `sql/host.sql` when any site has a database.
pub(super) fn render_host(renderer: &Renderer, model: &Model, bundle: &mut Bundle) {
    if !model.sites.iter().any(|s| s.database == Database::Postgres) {
        return;
    }
    bundle.add("sql/host.sql", renderer.render(&HostSqlView), 0o644);
}

/// Adds `sql/<site>.sql` when `site` has a database.
pub(super) fn render_site(renderer: &Renderer, site: &Site, bundle: &mut Bundle) {
    if site.database != Database::Postgres {
        return;
    }
    let view = SiteSqlView {
        site: &site.name,
        connection_limit: CONNECTION_LIMIT,
    };
    bundle.add(
        ["sql/", &site.name, ".sql"].concat(),
        renderer.render(&view),
        0o644,
    );
}
