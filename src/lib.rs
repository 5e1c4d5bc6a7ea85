//! blueprint compiles one `sites.toml` into a reviewable bundle (`out/<host>/`) that turns a fresh
//! Debian 12 / Ubuntu 24.04 machine into a multi-site host.
//!
//! The pipeline has four stages, one module each, and data only flows forward:
//!
//! 1. [`load`]: read the file, check its shape against the JSON Schema generated from the [`raw`]
//!    types ([`schema`]), then deserialize what is usable into them (spans kept). Unknown keys and
//!    wrong types do not stop it, so resolve still sees the rest.
//! 2. [`resolve`]: validate everything and build the typed [`model`], with defaults applied.
//!    All problems of both stages are collected as [`diagnostic::Diagnostic`]s (errors and
//!    warnings) with file:line:col, and reported together.
//! 3. [`render`]: every artifact gets a small serializable view of the model and one embedded
//!    template from `blueprints/`; escaping is explicit per target language ([`render::escape`]).
//! 4. [`bundle`]: the rendered files, plus a sorted `SHA256SUMS`, are written atomically or
//!    compared with what is on disk (`--check`), or described as host actions (`plan`,
//!    [`bundle::changes`]).
//!
//! [`cli`] maps the subcommands (`build`, `check`, `plan`, `init`, `schema`, `completions`,
//! `man`) onto these stages and the exit codes 0/1/2.

pub mod bundle;
pub mod cli;
pub mod diagnostic;
pub mod load;
pub mod model;
pub mod parallel;
pub mod raw;
pub mod render;
pub mod resolve;
pub mod schema;
pub mod source;
pub mod suggest;

use std::path::Path;

/// Runs load → resolve → render for one config file and returns the in-memory bundle.
///
/// # Errors
/// Every problem in the input, as positioned diagnostics (rendered with the source).
pub fn compile(config: &Path) -> Result<bundle::Bundle, diagnostic::Report> {
    match compile_all(config) {
        (Some(bundle), _) => Ok(bundle),
        (None, report) => Err(report),
    }
}

/// Like [`compile`], but also returns the warnings of a valid file: the bundle when there is no
/// error, and every diagnostic found by load and resolve together, so one run shows them all.
pub fn compile_all(config: &Path) -> (Option<bundle::Bundle>, diagnostic::Report) {
    let source = match source::SourceFile::read(config) {
        Ok(source) => source,
        Err(report) => return (None, report),
    };
    let loaded = load::load(&source);
    let mut diagnostics = loaded.diagnostics;
    let placeholders = loaded.placeholders;
    let model = loaded.raw.and_then(|raw| {
        let (model, found) = resolve::resolve_all(&raw, &source);
        // A value that had the wrong type was resolved as a placeholder: what resolve says
        // about it repeats the type error already reported there.
        diagnostics.extend(found.into_iter().filter(|d| {
            !d.span.as_ref().is_some_and(|s| {
                placeholders
                    .iter()
                    .any(|p| p.start <= s.start && s.end <= p.end)
            })
        }));
        model
    });
    let valid = !diagnostics.iter().any(diagnostic::Diagnostic::is_error);
    let bundle = model.filter(|_| valid).map(|model| render::render(&model));
    (bundle, diagnostic::Report::new(&source, diagnostics))
}
