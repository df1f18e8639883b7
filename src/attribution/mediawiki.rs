//! MediaWiki knowledge for attribution (SPEC §6): what a frame URL says about the code behind
//! it, which ResourceLoader modules are user-managed, and which module a position inside a
//! production `load.php` batch belongs to.
//!
//! Decisions recorded here:
//! * Packed module lists ([`unpack_modules`]) follow ResourceLoader's
//!   `makePackedModulesString`: within a `|`-group, an item containing a dot is a full name and
//!   sets the prefix (text before its last dot) for the dot-less items after it; a dot-less
//!   item with no prefix yet is a name of its own. On every string ResourceLoader produces this
//!   equals PHP `expandModuleNames`; it also reads hand-written mixes such as
//!   `jquery,mediawiki.base` as two names, where PHP would produce one nonsense name.
//! * Site scripts are named by their module: `site` (MediaWiki:Common.js and the skin's page)
//!   and `ext.globalCssJs.site`. The `user` module is the user script `User:NAME/common.js`
//!   when the user name is known, else `user`; `ext.globalCssJs.user` likewise
//!   `User:NAME/global.js` or `global.js`.
//! * `load.php` and `index.php?action=raw` are read as MediaWiki only for what they can
//!   *claim* safely: on another host than the page's they still name their gadget or user
//!   script (with [`Source::wiki`] set), but they are never skipped as library code, since any
//!   server can serve a file called `load.php?modules=jquery`.
//! * Wrapper positions in [`BatchIndex`] are 1-based lines and 1-based columns counted in
//!   UTF-16 code units, which is what V8 and SpiderMonkey report; line terminators are LF,
//!   CR, CRLF, U+2028 and U+2029, as in ECMAScript.

use crate::model::{Source, SourceKind};
use percent_encoding::percent_decode_str;
use url::Url;

/// At most this many module names are read from one packed list.
pub const MAX_MODULES: usize = 1024;
/// At most this many wrapper starts are recorded for one batch.
pub const MAX_WRAPPERS: usize = 4096;
/// Longest module key (`name@version`) accepted when scanning a batch.
const MAX_KEY_BYTES: usize = 512;

/// Expands ResourceLoader's packed module list (`ext.gadget.A,B|jquery`), percent-encoded or not.
pub fn unpack_modules(packed: &str) -> Vec<String> {
    expand_packed(&percent_decode_str(packed).decode_utf8_lossy())
}

/// [`unpack_modules`] on already-decoded text (a query value from the `url` crate).
fn expand_packed(decoded: &str) -> Vec<String> {
    let mut out = Vec::new();
    for group in decoded.split('|') {
        let mut prefix: Option<&str> = None;
        for item in group.split(',') {
            if out.len() >= MAX_MODULES {
                return out;
            }
            if item.is_empty() {
                continue;
            }
            if let Some(dot) = item.rfind('.') {
                prefix = Some(&item[..dot]);
                out.push(item.to_string());
            } else if let Some(p) = prefix {
                out.push(format!("{p}.{item}"));
            } else {
                out.push(item.to_string());
            }
        }
    }
    out
}

/// What a frame URL says about the code it points at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FrameOrigin {
    /// A `load.php` response holding several modules: which one needs a [`BatchIndex`].
    Batch {
        url: String,
        modules: Vec<String>,
        /// Host of the `load.php` when it is not the page's.
        wiki: Option<String>,
    },
    /// A `load.php` response holding exactly one module (debug mode, `only=scripts`, or a
    /// batch of one): the position does not matter.
    Module { name: String, wiki: Option<String> },
    /// Inline code the runtime tagged `//# sourceURL=mw-module://NAME?tpr=NONCE`.
    Tagged { name: String, nonce: Option<String> },
    /// A batch of module wrappers replayed from `mw.loader.store`, evaluated inline and tagged
    /// `//# sourceURL=mw-batch://N?tpr=NONCE`: like [`FrameOrigin::Batch`], with no module
    /// list in the URL (the [`BatchIndex`] of its text is the only authority).
    InlineBatch { url: String, nonce: Option<String> },
    /// A wiki page loaded as script (`index.php?title=…&action=raw`, `/wiki/Title?action=raw`).
    UserScript { title: String, wiki: Option<String> },
    /// A static file of MediaWiki, a skin or an extension on the page's own host
    /// (`…/resources/…`, `…/skins/…`, `…/extensions/…` ending in `.js`): what ResourceLoader's
    /// legacy debug mode loads for file modules (`resources/lib/jquery/jquery.js`). Deployed
    /// by the server's administrators, never user-managed: skipped like library modules.
    Deployed { url: String },
    /// Another browser extension.
    Extension { id: String },
    /// Any other http(s), `blob:` or `data:` script; the URL without its fragment.
    External { url: String },
    /// Inline, `<anonymous>`, `native`, empty, or a scheme we do not attribute (`wasm:`, `about:`).
    Unknown,
}

