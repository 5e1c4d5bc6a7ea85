//! The integration test binary (one binary, one module per concern):
//! - `bundles`: one combined insta snapshot per fixture, determinism, and the committed `out/`.
//! - `diagnostics`: the bad-input corpus in `tests/errors/`, pinned message by message.
//! - `cli`: exit codes and what reaches stdout/stderr.
//! - `host_lib`: the primitives of lib.sh (setup.sh's steps) in a temp root, with real bash.
//! - `validate`: every artifact checked by the real program that consumes it.
//! - `properties`: proptest over generated, hostile and mutated configs.
//! - `schema`: the JSON Schema against the loader and resolve's defaults.
//! - `readme`: README.md's reference and commands against the schema and the CLI.

mod bundles;
mod cli;
mod diagnostics;
mod host_lib;
mod properties;
mod readme;
mod schema;
mod support;
mod validate;
