//! Registrable domains from the Public Suffix List (SPEC §3, party `third` is grouped by
//! registrable domain, "eTLD+1 per the Public Suffix List, private section included").
//!
//! The list is vendored in `data/public_suffix_list.txt` (rules only, punycode; regenerate with
//! `scripts/gen-psl.py`). The private section matters here: `toolforge.org`, `wmcloud.org` and
//! `github.io` are in it, so `redwarn.toolforge.org` and `someone.github.io` are sites of their
//! own, exactly like separate owners should be.
//!
//! Lookup follows the PSL algorithm: the longest matching rule wins, exception rules (`!`) beat
//! everything, a wildcard rule `*.ck` covers one extra label, and a host no rule covers has its
//! last label as public suffix (the implicit `*` rule).

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::OnceLock;

const LIST: &str = include_str!("../data/public_suffix_list.txt");

/// Private-section rules ignored for grouping. The PSL lists `googleapis.com` so that cookies
/// cannot span Google Cloud customer hosts, but `fonts.`, `ajax.` and `maps.googleapis.com` are
/// all run by one company that sees every one of those requests: for a reader's privacy they
/// are one site, and SPEC's vectors group them as `googleapis.com`. Rules whose subdomains
/// belong to *different* owners (`github.io`, `toolforge.org`) must never be listed here.
const SINGLE_OPERATOR_SUFFIXES: &[&str] = &["googleapis.com"];

/// A plain rule, e.g. `co.uk`.
const NORMAL: u8 = 1;
/// A wildcard rule, stored without its `*.` (`ck` for `*.ck`).
const WILDCARD: u8 = 2;
/// An exception rule, stored without its `!` (`www.ck` for `!www.ck`).
const EXCEPTION: u8 = 4;
/// Not a rule itself but a label-suffix of one (`co.uk` is one of `blogspot.co.uk`): a
/// suffix with no entry at all cannot be extended into a rule, so the lookup stops there.
const INTERIOR: u8 = 8;

/// Every rule suffix with the kinds of rule it appears in, so one lookup per label answers
/// all three questions. Lookups run on every request, so the hash is a fast multiply-rotate
/// one rather than SipHash: the keys are the fixed list, never page input, so there is no
/// table an attacker could flood.
type Rules = HashMap<&'static str, u8, BuildHasherDefault<FastHash>>;

/// FxHash-style: 8 bytes per multiply, then a final avalanche for hashbrown's top bits.
/// Only for tables whose keys page scripts do not choose.
#[derive(Default)]
pub(crate) struct FastHash(u64);

impl Hasher for FastHash {
    fn write(&mut self, bytes: &[u8]) {
        const K: u64 = 0x51_7c_c1_b7_27_22_0a_95;
        let mut h = self.0;
        let mut chunks = bytes.chunks_exact(8);
        for c in &mut chunks {
            let word = u64::from_le_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]]);
            h = (h.rotate_left(5) ^ word).wrapping_mul(K);
        }
        let rest = chunks.remainder();
        if !rest.is_empty() {
            let mut buf = [0u8; 8];
            buf[..rest.len()].copy_from_slice(rest);
            h = (h.rotate_left(5) ^ u64::from_le_bytes(buf)).wrapping_mul(K);
        }
        self.0 = h;
    }

    fn write_u8(&mut self, byte: u8) {
        const K: u64 = 0x51_7c_c1_b7_27_22_0a_95;
        self.0 = (self.0.rotate_left(5) ^ u64::from(byte)).wrapping_mul(K);
    }

    fn finish(&self) -> u64 {
        let h = self.0 ^ (self.0 >> 29);
        h.wrapping_mul(0xbf58_476d_1ce4_e5b9) ^ (h >> 32)
    }
}

/// The rules one per line (`co.uk`, `*.ck`, `!www.ck`), expanded once from the grouped file
/// (`parent:first first ...`, see `scripts/gen-psl.py`: 40 KB less in the WebAssembly). The
/// text lives as long as the program so the rule table can borrow its keys from it.
fn flat_rules() -> &'static str {
    let mut flat = String::with_capacity(LIST.len() * 8 / 5);
    for line in LIST.lines() {
        if line.starts_with('#') {
            continue;
        }
        let Some((parent, firsts)) = line.split_once(':') else {
            continue;
        };
        for first in firsts.split(' ').filter(|f| !f.is_empty()) {
            flat.push_str(first);
            if !parent.is_empty() {
                flat.push('.');
                flat.push_str(parent);
            }
            flat.push('\n');
        }
    }
    Box::leak(flat.into_boxed_str())
}

