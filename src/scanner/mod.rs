//! # Static scanner (issue 7/7): what a gadget *can* contact, before anyone runs it
//!
//! Reads gadget and user-script JavaScript or CSS and lists every outbound destination it can
//! find, classified by the same core as live requests ([`crate::classify`]) relative to the wiki
//! the code would run on. Behind the cargo feature `scanner`.
//!
//! ## Pipeline
//!
//! 1. **Limits** ([`ScanError`]): inputs over [`MAX_INPUT_BYTES`] are refused; JavaScript first
//!    goes through [`depth`], a linear pre-scan that *estimates the stack* swc's recursive-descent
//!    parser will need and refuses input that nests deeper than a budget. swc has no depth limit
//!    of its own (its `stacker` feature needs native assembly and does not build for
//!    `wasm32-unknown-unknown`), and a stack overflow in WebAssembly is a trap that leaves the
//!    module unusable, so the check has to come *before* the parser. The budget was measured:
//!    swc needs ~2.0–2.4 KB of stack per bracket/function level in an optimised build (about
//!    ten times that unoptimised), ~0.4 KB per prefix operator or right-associative operator,
//!    and handles `a+b+…`, `a.b.c…` and `f()()…` iteratively (only dropping the tree recurses,
//!    ~50 bytes a level). The same pre-scan bounds `else if` chains, which swc parses in
//!    quadratic time. Natively the parse runs on a thread with a large stack as well.
//! 2. **JavaScript** ([`js`]): swc's parser (ES2024, script or module goal decided by the code;
//!    TypeScript with the feature `scanner-typescript`), then one walk of the tree with a small
//!    abstract interpreter: string constants, `const`/`let`/`var` bindings in function scopes,
//!    concatenation, template literals, `[…].join('')`, object-property constants (also through
//!    `this` in classes, object methods and constructor functions), `Object.assign`/`$.extend`,
//!    aliases of `mw`/`$`, IIFE parameters, values assigned in branches (kept as alternatives:
//!    `c ? 'https://a' : 'https://b'` gives two findings), return values of functions walked
//!    earlier, and call-site substitution for wrapper functions (`function load(u){
//!    mw.loader.load(u) }  load('https://…')` is reported at the call, up to wrappers of
//!    wrappers). Nested function bodies are walked after the body that defines them, so they see
//!    the final values of the variables they close over (`function f(){ fetch(API) }  var API =
//!    '…'`). No visitor crate: a hand-written walk controls its own depth
//!    ([`js::MAX_WALK_DEPTH`], measured in WebAssembly) and evaluation order, and keeps the
//!    WebAssembly smaller.
//! 3. **HTML strings** ([`html`]) given to `innerHTML`, `$()`, `.html()`, `.append()`,
//!    `document.write` … are scanned for `src`/`href`/`data`/`srcset`/`poster`/`style` by a small
//!    tag tokenizer that keeps the unknown parts of the string as holes.
//! 4. **CSS** ([`css`]): a hand-written tokenizer (comments, strings, escapes) for `@import`,
//!    `url()` and `@font-face` `src`, used for stylesheets and for CSS text built in JavaScript
//!    (`mw.util.addCSS`, `<style>` contents, `style` attributes).
//! 5. **Classification**: each destination is resolved against the wiki URL
//!    ([`ScanOptions::wiki_url`]); a constant host gets its origin, party, site, tool and tier;
//!    a host that is not constant is `dynamic`.
//!
//! ## What is a finding
//!
//! Only values that reach a *sink* (a loading API) are findings: a URL in a comment, a message,
//! a deny-list or an unused constant is never reported. Links the user clicks (`<a href>`,
//! `window.open`, `location = …`) go to [`ScanReport::navigations`], never to the loads;
//! `eval`, `new Function`, `setTimeout(string)` and `document.write` go to
//! [`ScanReport::dynamic_code`].
//!
//! [`Confidence`]: `certain` — a recognised loading API with a constant destination; `likely` —
//! the destination is constant but the API was recognised by shape (`x.open('GET', url)` on an
//! unknown object, `.src` on an unknown element, `a || 'default'`); `dynamic` — the host is not
//! a constant.

mod css;
pub mod depth;
mod html;
pub mod js;
mod value;

use crate::classify::{PageContext, Preset, UrlError};
use crate::model::{CarryKind, Channel, Directive, Party, Tier};
use serde::Serialize;
use thiserror::Error;

/// Larger inputs are refused: 10 MB must work (issue 7 item 7), and swc positions are `u32`.
pub const MAX_INPUT_BYTES: usize = 32 * 1024 * 1024;

/// The language of a scanned text.
#[derive(Serialize, Clone, Copy, Debug, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum Lang {
    Js,
    Css,
    /// TypeScript syntax (cargo feature `scanner-typescript`).
    Ts,
}

