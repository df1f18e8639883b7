//! Carried data (SPEC §3): which of the page's own user-identifying values a request sends.
//!
//! Instead of encoding every value in every way a script might (percent-encoding with upper or
//! lower hex, `+` for space, …), the detector *decodes the request* a few ways and looks for
//! the plain value and its underscore/space twin. That covers raw, percent-encoded,
//! `+`-for-space and underscore/space variants with a handful of substring searches.
//!
//! Only the *kind* of value found is returned: the values stay inside the detector and are
//! never logged, exported or sent anywhere (tokens above all).

use crate::model::CarryKind;
use serde::Deserialize;
use std::borrow::Cow;
use std::fmt;

/// Values shorter than this are ignored: `1` or `en` would match everything (SPEC §3).
pub const MIN_VALUE_CHARS: usize = 3;

/// The page's values the detector looks for, as read from `mw.config` and `mw.user.tokens`.
/// Field names follow MediaWiki's config keys so the page glue can pass them through.
#[derive(Deserialize, Default, Clone, PartialEq, Eq)]
#[serde(default)]
pub struct PageValues {
    // `mw.config` holds ids as numbers and names as strings (or `null`); both are accepted.
    #[serde(rename = "wgUserName")]
    #[serde(deserialize_with = "text_or_number")]
    pub user_name: Option<String>,
    #[serde(rename = "wgUserId")]
    #[serde(deserialize_with = "text_or_number")]
    pub user_id: Option<String>,
    #[serde(rename = "wgPageName")]
    #[serde(deserialize_with = "text_or_number")]
    pub page_name: Option<String>,
    #[serde(rename = "wgTitle")]
    #[serde(deserialize_with = "text_or_number")]
    pub title: Option<String>,
    #[serde(rename = "wgRelevantPageName")]
    #[serde(deserialize_with = "text_or_number")]
    pub relevant_page_name: Option<String>,
    #[serde(rename = "wgArticleId")]
    #[serde(deserialize_with = "text_or_number")]
    pub article_id: Option<String>,
    #[serde(rename = "wgRevisionId")]
    #[serde(deserialize_with = "text_or_number")]
    pub revision_id: Option<String>,
    #[serde(rename = "wgCurRevisionId")]
    #[serde(deserialize_with = "text_or_number")]
    pub cur_revision_id: Option<String>,
    /// Every value of `mw.user.tokens` (CSRF, watch, patrol, …).
    pub tokens: Vec<String>,
}

// Hand-written so that a debug print can never leak a token.
impl fmt::Debug for PageValues {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PageValues")
            .field("user_name", &self.user_name)
            .field("page_name", &self.page_name)
            .field("tokens", &format_args!("[{} redacted]", self.tokens.len()))
            .finish_non_exhaustive()
    }
}

fn text_or_number<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    let value = Option::<serde_json::Value>::deserialize(d)?;
    Ok(match value {
        Some(serde_json::Value::String(s)) => Some(s),
        Some(serde_json::Value::Number(n)) => Some(n.to_string()),
        _ => None,
    })
}

struct Needle {
    kind: CarryKind,
    text: String,
    /// Numeric ids only count when not glued to other digits (`12345` inside a timestamp is
    /// not the user id).
    numeric: bool,
    /// [`NeedlePairs`] of `text`: a haystack lacking them cannot contain it.
    pairs: NeedlePairs,
}

/// A 128-bit set of the byte pairs of a text that start at an even offset. A needle found at
/// an even offset has its even-offset pairs in the haystack's set, one found at an odd offset
/// its odd-offset pairs ([`NeedlePairs`]); so a haystack whose set holds neither proves the
/// needle absent without searching. Most needles are ruled out for the price of two ANDs,
/// and only the rest are searched for. Taking every other pair halves the work per byte.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
struct BytePairs(u128);

impl BytePairs {
    fn of(bytes: &[u8]) -> BytePairs {
        BytePairs::of_text(bytes).0
    }