const EXTENSION_SCHEMES: [&str; 4] = [
    "chrome-extension://",
    "moz-extension://",
    "safari-web-extension://",
    "safari-extension://",
];

/// Classifies a frame URL (as printed in a stack, line and column removed). `page_host` is
/// the page's host, with or without port. The page's own URL is not recognised here (this
/// function does not know it): callers compare it first.
pub fn frame_origin(url: &str, page_host: &str) -> FrameOrigin {
    let url = url.trim();
    if url.is_empty() || url.starts_with('<') || url == "native" {
        return FrameOrigin::Unknown;
    }
    // Module names contain `@` and `/` (`@wikimedia/codex`), which a URL parser would take for
    // user info and path, so tags are split by hand.
    if let Some(rest) = strip_prefix_ignore_case(url, "mw-module://") {
        return tagged(rest);
    }
    if let Some(rest) = strip_prefix_ignore_case(url, "mw-batch://") {
        let nonce = rest
            .split_once('?')
            .and_then(|(_, q)| q.split('&').find_map(|p| p.strip_prefix("tpr=")))
            .map(|n| n.split('#').next().unwrap_or_default().to_string());
        return FrameOrigin::InlineBatch {
            url: without_fragment(url).to_string(),
            nonce,
        };
    }
    for scheme in EXTENSION_SCHEMES {
        if let Some(rest) = strip_prefix_ignore_case(url, scheme) {
            let id = rest.split(['/', '?', '#']).next().unwrap_or_default();
            if id.is_empty() {
                return FrameOrigin::Unknown;
            }
            return FrameOrigin::Extension { id: id.to_string() };
        }
    }
    let Ok(parsed) = Url::parse(url) else {
        return FrameOrigin::Unknown;
    };
    match parsed.scheme() {
        "http" | "https" => {}
        "blob" | "data" => {
            return FrameOrigin::External {
                url: without_fragment(url).to_string(),
            }
        }
        _ => return FrameOrigin::Unknown,
    }
    let wiki = foreign_host(&parsed, page_host);
    let path = parsed.path();
    if path.ends_with("/load.php") {
        if let Some(modules) = query_value(&parsed, "modules") {
            let mut modules = expand_packed(&modules);
            if modules.len() == 1 {
                let name = modules.pop().unwrap_or_default();
                return FrameOrigin::Module { name, wiki };
            }
            if !modules.is_empty() {
                return FrameOrigin::Batch {
                    url: without_fragment(url).to_string(),
                    modules,
                    wiki,
                };
            }
        }
    } else if query_value(&parsed, "action").as_deref() == Some("raw") {
        if let Some(title) = raw_title(&parsed) {
            return FrameOrigin::UserScript { title, wiki };
        }
    } else if wiki.is_none() && is_deployed_path(path) {
        return FrameOrigin::Deployed {
            url: without_fragment(url).to_string(),
        };
    }
    FrameOrigin::External {
        url: without_fragment(url).to_string(),
    }
}

/// Directories of MediaWiki's deployed code (`$wgResourceBasePath/resources`,
/// `$wgStylePath` = `skins`, `$wgExtensionAssetsPath` = `extensions`).
const DEPLOYED_DIRS: [&str; 3] = ["resources", "skins", "extensions"];

/// Whether a URL path names a deployed `.js` file: a `.js` file name under one of
/// [`DEPLOYED_DIRS`], and no `index.php` or `/wiki/` page path (wiki pages are user-editable).
fn is_deployed_path(path: &str) -> bool {
    if path.contains("/wiki/") || path.contains("index.php") {
        return false;
    }
    let Some((dirs, file)) = path.rsplit_once('/') else {
        return false;
    };
    file.len() > ".js".len()
        && file.ends_with(".js")
        && dirs.split('/').any(|d| DEPLOYED_DIRS.contains(&d))
}

