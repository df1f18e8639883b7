//! `tpr-scan`: the static scanner on the command line, for gadget repositories' CI.
//!
//! ```text
//! tpr-scan [scan] [--wiki URL] [--format table|json] [--fail-on KINDS] [--lang js|css|ts] FILE…
//! ```
//! `--fail-on` takes a comma-separated list of `third`, `cloud`, `executable` (an executable
//! load from outside the wiki operator), `user-data` (user data sent outside the wiki
//! operator), `dynamic` (a destination whose host is not constant); the exit status is 1 when
//! any finding matches, 2 on a usage or read error, 0 otherwise. The language comes from the
//! file extension (`.css`, `.ts`, anything else is JavaScript) unless `--lang` is given.

use std::process::ExitCode;
use tpr_auditor::model::{Party, Tier};
use tpr_auditor::scanner::{self, Finding, Lang, ScanOptions, ScanReport};

const USAGE: &str = "usage: tpr-scan [scan] [--wiki URL] [--format table|json] \
[--fail-on third,cloud,executable,user-data,dynamic] [--lang js|css|ts] FILE...";

#[derive(Clone, Copy, PartialEq, Eq)]
enum FailOn {
    Third,
    Cloud,
    Executable,
    UserData,
    Dynamic,
}

impl FailOn {
    fn parse(s: &str) -> Option<FailOn> {
        Some(match s {
            "third" => FailOn::Third,
            "cloud" => FailOn::Cloud,
            "executable" => FailOn::Executable,
            "user-data" => FailOn::UserData,
            "dynamic" => FailOn::Dynamic,
            _ => return None,
        })
    }

    fn matches(self, f: &Finding) -> bool {
        let outside = !matches!(
            f.party,
            Some(Party::First | Party::Local | Party::Wikimedia)
        );
        match self {
            FailOn::Third => f.party == Some(Party::Third),
            FailOn::Cloud => f.party == Some(Party::Cloud),
            FailOn::Executable => f.tier == Tier::Executable && outside,
            FailOn::UserData => !f.carries.is_empty() && outside,
            FailOn::Dynamic => f.destination == "dynamic",
        }
    }
}

struct Args {
    wiki: String,
    json: bool,
    fail_on: Vec<FailOn>,
    lang: Option<Lang>,
    files: Vec<String>,
}

fn parse_args() -> Result<Args, String> {
    let mut args = Args {
        wiki: scanner::DEFAULT_WIKI_URL.to_string(),
        json: false,
        fail_on: Vec::new(),
        lang: None,
        files: Vec::new(),
    };
    let mut it = std::env::args().skip(1).peekable();
    if it.peek().map(String::as_str) == Some("scan") {
        it.next();
    }
    while let Some(a) = it.next() {
        let mut value = |name: &str| it.next().ok_or_else(|| format!("{name} needs a value"));
        match a.as_str() {
            "--wiki" => args.wiki = value("--wiki")?,
            "--format" => match value("--format")?.as_str() {
                "json" => args.json = true,
                "table" => args.json = false,
                other => return Err(format!("unknown format {other:?}")),
            },
            "--fail-on" => {
                for k in value("--fail-on")?.split(',').filter(|k| !k.is_empty()) {
                    args.fail_on
                        .push(FailOn::parse(k).ok_or_else(|| format!("unknown --fail-on {k:?}"))?);
                }
            }
            "--lang" => {
                args.lang = Some(Lang::parse(&value("--lang")?).map_err(|e| e.to_string())?)
            }
            "-h" | "--help" => return Err(String::new()),
            _ if a.starts_with("--") => return Err(format!("unknown option {a}")),
            _ => args.files.push(a),
        }
    }
    if args.files.is_empty() {
        return Err("no files given".into());
    }
    Ok(args)
}

fn lang_of(path: &str) -> Lang {
    let ext = path.rsplit('.').next().unwrap_or("").to_ascii_lowercase();
    match ext.as_str() {
        "css" => Lang::Css,
        "ts" | "mts" => Lang::Ts,
        _ => Lang::Js,
    }
}

fn print_table(report: &ScanReport) {
    println!("== {}", report.name.as_deref().unwrap_or("?"));
    for e in &report.errors {
        println!("  ! {}:{} {}", e.line, e.column, e.message);
    }
    for f in report.findings.iter().chain(&report.navigations) {
        let carries: Vec<&str> = f.carries.iter().map(|c| c.as_str()).collect();
        println!(
            "  {:>5}:{:<4} {:<11} {:<40} {:<9} {:<10} {:<12} {:<8} {}",
            f.line,
            f.column,
            f.channel.as_str(),
            f.destination,
            f.party.map_or("-", |p| p.as_str()),
            f.tier.as_str(),
            if carries.is_empty() {
                "-".to_string()
            } else {
                carries.join(",")
            },
            f.confidence.as_str(),
            f.api
        );
    }
    for c in &report.dynamic_code {
        println!(
            "  {:>5}:{:<4} dynamic code: {} {}",
            c.line, c.column, c.api, c.excerpt
        );
    }
}

fn main() -> ExitCode {
    let args = match parse_args() {
        Ok(a) => a,
        Err(e) => {
            if !e.is_empty() {
                eprintln!("tpr-scan: {e}");
            }
            eprintln!("{USAGE}");
            return ExitCode::from(2);
        }
    };
    let mut reports = Vec::new();
    let mut failed = false;
    let mut matched = 0usize;
    for path in &args.files {
        let text = match std::fs::read(path) {
            Ok(bytes) => String::from_utf8_lossy(&bytes).into_owned(),
            Err(e) => {
                eprintln!("tpr-scan: {path}: {e}");
                failed = true;
                continue;
            }
        };
        let mut options = ScanOptions::new(args.lang.unwrap_or_else(|| lang_of(path)), &args.wiki);
        options.name = Some(path.clone());
        match scanner::scan(&text, &options) {
            Ok(report) => {
                matched += report
                    .findings
                    .iter()
                    .filter(|f| args.fail_on.iter().any(|k| k.matches(f)))
                    .count();
                if !args.json {
                    print_table(&report);
                }
                reports.push(report);
            }
            Err(e) => {
                eprintln!("tpr-scan: {path}: {e}");
                failed = true;
            }
        }
    }
    if args.json {
        match serde_json::to_string_pretty(&reports) {
            Ok(s) => println!("{s}"),
            Err(e) => {
                eprintln!("tpr-scan: {e}");
                return ExitCode::from(2);
            }
        }
    }
    if failed {
        ExitCode::from(2)
    } else if matched > 0 {
        if !args.json {
            eprintln!("tpr-scan: {matched} finding(s) match --fail-on");
        }
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}
