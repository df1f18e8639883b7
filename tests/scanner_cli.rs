//! Issue 7/7 item 10: the command-line scanner on the fixture corpus; its exit status follows
//! `--fail-on`.
#![cfg(all(feature = "scanner", not(target_arch = "wasm32")))]

use std::process::Command;

fn fixture(name: &str) -> String {
    format!(
        "{}/tests/fixtures/scanner/{name}",
        env!("CARGO_MANIFEST_DIR")
    )
}

fn all_fixtures() -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(fixture(""))
        .expect("dir")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "js" || e == "css"))
        .map(|p| p.to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

fn run(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_tpr-scan"))
        .args(args)
        .output()
        .expect("run tpr-scan");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn corpus_json_and_fail_on() {
    let files = all_fixtures();
    let mut args = vec!["scan", "--format", "json"];
    args.extend(files.iter().map(String::as_str));
    let (code, stdout, stderr) = run(&args);
    assert_eq!(code, 0, "no --fail-on: exit 0 ({stderr})");
    let reports: serde_json::Value = serde_json::from_str(&stdout).expect("JSON output");
    assert_eq!(reports.as_array().map(Vec::len), Some(files.len()));

    for kind in ["third", "cloud", "executable", "user-data", "dynamic"] {
        let mut args = vec!["--fail-on", kind];
        args.extend(files.iter().map(String::as_str));
        let (code, _, stderr) = run(&args);
        assert_eq!(code, 1, "--fail-on {kind} on the corpus: {stderr}");
    }
}

#[test]
fn exit_status_follows_fail_on() {
    // First-party and Wikimedia only: nothing for third/cloud/executable.
    let twinkle = fixture("twinkle-like.js");
    for kind in ["third", "cloud", "executable", "dynamic"] {
        let (code, stdout, _) = run(&["--fail-on", kind, &twinkle]);
        assert_eq!(code, 0, "{kind}: {stdout}");
    }
    // A Cloud script with the user name: cloud and executable, not third.
    let cdn = fixture("cdn-libraries.js");
    assert_eq!(run(&["--fail-on", "third", &cdn]).0, 1);
    assert_eq!(run(&["--fail-on", "executable", &cdn]).0, 1);
    let xtools = fixture("toolforge-xtools.js");
    assert_eq!(run(&["--fail-on", "third", &xtools]).0, 0);
    assert_eq!(run(&["--fail-on", "cloud", &xtools]).0, 1);
    assert_eq!(run(&["--fail-on", "user-data", &xtools]).0, 1);
    assert_eq!(run(&["--fail-on", "executable", &xtools]).0, 0);
    // A stylesheet with no loads.
    assert_eq!(
        run(&[
            "--fail-on",
            "third,cloud,executable,user-data,dynamic",
            &fixture("css-skin.css")
        ])
        .0,
        0
    );
    // Table output names the file and the findings.
    let (_, table, _) = run(&[&xtools]);
    assert!(table.contains("xtools.wmcloud.org"), "{table}");
}

#[test]
fn usage_errors_exit_2() {
    assert_eq!(run(&[]).0, 2);
    assert_eq!(
        run(&["--fail-on", "nonsense", &fixture("css-skin.css")]).0,
        2
    );
    assert_eq!(run(&["/nonexistent/file.js"]).0, 2);
}
