//! README.md cannot drift from the code it documents:
//! - its `sites.toml` reference is exactly what `blueprint schema --markdown` renders from the raw
//!   types' doc comments, defaults and examples;
//! - every `blueprint …` command it shows, in a code block or inline, parses with the real command
//!   line (`blueprint::cli::Cli`), so a renamed subcommand or flag fails here, not for a reader;
//! - every option it gives `setup.sh` or `blueprint-deploy` is one those scripts accept (a `case`
//!   label of the committed example bundle, which `bundles` keeps fresh).

use blueprint::cli::Cli;
use blueprint::schema::reference::{markdown, END, START};
use clap::error::ErrorKind;
use clap::Parser;

use crate::support::root;

fn readme() -> String {
    std::fs::read_to_string(root().join("README.md")).expect("README.md is readable")
}

#[test]
fn the_reference_is_the_generated_one() {
    let text = readme();
    let start = text
        .find(START)
        .expect("README.md has the reference start marker")
        + START.len();
    let end = text[start..]
        .find(END)
        .expect("README.md has the reference end marker")
        + start;
    let written = text[start..end].trim();
    let generated = markdown();
    assert!(
        written == generated.trim(),
        "README.md's sites.toml reference is stale: replace the lines between the markers with \
         the output of `cargo run -- schema --markdown`"
    );
}

/// Every command line of the README that runs `blueprint`: from fenced code blocks (one shell
/// line each, prompt, comments and redirections cut, `&&`/`|`/`;` split) and from inline code.
/// Inline spans with `[` or `\|` are usage patterns of the commands table, not commands.
fn blueprint_commands(text: &str) -> Vec<String> {
    let mut lines = Vec::new();
    let mut in_block = false;
    for line in text.lines() {
        if line.starts_with("```") {
            in_block = !in_block;
            continue;
        }
        if in_block {
            lines.push(line.trim_start_matches("$ ").to_owned());
        } else {
            lines.extend(
                line.split('`')
                    .skip(1)
                    .step_by(2)
                    .filter(|span| !span.contains('[') && !span.contains("\\|"))
                    .map(str::to_owned),
            );
        }
    }
    let mut commands = Vec::new();
    for line in lines {
        let line = line.split(" #").next().unwrap_or_default();
        for part in line.split(['|', ';', '&']) {
            let part = part.split('>').next().unwrap_or_default().trim();
            if part == "blueprint" || part.starts_with("blueprint ") {
                commands.push(part.to_owned());
            }
        }
    }
    commands
}

#[test]
fn every_blueprint_command_in_the_readme_parses() {
    let commands = blueprint_commands(&readme());
    for quickstart in [
        "blueprint init --admin-key ~/.ssh/id_ed25519.pub",
        "blueprint check",
        "blueprint build",
        "blueprint plan",
        "blueprint build --check",
        "blueprint schema --markdown",
    ] {
        assert!(
            commands.iter().any(|c| c == quickstart),
            "README.md no longer shows `{quickstart}`; found {commands:?}"
        );
    }
    for command in &commands {
        match Cli::try_parse_from(command.split_whitespace()) {
            Ok(_) => {}
            Err(err)
                if matches!(
                    err.kind(),
                    ErrorKind::DisplayHelp | ErrorKind::DisplayVersion
                ) => {}
            Err(err) => panic!("README.md shows `{command}`, which the CLI rejects:\n{err}"),
        }
    }
}

#[test]
fn the_command_scan_sees_a_wrong_flag() {
    // The negative twin: a misspelled flag in a code block is found and rejected.
    let commands = blueprint_commands("```sh\nblueprint build --chek   # typo\n```\n");
    assert_eq!(commands, ["blueprint build --chek"]);
    assert!(Cli::try_parse_from(commands[0].split_whitespace()).is_err());
}

/// The `--options` the README passes to `script` (a word of a command line), in order met.
fn options_of(text: &str, script: &str) -> Vec<String> {
    let mut options = Vec::new();
    for line in text.lines() {
        let line = line.split(" #").next().unwrap_or_default();
        for part in line.split(['|', ';', '&', '\'', '`']) {
            let mut words = part.split_whitespace().skip_while(|w| !w.ends_with(script));
            if words.next().is_some() {
                // After `--`, the words are a command's, not the script's.
                let own = words.take_while(|w| *w != "--");
                options.extend(own.filter(|w| w.starts_with("--")).map(str::to_owned));
            }
        }
    }
    options
}

#[test]
fn every_host_script_option_in_the_readme_exists() {
    let text = readme();
    let bundle = root().join("out/vps1");
    for (script, source, least) in [
        ("setup.sh", "lib/blueprint.sh", 2),
        (
            "blueprint-deploy",
            "files/usr/local/sbin/blueprint-deploy",
            2,
        ),
        (
            "blueprint-backup",
            "files/usr/local/sbin/blueprint-backup",
            3,
        ),
    ] {
        let code = std::fs::read_to_string(bundle.join(source)).expect("the example bundle");
        let options = options_of(&text, script);
        assert!(
            options.len() >= least,
            "README.md shows fewer `{script}` options than expected: {options:?}"
        );
        for option in options {
            assert!(
                code.contains(&format!("{option})")),
                "README.md passes `{option}` to {script}, which {source} does not accept"
            );
        }
    }
}