impl Lang {
    /// `js`/`javascript`/`mjs`, `css`, `ts`/`typescript`: also file extensions.
    pub fn parse(name: &str) -> Result<Lang, ScanError> {
        match name.trim().to_ascii_lowercase().as_str() {
            "js" | "javascript" | "mjs" | "cjs" | "" => Ok(Lang::Js),
            "css" => Ok(Lang::Css),
            "ts" | "typescript" | "mts" => Ok(Lang::Ts),
            other => Err(ScanError::UnknownLang(other.chars().take(40).collect())),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Lang::Js => "js",
            Lang::Css => "css",
            Lang::Ts => "ts",
        }
    }
}

/// How sure the scanner is about a finding (see the module docs).
#[derive(Serialize, Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[serde(rename_all = "lowercase")]
pub enum Confidence {
    Certain,
    Likely,
    Dynamic,
}

impl Confidence {
    pub fn as_str(self) -> &'static str {
        match self {
            Confidence::Certain => "certain",
            Confidence::Likely => "likely",
            Confidence::Dynamic => "dynamic",
        }
    }
}

/// One destination the code can contact (or navigate to).
#[derive(Serialize, Clone, Debug, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct Finding {
    /// The recognised API or pattern, e.g. `mw.loader.load`, `fetch`, `createElement`, `css-url`.
    pub api: String,
    pub channel: Channel,
    pub directive: Directive,
    /// `scheme://host[:port]`, or `dynamic` when the host is not a constant.
    pub destination: String,
    /// What is known of the URL: the whole URL when constant, otherwise the constant parts with
    /// `…` for each unknown part (`https://x.toolforge.org/api?user=…`).
    pub url: String,
    /// Classification of a constant destination (SPEC §3); absent for `dynamic`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub party: Option<Party>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub site: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tool: Option<String>,
    pub tier: Tier,
    /// Kinds of user data that flow into the URL or the request body.
    pub carries: Vec<CarryKind>,
    /// 1-based line and column (in characters) of the expression that makes the request.
    pub line: u32,
    pub column: u32,
    /// The source line around the finding, trimmed to one short line.
    pub excerpt: String,
    /// Name of the enclosing function, if it has one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub function: Option<String>,
    pub confidence: Confidence,
}

/// `eval`, `new Function`, `setTimeout(string)`, `document.write`: code built at run time.
#[derive(Serialize, Clone, Debug, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct DynamicCode {
    /// `eval`, `Function`, `setTimeout`, `setInterval`, `document.write`.
    pub api: String,
    pub line: u32,
    pub column: u32,
    pub excerpt: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub function: Option<String>,
}

/// A problem with the scanned text that did not stop the scan (syntax errors with position).
#[derive(Serialize, Clone, Debug, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct ScanIssue {
    pub message: String,
    pub line: u32,
    pub column: u32,
}

/// The result of one scan.
#[derive(Serialize, Clone, Debug, Default, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct ScanReport {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    pub lang: Option<Lang>,
    /// Loads and connections, in source order.
    pub findings: Vec<Finding>,
    /// Navigation the user causes (links, `window.open`, `location = …`): never loads.
    pub navigations: Vec<Finding>,
    pub dynamic_code: Vec<DynamicCode>,
    /// Syntax errors (the scan then falls back to what it could read) and other warnings.
    pub errors: Vec<ScanIssue>,
    /// True when the code could not be parsed completely: the findings may be incomplete.
    pub partial: bool,
}

/// Why a text could not be scanned at all.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum ScanError {
    #[error("input is {size} bytes; the scanner reads at most {max}")]
    TooLarge { size: usize, max: usize },
    #[error("nesting too deep at line {line}, column {column}: the code needs more than the scanner's limit of {limit} (about {levels} nested brackets)")]
    TooDeep {
        line: u32,
        column: u32,
        limit: usize,
        levels: usize,
    },
    #[error("unknown language {0:?} (expected js, css or ts)")]
    UnknownLang(String),
    #[error("TypeScript needs the cargo feature `scanner-typescript`")]
    TypescriptDisabled,
    #[error("invalid wiki URL: {0}")]
    WikiUrl(#[from] UrlError),
    #[error("the scanner thread failed: {0}")]
    Thread(String),
}

/// What to scan and relative to which wiki.
#[derive(Clone, Debug)]
pub struct ScanOptions {
    pub lang: Lang,
    /// A label (gadget or page name), echoed in the report.
    pub name: Option<String>,
    /// The wiki the code runs on: relative URLs and `wgServer` resolve against it, and parties
    /// are relative to it.
    pub wiki_url: String,
    /// Operator presets; the Wikimedia production preset by default.
    pub presets: Vec<Preset>,
}