/// The page title of an `action=raw` URL, spelled as MediaWiki displays it (`_` → space).
fn raw_title(parsed: &Url) -> Option<String> {
    let title = match query_value(parsed, "title") {
        Some(t) => t,
        None => {
            let path = parsed.path();
            let (_, t) = path
                .split_once("/wiki/")
                .or_else(|| path.split_once("/index.php/"))?;
            percent_decode_str(t).decode_utf8_lossy().into_owned()
        }
    };
    let title = title.replace('_', " ");
    let title = title.trim();
    (!title.is_empty()).then(|| title.to_string())
}

/// The first value of query parameter `key`, decoded.
fn query_value(parsed: &Url, key: &str) -> Option<String> {
    parsed
        .query_pairs()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.into_owned())
}

/// `host[:port]` of `parsed` when it differs from `page_host` (compared with and without port).
fn foreign_host(parsed: &Url, page_host: &str) -> Option<String> {
    let host = parsed.host_str()?;
    let with_port = match parsed.port() {
        Some(p) => format!("{host}:{p}"),
        None => host.to_string(),
    };
    let same = host.eq_ignore_ascii_case(page_host) || with_port.eq_ignore_ascii_case(page_host);
    (!same).then_some(with_port)
}

fn tagged(rest: &str) -> FrameOrigin {
    let rest = without_fragment(rest);
    let (name, query) = rest.split_once('?').unwrap_or((rest, ""));
    let name = percent_decode_str(name).decode_utf8_lossy();
    if name.is_empty() {
        return FrameOrigin::Unknown;
    }
    let nonce = query
        .split('&')
        .find_map(|kv| kv.strip_prefix("tpr="))
        .map(|n| percent_decode_str(n).decode_utf8_lossy().into_owned());
    FrameOrigin::Tagged {
        name: name.into_owned(),
        nonce,
    }
}

fn strip_prefix_ignore_case<'a>(s: &'a str, prefix: &str) -> Option<&'a str> {
    let head = s.get(..prefix.len())?;
    head.eq_ignore_ascii_case(prefix)
        .then(|| &s[prefix.len()..])
}

/// The URL without its `#fragment`.
pub fn without_fragment(url: &str) -> &str {
    url.split_once('#').map_or(url, |(u, _)| u)
}

/// The user-managed source behind a ResourceLoader module, or `None` for MediaWiki and library
/// code (`jquery*`, `mediawiki.*`, `oojs*`, Codex, `startup`, `skins.*`, other `ext.*`,
/// `site.styles`, `user.options`, …), which attribution skips.
pub fn module_source(module: &str) -> Option<Source> {
    module_source_for(module, None)
}

/// Whether `module` is user-managed (`module_source(module).is_some()`), without allocating.
pub fn is_user_module(module: &str) -> bool {
    matches!(
        module,
        "site" | "ext.globalCssJs.site" | "user" | "ext.globalCssJs.user"
    ) || module
        .strip_prefix("ext.gadget.")
        .is_some_and(|g| !g.is_empty())
}

/// [`module_source`], naming the `user` modules after `user_name` (`wgUserName`) when known.
pub fn module_source_for(module: &str, user_name: Option<&str>) -> Option<Source> {
    match module {
        "site" | "ext.globalCssJs.site" => Some(Source::named(
            SourceKind::SiteScript,
            Some(module.to_string()),
        )),
        "user" => Some(user_module_source(user_name)),
        "ext.globalCssJs.user" => Some(Source::named(
            SourceKind::UserScript,
            Some(user_page(user_name, "global.js")),
        )),
        _ => {
            let gadget = module.strip_prefix("ext.gadget.")?;
            (!gadget.is_empty())
                .then(|| Source::named(SourceKind::Gadget, Some(gadget.to_string())))
        }
    }
}

/// The source for the `user` module: `User:NAME/common.js`, or `user` when the name is unknown.
pub fn user_module_source(user_name: Option<&str>) -> Source {
    Source::named(
        SourceKind::UserScript,
        Some(user_page(user_name, "common.js")),
    )
}

