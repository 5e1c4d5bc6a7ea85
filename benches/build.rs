//! Pipeline benchmark on synthetic hosts (issue "Performance and robustness").
//!
//! Run: `cargo bench --bench build` (add a filter, e.g. `-- render`, to run one group).
//!
//! Groups, each for hosts of 10, 100 and 1,000 sites (the slot range caps a host at 1,000):
//! - `load_resolve/N`: TOML text → validated model.
//! - `render/N`: model → in-memory bundle, with one `Renderer` built once.
//! - `write/N`: bundle → a fresh directory (atomic write, as `blueprint build` does).
//! - `cp_r/N`: `cp -r` of that finished tree to a fresh directory: the physical floor for `write`.
//! - `render/10000`: render only, of a model of 10,000 sites made by repeating the 1,000-site
//!   host with new names (see [`scaled`]): a real host cannot have that many, every site needs
//!   its own block of ten loopback ports, so `resolve` rejects it; the render stage does not care.
//! - `example/end_to_end`: the shipped `sites.toml`, compile + write to a fresh directory.
//! - `example/up_to_date`: the same into an `out/` that already holds the bundle (a re-build):
//!   compared with the tree on disk, nothing written.
//!
//! The same binary also generates the synthetic hosts for `benches/report.sh`:
//! `cargo bench --bench build -- --generate <SITES> <DIR>` writes `<DIR>/sites.toml`.

use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::process::Command;

use blueprint::bundle::Bundle;
use blueprint::render::{render_with, Renderer};
use blueprint::source::SourceFile;
use criterion::{criterion_group, BatchSize, BenchmarkId, Criterion, Throughput};

/// Host sizes measured. A host has at most 1,000 slots, so 10,000 sites cannot be expressed.
const SIZES: &[usize] = &[10, 100, 1_000];

/// The `sites.toml` text of a realistic host with `sites` sites: each has two domains, ACME TLS,
/// a postgres database, three env vars (one with shell/nginx-hostile characters), a secret, a
/// generated secret, and two services with a route, a rate limit and a health path.
fn generate(sites: usize) -> String {
    generate_from(1, sites)
}

/// [`generate`] with site names numbered from `first` (slots still 1 to `sites`).
fn generate_from(first: usize, sites: usize) -> String {
    use std::fmt::Write as _;
    assert!((1..=1_000).contains(&sites), "a host has 1 to 1000 slots");
    let mut out = String::with_capacity(sites * 900 + 256);
    out.push_str(
        "[host]\nname = \"bench\"\nos = \"debian-12\"\nacme_email = \"ops@example.com\"\n",
    );
    // The shipped example's key, by absolute path: the generated file may be written anywhere.
    let _ = writeln!(
        out,
        "admin_keys = [\"{}/keys/ops.pub\"]\n",
        env!("CARGO_MANIFEST_DIR")
    );
    for slot in 1..=sites {
        let name = format!("site{:05}", first + slot - 1);
        let _ = write!(
            out,
            r#"[sites.{name}]
domains = ["{name}.example.com", "www.{name}.example.com"]
slot = {slot}
tls = "acme"
database = "postgres"
env = {{ NODE_ENV = "production", LOG_LEVEL = "info", GREETING = "it's \"{name}\" $HOME 100% `x`" }}
secrets = ["STRIPE_SECRET_KEY"]
generated_secrets = ["SESSION_SECRET"]

[sites.{name}.services.web]
run = "/usr/bin/node server.js --name {name}"
route = "/"
rate_limit = {{ rate = "30r/s", burst = 50 }}
health = "/healthz"

[sites.{name}.services.api]
run = ["/usr/bin/node", "dist/main.js", "--title", "{name} API"]
route = "/api/v1/"
rate_limit = {{ rate = "10r/s", burst = 20 }}

"#
        );
    }
    out
}

/// A model of `times` × 1,000 sites (`site00001` … in order), for a render measurement past the
/// 1,000-slot cap: `times` generated hosts, each compiled on its own (so every name is made and
/// checked by `resolve`), their sites put together. Slots and ports repeat; only `resolve`
/// would mind.
fn scaled(times: usize) -> blueprint::model::Model {
    let mut chunks = (0..times).map(|t| {
        let src = SourceFile::new("bench/sites.toml", generate_from(t * 1_000 + 1, 1_000));
        let raw = blueprint::load::parse(&src).expect("parses");
        blueprint::resolve::resolve(&raw, &src).expect("valid")
    });
    let mut model = chunks.next().expect("at least one chunk");
    for chunk in chunks {
        model.sites.extend(chunk.sites);
    }
    model
}

fn source(sites: usize) -> SourceFile {
    SourceFile::new("bench/sites.toml", generate(sites))
}

fn compile(source: &SourceFile, renderer: &Renderer) -> Bundle {
    let raw = blueprint::load::parse(source).expect("generated config parses");
    let model = blueprint::resolve::resolve(&raw, source).expect("generated config is valid");
    render_with(renderer, &model)
}

/// A fresh, empty, not-yet-existing directory path under `base` for one iteration.
fn fresh(base: &Path, counter: &mut u64) -> PathBuf {
    *counter += 1;
    let dir = base.join(format!("run{counter}"));
    // The previous iteration's tree is removed outside the timed section.
    let previous = base.join(format!("run{}", *counter - 1));
    let _ = std::fs::remove_dir_all(previous);
    dir
}