    /// The pairs of `bytes`, and whether it holds a `%` and a `+` (whether its decoded forms
    /// can differ from it), in one pass that reads eight bytes, four pairs, per load.
    fn of_text(bytes: &[u8]) -> (BytePairs, bool, bool) {
        const ONES: u64 = 0x0101_0101_0101_0101;
        const HIGH: u64 = 0x8080_8080_8080_8080;
        // Some byte of `word` is zero (exact as a yes/no answer).
        let has_zero = |word: u64| word.wrapping_sub(ONES) & !word & HIGH != 0;
        // Two u64 halves, the half picked by a mask rather than a branch: cheaper per pair
        // than shifting a u128 by a variable amount.
        let (mut low, mut high) = (0u64, 0u64);
        let mut add = |pair: u64| {
            // `pair` is the first byte times 256 plus the second.
            let h = (pair as u32).wrapping_mul(0x9E37_79B1) >> 25;
            let bit = 1u64 << (h & 63);
            let upper = 0u64.wrapping_sub(u64::from(h >> 6));
            low |= bit & !upper;
            high |= bit & upper;
        };
        let (mut percent, mut plus) = (false, false);
        let mut words = bytes.chunks_exact(8);
        for word in &mut words {
            let w = u64::from_be_bytes([
                word[0], word[1], word[2], word[3], word[4], word[5], word[6], word[7],
            ]);
            add(w >> 48);
            add(w >> 32 & 0xffff);
            add(w >> 16 & 0xffff);
            add(w & 0xffff);
            percent |= has_zero(w ^ (ONES * u64::from(b'%')));
            plus |= has_zero(w ^ (ONES * u64::from(b'+')));
        }
        let rest = words.remainder();
        for pair in rest.chunks_exact(2) {
            add(u64::from(pair[0]) << 8 | u64::from(pair[1]));
        }
        percent |= rest.contains(&b'%');
        plus |= rest.contains(&b'+');
        (
            BytePairs(u128::from(high) << 64 | u128::from(low)),
            percent,
            plus,
        )
    }

    fn includes(&self, other: &BytePairs) -> bool {
        self.0 & other.0 == other.0
    }
}

/// A needle's pairs at even and at odd offsets, see [`BytePairs`].
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
struct NeedlePairs([BytePairs; 2]);

impl NeedlePairs {
    fn of(needle: &str) -> NeedlePairs {
        let bytes = needle.as_bytes();
        NeedlePairs([
            BytePairs::of(bytes),
            BytePairs::of(bytes.get(1..).unwrap_or_default()),
        ])
    }

    /// False only when `haystack` (the [`BytePairs`] of a text) cannot contain the needle.
    fn may_be_in(&self, haystack: &BytePairs) -> bool {
        haystack.includes(&self.0[0]) || haystack.includes(&self.0[1])
    }
}

/// A detector built once per page from its values, then run on every request.
pub struct CarriedDetector {
    needles: Vec<Needle>,
    /// Token values without MediaWiki's `+\\` suffix, for [`CarriedDetector::redact`].
    token_cores: Vec<String>,
}

impl fmt::Debug for CarriedDetector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "CarriedDetector({} needles)", self.needles.len())
    }
}

impl CarriedDetector {
    pub fn new(values: &PageValues) -> CarriedDetector {
        let mut needles: Vec<Needle> = Vec::new();
        let mut add = |kind: CarryKind, value: &Option<String>| {
            if let Some(v) = value {
                push_variants(&mut needles, kind, v);
            }
        };
        add(CarryKind::User, &values.user_name);
        add(CarryKind::User, &values.user_id);
        add(CarryKind::Page, &values.page_name);
        add(CarryKind::Page, &values.title);
        add(CarryKind::Page, &values.relevant_page_name);
        add(CarryKind::Page, &values.article_id);
        add(CarryKind::Revision, &values.revision_id);
        add(CarryKind::Revision, &values.cur_revision_id);
        let mut token_cores = Vec::new();
        for token in &values.tokens {
            push_variants(&mut needles, CarryKind::Token, token);
            let core = token.trim().trim_end_matches("+\\");
            // A short core could match innocent text; MediaWiki's tokens are 32 hex digits.
            if core.len() >= 8 {
                token_cores.push(core.to_string());
            }
        }
        CarriedDetector {
            needles,
            token_cores,
        }
    }

