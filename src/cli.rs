//! The command line: `blueprint build [--check]` and `blueprint check`, with graded exit codes
//! (0 success, 1 stale bundle, 2 invalid input, usage or I/O error).

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::bundle;

/// Compile sites.toml into a reviewable bundle that sets up a multi-site Linux host.
#[derive(Debug, Parser)]
#[command(name = "blueprint", version, about)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// Subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Write the bundle to <OUT>/<host>/ (atomically), or with --check compare it.
    Build {
        /// The config file.
        #[arg(long, default_value = "sites.toml")]
        config: PathBuf,
        /// Output root; the bundle goes to <OUT>/<host>/.
        #[arg(long, default_value = "out")]
        out: PathBuf,
        /// Write nothing; print a diff and exit 1 if the bundle on disk is stale.
        #[arg(long)]
        check: bool,
    },
    /// Validate the config and report every problem; write nothing.
    Check {
        /// The config file.
        #[arg(long, default_value = "sites.toml")]
        config: PathBuf,
    },
}

/// Outcome of a run, mapped to the process exit code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExitStatus {
    /// Everything is fine.
    Success,
    /// `--check` found a stale bundle.
    Stale,
    /// Invalid input, usage or I/O error.
    Error,
}

impl From<ExitStatus> for ExitCode {
    fn from(status: ExitStatus) -> Self {
        ExitCode::from(match status {
            ExitStatus::Success => 0,
            ExitStatus::Stale => 1,
            ExitStatus::Error => 2,
        })
    }
}

/// Parses the process arguments and runs.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    run(&cli).into()
}

/// Runs a parsed command; messages go to stderr, diffs to stdout.
pub fn run(cli: &Cli) -> ExitStatus {
    match &cli.command {
        Command::Check { config } => match crate::compile(config) {
            Ok(bundle) => {
                eprintln!(
                    "ok: `{}` is valid ({} files for host `{}`)",
                    config.display(),
                    bundle.files.len(),
                    bundle.host
                );
                ExitStatus::Success
            }
            Err(report) => fail(&report),
        },
        Command::Build { config, out, check } => match crate::compile(config) {
            Err(report) => fail(&report),
            Ok(bundle) if *check => check_bundle(&bundle, out),
            Ok(bundle) => match bundle::write::write(&bundle, out) {
                Ok((path, bundle::write::Outcome::Written)) => {
                    eprintln!("wrote {} ({} files)", path.display(), bundle.files.len());
                    ExitStatus::Success
                }
                Ok((path, bundle::write::Outcome::AlreadyCurrent)) => {
                    eprintln!(
                        "ok: {} is up to date ({} files, nothing written)",
                        path.display(),
                        bundle.files.len()
                    );
                    ExitStatus::Success
                }
                Err(err) => {
                    eprintln!("error: cannot write the bundle under `{}`: {err}\n  = help: the previous bundle is unchanged; fix the permission or space problem and build again", out.display());
                    ExitStatus::Error
                }
            },
        },
    }
}

fn check_bundle(bundle: &bundle::Bundle, out: &Path) -> ExitStatus {
    let diff = bundle::check::diff(bundle, out);
    if diff.is_empty() {
        eprintln!("ok: {} is up to date", out.join(&bundle.host).display());
        return ExitStatus::Success;
    }
    let _ = std::io::stdout().write_all(diff.as_bytes());
    eprintln!(
        "error: {} is stale\n  = help: run `blueprint build` and commit the result",
        out.join(&bundle.host).display()
    );
    ExitStatus::Stale
}

fn fail(report: &crate::diagnostic::Report) -> ExitStatus {
    eprintln!("{report}");
    ExitStatus::Error
}
