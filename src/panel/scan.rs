//! The panel's Scan view (issue 7/7 item 6): what to fetch from the wiki, in which batches,
//! and how the scanner's findings group per gadget and per user script. Pure: the browser
//! glue (`web::panel::ui::scanview`) fetches what these types ask for, runs the scanner
//! module on each text and hands the results back.
//!
//! * **Gadgets**: [`gadgets_url`] lists this wiki's gadgets (`list=gadgets`, first-party API
//!   only); [`parse_gadgets`] reads the answer; [`GadgetScan`] says which pages to fetch
//!   ([`GadgetScan::batches`]: JavaScript and CSS pages, each once, at most
//!   [`MAX_TITLES_PER_REQUEST`] titles per [`revisions_url`] request) and groups the findings of
//!   each page under every gadget that uses it ([`GadgetScan::view`]).
//! * **Site scripts**: [`site_pages`] names the pages of ResourceLoader's `site` and
//!   `site.styles` modules (`MediaWiki:Common.js`, the skin's script, their styles), which
//!   [`GadgetScan::with_site`] fetches in the same batches and [`GadgetScan::site_view`]
//!   shows as one more group, named `site` like the module (the source name of their requests).
//! * **User scripts**: [`ScriptTree`] starts at `User:<name>/common.js`, `User:<name>/<skin>.js`
//!   and `global.js` on Meta (only when Meta is the Wikimedia party of this wiki; on any other
//!   wiki it is skipped and the tree says so), then follows every `importScript` /
//!   `importStylesheet` / `mw.loader.load` of a wiki page ([`wiki_page_of`]) the scanner found,
//!   with cycle detection (a page already on the path is marked, not fetched again), repeats
//!   shown once, and a depth limit ([`MAX_DEPTH`]).
//!
//! The scanner module's report is its `ScanReport` (camelCase), the contract between the two
//! WebAssembly modules; [`ReportIn`] reads the fields shown here and ignores the rest.

use crate::classify::{PageContext, Preset};
use crate::json::JsonValue;
use crate::model::{CarryKind, Channel, Directive, Party, Tier};
use serde::Deserialize;
// Plain vectors rather than hash maps: the lists are short (pages of one wiki), and each
// new hash-map type adds kilobytes to the page module.
use url::Url;

/// MediaWiki's limit of titles per query for ordinary users.
pub const MAX_TITLES_PER_REQUEST: usize = 50;
/// How deep the user-script tree follows imports (roots are depth 0).
pub const MAX_DEPTH: usize = 5;
/// Meta-Wiki, where a Wikimedia user's `global.js` lives.
pub const META_ORIGIN: &str = "https://meta.wikimedia.org";
/// Meta's API path.
const META_API: &str = "https://meta.wikimedia.org/w/api.php";

/// One gadget of `list=gadgets`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Gadget {
    pub id: String,
    /// Full page titles (`MediaWiki:Gadget-x.js`), scripts then styles.
    pub pages: Vec<String>,
    pub default: bool,
    pub hidden: bool,
}

/// One finding as the Scan view shows it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScanRow {
    /// The page it was found in.
    pub page: String,
    /// `scheme://host[:port]` or `dynamic`.
    pub destination: String,
    pub url: String,
    pub api: String,
    pub channel: Channel,
    pub directive: Directive,
    pub party: Option<Party>,
    pub tier: Tier,
    pub carries: Vec<CarryKind>,
    pub line: u32,
    pub column: u32,
    /// `certain`, `likely` or `dynamic`.
    pub confidence: String,
    /// The host is not a constant.
    pub dynamic: bool,
}

/// What became of one page.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PageOutcome {
    Scanned {
        rows: Vec<ScanRow>,
        navigations: usize,
        dynamic_code: usize,
        /// Syntax errors and warnings (`line:column message`).
        errors: Vec<String>,
        /// The code could not be parsed completely.
        partial: bool,
    },
    /// The page does not exist.
    Missing,
    /// It could not be fetched or scanned (the reason).
    Failed(String),
}