    /// `text` (a URL) with every token value replaced by `[token]`, or `None` when it holds
    /// none. Tokens are never logged or exported (the guide's rule): events store the
    /// redacted URL. The token's core (without `+\\`) is matched, so every encoding of the
    /// suffix is covered.
    pub fn redact(&self, text: &str) -> Option<String> {
        let mut out: Option<String> = None;
        for core in &self.token_cores {
            let current = out.as_deref().unwrap_or(text);
            if current.contains(core.as_str()) {
                out = Some(current.replace(core.as_str(), "[token]"));
            }
        }
        out
    }

    /// True when the page has no value worth looking for (logged out, special page…).
    pub fn is_empty(&self) -> bool {
        self.needles.is_empty()
    }

    /// Kinds carried by a request: `path_and_query` is the URL without its fragment (the
    /// fragment is never sent); `body` is the request body as text when the hook could read it.
    /// `cookies` is added by the caller, who knows the credentials mode. The result is sorted
    /// and without duplicates.
    pub fn scan(&self, path_and_query: &str, body: Option<&str>) -> Vec<CarryKind> {
        if self.needles.is_empty() {
            return Vec::new();
        }
        // The kinds found so far, one bit each (see `CarryKind::bit`).
        let mut found = 0u8;
        self.scan_text(path_and_query, &mut found);
        if let Some(body) = body {
            self.scan_text(body, &mut found);
        }
        // In `CarryKind`'s order, so sorted and without duplicates.
        let mut kinds: Vec<CarryKind> = Vec::new();
        for kind in CarryKind::ALL {
            if found & kind.bit() != 0 {
                kinds.push(kind);
            }
        }
        kinds
    }

    fn scan_text(&self, text: &str, found: &mut u8) {
        // The decoded forms are only built when they can differ from the raw text.
        let (pairs, has_percent, has_plus) = BytePairs::of_text(text.as_bytes());
        let percent = has_percent.then(|| percent_decode(text, false));
        let form = has_plus.then(|| percent_decode(text, true));
        let mut haystacks = [(text, pairs); 3];
        let mut count = 1;
        for decoded in [percent.as_deref(), form.as_deref()].into_iter().flatten() {
            haystacks[count] = (decoded, BytePairs::of(decoded.as_bytes()));
            count += 1;
        }
        let haystacks = &haystacks[..count];
        for needle in &self.needles {
            let bit = needle.kind.bit();
            if *found & bit != 0 {
                continue;
            }
            if haystacks.iter().any(|(h, p)| {
                needle.pairs.may_be_in(p) && contains(h, &needle.text, needle.numeric)
            }) {
                *found |= bit;
            }
        }
    }
}

fn push_variants(needles: &mut Vec<Needle>, kind: CarryKind, value: &str) {
    let value = value.trim();
    if value.chars().count() < MIN_VALUE_CHARS {
        return;
    }
    let numeric = value.bytes().all(|b| b.is_ascii_digit());
    let mut variants = vec![value.to_string()];
    // MediaWiki writes titles with `_` in URLs and with spaces in text; scripts use either.
    if value.contains(' ') {
        variants.push(value.replace(' ', "_"));
    }
    if value.contains('_') {
        variants.push(value.replace('_', " "));
    }
    // A value inside JSON text has its backslashes and quotes escaped (tokens end in `+\`).
    if value.contains('\\') || value.contains('"') {
        variants.push(value.replace('\\', "\\\\").replace('"', "\\\""));
    }
    for text in variants {
        if !needles.iter().any(|n| n.text == text) {
            needles.push(Needle {
                kind,
                pairs: NeedlePairs::of(&text),
                text,
                numeric,
            });
        }
    }
}