fn user_page(user_name: Option<&str>, page: &str) -> String {
    match user_name.map(str::trim).filter(|n| !n.is_empty()) {
        Some(name) => format!("User:{name}/{page}"),
        None if page == "common.js" => "user".to_string(),
        None => page.to_string(),
    }
}

/// Where one module's wrapper begins inside a batch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WrapperStart {
    pub line: u32,
    pub column: u32,
    pub module: String,
}

/// Positions of module wrappers in a production `load.php` response, for mapping a frame's
/// `line:column` to its module. Recognised wrappers (quotes `"` or `'`, any spacing):
/// `mw.loader.implement("NAME@VERSION"` (MediaWiki ≤ 1.40, also `mediaWiki.loader.implement`)
/// and `mw.loader.impl(function(){return["NAME@VERSION"` (1.41+).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BatchIndex {
    starts: Vec<WrapperStart>,
}

impl BatchIndex {
    /// Indexes every wrapper start found in `text`, in one pass.
    pub fn new(text: &str) -> BatchIndex {
        BatchIndex {
            starts: scan_wrappers(text),
        }
    }

    /// Like [`BatchIndex::new`], keeping only starts that match `expected` (the batch URL's
    /// module list) in order. ResourceLoader emits modules in request order, so a wrapper look-
    /// alike inside a module's own code (a string, or a fake call) that names a module already
    /// seen, or one not requested, is dropped instead of hijacking the rest of the batch.
    pub fn with_expected(text: &str, expected: &[String]) -> BatchIndex {
        let mut next = 0;
        let starts = scan_wrappers(text)
            .into_iter()
            .filter(|s| {
                match expected[next.min(expected.len())..]
                    .iter()
                    .position(|m| *m == s.module)
                {
                    Some(j) => {
                        next += j + 1;
                        true
                    }
                    None => false,
                }
            })
            .collect();
        BatchIndex { starts }
    }

    /// [`BatchIndex::with_expected`] with the module list read from the batch's URL.
    pub fn for_url(text: &str, batch_url: &str) -> BatchIndex {
        match Url::parse(batch_url)
            .ok()
            .and_then(|u| query_value(&u, "modules"))
        {
            Some(m) => BatchIndex::with_expected(text, &expand_packed(&m)),
            None => BatchIndex::new(text),
        }
    }

    /// The module whose wrapper is the last to start at or before `line:column` (1-based).
    pub fn module_at(&self, line: u32, column: u32) -> Option<&str> {
        let i = self
            .starts
            .partition_point(|s| (s.line, s.column) <= (line, column));
        Some(self.starts.get(i.checked_sub(1)?)?.module.as_str())
    }

    /// The module covering the whole of `line`, for engines that give no column (SpiderMonkey
    /// eval callers). `None` when a wrapper starts inside the line, which makes it ambiguous.
    pub fn module_at_line(&self, line: u32) -> Option<&str> {
        let i = self
            .starts
            .partition_point(|s| (s.line, s.column) <= (line, 1));
        if self.starts.get(i).is_some_and(|s| s.line == line) {
            return None;
        }
        Some(self.starts.get(i.checked_sub(1)?)?.module.as_str())
    }

    /// The wrapper starts, in text order.
    pub fn starts(&self) -> &[WrapperStart] {
        &self.starts
    }

    pub fn len(&self) -> usize {
        self.starts.len()
    }

    pub fn is_empty(&self) -> bool {
        self.starts.is_empty()
    }
}

/// Finds wrapper starts with plain substring search and tracks line/column incrementally, so
/// a multi-megabyte batch is walked once.
fn scan_wrappers(text: &str) -> Vec<WrapperStart> {
    const NEEDLE: &str = "loader.impl";
    let mut starts = Vec::new();
    let mut cursor = Cursor::default();
    let mut pos = 0;
    while starts.len() < MAX_WRAPPERS {
        let Some(rel) = text.get(pos..).and_then(|t| t.find(NEEDLE)) else {
            break;
        };
        let at = pos + rel;
        pos = at + NEEDLE.len();
        let before = &text[..at];
        let start = if before.ends_with("mw.") {
            at - "mw.".len()
        } else if before.ends_with("mediaWiki.") {
            at - "mediaWiki.".len()
        } else {
            continue;
        };
        let after = &text[pos..];
        let key = match after.strip_prefix("ement") {
            Some(args) => implement_key(args),
            None => impl_key(after),
        };
        let Some(module) = key.and_then(module_of_key) else {
            continue;
        };
        cursor.advance(text, start);
        starts.push(WrapperStart {
            line: cursor.line,
            column: cursor.column,
            module: module.to_string(),
        });
    }
    starts
}