impl PageOutcome {
    pub fn rows(&self) -> &[ScanRow] {
        match self {
            PageOutcome::Scanned { rows, .. } => rows,
            _ => &[],
        }
    }
}

/// The language the scanner reads a page in, from its title (`.js`, `.css`); `None` for
/// pages that are not code (JSON data of package gadgets, wikitext).
pub fn lang_of(title: &str) -> Option<&'static str> {
    let lower = title.to_ascii_lowercase();
    if lower.ends_with(".js") {
        Some("js")
    } else if lower.ends_with(".css") {
        Some("css")
    } else {
        None
    }
}

/// The same title whatever spelling a script used: spaces for underscores, trimmed, first
/// ASCII letter of the page name upper-case (MediaWiki's default `$wgCapitalLinks`).
pub fn normalize_title(title: &str) -> String {
    let t = title.replace('_', " ");
    let t = t.trim();
    let (ns, name) = match t.split_once(':') {
        Some((ns, name)) if !ns.is_empty() && !ns.contains(' ') => (Some(ns), name.trim_start()),
        _ => (None, t),
    };
    // ASCII only: Unicode case tables would add ~20 KB to the page module, and a title
    // spelled with a lower-case non-ASCII initial is merely fetched under that spelling.
    let mut name = name.to_string();
    if let Some(first) = name.get_mut(0..1) {
        first.make_ascii_uppercase();
    }
    match ns {
        Some(ns) => format!("{ns}:{name}"),
        None => name,
    }
}

fn encode(s: &str) -> String {
    percent_encoding::utf8_percent_encode(s, percent_encoding::NON_ALPHANUMERIC).to_string()
}

/// The wiki's API endpoint from the page origin and `wgScriptPath` (`""` or `/w`).
pub fn api_url(origin: &str, script_path: &str) -> String {
    format!(
        "{}{}/api.php",
        origin.trim_end_matches('/'),
        script_path.trim_end_matches('/')
    )
}

/// `list=gadgets` with ids and metadata.
pub fn gadgets_url(api: &str) -> String {
    format!("{api}?action=query&list=gadgets&gaprop=id%7Cmetadata&format=json&formatversion=2")
}

/// The current text of up to [`MAX_TITLES_PER_REQUEST`] pages. `cors`: the anonymous
/// cross-origin form (`origin=*`, another wiki's API).
pub fn revisions_url(api: &str, titles: &[String], cors: bool) -> String {
    let titles: Vec<String> = titles.iter().map(|t| encode(t)).collect();
    format!(
        "{api}?action=query&prop=revisions&rvprop=content&rvslots=main&format=json&formatversion=2{}&titles={}",
        if cors { "&origin=*" } else { "" },
        titles.join("%7C")
    )
}

// The API answers are read with the crate's own JSON reader (`crate::json`), which the page
// module links anyway: serde_json's `Value` would add tens of KB to the WebAssembly.
fn field<'a>(v: &'a JsonValue, key: &str) -> Option<&'a JsonValue> {
    v.get(key).map(|s| &s.value)
}

fn items(v: Option<&JsonValue>) -> impl Iterator<Item = &JsonValue> {
    let list: &[crate::json::Spanned] = match v {
        Some(JsonValue::Array(a)) => a,
        _ => &[],
    };
    list.iter().map(|s| &s.value)
}

fn str_of<'a>(v: &'a JsonValue, key: &str) -> Option<&'a str> {
    field(v, key).and_then(JsonValue::as_str)
}

fn parse_answer(json: &str, what: &str) -> Result<JsonValue, String> {
    let v = crate::json::parse(json)
        .map_err(|e| format!("{what} is not JSON: {e}"))?
        .value;
    if let Some(e) = field(&v, "error") {
        let code = str_of(e, "code").unwrap_or("error");
        let info = str_of(e, "info").unwrap_or("");
        return Err(format!("API error {code}: {info}"));
    }
    Ok(v)
}

