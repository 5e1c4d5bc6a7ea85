//! The command line, with graded exit codes (0 success, 1 stale bundle or changes to apply,
//! 2 invalid input, usage or I/O error). Each subcommand is a small function here; the work
//! lives in the library modules it calls.

pub mod init;
mod output;

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{CommandFactory, Parser, Subcommand};

use crate::bundle;
use crate::model::Os;
pub use output::{Color, MessageFormat, Output};

/// Compile sites.toml into a reviewable bundle that sets up a multi-site Linux host.
#[derive(Debug, Parser)]
#[command(name = "blueprint", version, about)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
    /// Colour diagnostics: auto (a terminal, unless NO_COLOR is set), always or never.
    #[arg(long, global = true, value_enum, default_value_t = Color::Auto)]
    pub color: Color,
    /// Diagnostics as text on stderr (human) or one JSON object per line on stdout (json).
    #[arg(long, global = true, value_enum, default_value_t = MessageFormat::Human)]
    pub message_format: MessageFormat,
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
    /// Say what applying the new bundle will do on the host, compared with <OUT>/<host>/.
    Plan {
        /// The config file.
        #[arg(long, default_value = "sites.toml")]
        config: PathBuf,
        /// Output root holding the bundle currently on the host.
        #[arg(long, default_value = "out")]
        out: PathBuf,
    },
    /// Write a commented starter sites.toml (never overwrites a file).
    Init {
        /// Where to write it.
        #[arg(long, default_value = "sites.toml")]
        config: PathBuf,
        /// The host's name (the bundle directory out/<NAME>/).
        #[arg(long, default_value = "vps1")]
        host: String,
        /// The host's distribution.
        #[arg(long, default_value = "ubuntu-24.04", value_parser = os_ids())]
        os: String,
        /// The public key the deploy user logs in with; copied to keys/admin.pub beside the
        /// file. Default: your ~/.ssh/id_ed25519.pub (or id_ecdsa.pub, id_rsa.pub).
        #[arg(long)]
        admin_key: Option<PathBuf>,
    },
    /// Print the JSON Schema of sites.toml (for editors: taplo, Even Better TOML).
    Schema {
        /// Print the sites.toml reference in Markdown instead (README.md holds a copy).
        #[arg(long)]
        markdown: bool,
    },
    /// Print a shell completion script.
    Completions {
        /// The shell.
        shell: clap_complete::Shell,
    },
    /// Print the man page (roff).
    Man,
}

fn os_ids() -> clap::builder::PossibleValuesParser {
    clap::builder::PossibleValuesParser::new(Os::ALL.map(Os::id))
}

/// Outcome of a run, mapped to the process exit code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExitStatus {
    /// Everything is fine, or nothing to do.
    Success,
    /// `--check` found a stale bundle; `plan` found changes.
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

/// Runs a parsed command; messages go to stderr, diffs and generated text to stdout.
pub fn run(cli: &Cli) -> ExitStatus {
    let output = Output::new(cli.message_format, cli.color);
    match &cli.command {
        Command::Check { config } => with_bundle(&output, config, |bundle| {
            eprintln!(
                "ok: `{}` is valid ({} files for host `{}`)",
                config.display(),
                bundle.files.len(),
                bundle.host
            );
            ExitStatus::Success
        }),
        Command::Build { config, out, check } => with_bundle(&output, config, |bundle| {
            if *check {
                check_bundle(&bundle, out)
            } else {
                write_bundle(&bundle, out)
            }
        }),
        Command::Plan { config, out } => with_bundle(&output, config, |bundle| plan(&bundle, out)),
        Command::Init {
            config,
            host,
            os,
            admin_key,
        } => init_file(config, host, os, admin_key.as_deref(), &output),
        Command::Schema { markdown: false } => print_stdout(&crate::schema::to_pretty_string()),
        Command::Schema { markdown: true } => print_stdout(&crate::schema::reference::markdown()),
        Command::Completions { shell } => {
            let mut text = Vec::new();
            clap_complete::generate(*shell, &mut Cli::command(), "blueprint", &mut text);
            print_bytes(&text)
        }
        Command::Man => {
            let mut text = Vec::new();
            match clap_mangen::Man::new(Cli::command()).render(&mut text) {
                Ok(()) => print_bytes(&text),
                Err(err) => {
                    eprintln!("error: cannot render the man page: {err}");
                    ExitStatus::Error
                }
            }
        }
    }
}