fn bench_pipeline(c: &mut Criterion) {
    let renderer = Renderer::new();
    for &n in SIZES {
        let src = source(n);
        let raw = blueprint::load::parse(&src).expect("parses");
        let model = blueprint::resolve::resolve(&raw, &src).expect("valid");
        let bundle = render_with(&renderer, &model);
        let bytes: usize = bundle.files.values().map(|f| f.contents().len()).sum();
        eprintln!(
            "host of {n} sites: {} bytes of TOML, {} files, {bytes} bytes of output",
            src.text().len(),
            bundle.files.len()
        );

        let mut group = c.benchmark_group("load_resolve");
        group.throughput(Throughput::Elements(n as u64));
        group.bench_with_input(BenchmarkId::from_parameter(n), &src, |b, src| {
            b.iter(|| {
                let raw = blueprint::load::parse(black_box(src)).expect("parses");
                blueprint::resolve::resolve(&raw, src).expect("valid")
            });
        });
        group.finish();

        let mut group = c.benchmark_group("render");
        group.throughput(Throughput::Elements(n as u64));
        group.bench_with_input(BenchmarkId::from_parameter(n), &model, |b, model| {
            b.iter(|| render_with(&renderer, black_box(model)));
        });
        group.finish();

        let scratch = tempfile::tempdir().expect("tempdir");
        let mut group = c.benchmark_group("write");
        group.throughput(Throughput::Elements(n as u64));
        // Each sample creates n * 5 files on disk: keep the count of samples at the minimum.
        group.sample_size(10);
        let mut counter = 0;
        group.bench_with_input(BenchmarkId::from_parameter(n), &bundle, |b, bundle| {
            b.iter_batched(
                || fresh(scratch.path(), &mut counter),
                |out| blueprint::bundle::write::write(bundle, &out).expect("writes"),
                BatchSize::PerIteration,
            );
        });
        group.finish();

        // The finished tree, then `cp -r` of it: the floor any writer of these files has.
        let tree_root = scratch.path().join("tree");
        let (tree, _) = blueprint::bundle::write::write(&bundle, &tree_root).expect("writes");
        let mut group = c.benchmark_group("cp_r");
        group.throughput(Throughput::Elements(n as u64));
        // Each sample creates n * 5 files on disk: keep the count of samples at the minimum.
        group.sample_size(10);
        let copies = scratch.path().join("copies");
        std::fs::create_dir_all(&copies).expect("mkdir");
        let mut counter = 0;
        group.bench_with_input(BenchmarkId::from_parameter(n), &tree, |b, tree| {
            b.iter_batched(
                || fresh(&copies, &mut counter),
                |out| {
                    let status = Command::new("cp")
                        .arg("-r")
                        .arg(tree)
                        .arg(&out)
                        .status()
                        .expect("cp runs");
                    assert!(status.success());
                },
                BatchSize::PerIteration,
            );
        });
        group.finish();
    }
}

fn bench_render_10000(c: &mut Criterion) {
    let renderer = Renderer::new();
    let model = scaled(10);
    let mut group = c.benchmark_group("render");
    group.throughput(Throughput::Elements(model.sites.len() as u64));
    group.sample_size(10);
    group.bench_with_input(BenchmarkId::from_parameter(10_000), &model, |b, model| {
        b.iter(|| render_with(&renderer, black_box(model)));
    });
    group.finish();
}

fn bench_example(c: &mut Criterion) {
    let config = Path::new(env!("CARGO_MANIFEST_DIR")).join("sites.toml");
    let scratch = tempfile::tempdir().expect("tempdir");
    let mut counter = 0;
    c.bench_function("example/end_to_end", |b| {
        b.iter_batched(
            || fresh(scratch.path(), &mut counter),
            |out| {
                let bundle = blueprint::compile(&config).expect("the shipped example compiles");
                blueprint::bundle::write::write(&bundle, &out).expect("writes")
            },
            BatchSize::PerIteration,
        );
    });
    // The usual re-build: out/ already holds this bundle, so it is compared, not rewritten.
    let current = scratch.path().join("current");
    let bundle = blueprint::compile(&config).expect("the shipped example compiles");
    blueprint::bundle::write::write(&bundle, &current).expect("writes");
    c.bench_function("example/up_to_date", |b| {
        b.iter(|| {
            let bundle = blueprint::compile(&config).expect("the shipped example compiles");
            let (_, outcome) = blueprint::bundle::write::write(&bundle, &current).expect("writes");
            assert_eq!(outcome, blueprint::bundle::write::Outcome::AlreadyCurrent);
        });
    });
    let renderer = Renderer::new();
    let src = SourceFile::new(&config, std::fs::read_to_string(&config).expect("readable"));
    c.bench_function("example/compile_in_memory", |b| {
        b.iter(|| compile(black_box(&src), &renderer));
    });
    c.bench_function("example/renderer_new", |b| b.iter(Renderer::new));
}

criterion_group!(benches, bench_pipeline, bench_render_10000, bench_example);

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if let Some(i) = args.iter().position(|a| a == "--generate") {
        let sites: usize = args
            .get(i + 1)
            .and_then(|s| s.parse().ok())
            .expect("usage: --generate <SITES> <DIR>");
        let dir = PathBuf::from(args.get(i + 2).expect("usage: --generate <SITES> <DIR>"));
        std::fs::create_dir_all(&dir).expect("create the output directory");
        std::fs::write(dir.join("sites.toml"), generate(sites)).expect("write sites.toml");
        return;
    }
    benches();
    Criterion::default().configure_from_args().final_summary();
}
