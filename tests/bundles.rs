//! Bundles of valid inputs: what they contain (snapshots), that they are deterministic, and that
//! the committed example bundle in `out/` is what the current code generates.

use std::fmt::Write as _;

use crate::support::{inputs, root, snapshot_settings, stem};

/// Every file of the bundle joined under `==== path (mode) ====` headers. `lib/blueprint.sh` is
/// the same for every bundle (the plain source `blueprints/setup/lib.sh` under a header), so it
/// shows as its hash: a change to it is one line here, not one copy per fixture.
fn combined(bundle: &blueprint::bundle::Bundle) -> String {
    let mut out = String::new();
    for (path, file) in &bundle.files {
        let _ = writeln!(
            out,
            "================ {path} ({:o}) ================",
            file.mode()
        );
        if path == "lib/blueprint.sh" {
            let _ = writeln!(
                out,
                "(static: blueprints/setup/lib.sh, sha256 {})",
                file.sha256()
            );
        } else {
            out.push_str(file.contents());
        }
    }
    out
}

#[test]
fn every_fixture_matches_its_snapshot() {
    for input in inputs() {
        let bundle = blueprint::compile(&input)
            .unwrap_or_else(|report| panic!("{}:\n{report}", input.display()));
        let name = if input == std::path::Path::new("sites.toml") {
            "example".to_owned()
        } else {
            stem(&input)
        };
        snapshot_settings()
            .bind(|| insta::assert_snapshot!(format!("bundle@{name}"), combined(&bundle)));
    }
}

#[test]
fn same_input_gives_same_bytes() {
    for input in inputs() {
        let first = blueprint::compile(&input).expect("valid");
        let second = blueprint::compile(&input).expect("valid");
        assert_eq!(
            first,
            second,
            "{} renders differently twice",
            input.display()
        );
        let dir_a = tempfile::tempdir().unwrap();
        let dir_b = tempfile::tempdir().unwrap();
        blueprint::bundle::write::write(&first, dir_a.path()).unwrap();
        blueprint::bundle::write::write(&second, dir_b.path()).unwrap();
        assert!(blueprint::bundle::check::diff(&first, dir_b.path()).is_empty());
    }
}

#[test]
fn output_never_names_the_build_machine() {
    let here = root().to_string_lossy().into_owned();
    for input in inputs() {
        let bundle = blueprint::compile(&input).expect("valid");
        for (path, file) in &bundle.files {
            assert!(
                !file.contents().contains(&here),
                "{path} of {} contains the build path {here}",
                input.display()
            );
        }
    }
}

#[test]
fn committed_out_is_fresh() {
    let bundle = blueprint::compile(&root().join("sites.toml")).expect("the example is valid");
    let diff = blueprint::bundle::check::diff(&bundle, &root().join("out"));
    assert!(
        diff.is_empty(),
        "out/ is stale: run `cargo run -- build` and commit it\n{diff}"
    );
}

#[test]
fn manifest_covers_every_file() {
    let bundle = blueprint::compile(&root().join("sites.toml")).expect("valid");
    let sums = &bundle.files["SHA256SUMS"].contents();
    let listed: Vec<&str> = sums
        .lines()
        .map(|l| l.split_once("  ").expect("two-space separator").1)
        .collect();
    let expected: Vec<&str> = bundle
        .files
        .keys()
        .map(String::as_str)
        .filter(|p| *p != "SHA256SUMS")
        .collect();
    assert_eq!(listed, expected);
    for line in sums.lines() {
        let (hash, path) = line.split_once("  ").unwrap();
        assert_eq!(
            hash,
            blueprint::bundle::manifest::sha256_hex(bundle.files[path].contents().as_bytes()),
            "{path}"
        );
    }
}

#[test]
fn adding_a_site_never_moves_other_ports() {
    let base = std::fs::read_to_string(root().join("tests/fixtures/two-databases.toml")).unwrap();
    let more = format!("{base}\n[sites.aaa]\ndomains = [\"aaa.example.com\"]\nslot = 3\n[sites.aaa.services.app]\nrun = \"/usr/bin/node a.js\"\nroute = \"/\"\n");
    let ports = |text: &str| {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("tests/fixtures")).unwrap();
        let path = dir.path().join("tests/fixtures/x.toml");
        std::fs::write(&path, text).unwrap();
        std::fs::create_dir_all(dir.path().join("keys")).unwrap();
        std::fs::copy(root().join("keys/ops.pub"), dir.path().join("keys/ops.pub")).unwrap();
        let bundle = blueprint::compile(&path).expect("valid");
        let plan = bundle.files["plan.sh"].contents().to_owned();
        plan.lines()
            .find(|l| l.starts_with("declare -A BP_UNIT_PORT="))
            .unwrap()
            .to_owned()
    };
    let before = ports(&base);
    let after = ports(&more);
    assert!(
        before.contains("[alpha-app]=3100") && before.contains("[beta-app]=3110"),
        "{before}"
    );
    assert!(
        after.contains("[alpha-app]=3100")
            && after.contains("[beta-app]=3110")
            && after.contains("[aaa-app]=3120"),
        "{after}"
    );
}
