//! Any bytes, read as a `sites.toml`, go through load → resolve → render (and the report is
//! rendered) without panicking. Invalid input must come back as diagnostics, never a crash, each
//! positioned and saying something, printed without anything a terminal would act on.
#![no_main]

use blueprint::render::{render_with, Renderer};
use blueprint::source::SourceFile;
use libfuzzer_sys::fuzz_target;

/// The input pretends to live next to the fixtures, so their `../../keys/ops.pub` resolves.
const PATH: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/fixtures/fuzz.toml");

fuzz_target!(|data: &[u8]| {
    thread_local! {
        static RENDERER: Renderer = Renderer::new();
    }
    let source = SourceFile::new(PATH, String::from_utf8_lossy(data).into_owned());
    let result =
        blueprint::load::parse(&source).and_then(|raw| blueprint::resolve::resolve(&raw, &source));
    match result {
        Ok(model) => {
            let bundle = RENDERER.with(|r| render_with(r, &model));
            assert!(bundle.files.contains_key("SHA256SUMS"));
        }
        Err(report) => {
            let text = report.to_string();
            assert!(text.starts_with("error: "), "{text}");
            // What the user reads: something said at a position, nothing a terminal acts on.
            assert!(
                !text.chars().any(|c| c != '\n' && c.is_control()),
                "{text:?}"
            );
            for d in report.diagnostics() {
                assert!(d.span.is_some() && !d.message.trim().is_empty(), "{d:?}");
            }
        }
    }
});
