//! Scanner throughput (issue 7 item 11): a 1 MB mixed corpus built from the fixture gadgets
//! (JavaScript and CSS, repeated), scanned as one text per language.
//!
//! `cargo bench --bench scanner` prints criterion's time per iteration; throughput is reported
//! in bytes/s.

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use std::hint::black_box;
use tpr_auditor::scanner::{scan, Lang, ScanOptions, DEFAULT_WIKI_URL};

fn corpus(ext: &str, size: usize) -> String {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/scanner");
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .expect("fixture directory")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == ext))
        .collect();
    files.sort();
    let texts: Vec<String> = files
        .iter()
        .filter_map(|p| std::fs::read_to_string(p).ok())
        .collect();
    let mut out = String::new();
    while out.len() < size && !texts.is_empty() {
        for t in &texts {
            // Each file in its own block so repeated `const` declarations do not clash.
            if ext == "js" {
                out.push_str("{\n");
                out.push_str(t);
                out.push_str("\n}\n");
            } else {
                out.push_str(t);
                out.push('\n');
            }
        }
    }
    out
}

fn bench(c: &mut Criterion) {
    let js = corpus("js", 900 * 1024);
    let css = corpus("css", 124 * 1024);
    let mut group = c.benchmark_group("scanner");
    group.sample_size(20);
    for (name, text, lang) in [("js-900k", &js, Lang::Js), ("css-124k", &css, Lang::Css)] {
        group.throughput(Throughput::Bytes(text.len() as u64));
        let options = ScanOptions::new(lang, DEFAULT_WIKI_URL);
        group.bench_function(name, |b| {
            b.iter(|| scan(black_box(text), &options).expect("scan"))
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
