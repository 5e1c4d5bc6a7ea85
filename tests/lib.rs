//! The integration test binary (one binary, one module per concern):
//! - `bundles`: one combined insta snapshot per fixture, determinism, and the committed `out/`.
//! - `diagnostics`: the bad-input corpus in `tests/errors/`, pinned message by message.
//! - `cli`: exit codes and what reaches stdout/stderr.
//! - `validate`: every artifact checked by the real program that consumes it.

mod bundles;
mod cli;
mod diagnostics;
mod properties;
mod schema;
mod support;
mod validate;
