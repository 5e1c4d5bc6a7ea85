//! Every artifact of every bundle (the example and each `tests/fixtures/*.toml`) checked by the
//! real program that consumes it: bash and shellcheck, `nginx -t`, `systemd-analyze verify` and
//! `security`, `logrotate -d`, a throwaway PostgreSQL cluster, and the auditors' tools gixy and
//! testssl.sh on the nginx configuration. Nothing on the machine is
//! changed: every tool runs on copies in temp dirs (logrotate in a private mount namespace).
//!
//! A missing tool fails the test when `CI` is set and prints a loud SKIPPED message otherwise.
//! Each check also has a negative test that breaks a copy of a bundle and expects a failure
//! naming the file, so a check that can never fail is caught.

mod bash;
mod calendar;
mod gixy;
mod host;
mod logrotate;
mod nginx;
mod offsite;
mod ports;
mod postgres;
mod prometheus;
mod ratelimit;
mod support;
mod systemd;
mod testssl;