/// Reads a `list=gadgets` answer (formatversion 2; `1`/`""` flags of older answers too).
pub fn parse_gadgets(json: &str) -> Result<Vec<Gadget>, String> {
    let v = parse_answer(json, "the gadget list")?;
    let list = field(&v, "query")
        .and_then(|q| field(q, "gadgets"))
        .filter(|g| matches!(g, JsonValue::Array(_)))
        .ok_or("the answer holds no gadget list (is the Gadgets extension installed?)")?;
    let flag = |x: Option<&JsonValue>| match x {
        Some(JsonValue::Bool(b)) => *b,
        Some(JsonValue::String(_)) => true, // formatversion 1: "" means true
        Some(n @ JsonValue::Number(_)) => n.as_f64().is_some_and(|n| n != 0.0),
        _ => false,
    };
    let mut out = Vec::new();
    for g in items(Some(list)) {
        let Some(id) = str_of(g, "id") else {
            continue;
        };
        let meta = field(g, "metadata");
        let settings = meta.and_then(|m| field(m, "settings"));
        let module = meta.and_then(|m| field(m, "module"));
        let mut pages = Vec::new();
        for key in ["scripts", "styles"] {
            for p in items(module.and_then(|m| field(m, key))).filter_map(JsonValue::as_str) {
                let title = if p.starts_with("MediaWiki:") {
                    p.to_string()
                } else {
                    format!("MediaWiki:{p}")
                };
                if !pages.contains(&title) {
                    pages.push(title);
                }
            }
        }
        out.push(Gadget {
            id: id.to_string(),
            pages,
            default: flag(settings.and_then(|s| field(s, "default"))),
            hidden: flag(settings.and_then(|s| field(s, "hidden"))),
        });
    }
    Ok(out)
}

/// One page of a `prop=revisions` answer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PageText {
    /// The title as it was asked for (before the API's normalisation).
    pub asked: String,
    /// `None`: missing or invalid.
    pub content: Option<String>,
}

/// Reads a `prop=revisions` answer for the titles that were asked. A title the answer does
/// not hold (the API stopped early and says `continue`) is left out: ask again.
pub fn parse_revisions(json: &str, asked: &[String]) -> Result<Vec<PageText>, String> {
    let v = parse_answer(json, "the page texts")?;
    let query = field(&v, "query").ok_or("the answer holds no query")?;
    // (title as answered, title as asked)
    let mut to_asked: Vec<(String, String)> =
        asked.iter().map(|t| (t.clone(), t.clone())).collect();
    for n in items(field(query, "normalized")) {
        if let (Some(from), Some(to)) = (str_of(n, "from"), str_of(n, "to")) {
            if let Some(a) = to_asked
                .iter()
                .find(|(k, _)| k == from)
                .map(|(_, a)| a.clone())
            {
                to_asked.push((to.to_string(), a));
            }
        }
    }
    let mut out = Vec::new();
    for p in items(field(query, "pages")) {
        let Some(asked) = str_of(p, "title")
            .and_then(|t| to_asked.iter().find(|(k, _)| k == t))
            .map(|(_, a)| a.clone())
        else {
            continue;
        };
        let gone = field(p, "missing").is_some() || field(p, "invalid").is_some();
        let content = items(field(p, "revisions"))
            .next()
            .and_then(|r| field(r, "slots"))
            .and_then(|s| field(s, "main"))
            .and_then(|m| str_of(m, "content"));
        match (gone, content) {
            (true, _) => out.push(PageText {
                asked,
                content: None,
            }),
            (false, Some(c)) => out.push(PageText {
                asked,
                content: Some(c.to_string()),
            }),
            // No text yet (the answer was cut short): asked again later.
            (false, None) => {}
        }
    }
    Ok(out)
}

/// The part of the scanner module's report (its `ScanReport`, camelCase) the Scan view reads.
/// Deserialized from the JS object the module returns (serde-wasm-bindgen in the page) or from
/// its JSON (natively).
#[derive(Deserialize, Default, Debug)]
#[serde(rename_all = "camelCase", default)]
pub struct ReportIn {
    findings: Vec<FindingIn>,
    navigations: Vec<serde::de::IgnoredAny>,
    dynamic_code: Vec<serde::de::IgnoredAny>,
    errors: Vec<IssueIn>,
    partial: bool,
}