fn rules() -> &'static Table {
    static RULES: OnceLock<Table> = OnceLock::new();
    RULES.get_or_init(|| {
        let mut rules = Rules::with_capacity_and_hasher(10_000, Default::default());
        for line in flat_rules().lines() {
            if line.is_empty() {
                continue;
            }
            let (suffix, kind) = if let Some(rest) = line.strip_prefix('!') {
                (rest, EXCEPTION)
            } else if let Some(rest) = line.strip_prefix("*.") {
                (rest, WILDCARD)
            } else if !SINGLE_OPERATOR_SUFFIXES.contains(&line) {
                (line, NORMAL)
            } else {
                continue;
            };
            *rules.entry(suffix).or_insert(0) |= kind;
            for (dot, _) in suffix.match_indices('.') {
                *rules.entry(&suffix[dot + 1..]).or_insert(0) |= INTERIOR;
            }
        }
        Table::new(rules)
    })
}

/// The rule suffixes in an open-addressing table whose hash is built label by label from the
/// right ([`Table::extend`]): the lookup walks a host's suffixes from the shortest, and each
/// longer suffix's hash is the shorter one's extended by one label, so no suffix is hashed
/// twice. Keys are the fixed list, never page input (see [`FastHash`]).
struct Table {
    /// Index + 1 into `entries`, 0 for an empty slot; a power of two long.
    slots: Vec<u32>,
    /// (low half of the hash, suffix, kinds): 24 bytes an entry, no more than the map they
    /// are built from.
    entries: Vec<(u32, &'static str, u8)>,
}

impl Table {
    const SEED: u64 = 0x243f_6a88_85a3_08d3;

    fn new(rules: Rules) -> Table {
        let mut entries: Vec<(u64, &'static str, u8)> = rules
            .into_iter()
            .map(|(suffix, kinds)| (Table::hash(suffix), suffix, kinds))
            .collect();
        // A fixed order, so the table is the same on every run.
        entries.sort_unstable_by_key(|&(_, suffix, _)| suffix);
        // At most half full, so probe runs stay short.
        let size = (entries.len() * 2).next_power_of_two().max(2);
        let mut slots = vec![0u32; size];
        for (i, &(hash, _, _)) in entries.iter().enumerate() {
            let mut at = Table::home(hash, size);
            while slots[at] != 0 {
                at = (at + 1) & (size - 1);
            }
            slots[at] = u32::try_from(i + 1).expect("fewer than 2^32 rules");
        }
        let entries = entries
            .into_iter()
            // Truncation intended: the low half only speeds up the comparison.
            .map(|(hash, suffix, kinds)| (hash as u32, suffix, kinds))
            .collect();
        Table { slots, entries }
    }

    /// The hash of a suffix: [`Table::extend`] over its labels, rightmost first.
    fn hash(suffix: &str) -> u64 {
        suffix
            .rsplit('.')
            .fold(Table::SEED, |h, label| Table::extend(h, label.as_bytes()))
    }

    /// The hash of `label.` followed by the suffix whose hash is `h`.
    #[inline]
    fn extend(h: u64, label: &[u8]) -> u64 {
        const K: u64 = 0x51_7c_c1_b7_27_22_0a_95;
        let mut h = h;
        let mut chunks = label.chunks_exact(8);
        for c in &mut chunks {
            let word = u64::from_le_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]]);
            h = (h.rotate_left(5) ^ word).wrapping_mul(K);
        }
        let rest = chunks.remainder();
        let mut buf = [0u8; 8];
        buf[..rest.len()].copy_from_slice(rest);
        // The label's length ends it, so `ab` + `c` and `a` + `bc` differ.
        let word = u64::from_le_bytes(buf) ^ (label.len() as u64).rotate_right(8);
        (h.rotate_left(5) ^ word).wrapping_mul(K)
    }

    fn home(hash: u64, size: usize) -> usize {
        let h = hash ^ (hash >> 29);
        let h = h.wrapping_mul(0xbf58_476d_1ce4_e5b9) ^ (h >> 32);
        // Truncation intended: only the low bits pick the slot.
        (h as usize) & (size - 1)
    }

    /// The kinds of `suffix`, whose [`Table::hash`] is `hash`.
    #[inline]
    fn get(&self, hash: u64, suffix: &str) -> Option<u8> {
        let size = self.slots.len();
        let mut at = Table::home(hash, size);
        loop {
            let slot = *self.slots.get(at)?;
            let (h, key, kinds) = *self
                .entries
                .get(usize::try_from(slot).ok()?.checked_sub(1)?)?;
            // Truncation intended, as in `new`.
            if h == hash as u32 && key == suffix {
                return Some(kinds);
            }
            at = (at + 1) & (size - 1);
        }
    }
}

