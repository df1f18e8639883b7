//! Abstract strings: what is statically known of a string value, and where its destination is.
//!
//! A [`Str`] is a sequence of literal parts and *holes* (values not known statically). Holes
//! remember whether they stand for a parameter of the enclosing function, so that a wrapper
//! (`function load(u) { mw.loader.load(u) }`) can be resolved at its call sites. Each value also
//! carries the kinds of user data (SPEC §3) that flowed into it.

use crate::classify::PageContext;
use crate::model::CarryKind;
use url::Url;

pub const USER: u8 = 1;
pub const PAGE: u8 = 2;
pub const REVISION: u8 = 4;
pub const TOKEN: u8 = 8;
pub const COOKIES: u8 = 16;

pub const CARRY_KINDS: [(u8, CarryKind); 5] = [
    (USER, CarryKind::User),
    (PAGE, CarryKind::Page),
    (REVISION, CarryKind::Revision),
    (TOKEN, CarryKind::Token),
    (COOKIES, CarryKind::Cookies),
];

/// Literal text kept per value: a loop of `s += s` must not allocate gigabytes.
const MAX_LITERAL: usize = 64 * 1024;
const MAX_PARTS: usize = 256;

/// What stands in a hole.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Hole {
    Unknown,
    /// Parameter `index` of function `func` (see the module docs).
    Param {
        func: u32,
        index: u32,
    },
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Part {
    Lit(String),
    Hole(Hole),
}

/// A string value with known and unknown parts.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Str {
    pub parts: Vec<Part>,
    pub carries: u8,
    /// A guess among possible values (`config.url || 'https://default'`).
    pub likely: bool,
}

impl Str {
    pub fn lit(text: &str) -> Str {
        let mut s = Str::default();
        s.push_lit(text);
        s
    }

    pub fn hole(hole: Hole, carries: u8) -> Str {
        Str {
            parts: vec![Part::Hole(hole)],
            carries,
            likely: false,
        }
    }

    fn literal_len(&self) -> usize {
        self.parts
            .iter()
            .map(|p| match p {
                Part::Lit(s) => s.len(),
                Part::Hole(_) => 0,
            })
            .sum()
    }

    pub fn push_lit(&mut self, text: &str) {
        if text.is_empty() {
            return;
        }
        let room = MAX_LITERAL.saturating_sub(self.literal_len());
        if room == 0 {
            self.push_hole(Hole::Unknown);
            return;
        }
        let mut cut = text.len().min(room);
        while !text.is_char_boundary(cut) {
            cut -= 1;
        }
        match self.parts.last_mut() {
            Some(Part::Lit(last)) => last.push_str(&text[..cut]),
            _ => self.parts.push(Part::Lit(text[..cut].to_string())),
        }
        if cut < text.len() {
            self.push_hole(Hole::Unknown);
        }
    }

    pub fn push_hole(&mut self, hole: Hole) {
        if matches!(self.parts.last(), Some(Part::Hole(Hole::Unknown))) && hole == Hole::Unknown {
            return;
        }
        if self.parts.len() >= MAX_PARTS {
            if !matches!(self.parts.last(), Some(Part::Hole(_))) {
                self.parts.push(Part::Hole(Hole::Unknown));
            }
            return;
        }
        self.parts.push(Part::Hole(hole));
    }

    pub fn append(&mut self, other: &Str) {
        for p in &other.parts {
            match p {
                Part::Lit(s) => self.push_lit(s),
                Part::Hole(h) => self.push_hole(*h),
            }
        }
        self.carries |= other.carries;
        self.likely |= other.likely;
    }

    /// The whole value, when it has no holes.
    pub fn known(&self) -> Option<&str> {
        match self.parts.as_slice() {
            [] => Some(""),
            [Part::Lit(s)] => Some(s),
            _ => None,
        }
    }

    /// The literal text before the first hole.
    pub fn prefix(&self) -> &str {
        match self.parts.first() {
            Some(Part::Lit(s)) => s,
            _ => "",
        }
    }

    pub fn has_holes(&self) -> bool {
        self.parts.iter().any(|p| matches!(p, Part::Hole(_)))
    }

    /// The first hole, if the value *starts* with one.
    pub fn leading_hole(&self) -> Option<Hole> {
        match self.parts.first() {
            Some(Part::Hole(h)) => Some(*h),
            _ => None,
        }
    }

    /// Text with `…` for every hole, shortened for display.
    pub fn display(&self) -> String {
        let mut out = String::new();
        for p in &self.parts {
            match p {
                Part::Lit(s) => out.push_str(s),
                Part::Hole(_) => out.push('…'),
            }
            if out.len() > 300 {
                let mut cut = 300;
                while !out.is_char_boundary(cut) {
                    cut -= 1;
                }
                out.truncate(cut);
                out.push('…');
                break;
            }
        }
        out.trim().to_string()
    }

    /// `(func, index)` when the value is exactly one parameter of a function and nothing else.
    pub fn lone_param(&self) -> Option<(u32, u32)> {
        match self.parts.as_slice() {
            [Part::Hole(Hole::Param { func, index })] => Some((*func, *index)),
            _ => None,
        }
    }

    /// The function whose parameters appear in this value, if any.
    pub fn param_func(&self) -> Option<u32> {
        self.parts.iter().find_map(|p| match p {
            Part::Hole(Hole::Param { func, .. }) => Some(*func),
            _ => None,
        })
    }