#[derive(Deserialize, Debug)]
#[serde(rename_all = "camelCase")]
struct FindingIn {
    #[serde(default)]
    api: String,
    channel: Channel,
    directive: Directive,
    destination: String,
    #[serde(default)]
    url: String,
    #[serde(default)]
    party: Option<Party>,
    tier: Tier,
    #[serde(default)]
    carries: Vec<CarryKind>,
    #[serde(default)]
    line: u32,
    #[serde(default)]
    column: u32,
    #[serde(default)]
    confidence: String,
}

#[derive(Deserialize, Debug)]
struct IssueIn {
    #[serde(default)]
    message: String,
    #[serde(default)]
    line: u32,
    #[serde(default)]
    column: u32,
}

/// The Scan view's outcome of one page from the scanner's report.
pub fn outcome_from_report(page: &str, report: ReportIn) -> PageOutcome {
    let rows = report
        .findings
        .into_iter()
        .map(|f| ScanRow {
            page: page.to_string(),
            dynamic: f.destination == "dynamic" || f.confidence == "dynamic",
            destination: f.destination,
            url: f.url,
            api: f.api,
            channel: f.channel,
            directive: f.directive,
            party: f.party,
            tier: f.tier,
            carries: f.carries,
            line: f.line,
            column: f.column,
            confidence: f.confidence,
        })
        .collect();
    PageOutcome::Scanned {
        rows,
        navigations: report.navigations.len(),
        dynamic_code: report.dynamic_code.len(),
        errors: report
            .errors
            .into_iter()
            .map(|e| format!("{}:{} {}", e.line, e.column, e.message))
            .collect(),
        partial: report.partial,
    }
}

/// Splits titles into requests of at most [`MAX_TITLES_PER_REQUEST`].
pub fn chunk_titles(titles: &[String]) -> Vec<Vec<String>> {
    titles
        .chunks(MAX_TITLES_PER_REQUEST)
        .map(<[String]>::to_vec)
        .collect()
}

// ---- gadgets ------------------------------------------------------------------------------

/// The name of the site scripts' group: ResourceLoader's module `site`, the name the auditor
/// gives the source of their requests (`site-script:site`).
pub const SITE: &str = "site";

/// The site-wide pages for `skin` (ResourceLoader's `site` and `site.styles` modules):
/// `MediaWiki:Common.js`, `MediaWiki:<Skin>.js`, then the same `.css` pages.
pub fn site_pages(skin: Option<&str>) -> Vec<String> {
    let skin = skin.filter(|s| !s.is_empty() && !s.contains(['/', '|', ':']));
    let mut pages = Vec::new();
    for ext in ["js", "css"] {
        pages.push(format!("MediaWiki:Common.{ext}"));
        if let Some(skin) = skin {
            pages.push(normalize_title(&format!("MediaWiki:{skin}.{ext}")));
        }
    }
    pages
}

/// The gadgets of this wiki, its site scripts, and what their pages' scans found.
#[derive(Clone, Debug, Default)]
pub struct GadgetScan {
    pub gadgets: Vec<Gadget>,
    /// The site scripts as one group (id [`SITE`]), if asked for.
    pub site: Option<Gadget>,
    results: Vec<(String, PageOutcome)>,
}

/// One gadget's section of the Scan view.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GadgetView<'a> {
    pub gadget: &'a Gadget,
    /// Every finding of its pages, page by page in definition order, then by position.
    pub rows: Vec<&'a ScanRow>,
    /// Each page and its outcome (`None`: not fetched yet, or not code).
    pub pages: Vec<(&'a str, Option<&'a PageOutcome>)>,
}

impl GadgetScan {
    pub fn new(gadgets: Vec<Gadget>) -> GadgetScan {
        GadgetScan {
            gadgets,
            site: None,
            results: Vec::new(),
        }
    }

