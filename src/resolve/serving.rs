//! Stage 2 (resolve): how nginx serves a site beyond routing: a static directory as a single-page
//! app with content-hashed asset prefixes, the site's HSTS scope, and a proxied route's read
//! timeout and buffering. Host-wide, [`hsts_covers_plain_sibling`] warns when one site's
//! `includeSubDomains` would lock browsers out of another site served over plain HTTP.

use std::ops::Range;

use super::duration::duration;
use super::invalid::{Checked, Invalid};
use super::url_path::url_path;
use crate::diagnostic::Diagnostic;
use crate::model::{Domain, Hsts};
use crate::raw::RawHsts;

/// nginx's default `proxy_read_timeout`, which blueprint keeps unless a service sets one.
pub(super) const DEFAULT_READ_TIMEOUT: &str = "60s";

/// An `immutable` URL prefix: a URL path that ends with `/`.
pub(super) fn immutable_prefix(prefix: &str) -> Checked<()> {
    url_path("immutable prefix", prefix)?;
    if !prefix.ends_with('/') || prefix == "/" {
        return Err(Invalid::new(
            format!("immutable prefix `{prefix}` must be a directory below `/`"),
            "name the directory the build writes hashed files to, ending with `/`, e.g. `/assets/`",
        ));
    }
    Ok(())
}

/// A `paths` entry: a URL directory below `/` served from a plain directory of the release.
pub(super) fn published_path(prefix: &str, dir: &str) -> Checked<()> {
    url_path("path", prefix)?;
    if !prefix.ends_with('/') || prefix == "/" {
        return Err(Invalid::new(
            format!("path `{prefix}` must be a directory below `/`"),
            "end it with `/`, e.g. `/static/`; to serve the whole site from files, use `static`",
        ));
    }
    super::paths::release_dir(dir).map_err(|_| {
        Invalid::new(
            format!("`{dir}` (for `{prefix}`) is not a plain relative path"),
            "name a directory inside the release, e.g. `staticfiles` or `dist/static` (letters, digits, `.`, `-`, `_`)",
        )
    })
}

/// `uploads_url`: a directory below `/` that none of the site's `paths` already serves.
pub(super) fn uploads_url<'a>(
    prefix: &str,
    mut paths: impl Iterator<Item = &'a str>,
) -> Checked<()> {
    url_path("uploads_url", prefix)?;
    if !prefix.ends_with('/') || prefix == "/" {
        return Err(Invalid::new(
            format!("uploads_url `{prefix}` must be a directory below `/`"),
            "end it with `/`, e.g. `/media/`",
        ));
    }
    if paths.any(|p| p == prefix) {
        return Err(Invalid::new(
            format!("`{prefix}` is also one of the site's `paths`"),
            "serve that prefix from the release's files or from the uploads, not both",
        ));
    }
    Ok(())
}

/// A `read_timeout`: a duration from 1 s to 24 h.
pub(super) fn read_timeout(value: &str) -> Checked<()> {
    duration("read timeout", value).map(|_| ())
}

/// The HSTS scope: `includeSubDomains` by default, `preload` only with it.
pub(super) fn hsts(raw: Option<&RawHsts>) -> Checked<Hsts> {
    let include_subdomains = raw
        .and_then(|h| h.include_subdomains.as_ref())
        .is_none_or(|v| *v.get_ref());
    let preload = raw
        .and_then(|h| h.preload.as_ref())
        .is_some_and(|v| *v.get_ref());
    if preload && !include_subdomains {
        return Err(Invalid::new(
            "HSTS `preload` needs `include_subdomains`",
            "browsers' preload lists accept only sites whose HSTS covers every subdomain: set `include_subdomains = true` or drop `preload`",
        ));
    }
    Ok(Hsts {
        include_subdomains,
        preload,
    })
}

/// A warning when `covering` (an HTTPS site's domains, with `includeSubDomains`) covers a domain
/// of `plain` (a site served over HTTP only): a browser that has visited the first refuses
/// plain HTTP to the second for two years.
pub(super) fn hsts_covers_plain_sibling(
    at: Range<usize>,
    site: &str,
    covering: &[Domain],
    plain_site: &str,
    plain: &[Domain],
) -> Option<Diagnostic> {
    let (parent, child) = covering.iter().find_map(|parent| {
        let suffix = [".", parent.as_str()].concat();
        plain
            .iter()
            .find(|child| child.ends_with(&suffix))
            .map(|child| (parent, child))
    })?;
    Some(
        Diagnostic::warning_at(
            at,
            format!(
                "HSTS of site `{site}` covers `{child}` (site `{plain_site}`, HTTP only): browsers that visited `{parent}` refuse plain HTTP to it for two years"
            ),
        )
        .with_help(format!(
            "serve `{plain_site}` over HTTPS, or set `hsts = {{ include_subdomains = false }}` on `{site}`"
        )),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn immutable_prefixes() {
        assert!(immutable_prefix("/assets/").is_ok());
        assert!(immutable_prefix("/_next/static/").is_ok());
        for bad in ["/", "/assets", "assets/", "/a/../b/", "/a b/", "/a;/"] {
            assert!(immutable_prefix(bad).is_err(), "{bad:?} accepted");
        }
    }
}