/// Whether `needle` occurs in `haystack` (for a numeric needle, not glued to other digits).
/// Request texts are short, and for them a plain search from each occurrence of the needle's
/// first byte is cheaper than setting up `str::contains`'s two-way searcher; long texts (and
/// the empty needle) take [`contains_plain`], whose time stays linear whatever the text.
fn contains(haystack: &str, needle: &str, numeric: bool) -> bool {
    const SHORT: usize = 512;
    let (hay, pin) = (haystack.as_bytes(), needle.as_bytes());
    let Some((&first, rest)) = pin.split_first() else {
        return contains_plain(haystack, needle, numeric);
    };
    if hay.len() > SHORT {
        return contains_plain(haystack, needle, numeric);
    }
    // A match of valid UTF-8 in valid UTF-8 starts and ends on character boundaries, so a
    // byte match is a `str` match.
    let last_start = match hay.len().checked_sub(pin.len()) {
        Some(n) => n,
        None => return false,
    };
    let mut at = 0;
    while at <= last_start {
        let Some(i) = hay[at..=last_start].iter().position(|&b| b == first) else {
            return false;
        };
        let start = at + i;
        let end = start + pin.len();
        if hay.get(start + 1..end) == Some(rest)
            && (!numeric
                || (!start
                    .checked_sub(1)
                    .and_then(|j| hay.get(j))
                    .is_some_and(u8::is_ascii_digit)
                    && !hay.get(end).is_some_and(u8::is_ascii_digit)))
        {
            return true;
        }
        at = start + 1;
    }
    false
}

/// [`contains`] as first written: `str::contains`, and for numeric needles every
/// non-overlapping match tried. (Overlapping matches of a digits-only needle are glued to
/// each other's digits, so trying them all, as [`contains`] does, gives the same answer.)
fn contains_plain(haystack: &str, needle: &str, numeric: bool) -> bool {
    if !numeric {
        return haystack.contains(needle);
    }
    let bytes = haystack.as_bytes();
    haystack.match_indices(needle).any(|(i, m)| {
        let before = i.checked_sub(1).and_then(|j| bytes.get(j));
        let after = bytes.get(i + m.len());
        !before.is_some_and(u8::is_ascii_digit) && !after.is_some_and(u8::is_ascii_digit)
    })
}

