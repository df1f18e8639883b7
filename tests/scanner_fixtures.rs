//! Issue 7/7 item 8: the labelled fixture corpus (tests/fixtures/scanner/, see its README),
//! precision and recall per API, carried data and confidence of every matched finding.
#![cfg(all(feature = "scanner", not(target_arch = "wasm32")))]

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use tpr_auditor::scanner::{scan, Finding, Lang, ScanOptions, ScanReport, DEFAULT_WIKI_URL};

#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
struct Key {
    line: u32,
    api: String,
    channel: String,
    destination: String,
}

#[derive(Debug, Clone)]
struct Expected {
    key: Key,
    carries: Vec<String>,
    confidence: String,
}

struct Fixture {
    name: String,
    lang: Lang,
    wiki: String,
    expect_error: bool,
    expected: Vec<Expected>,
    codes: Vec<(u32, String)>,
    text: String,
}

fn fixture_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/scanner")
}

fn load_fixtures() -> Vec<Fixture> {
    let mut paths: Vec<PathBuf> = std::fs::read_dir(fixture_dir())
        .expect("fixture dir")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "js" || e == "css"))
        .collect();
    paths.sort();
    paths
        .into_iter()
        .map(|p| {
            let text = std::fs::read_to_string(&p).expect("fixture text");
            let lang = if p.extension().is_some_and(|e| e == "css") {
                Lang::Css
            } else {
                Lang::Js
            };
            parse_labels(
                p.file_name().unwrap_or_default().to_string_lossy().into(),
                lang,
                text,
            )
        })
        .collect()
}

fn parse_labels(name: String, lang: Lang, text: String) -> Fixture {
    let mut f = Fixture {
        name,
        lang,
        wiki: DEFAULT_WIKI_URL.to_string(),
        expect_error: false,
        expected: Vec::new(),
        codes: Vec::new(),
        text: String::new(),
    };
    for (i, line) in text.lines().enumerate() {
        let line_no = u32::try_from(i + 1).expect("line");
        let marker = if lang == Lang::Css { "/*@" } else { "//@" };
        let mut rest = line;
        while let Some(pos) = rest.find(marker) {
            rest = &rest[pos + marker.len()..];
            let end = [rest.find("//@"), rest.find("/*@"), rest.find("*/")]
                .into_iter()
                .flatten()
                .min()
                .unwrap_or(rest.len());
            let label = rest[..end].trim();
            let words: Vec<&str> = label.split_whitespace().collect();
            match words.as_slice() {
                ["wiki", url] => f.wiki = (*url).to_string(),
                ["expect-error"] => f.expect_error = true,
                ["code", api] => f.codes.push((line_no, (*api).to_string())),
                [api, channel, destination, extra @ ..] => {
                    let mut carries = Vec::new();
                    let mut confidence = if *destination == "dynamic" {
                        "dynamic".to_string()
                    } else {
                        "certain".to_string()
                    };
                    for x in extra {
                        if let Some(c) = x.strip_prefix("carries=") {
                            carries = c.split(',').map(str::to_string).collect();
                            carries.sort();
                        } else if let Some(c) = x.strip_prefix("conf=") {
                            confidence = c.to_string();
                        } else {
                            panic!("{}:{line_no}: bad label word {x:?}", f.name);
                        }
                    }
                    f.expected.push(Expected {
                        key: Key {
                            line: line_no,
                            api: (*api).to_string(),
                            channel: (*channel).to_string(),
                            destination: (*destination).to_string(),
                        },
                        carries,
                        confidence,
                    });
                }
                other => panic!("{}:{line_no}: bad label {other:?}", f.name),
            }
            rest = &rest[end..];
        }
    }
    f.text = text;
    f
}

fn key_of(f: &Finding) -> Key {
    Key {
        line: f.line,
        api: f.api.clone(),
        channel: f.channel.as_str().to_string(),
        destination: f.destination.clone(),
    }
}

fn run(f: &Fixture) -> ScanReport {
    let mut options = ScanOptions::new(f.lang, &f.wiki);
    options.name = Some(f.name.clone());
    scan(&f.text, &options).unwrap_or_else(|e| panic!("{}: {e}", f.name))
}

#[derive(Default)]
struct Counts {
    tp: usize,
    fp: usize,
    fn_: usize,
}

