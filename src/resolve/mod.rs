//! Stage 2: raw config → validated [`Model`].
//!
//! The resolver walks the raw tree once, checks every value with the small pure checks in the
//! submodules, applies defaults, and then runs the host-wide checks (unique domains, slots and
//! ports). It never stops at the first problem: every diagnostic is collected, each pinned to the
//! span of the value that caused it, so one run of `blueprint check` shows everything to fix.

mod admin_keys;
mod backups;
mod basic_auth;
mod calendar;
mod command;
mod domain;
mod duration;
mod email;
mod env;
mod headers;
mod host;
mod host_wide;
mod invalid;
mod job;
mod limits;
mod names;
mod network;
mod packages;
mod paths;
mod port_range;
mod portable;
mod ports;
mod process;
mod rate;
mod release;
mod service;
mod serving;
mod site;
mod tls;
mod url_path;

use std::ops::Range;

use crate::diagnostic::{Diagnostic, Report};
use crate::model::{Model, Site};
use crate::raw::RawConfig;
use crate::source::SourceFile;
use invalid::{Checked, Invalid};

/// Proof that a value passed its check here: the model's name types
/// ([`crate::model::SiteName`], …) take one, and only this module and its children can make it.
#[derive(Debug, Clone, Copy)]
pub struct Validated(());

impl Validated {
    /// Called by a check, right after the value passed it.
    const fn checked() -> Self {
        Validated(())
    }
}

/// Validates `raw` and builds the model.
///
/// # Errors
/// Every problem found, with positions in `source`.
pub fn resolve(raw: &RawConfig, source: &SourceFile) -> Result<Model, Report> {
    match resolve_all(raw, source) {
        (Some(model), _) => Ok(model),
        (None, diagnostics) => Err(Report::new(
            source,
            diagnostics
                .into_iter()
                .filter(Diagnostic::is_error)
                .collect(),
        )),
    }
}

/// Validates `raw` and builds the model when there is no error; returns every diagnostic,
/// warnings included, either way.
pub fn resolve_all(raw: &RawConfig, source: &SourceFile) -> (Option<Model>, Vec<Diagnostic>) {
    let mut resolver = Resolver {
        source,
        diagnostics: Vec::new(),
    };
    let host = resolver.host(raw.host.get_ref(), raw);
    let ports = resolver.plan_ports(raw, host.as_ref().map(|h| h.ssh_port));
    let sites: Vec<Site> = raw
        .sites
        .iter()
        .filter_map(|(name, site)| resolver.site(name, site, host.as_ref(), &ports))
        .collect();
    resolver.unique_across_host(raw);
    resolver.unique_units(raw, &sites);
    resolver.hsts_scope(raw, &sites);
    let valid = !resolver.diagnostics.iter().any(Diagnostic::is_error);
    let model = host.filter(|_| valid).map(|host| Model { host, sites });
    (model, resolver.diagnostics)
}

/// Collects diagnostics while walking the raw tree.
struct Resolver<'a> {
    source: &'a SourceFile,
    diagnostics: Vec<Diagnostic>,
}

impl Resolver<'_> {
    fn report(&mut self, span: Range<usize>, invalid: Invalid) {
        self.diagnostics
            .push(Diagnostic::at(span, invalid.message).with_help(invalid.help));
    }

    /// Keeps the value of a passed check, records a failed one at `span`.
    fn check<T>(&mut self, span: Range<usize>, result: Checked<T>) -> Option<T> {
        result.map_err(|invalid| self.report(span, invalid)).ok()
    }
}