/// Compiles `config`, prints its diagnostics (warnings too), and runs `then` on a valid bundle.
fn with_bundle(
    output: &Output,
    config: &Path,
    then: impl FnOnce(bundle::Bundle) -> ExitStatus,
) -> ExitStatus {
    let (bundle, report) = crate::compile_all(config);
    output.report(&report);
    match bundle {
        Some(bundle) => then(bundle),
        None => ExitStatus::Error,
    }
}

fn write_bundle(bundle: &bundle::Bundle, out: &Path) -> ExitStatus {
    match bundle::write::write(bundle, out) {
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

fn plan(bundle: &bundle::Bundle, out: &Path) -> ExitStatus {
    let lines = bundle::changes::describe(bundle, out);
    let current = out.join(&bundle.host);
    if lines.is_empty() {
        println!(
            "nothing to do: {} already holds this bundle",
            current.display()
        );
        return ExitStatus::Success;
    }
    let mut text = format!("applying the new bundle of host `{}` will:\n", bundle.host);
    for line in &lines {
        text.push_str("  ");
        text.push_str(line);
        text.push('\n');
    }
    text.push_str("run `blueprint build`, review `git diff out/`, then copy it to the host\n");
    let _ = print_stdout(&text);
    ExitStatus::Stale
}

fn init_file(
    config: &Path,
    host: &str,
    os: &str,
    admin_key: Option<&Path>,
    output: &Output,
) -> ExitStatus {
    match init::init(config, host, os, admin_key) {
        Ok(()) => {
            eprintln!(
                "wrote {}; edit it, then run `blueprint check --config {}`",
                config.display(),
                config.display()
            );
            ExitStatus::Success
        }
        Err(init::InitError::Invalid(report)) => {
            output.report(&report);
            ExitStatus::Error
        }
        Err(init::InitError::Io(true, _)) => {
            eprintln!("error: `{}` already exists\n  = help: init never overwrites a file: pass another path with `--config`, or edit the file you have", config.display());
            ExitStatus::Error
        }
        Err(init::InitError::Io(false, err)) => {
            eprintln!("error: cannot write `{}`: {err}", config.display());
            ExitStatus::Error
        }
        Err(init::InitError::NoKey) => {
            eprintln!("error: no admin key to put in `{}`\n  = help: pass the public key you will log in with as the deploy user: `blueprint init --admin-key ~/.ssh/id_ed25519.pub` (it is copied to keys/admin.pub beside the file)", config.display());
            ExitStatus::Error
        }
        Err(init::InitError::KeyExists(copy)) => {
            eprintln!("error: `{}` already holds another key\n  = help: init never overwrites a file: remove it, or pass the same key with `--admin-key`", copy.display());
            ExitStatus::Error
        }
    }
}

fn print_stdout(text: &str) -> ExitStatus {
    print_bytes(text.as_bytes())
}

/// Writes to stdout; a closed pipe (`blueprint schema | head`) is not an error worth a panic.
fn print_bytes(bytes: &[u8]) -> ExitStatus {
    let mut stdout = std::io::stdout().lock();
    match stdout.write_all(bytes).and_then(|()| stdout.flush()) {
        Ok(()) => ExitStatus::Success,
        Err(err) if err.kind() == std::io::ErrorKind::BrokenPipe => ExitStatus::Success,
        Err(err) => {
            eprintln!("error: cannot write to stdout: {err}");
            ExitStatus::Error
        }
    }
}