/// Number of rules loaded (for tests and diagnostics).
pub fn rule_count() -> usize {
    rules()
        .entries
        .iter()
        .map(|&(_, _, kinds)| (kinds & !INTERIOR).count_ones() as usize)
        .sum()
}

/// The public suffix of a lower-case ASCII (punycode) host name, e.g. `co.uk` for
/// `www.bbc.co.uk`. Returns a suffix slice of `host`.
pub fn public_suffix(host: &str) -> &str {
    let host = host.strip_suffix('.').unwrap_or(host);
    let bytes = host.as_bytes();
    let rules = rules();
    // The start of the label ending before `end` (the position of a dot, or the length).
    let label_start = |end: usize| {
        bytes[..end]
            .iter()
            .rposition(|&b| b == b'.')
            .map_or(0, |i| i + 1)
    };
    // The implicit `*` rule: the last label.
    let mut best = label_start(host.len());
    // The start of the longest exception rule found, which beats every other rule.
    let mut exception: Option<usize> = None;
    // Label starts from the right, shortest suffix first, while the suffix can still be (or
    // grow into) a rule; `end` is where the suffix's first label ends, `hash` its hash.
    let (mut start, mut end) = (best, host.len());
    let mut hash = Table::SEED;
    loop {
        let suffix = &host[start..];
        if suffix.is_empty() {
            break;
        }
        hash = Table::extend(hash, &bytes[start..end]);
        let Some(kinds) = rules.get(hash, suffix) else {
            break;
        };
        // The start of the label to the left of this suffix, if any.
        let before = start.checked_sub(1).map(label_start);
        if kinds & EXCEPTION != 0 {
            exception = Some(start);
        }
        if kinds & NORMAL != 0 {
            best = best.min(start);
        }
        if kinds & WILDCARD != 0 {
            if let Some(with_wild) = before {
                best = best.min(with_wild);
            }
        }
        match before {
            Some(b) => (start, end) = (b, start - 1),
            None => break,
        }
    }
    match exception {
        // An exception's public suffix is the rule minus its leftmost label.
        Some(start) => host[start..]
            .find('.')
            .map_or("", |i| &host[start + i + 1..]),
        None => &host[best..],
    }
}