    /// Replaces the parameter holes of `func` with the arguments of a call.
    pub fn substitute_params(&self, func: u32, args: &[Str]) -> Str {
        let mut out = Str {
            parts: Vec::new(),
            carries: self.carries,
            likely: self.likely,
        };
        for p in &self.parts {
            match p {
                Part::Lit(s) => out.push_lit(s),
                Part::Hole(Hole::Param { func: f, index }) if *f == func => {
                    match args.get(*index as usize) {
                        Some(a) => out.append(a),
                        None => out.push_hole(Hole::Unknown),
                    }
                }
                Part::Hole(h) => out.push_hole(*h),
            }
        }
        out
    }
}

/// Where a URL value goes, relative to the page:
/// - `None`: not an outbound request (`data:`, `javascript:`, `mailto:`, empty …);
/// - `Some(None)`: the host is not a constant (`dynamic`);
/// - `Some(Some((url, exact)))`: the URL (its constant part) and whether the host is certain.
pub fn resolve_destination(page: &PageContext, value: &Str) -> Option<Option<(Url, bool)>> {
    let prefix = value.prefix().trim_start();
    let holes = value.has_holes();
    if prefix.is_empty() {
        return if holes { Some(None) } else { None };
    }
    if prefix.starts_with('#') {
        // A fragment of the page itself: nothing is fetched.
        return None;
    }
    let head_end = prefix.find(['/', '?', '#', '\\']).unwrap_or(prefix.len());
    let head = &prefix[..head_end];
    let absolute = if let Some(colon) = head.find(':') {
        let scheme = head[..colon].to_ascii_lowercase();
        let valid = scheme
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic())
            && scheme
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'));
        if !valid {
            // `foo:bar` with odd characters: a relative path for the URL parser.
            false
        } else if matches!(scheme.as_str(), "http" | "https" | "ws" | "wss") {
            true
        } else {
            // data:, blob:, javascript:, about:, mailto:, … are not outbound requests.
            return None;
        }
    } else {
        false
    };
    let protocol_relative = prefix.starts_with("//") || prefix.starts_with("\\\\");
    if absolute || protocol_relative {
        // The host is known only if the authority ends inside the constant prefix.
        let after = if protocol_relative {
            2
        } else {
            match prefix.find("//") {
                Some(i) => i + 2,
                None => head_end + 1,
            }
        };
        let rest = prefix.get(after..).unwrap_or("");
        let authority_end = rest.find(['/', '?', '#', '\\']);
        if authority_end.is_none() && holes {
            return Some(None);
        }
        let probe = if holes {
            // Only whole path segments are certain: cut after the last '/'.
            match prefix.rfind('/') {
                Some(i) if i >= after => &prefix[..=i],
                _ => prefix,
            }
        } else {
            prefix
        };
        return match crate::urls::join(page.url(), probe.trim()) {
            Ok(url) if url.host_str().is_some_and(|h| !h.is_empty()) => Some(Some((url, true))),
            // A malformed constant URL: still a request attempt, of unknown destination.
            _ => Some(None),
        };
    }
    // A relative URL: the wiki itself.
    if holes && !prefix.contains(['/', '.', '?']) {
        // `'ht' + x`, `name + …`: not even the kind of URL is known.
        return Some(None);
    }
    let exact = !(holes && prefix == "/");
    let probe = if holes {
        match prefix.rfind('/') {
            Some(i) => &prefix[..=i],
            None => "",
        }
    } else {
        prefix
    };
    match crate::urls::join(page.url(), probe.trim()) {
        Ok(url) => Some(Some((url, exact))),
        Err(_) => Some(None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::classify::Preset;

    fn page() -> PageContext {
        PageContext::new(
            "https://en.wikipedia.org/wiki/X",
            &[Preset::wikimedia_production()],
        )
        .expect("page")
    }

    fn origin(s: &Str) -> String {
        match resolve_destination(&page(), s) {
            None => "none".into(),
            Some(None) => "dynamic".into(),
            Some(Some((u, _))) => u.origin().ascii_serialization(),
        }
    }

    #[test]
    fn destinations() {
        let mut s = Str::lit("https://x.toolforge.org/api?u=");
        s.push_hole(Hole::Unknown);
        assert_eq!(origin(&s), "https://x.toolforge.org");
        let mut s = Str::lit("https://");
        s.push_hole(Hole::Unknown);
        assert_eq!(origin(&s), "dynamic");
        let mut s = Str::lit("https://x.org");
        s.push_hole(Hole::Unknown);
        assert_eq!(origin(&s), "dynamic");
        assert_eq!(
            origin(&Str::lit("//cdn.example.com/a.js")),
            "https://cdn.example.com"
        );
        assert_eq!(origin(&Str::lit("/w/api.php")), "https://en.wikipedia.org");
        assert_eq!(origin(&Str::lit("data:text/css,x")), "none");
        assert_eq!(origin(&Str::lit("javascript:void(0)")), "none");
        assert_eq!(origin(&Str::hole(Hole::Unknown, 0)), "dynamic");
        assert_eq!(origin(&Str::lit("")), "none");
    }

    #[test]
    fn literal_growth_is_capped() {
        let mut s = Str::lit("x");
        for _ in 0..40 {
            let copy = s.clone();
            s.append(&copy);
        }
        assert!(s.literal_len() <= MAX_LITERAL);
        assert!(s.has_holes());
    }
}