    /// Also scans the site scripts ([`site_pages`]), after the gadgets.
    pub fn with_site(mut self, pages: Vec<String>) -> GadgetScan {
        self.site = Some(Gadget {
            id: SITE.to_string(),
            pages,
            default: true,
            hidden: false,
        });
        self
    }

    /// Code pages not scanned yet, each once, in definition order (the site scripts last), in
    /// requests of at most [`MAX_TITLES_PER_REQUEST`] titles.
    pub fn batches(&self) -> Vec<Vec<String>> {
        let mut titles: Vec<String> = Vec::new();
        for t in self
            .gadgets
            .iter()
            .chain(self.site.as_ref())
            .flat_map(|g| g.pages.iter())
        {
            if lang_of(t).is_some() && self.outcome(t).is_none() && !titles.contains(t) {
                titles.push(t.clone());
            }
        }
        chunk_titles(&titles)
    }

    pub fn record(&mut self, title: &str, outcome: PageOutcome) {
        match self.results.iter_mut().find(|(t, _)| t == title) {
            Some(slot) => slot.1 = outcome,
            None => self.results.push((title.to_string(), outcome)),
        }
    }

    pub fn outcome(&self, title: &str) -> Option<&PageOutcome> {
        self.results
            .iter()
            .find(|(t, _)| t == title)
            .map(|(_, o)| o)
    }

    /// Findings grouped per gadget (a page shared by two gadgets counts for both).
    pub fn view(&self) -> Vec<GadgetView<'_>> {
        self.gadgets.iter().map(|g| self.view_of(g)).collect()
    }

    /// The site scripts' findings, if they were asked for.
    pub fn site_view(&self) -> Option<GadgetView<'_>> {
        self.site.as_ref().map(|g| self.view_of(g))
    }

    fn view_of<'a>(&'a self, g: &'a Gadget) -> GadgetView<'a> {
        let pages: Vec<(&str, Option<&PageOutcome>)> = g
            .pages
            .iter()
            .map(|p| (p.as_str(), self.outcome(p)))
            .collect();
        let rows = pages
            .iter()
            .filter_map(|(_, o)| *o)
            .flat_map(|o| o.rows().iter())
            .collect();
        GadgetView {
            gadget: g,
            rows,
            pages,
        }
    }
}

// ---- user scripts -------------------------------------------------------------------------

/// Why a page of the user-script tree is not fetched.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Skip {
    /// `global.js` lives on Meta, which is not this wiki's Wikimedia party.
    NotWikimedia,
    /// The page is on another wiki that is not a Wikimedia wiki of this one.
    OtherWiki,
}

/// The state of one node of the user-script tree.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum NodeState {
    /// To be fetched.
    Waiting,
    Done(PageOutcome),
    /// Already on the path from the root: a cycle, not followed.
    Cycle,
    /// Deeper than [`MAX_DEPTH`]: not followed.
    TooDeep,
    /// The same page appears earlier in the tree (its index): shown there.
    Repeat(usize),
    Skipped(Skip),
}

/// A page of the user-script tree.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TreeNode {
    /// `None`: this wiki; else the origin of another (Wikimedia) wiki.
    pub wiki: Option<String>,
    pub title: String,
    pub depth: usize,
    pub parent: Option<usize>,
    pub state: NodeState,
}

/// The user's own scripts and everything they import from wiki pages.
#[derive(Clone, Debug)]
pub struct ScriptTree {
    page: Option<PageContext>,
    origin: String,
    pub nodes: Vec<TreeNode>,
    max_depth: usize,
}