impl ScanOptions {
    pub fn new(lang: Lang, wiki_url: &str) -> ScanOptions {
        ScanOptions {
            lang,
            name: None,
            wiki_url: wiki_url.to_string(),
            presets: vec![Preset::wikimedia_production()],
        }
    }
}

/// The wiki assumed when none is given.
pub const DEFAULT_WIKI_URL: &str = "https://en.wikipedia.org/wiki/Main_Page";

/// Scans one text. Syntax errors are not an `Err`: they are reported in
/// [`ScanReport::errors`] with whatever could still be found.
pub fn scan(text: &str, options: &ScanOptions) -> Result<ScanReport, ScanError> {
    if text.len() > MAX_INPUT_BYTES {
        return Err(ScanError::TooLarge {
            size: text.len(),
            max: MAX_INPUT_BYTES,
        });
    }
    let page = PageContext::new(&options.wiki_url, &options.presets)?;
    let mut report = ScanReport {
        name: options.name.clone(),
        lang: Some(options.lang),
        ..ScanReport::default()
    };
    let lines = LineIndex::new(text);
    let mut out = Output::new(&page, &lines);
    match options.lang {
        Lang::Css => css::scan_stylesheet(text, &mut out),
        Lang::Js | Lang::Ts => {
            if options.lang == Lang::Ts && !cfg!(feature = "scanner-typescript") {
                return Err(ScanError::TypescriptDisabled);
            }
            if let Err(e) = depth::check(text) {
                let (line, column) = lines.position(e.offset);
                return Err(ScanError::TooDeep {
                    line,
                    column,
                    limit: depth::BUDGET,
                    levels: depth::BUDGET / depth::BRACKET_COST,
                });
            }
            js::scan_js(text, options.lang == Lang::Ts, &mut out)?;
        }
    }
    out.finish(&mut report);
    Ok(report)
}

/// Byte offset → 1-based line and character column.
pub(crate) struct LineIndex<'a> {
    text: &'a str,
    starts: Vec<usize>,
}

impl<'a> LineIndex<'a> {
    fn new(text: &'a str) -> LineIndex<'a> {
        let mut starts = vec![0];
        for (i, b) in text.bytes().enumerate() {
            if b == b'\n' {
                starts.push(i + 1);
            }
        }
        LineIndex { text, starts }
    }

    fn line_of(&self, offset: usize) -> usize {
        match self.starts.binary_search(&offset) {
            Ok(i) => i,
            Err(i) => i.saturating_sub(1),
        }
    }

    fn floor_char(&self, mut offset: usize) -> usize {
        offset = offset.min(self.text.len());
        while !self.text.is_char_boundary(offset) {
            offset -= 1;
        }
        offset
    }

    /// 1-based line and column; the column counts characters from the start of the line.
    pub(crate) fn position(&self, offset: usize) -> (u32, u32) {
        let offset = self.floor_char(offset);
        let line = self.line_of(offset);
        let start = self.starts[line];
        let column = self.text[start..offset].chars().count() + 1;
        (
            u32::try_from(line + 1).unwrap_or(u32::MAX),
            u32::try_from(column).unwrap_or(u32::MAX),
        )
    }

    /// The text of the line around `offset`, trimmed, at most ~100 characters centred on it.
    pub(crate) fn excerpt(&self, offset: usize) -> String {
        const WIDTH: usize = 100;
        let offset = self.floor_char(offset);
        let line = self.line_of(offset);
        let start = self.starts[line];
        let end = self
            .starts
            .get(line + 1)
            .map_or(self.text.len(), |e| e.saturating_sub(1));
        let line_text = &self.text[start..end.max(start)];
        let rel = offset - start;
        // Cut a window of WIDTH characters starting up to 30 characters before the offset.
        let from = line_text[..rel]
            .char_indices()
            .rev()
            .nth(29)
            .map_or(0, |(i, _)| i);
        let window = &line_text[from..];
        let mut out: String = window.chars().take(WIDTH).collect();
        let cut_end = window.chars().nth(WIDTH).is_some();
        out = out.trim().replace(['\t', '\r'], " ");
        if from > 0 {
            out.insert(0, '…');
        }
        if cut_end {
            out.push('…');
        }
        out
    }
}

/// A destination the analysis found, before classification.
#[derive(Clone, Debug)]
pub(crate) struct RawFinding {
    pub api: &'static str,
    pub channel: Channel,
    /// Overrides the channel's directive (preload `as=`).
    pub directive: Option<Directive>,
    pub url: value::Str,
    pub carries: u8,
    pub offset: usize,
    pub function: Option<String>,
    /// Recognised by shape only.
    pub likely: bool,
}

pub(crate) struct RawCode {
    pub api: &'static str,
    pub offset: usize,
    pub function: Option<String>,
}

/// Collects findings and turns them into report records.
pub(crate) struct Output<'a> {
    page: &'a PageContext,
    lines: &'a LineIndex<'a>,
    raw: Vec<RawFinding>,
    code: Vec<RawCode>,
    errors: Vec<(String, usize)>,
    partial: bool,
}

