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

use std::collections::HashSet;
use std::sync::OnceLock;

const LIST: &str = include_str!("../data/public_suffix_list.txt");

/// Private-section rules ignored for grouping. The PSL lists `googleapis.com` so that cookies
/// cannot span Google Cloud customer hosts, but `fonts.`, `ajax.` and `maps.googleapis.com` are
/// all run by one company that sees every one of those requests: for a reader's privacy they
/// are one site, and SPEC's vectors group them as `googleapis.com`. Rules whose subdomains
/// belong to *different* owners (`github.io`, `toolforge.org`) must never be listed here.
const SINGLE_OPERATOR_SUFFIXES: &[&str] = &["googleapis.com"];

struct Rules {
    /// Plain rules, e.g. `co.uk`.
    normal: HashSet<&'static str>,
    /// Wildcard rules stored without their `*.`, e.g. `ck` for `*.ck`.
    wildcard: HashSet<&'static str>,
    /// Exception rules stored without their `!`, e.g. `www.ck`.
    exception: HashSet<&'static str>,
}

fn rules() -> &'static Rules {
    static RULES: OnceLock<Rules> = OnceLock::new();
    RULES.get_or_init(|| {
        let mut rules = Rules {
            normal: HashSet::with_capacity(10_000),
            wildcard: HashSet::new(),
            exception: HashSet::new(),
        };
        for line in LIST.lines() {
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            if let Some(rest) = line.strip_prefix('!') {
                rules.exception.insert(rest);
            } else if let Some(rest) = line.strip_prefix("*.") {
                rules.wildcard.insert(rest);
            } else if !SINGLE_OPERATOR_SUFFIXES.contains(&line) {
                rules.normal.insert(line);
            }
        }
        rules
    })
}

/// Number of rules loaded (for tests and diagnostics).
pub fn rule_count() -> usize {
    let r = rules();
    r.normal.len() + r.wildcard.len() + r.exception.len()
}

/// The public suffix of a lower-case ASCII (punycode) host name, e.g. `co.uk` for
/// `www.bbc.co.uk`. Returns a suffix slice of `host`.
pub fn public_suffix(host: &str) -> &str {
    let host = host.strip_suffix('.').unwrap_or(host);
    let rules = rules();
    // Byte offsets where each label starts, longest suffix first.
    let mut starts: Vec<usize> = Vec::with_capacity(8);
    starts.push(0);
    starts.extend(host.match_indices('.').map(|(i, _)| i + 1));

    // The implicit `*` rule: the last label.
    let mut best = starts.last().copied().unwrap_or(0);
    for (i, &start) in starts.iter().enumerate() {
        let suffix = &host[start..];
        if suffix.is_empty() {
            continue;
        }
        if rules.exception.contains(suffix) {
            // An exception's public suffix is the rule minus its leftmost label.
            return starts.get(i + 1).map_or("", |&s| &host[s..]);
        }
        if start < best && rules.normal.contains(suffix) {
            best = start;
        }
        if i > 0 && rules.wildcard.contains(suffix) {
            let with_wild = starts[i - 1];
            if with_wild < best {
                best = with_wild;
            }
        }
    }
    &host[best..]
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

    #[test]
    fn punycode_rules() {
        // 香港 is `xn--j6w193g`; 公司.香港 (`xn--55qx5d.xn--j6w193g`) is a rule.
        assert_eq!(
            registrable_domain("a.b.xn--55qx5d.xn--j6w193g"),
            Some("b.xn--55qx5d.xn--j6w193g")
        );
    }
}