/// The wiki page a finding loads, if it loads one as a raw page (`index.php?title=…&action=raw`
/// or `/wiki/Title?action=raw`): `(origin, title)`. `url` is the finding's URL as the scanner
/// knows it (relative and protocol-relative URLs resolve against `base`, the page's URL).
pub fn wiki_page_of(base: &str, url: &str) -> Option<(String, String)> {
    let u = Url::parse(base).ok()?.join(url).ok()?;
    let mut title = None;
    let mut raw = false;
    for (k, v) in u.query_pairs() {
        match k.as_ref() {
            "title" => title = Some(v.into_owned()),
            "action" => raw = v.eq_ignore_ascii_case("raw"),
            _ => {}
        }
    }
    if !raw {
        return None;
    }
    let title = match title {
        Some(t) => t,
        None => {
            let path = u.path();
            let rest = path.split_once("/wiki/")?.1;
            percent_encoding::percent_decode_str(rest)
                .decode_utf8()
                .ok()?
                .into_owned()
        }
    };
    if title.trim().is_empty() || lang_of(&title).is_none() {
        return None;
    }
    let origin = u.origin().ascii_serialization();
    Some((origin, normalize_title(&title)))
}

impl ScriptTree {
    /// Roots for `user` on the page at `page_url` with skin `skin`: `common.js`, the skin's
    /// script, and `global.js` on Meta (skipped unless Meta is Wikimedia for this wiki).
    pub fn new(page_url: &str, user: &str, skin: Option<&str>) -> ScriptTree {
        let page = PageContext::new(page_url, &[Preset::wikimedia_production()]).ok();
        let origin = Url::parse(page_url)
            .map(|u| u.origin().ascii_serialization())
            .unwrap_or_default();
        let mut t = ScriptTree {
            page,
            origin,
            nodes: Vec::new(),
            max_depth: MAX_DEPTH,
        };
        let user = normalize_title(user);
        t.push(None, format!("User:{user}/common.js"), None);
        if let Some(skin) = skin.filter(|s| !s.is_empty() && !s.contains(['/', '|'])) {
            t.push(None, format!("User:{user}/{skin}.js"), None);
        }
        let global = format!("User:{user}/global.js");
        if t.is_wikimedia(META_ORIGIN) {
            t.push(Some(META_ORIGIN.to_string()), global, None);
        } else {
            t.nodes.push(TreeNode {
                wiki: Some(META_ORIGIN.to_string()),
                title: global,
                depth: 0,
                parent: None,
                state: NodeState::Skipped(Skip::NotWikimedia),
            });
        }
        t
    }

    /// Sets the depth limit (tests).
    pub fn with_max_depth(mut self, max_depth: usize) -> ScriptTree {
        self.max_depth = max_depth;
        self
    }

    fn is_wikimedia(&self, origin: &str) -> bool {
        let (Some(page), Ok(u)) = (&self.page, Url::parse(origin)) else {
            return false;
        };
        page.destination(&u)
            .is_ok_and(|d| d.party == Party::Wikimedia)
    }

    fn same(&self, i: usize, wiki: &Option<String>, title: &str) -> bool {
        let n = &self.nodes[i];
        n.wiki == *wiki && n.title == title
    }

    /// Adds a node below `parent`, deciding whether it will be fetched.
    fn push(&mut self, wiki: Option<String>, title: String, parent: Option<usize>) {
        let depth = parent.map_or(0, |p| self.nodes[p].depth + 1);
        let mut on_path = false;
        let mut at = parent;
        while let Some(p) = at {
            if self.same(p, &wiki, &title) {
                on_path = true;
                break;
            }
            at = self.nodes[p].parent;
        }
        let earlier = (0..self.nodes.len()).find(|&i| {
            self.same(i, &wiki, &title)
                && matches!(self.nodes[i].state, NodeState::Waiting | NodeState::Done(_))
        });
        let state = if on_path {
            NodeState::Cycle
        } else if let Some(i) = earlier {
            NodeState::Repeat(i)
        } else if depth > self.max_depth {
            NodeState::TooDeep
        } else {
            NodeState::Waiting
        };
        self.nodes.push(TreeNode {
            wiki,
            title,
            depth,
            parent,
            state,
        });
    }