#[test]
fn fixture_corpus_precision_and_recall() {
    let fixtures = load_fixtures();
    assert!(
        fixtures.len() >= 40,
        "issue 7 item 8 wants at least 40 fixtures, found {}",
        fixtures.len()
    );
    let mut per_api: BTreeMap<String, Counts> = BTreeMap::new();
    // Statically determinable destinations only (not `dynamic`), for the acceptance target.
    let mut determinable = Counts::default();
    let mut problems: Vec<String> = Vec::new();
    let mut total_expected = 0;
    for f in &fixtures {
        let report = run(f);
        if !f.expect_error && !report.errors.is_empty() {
            problems.push(format!("{}: unexpected errors {:?}", f.name, report.errors));
        }
        if f.expect_error && report.errors.is_empty() {
            problems.push(format!("{}: expected a syntax error", f.name));
        }
        let mut actual: HashMap<Key, Vec<&Finding>> = HashMap::new();
        for finding in report.findings.iter().chain(&report.navigations) {
            actual.entry(key_of(finding)).or_default().push(finding);
        }
        total_expected += f.expected.len();
        for e in &f.expected {
            let counts = per_api.entry(e.key.api.clone()).or_default();
            let hit = actual.get_mut(&e.key).and_then(|v| v.pop());
            match hit {
                Some(found) => {
                    counts.tp += 1;
                    if e.key.destination != "dynamic" {
                        determinable.tp += 1;
                    }
                    let mut carries: Vec<String> = found
                        .carries
                        .iter()
                        .map(|c| c.as_str().to_string())
                        .collect();
                    carries.sort();
                    if carries != e.carries {
                        problems.push(format!(
                            "{}:{} {} {}: carries {:?}, expected {:?}",
                            f.name, e.key.line, e.key.api, e.key.destination, carries, e.carries
                        ));
                    }
                    if found.confidence.as_str() != e.confidence {
                        problems.push(format!(
                            "{}:{} {} {}: confidence {}, expected {}",
                            f.name,
                            e.key.line,
                            e.key.api,
                            e.key.destination,
                            found.confidence.as_str(),
                            e.confidence
                        ));
                    }
                }
                None => {
                    counts.fn_ += 1;
                    if e.key.destination != "dynamic" {
                        determinable.fn_ += 1;
                    }
                    problems.push(format!("{}: missed {:?}", f.name, e.key));
                }
            }
        }
        for (key, rest) in actual {
            for _ in rest {
                per_api.entry(key.api.clone()).or_default().fp += 1;
                if key.destination != "dynamic" {
                    determinable.fp += 1;
                }
                problems.push(format!("{}: unexpected {:?}", f.name, key));
            }
        }
        // Dynamic code.
        let mut codes: Vec<(u32, String)> = report
            .dynamic_code
            .iter()
            .map(|c| (c.line, c.api.clone()))
            .collect();
        codes.sort();
        let mut want = f.codes.clone();
        want.sort();
        let counts = per_api.entry("(dynamic code)".into()).or_default();
        for w in &want {
            if let Some(i) = codes.iter().position(|c| c == w) {
                codes.remove(i);
                counts.tp += 1;
            } else {
                counts.fn_ += 1;
                problems.push(format!("{}: missed dynamic code {w:?}", f.name));
            }
        }
        for c in codes {
            counts.fp += 1;
            problems.push(format!("{}: unexpected dynamic code {c:?}", f.name));
        }
    }
    let ratio = |a: usize, b: usize| if b == 0 { 1.0 } else { a as f64 / b as f64 };
    println!(
        "\n{:<24} {:>4} {:>4} {:>4} {:>9} {:>7}",
        "pattern", "tp", "fp", "fn", "precision", "recall"
    );
    for (api, c) in &per_api {
        println!(
            "{:<24} {:>4} {:>4} {:>4} {:>9.3} {:>7.3}",
            api,
            c.tp,
            c.fp,
            c.fn_,
            ratio(c.tp, c.tp + c.fp),
            ratio(c.tp, c.tp + c.fn_)
        );
    }
    let precision = ratio(determinable.tp, determinable.tp + determinable.fp);
    let recall = ratio(determinable.tp, determinable.tp + determinable.fn_);
    println!(
        "determinable destinations: {} labels in {} files, precision {precision:.3}, recall {recall:.3}",
        total_expected,
        fixtures.len()
    );
    for p in &problems {
        println!("  {p}");
    }
    assert!(precision >= 0.95, "precision {precision:.3} < 0.95");
    assert!(recall >= 0.95, "recall {recall:.3} < 0.95");
    assert!(
        problems.is_empty(),
        "{} problem(s) in the fixture corpus (listed above)",
        problems.len()
    );
}