/// The registrable domain (eTLD+1) of a host name, or `None` when the host is itself a
/// public suffix (or empty). `host` must already be lower-case ASCII, as the `url` crate
/// produces it.
pub fn registrable_domain(host: &str) -> Option<&str> {
    let host = host.strip_suffix('.').unwrap_or(host);
    if host.is_empty() {
        return None;
    }
    let suffix = public_suffix(host);
    if suffix.len() >= host.len() {
        return None;
    }
    // One more label to the left of the suffix.
    let head = &host[..host.len() - suffix.len()];
    let head = head.strip_suffix('.')?;
    let start = head.rfind('.').map_or(0, |i| i + 1);
    if start >= head.len() {
        return None;
    }
    Some(&host[start..])
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn list_is_loaded() {
        assert!(rule_count() > 9000);
    }

    #[test]
    fn icann_rules() {
        assert_eq!(
            registrable_domain("en.wikipedia.org"),
            Some("wikipedia.org")
        );
        assert_eq!(registrable_domain("www.bbc.co.uk"), Some("bbc.co.uk"));
        assert_eq!(registrable_domain("co.uk"), None);
        assert_eq!(registrable_domain("org"), None);
        assert_eq!(
            registrable_domain("wikipedia.org.evil.example"),
            Some("evil.example")
        );
    }

    #[test]
    fn private_section() {
        assert_eq!(
            registrable_domain("someone.github.io"),
            Some("someone.github.io")
        );
        assert_eq!(
            registrable_domain("redwarn.toolforge.org"),
            Some("redwarn.toolforge.org")
        );
        assert_eq!(registrable_domain("a.b.wmcloud.org"), Some("b.wmcloud.org"));
        assert_eq!(registrable_domain("github.io"), None);
        assert_eq!(
            registrable_domain("fonts.googleapis.com"),
            Some("googleapis.com")
        );
    }

    #[test]
    fn wildcard_and_exception() {
        // `*.ck` with exception `!www.ck`.
        assert_eq!(public_suffix("a.b.ck"), "b.ck");
        assert_eq!(registrable_domain("a.b.ck"), Some("a.b.ck"));
        assert_eq!(registrable_domain("www.ck"), Some("www.ck"));
        assert_eq!(public_suffix("www.ck"), "ck");
    }

    #[test]
    fn unknown_tld_uses_implicit_rule() {
        assert_eq!(registrable_domain("a.b.notatld"), Some("b.notatld"));
        assert_eq!(registrable_domain("localhost"), None);
        assert_eq!(registrable_domain(""), None);
        assert_eq!(registrable_domain("."), None);
        // Empty labels must not panic; what comes out is unimportant.
        let _ = registrable_domain("a..b");
        let _ = registrable_domain("..");
    }

    /// The lookup as first written (three sets, every label start collected), kept as the
    /// reference the faster one must agree with.
    struct Reference {
        normal: HashSet<&'static str>,
        wildcard: HashSet<&'static str>,
        exception: HashSet<&'static str>,
    }

    impl Reference {
        fn new() -> Reference {
            let mut r = Reference {
                normal: HashSet::new(),
                wildcard: HashSet::new(),
                exception: HashSet::new(),
            };
            for line in flat_rules().lines() {
                if line.is_empty() {
                    continue;
                }
                if let Some(rest) = line.strip_prefix('!') {
                    r.exception.insert(rest);
                } else if let Some(rest) = line.strip_prefix("*.") {
                    r.wildcard.insert(rest);
                } else if !SINGLE_OPERATOR_SUFFIXES.contains(&line) {
                    r.normal.insert(line);
                }
            }
            r
        }

        fn public_suffix<'h>(&self, host: &'h str) -> &'h str {
            let host = host.strip_suffix('.').unwrap_or(host);
            let mut starts: Vec<usize> = vec![0];
            starts.extend(host.match_indices('.').map(|(i, _)| i + 1));
            let mut best = starts.last().copied().unwrap_or(0);
            for (i, &start) in starts.iter().enumerate() {
                let suffix = &host[start..];
                if suffix.is_empty() {
                    continue;
                }
                if self.exception.contains(suffix) {
                    return starts.get(i + 1).map_or("", |&s| &host[s..]);
                }
                if start < best && self.normal.contains(suffix) {
                    best = start;
                }
                if i > 0 && self.wildcard.contains(suffix) {
                    best = best.min(starts[i - 1]);
                }
            }
            &host[best..]
        }
    }

    /// The grouped file expands to the PSL's own rule lines, each once.
    #[test]
    fn grouped_list_expands_to_rules() {
        let flat: Vec<&str> = flat_rules().lines().collect();
        assert_eq!(flat.len(), 9506, "rules in publicsuffix 20230209");
        let set: HashSet<&str> = flat.iter().copied().collect();
        assert_eq!(set.len(), flat.len(), "no rule twice");
        for rule in [
            "ac",
            "com.ac",
            "co.uk",
            "*.ck",
            "!www.ck",
            "toolforge.org",
            "github.io",
            "*.compute.amazonaws.com",
        ] {
            assert!(set.contains(rule), "{rule}");
        }
        assert!(flat
            .iter()
            .all(|r| !r.is_empty() && !r.contains([':', ' ']) && !r.starts_with('.')));
    }

    #[test]
    fn agrees_with_reference_on_every_rule() {
        let reference = Reference::new();
        assert_eq!(
            rule_count(),
            reference.normal.len() + reference.wildcard.len() + reference.exception.len()
        );
        let mut hosts: Vec<String> = Vec::new();
        for line in flat_rules().lines().filter(|l| !l.is_empty()) {
            let bare = line.trim_start_matches('!').trim_start_matches("*.");
            for prefix in ["", "a.", "b.a.", "*.", "www.", "."] {
                hosts.push(format!("{prefix}{bare}"));
                hosts.push(format!("{prefix}{bare}."));
            }
        }
        for odd in [
            "",
            ".",
            "..",
            "a..b",
            ".a.",
            "localhost",
            "a.b.notatld",
            "x.co.uk.",
        ] {
            hosts.push(odd.to_string());
        }
        for host in &hosts {
            assert_eq!(public_suffix(host), reference.public_suffix(host), "{host}");
        }
    }

    #[test]
    fn punycode_rules() {
        // 香港 is `xn--j6w193g`; 公司.香港 (`xn--55qx5d.xn--j6w193g`) is a rule.
        assert_eq!(
            registrable_domain("a.b.xn--55qx5d.xn--j6w193g"),
            Some("b.xn--55qx5d.xn--j6w193g")
        );
    }
}