    /// The next request to make: a wiki (`None`: this one) and up to
    /// [`MAX_TITLES_PER_REQUEST`] titles waiting there. `None` when everything is done.
    pub fn next_batch(&self) -> Option<(Option<String>, Vec<String>)> {
        let first = self.nodes.iter().find(|n| n.state == NodeState::Waiting)?;
        let wiki = first.wiki.clone();
        let titles: Vec<String> = self
            .nodes
            .iter()
            .filter(|n| n.state == NodeState::Waiting && n.wiki == wiki)
            .map(|n| n.title.clone())
            .take(MAX_TITLES_PER_REQUEST)
            .collect();
        Some((wiki, titles))
    }

    /// The API to ask for pages of `wiki` (this wiki's API when `None`), and whether the
    /// request is the anonymous cross-origin form.
    pub fn api_for(&self, wiki: Option<&str>, own_api: &str) -> (String, bool) {
        match wiki {
            None => (own_api.to_string(), false),
            Some(META_ORIGIN) => (META_API.to_string(), true),
            Some(origin) => (format!("{origin}/w/api.php"), true),
        }
    }

    /// Records a fetched (or missing, or failed) page; the wiki pages its findings load become
    /// its children. Pages on another wiki are followed only if it is a Wikimedia wiki of this
    /// one (the same rule as `global.js`).
    pub fn record(&mut self, wiki: Option<&str>, title: &str, outcome: PageOutcome) {
        let wiki = wiki.map(str::to_string);
        let Some(i) = (0..self.nodes.len())
            .find(|&i| self.same(i, &wiki, title) && self.nodes[i].state == NodeState::Waiting)
        else {
            return;
        };
        let base = match &wiki {
            Some(origin) => format!("{origin}/"),
            None => self
                .page
                .as_ref()
                .map(|p| p.url().to_string())
                .unwrap_or_default(),
        };
        let links: Vec<(Option<String>, String)> = {
            let mut seen: Vec<(Option<String>, String)> = Vec::new();
            outcome
                .rows()
                .iter()
                .filter(|r| matches!(r.channel, Channel::Script | Channel::Style))
                .filter(|r| !r.dynamic)
                .filter_map(|r| wiki_page_of(&base, &r.url))
                .map(|(origin, t)| {
                    let w = if origin == self.origin && wiki.is_none() {
                        None
                    } else if Some(&origin) == wiki.as_ref() {
                        wiki.clone()
                    } else if origin == self.origin {
                        None
                    } else {
                        Some(origin)
                    };
                    (w, t)
                })
                .filter(|l| {
                    let new = !seen.contains(l);
                    if new {
                        seen.push(l.clone());
                    }
                    new
                })
                .collect()
        };
        self.nodes[i].state = NodeState::Done(outcome);
        for (w, t) in links {
            match &w {
                Some(origin) if !self.is_wikimedia(origin) => {
                    let depth = self.nodes[i].depth + 1;
                    self.nodes.push(TreeNode {
                        wiki: w,
                        title: t,
                        depth,
                        parent: Some(i),
                        state: NodeState::Skipped(Skip::OtherWiki),
                    });
                }
                _ => self.push(w, t, Some(i)),
            }
        }
    }

    /// Marks every waiting page of a request that failed as a whole.
    pub fn fail(&mut self, wiki: Option<&str>, titles: &[String], reason: &str) {
        for t in titles {
            self.record(wiki, t, PageOutcome::Failed(reason.to_string()));
        }
    }

    /// The nodes in display order (depth first, children in the order found).
    pub fn display_order(&self) -> Vec<usize> {
        let mut children: Vec<Vec<usize>> = vec![Vec::new(); self.nodes.len()];
        let mut roots = Vec::new();
        for (i, n) in self.nodes.iter().enumerate() {
            match n.parent {
                Some(p) => children[p].push(i),
                None => roots.push(i),
            }
        }
        let mut out = Vec::with_capacity(self.nodes.len());
        let mut stack: Vec<usize> = roots.into_iter().rev().collect();
        while let Some(i) = stack.pop() {
            out.push(i);
            stack.extend(children[i].iter().rev());
        }
        out
    }
}