/// `("key"` after `mw.loader.implement`.
fn implement_key(s: &str) -> Option<&str> {
    quoted(token(s, "(")?)
}

/// `(function(){return["key"` after `mw.loader.impl`.
fn impl_key(s: &str) -> Option<&str> {
    let s = token(s, "(")?;
    let s = token(s, "function")?;
    let s = token(s, "(")?;
    let s = token(s, ")")?;
    let s = token(s, "{")?;
    let s = token(s, "return")?;
    let s = token(s, "[")?;
    quoted(s)
}

/// `s` after optional whitespace and `tok`.
fn token<'a>(s: &'a str, tok: &str) -> Option<&'a str> {
    s.trim_start().strip_prefix(tok)
}

/// The contents of a leading `"…"` or `'…'` without escapes or line breaks.
fn quoted(s: &str) -> Option<&str> {
    let s = s.trim_start();
    let q = s.chars().next().filter(|c| *c == '"' || *c == '\'')?;
    let body = &s[1..];
    let end = body.find(q)?;
    let key = &body[..end];
    (end <= MAX_KEY_BYTES && !key.contains(['\\', '\n', '\r'])).then_some(key)
}

/// `NAME@VERSION` → `NAME`. Names may start with `@` (`@wikimedia/codex`), so the version
/// separator is the last `@` after the first character.
fn module_of_key(key: &str) -> Option<&str> {
    let name = match key.rfind('@') {
        Some(i) if i > 0 => &key[..i],
        _ => key,
    };
    (!name.is_empty()).then_some(name)
}

/// A position in the batch text, advanced monotonically.
struct Cursor {
    byte: usize,
    line: u32,
    column: u32,
}

impl Default for Cursor {
    fn default() -> Self {
        Cursor {
            byte: 0,
            line: 1,
            column: 1,
        }
    }
}

impl Cursor {
    /// Moves to byte offset `to` (a char boundary at or after the current one), counting
    /// ECMAScript line terminators and UTF-16 code units.
    fn advance(&mut self, text: &str, to: usize) {
        let b = text.as_bytes();
        let to = to.min(b.len());
        let mut i = self.byte;
        while i < to {
            let c = b[i];
            if c < 0x80 {
                match c {
                    b'\n' => self.newline(),
                    // CR LF is one terminator, counted at the LF.
                    b'\r' if b.get(i + 1) != Some(&b'\n') => self.newline(),
                    b'\r' => {}
                    _ => self.column = self.column.saturating_add(1),
                }
                i += 1;
            } else if c >= 0xF0 {
                // Outside the BMP: a surrogate pair, two UTF-16 units.
                self.column = self.column.saturating_add(2);
                i += 4;
            } else if c >= 0xE0 {
                // U+2028 LINE SEPARATOR and U+2029 PARAGRAPH SEPARATOR are E2 80 A8/A9.
                if c == 0xE2
                    && b.get(i + 1) == Some(&0x80)
                    && matches!(b.get(i + 2), Some(0xA8 | 0xA9))
                {
                    self.newline();
                } else {
                    self.column = self.column.saturating_add(1);
                }
                i += 3;
            } else {
                self.column = self.column.saturating_add(1);
                i += 2;
            }
        }
        self.byte = i.max(self.byte);
    }

    fn newline(&mut self) {
        self.line = self.line.saturating_add(1);
        self.column = 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utf16_columns_and_separators() {
        let text = "é😀\u{2028}x;mw.loader.implement(\"a@1\",function(){});";
        let idx = BatchIndex::new(text);
        assert_eq!(
            idx.starts(),
            &[WrapperStart {
                line: 2,
                column: 3,
                module: "a".into()
            }]
        );
    }

    #[test]
    fn codex_key() {
        assert_eq!(
            module_of_key("@wikimedia/codex@abc"),
            Some("@wikimedia/codex")
        );
        assert_eq!(module_of_key("@wikimedia/codex"), Some("@wikimedia/codex"));
    }
}