/// Percent-decodes lossily (invalid UTF-8 becomes U+FFFD, malformed escapes stay as they are);
/// with `form`, `+` is a space first, as in `application/x-www-form-urlencoded`.
///
/// The same result as `percent_encoding::percent_decode_str` (after replacing `+`) followed by
/// a lossy UTF-8 conversion, in one pass that copies the runs between escapes whole.
fn percent_decode(text: &str, form: bool) -> Cow<'_, str> {
    fn hex(b: u8) -> Option<u8> {
        char::from(b)
            .to_digit(16)
            .and_then(|d| u8::try_from(d).ok())
    }
    let mut out: Vec<u8> = Vec::with_capacity(text.len());
    let copy = |out: &mut Vec<u8>, run: &[u8]| {
        let start = out.len();
        out.extend_from_slice(run);
        if form {
            for b in &mut out[start..] {
                if *b == b'+' {
                    *b = b' ';
                }
            }
        }
    };
    let mut rest = text.as_bytes();
    while let Some(i) = rest.iter().position(|&b| b == b'%') {
        copy(&mut out, &rest[..i]);
        let after = &rest[i + 1..];
        match (
            after.first().and_then(|&b| hex(b)),
            after.get(1).and_then(|&b| hex(b)),
        ) {
            (Some(high), Some(low)) => {
                out.push(high << 4 | low);
                rest = &after[2..];
            }
            _ => {
                out.push(b'%');
                rest = after;
            }
        }
    }
    copy(&mut out, rest);
    Cow::Owned(match String::from_utf8(out) {
        Ok(text) => text,
        Err(e) => String::from_utf8_lossy(e.as_bytes()).into_owned(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn jane() -> CarriedDetector {
        CarriedDetector::new(&PageValues {
            user_name: Some("Jane Doe".into()),
            user_id: Some("4242".into()),
            page_name: Some("Main_Page".into()),
            title: Some("Main Page".into()),
            article_id: Some("1".into()),
            revision_id: Some("123456".into()),
            tokens: vec!["ab12cd34+\\".into(), "+\\".into()],
            ..PageValues::default()
        })
    }

    #[test]
    fn user_name_variants() {
        let d = jane();
        for q in [
            "/x?user=Jane_Doe",
            "/x?u=Jane%20Doe",
            "/x?u=Jane+Doe",
            "/x?u=jane%5fdoe&v=Jane%5FDoe",
        ] {
            assert_eq!(d.scan(q, None), vec![CarryKind::User], "{q}");
        }
        assert_eq!(d.scan("/x?u=Janet", None), vec![]);
    }

    #[test]
    fn token_in_body_percent_encoded() {
        let d = jane();
        assert_eq!(
            d.scan("/api", Some("action=edit&token=ab12cd34%2B%5C")),
            vec![CarryKind::Token]
        );
        assert_eq!(
            d.scan("/api", Some("{\"token\":\"ab12cd34+\\\\\"}")),
            vec![CarryKind::Token]
        );
        // The anonymous token `+\` is too short to count.
        assert_eq!(d.scan("/api?t=%2B%5C", None), vec![]);
    }

    #[test]
    fn short_and_numeric_values() {
        let d = jane();
        // article id 1 is too short
        assert_eq!(d.scan("/img/1.png?id=1", None), vec![]);
        // revision id only as a whole number
        assert_eq!(d.scan("/x?oldid=123456", None), vec![CarryKind::Revision]);
        assert_eq!(d.scan("/x?ts=20261234567", None), vec![]);
        assert_eq!(d.scan("/x?ts=1234567", None), vec![]);
    }

    #[test]
    fn kinds_are_listed_in_order_with_distinct_bits() {
        assert!(CarryKind::ALL.windows(2).all(|w| w[0] < w[1]));
        let bits: u8 = CarryKind::ALL.iter().map(|&k| k.bit()).sum();
        assert_eq!(bits, 0b1_1111);
    }

    #[test]
    fn several_kinds_sorted() {
        let d = jane();
        assert_eq!(
            d.scan("/x?page=Main_Page&user=4242", Some("rev=123456")),
            vec![CarryKind::User, CarryKind::Page, CarryKind::Revision]
        );
    }

    #[test]
    fn byte_pairs_never_rule_out_a_substring() {
        let texts = [
            "/w/api.php?action=query&titles=Main_Page&user=Jane%20Doe",
            "action=edit&token=ab12cd34%2B%5C",
            "é€😀 mixed \u{0} bytes \\ \" +",
            "aaaaabbbbbabababab",
        ];
        for text in texts {
            let whole = BytePairs::of(text.as_bytes());
            for (start, _) in text.char_indices() {
                for end in (start..=text.len()).filter(|&e| text.is_char_boundary(e)) {
                    let part = &text[start..end];
                    assert!(
                        NeedlePairs::of(part).may_be_in(&whole),
                        "{part:?} in {text:?}"
                    );
                }
            }
        }
        // And it does rule out: a needle whose pairs are absent is skipped.
        let hay = BytePairs::of(b"/x?u=Janet&v=Do");
        assert!(!NeedlePairs::of("Jane Doe").may_be_in(&hay));
        assert!(!NeedlePairs::of("Main_Page").may_be_in(&hay));
    }

    #[test]
    fn contains_agrees_with_the_plain_search() {
        // Every short string over an alphabet of digits, letters and a multi-byte character,
        // as haystack and as needle, numeric or not; plus long texts on both sides of the
        // length where `contains` hands over to the plain search.
        let alphabet = ["1", "2", "a", "b", "é", "_"];
        let mut texts: Vec<String> = vec![String::new()];
        let mut frontier = texts.clone();
        for _ in 0..5 {
            frontier = frontier
                .iter()
                .flat_map(|t| alphabet.iter().map(move |a| format!("{t}{a}")))
                .collect();
            texts.extend(frontier.iter().cloned());
        }
        let needles: Vec<&String> = texts.iter().filter(|t| t.len() <= 4).collect();
        for hay in &texts {
            for needle in &needles {
                let numeric = needle.bytes().all(|b| b.is_ascii_digit());
                assert_eq!(
                    contains(hay, needle, numeric),
                    contains_plain(hay, needle, numeric),
                    "{hay:?} {needle:?} {numeric}"
                );
                if numeric && !needle.is_empty() {
                    assert_eq!(
                        contains(hay, needle, false),
                        contains_plain(hay, needle, false),
                        "{hay:?} {needle:?}"
                    );
                }
            }
        }
        for len in [500, 511, 512, 513, 600] {
            for tail in ["4242", "x4242", "42424", "Jane_Doe", "Jane_Do"] {
                let hay = format!("{}{tail}", "1a".repeat(len / 2));
                for (needle, numeric) in [("4242", true), ("Jane_Doe", false), ("a1a", false)] {
                    assert_eq!(
                        contains(&hay, needle, numeric),
                        contains_plain(&hay, needle, numeric),
                        "{len} {tail} {needle}"
                    );
                }
            }
        }
    }

    #[test]
    fn word_pairs_agree_with_the_pair_loop() {
        // The loop as first written, one pair at a time.
        let reference = |bytes: &[u8]| {
            let (mut low, mut high) = (0u64, 0u64);
            for pair in bytes.chunks_exact(2) {
                let h =
                    (u32::from(pair[0]) << 8 | u32::from(pair[1])).wrapping_mul(0x9E37_79B1) >> 25;
                if h < 64 {
                    low |= 1 << h;
                } else {
                    high |= 1 << (h - 64);
                }
            }
            BytePairs(u128::from(high) << 64 | u128::from(low))
        };
        let mut rng = 0x9E37_79B9_7F4A_7C15u64;
        let alphabet = b"%+aZ09\x00\x80\xff_=&";
        for len in 0..80 {
            for _ in 0..200 {
                let bytes: Vec<u8> = (0..len)
                    .map(|_| {
                        rng ^= rng << 13;
                        rng ^= rng >> 7;
                        rng ^= rng << 17;
                        alphabet[(rng % alphabet.len() as u64) as usize]
                    })
                    .collect();
                let (pairs, percent, plus) = BytePairs::of_text(&bytes);
                assert_eq!(pairs, reference(&bytes), "{bytes:?}");
                assert_eq!(percent, bytes.contains(&b'%'), "{bytes:?}");
                assert_eq!(plus, bytes.contains(&b'+'), "{bytes:?}");
            }
        }
    }

    #[test]
    fn percent_decode_agrees_with_the_percent_encoding_crate() {
        let reference = |text: &str, form: bool| -> String {
            let spaced = if form {
                text.replace('+', " ")
            } else {
                text.to_string()
            };
            percent_encoding::percent_decode_str(&spaced)
                .decode_utf8_lossy()
                .into_owned()
        };
        // Every short string over an alphabet of the interesting bytes, plus some longer ones.
        let alphabet = ["%", "2", "b", "B", "g", "+", "é", "F", "f", "0", "C", "3"];
        let mut texts: Vec<String> = vec![String::new()];
        for _ in 0..4 {
            let longer: Vec<String> = texts
                .iter()
                .flat_map(|t| alphabet.iter().map(move |a| format!("{t}{a}")))
                .collect();
            texts.extend(longer);
        }
        texts.extend(
            [
                "action=edit&token=ab12cd34%2B%5C",
                "%E2%82%AC %e2%82 %FF%FE%zz %% %%% %2",
                "%C3%A9+%C3+%A9+plus%2Bsign",
            ]
            .map(String::from),
        );
        for text in &texts {
            for form in [false, true] {
                assert_eq!(
                    percent_decode(text, form),
                    reference(text, form),
                    "{text:?} {form}"
                );
            }
        }
    }

    #[test]
    fn hostile_text_does_not_panic() {
        let d = jane();
        assert_eq!(d.scan("%%%%%E9%FF%ZZ+%", Some("%\u{0}\u{FFFF}")), vec![]);
        let big = "a%".repeat(100_000);
        assert_eq!(d.scan(&big, None), vec![]);
    }

    #[test]
    fn values_from_mw_config_json() {
        let v: PageValues = serde_json::from_str(
            r#"{"wgUserName":"Jane Doe","wgUserId":4242,"wgArticleId":0,"wgTitle":null,"tokens":["x"]}"#,
        )
        .expect("valid");
        assert_eq!(v.user_id.as_deref(), Some("4242"));
        assert_eq!(v.article_id.as_deref(), Some("0"));
        assert_eq!(v.title, None);
    }

    #[test]
    fn debug_never_shows_tokens() {
        let v = PageValues {
            tokens: vec!["secret123+\\".into()],
            ..PageValues::default()
        };
        assert!(!format!("{v:?}").contains("secret"));
    }
}