impl<'a> Output<'a> {
    fn new(page: &'a PageContext, lines: &'a LineIndex<'a>) -> Output<'a> {
        Output {
            page,
            lines,
            raw: Vec::new(),
            code: Vec::new(),
            errors: Vec::new(),
            partial: false,
        }
    }

    pub(crate) fn page(&self) -> &PageContext {
        self.page
    }

    /// Adds a finding; returns its index for [`Output::add_carries`].
    pub(crate) fn push(&mut self, f: RawFinding) -> usize {
        self.raw.push(f);
        self.raw.len() - 1
    }

    /// More carried data for a finding already made (`xhr.send(body)` after `open`).
    pub(crate) fn add_carries(&mut self, index: usize, bits: u8) {
        if let Some(f) = self.raw.get_mut(index) {
            f.carries |= bits;
        }
    }

    pub(crate) fn code(&mut self, c: RawCode) {
        self.code.push(c);
    }

    pub(crate) fn error(&mut self, message: String, offset: usize) {
        if self.errors.len() < 50 {
            self.errors.push((message, offset));
        }
    }

    pub(crate) fn set_partial(&mut self) {
        self.partial = true;
    }

    fn finish(self, report: &mut ScanReport) {
        let mut raw = self.raw;
        raw.sort_by_key(|f| f.offset);
        // Exact duplicates (the same request found twice at one place) are dropped; they can
        // only share an offset, so the check looks back over findings made at this offset.
        let mut same_offset_from = (usize::MAX, 0usize, 0usize);
        for f in raw {
            if f.offset != same_offset_from.0 {
                same_offset_from = (f.offset, report.findings.len(), report.navigations.len());
            }
            let (line, column) = self.lines.position(f.offset);
            let excerpt = self.lines.excerpt(f.offset);
            let Some(finding) = classify_finding(self.page, f, line, column, excerpt) else {
                continue;
            };
            let (list, from) = if finding.channel == Channel::Navigate {
                (&mut report.navigations, same_offset_from.2)
            } else {
                (&mut report.findings, same_offset_from.1)
            };
            if !list[from..].contains(&finding) {
                list.push(finding);
            }
        }
        let mut code = self.code;
        code.sort_by_key(|c| c.offset);
        for c in code {
            let (line, column) = self.lines.position(c.offset);
            report.dynamic_code.push(DynamicCode {
                api: c.api.to_string(),
                line,
                column,
                excerpt: self.lines.excerpt(c.offset),
                function: c.function,
            });
        }
        for (message, offset) in self.errors {
            let (line, column) = self.lines.position(offset);
            report.errors.push(ScanIssue {
                message,
                line,
                column,
            });
        }
        report.partial = self.partial;
    }
}

fn carries_list(bits: u8) -> Vec<CarryKind> {
    value::CARRY_KINDS
        .iter()
        .filter(|(bit, _)| bits & bit != 0)
        .map(|(_, k)| *k)
        .collect()
}

/// Resolves a raw finding's URL against the wiki and classifies it. `None` for URLs that are
/// not outbound requests (`data:`, `blob:`, `javascript:`, `mailto:` …) or not URLs at all.
fn classify_finding(
    page: &PageContext,
    f: RawFinding,
    line: u32,
    column: u32,
    excerpt: String,
) -> Option<Finding> {
    let directive = f.directive.unwrap_or_else(|| f.channel.directive());
    let carries = carries_list(f.carries | f.url.carries);
    let display = f.url.display();
    let resolved = value::resolve_destination(page, &f.url)?;
    let mut finding = Finding {
        api: f.api.to_string(),
        channel: f.channel,
        directive,
        destination: "dynamic".to_string(),
        url: display,
        party: None,
        site: None,
        tool: None,
        tier: crate::classify::tier(directive, None, &carries),
        carries,
        line,
        column,
        excerpt,
        function: f.function,
        confidence: Confidence::Dynamic,
    };
    if let Some((url, exact_host)) = resolved {
        if let Ok(d) = page.destination(&url) {
            finding.destination = d.origin;
            finding.party = Some(d.party);
            finding.site = Some(d.site);
            finding.tool = d.tool;
            finding.confidence = if f.likely || f.url.likely || !exact_host {
                Confidence::Likely
            } else {
                Confidence::Certain
            };
        }
    }
    Some(finding)
}
