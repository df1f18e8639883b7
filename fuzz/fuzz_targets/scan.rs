//! Fuzz target for the static scanner (issue 7/7 item 7): any bytes, as JavaScript or CSS,
//! must give a report or a typed error, never a panic, a hang or a stack overflow.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tpr_auditor::scanner::{scan, Lang, ScanOptions, DEFAULT_WIKI_URL};

fuzz_target!(|data: &[u8]| {
    // The first byte picks the language, the rest is the text.
    let Some((&which, rest)) = data.split_first() else {
        return;
    };
    let lang = if which % 4 == 0 { Lang::Css } else { Lang::Js };
    let text = String::from_utf8_lossy(rest);
    let _ = scan(&text, &ScanOptions::new(lang, DEFAULT_WIKI_URL));
});
