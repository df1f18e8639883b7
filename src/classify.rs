//! Party, site, tool and tier of a request (SPEC §3).
//!
//! A [`PageContext`] is built once per page (its origin, its registrable domain, which preset
//! of operator hosts applies); [`PageContext::destination`] then classifies each request URL
//! without allocating more than the strings it returns.

use crate::model::{CarryKind, Directive, Party, Tier};
use crate::psl;
use serde::{Deserialize, Serialize};
use std::borrow::Cow;
use std::fmt::Write as _;
use std::net::{Ipv4Addr, Ipv6Addr};
use thiserror::Error;
use url::{Host, Url};

/// Errors about the URLs a page hands us. Hostile pages produce these; nothing panics.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum UrlError {
    #[error("malformed URL {url:?}: {reason}")]
    Malformed { url: String, reason: String },
    #[error("URL {0:?} has no host")]
    NoHost(String),
}

/// Shortens a page-supplied string for an error message: errors are shown, and a 2 MB URL
/// should not become a 2 MB message.
pub(crate) fn excerpt(text: &str) -> String {
    const MAX: usize = 200;
    match text.char_indices().nth(MAX) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text.to_string(),
    }
}

/// Parses a request URL relative to the page, the way the browser would resolve it.
pub fn parse_request_url(base: &Url, raw: &str) -> Result<Url, UrlError> {
    crate::urls::join(base, raw.trim()).map_err(|e| UrlError::Malformed {
        url: excerpt(raw),
        reason: e.to_string(),
    })
}

/// A host pattern of a preset: `*.wikipedia.org` covers `wikipedia.org` and all its
/// subdomains; a pattern without `*.` covers exactly that host.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct HostPattern(pub String);

impl HostPattern {
    pub fn matches(&self, host: &str) -> bool {
        match self.0.strip_prefix("*.") {
            Some(base) => {
                host == base
                    || (host.len() > base.len()
                        && host.ends_with(base)
                        && host.as_bytes()[host.len() - base.len() - 1] == b'.')
            }
            None => host == self.0,
        }
    }
}

/// A set of hosts run by one wiki operator under one privacy policy (SPEC §3 party
/// `wikimedia`). Data, not code: users may add presets for other wiki farms.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct Preset {
    pub name: String,
    pub hosts: Vec<HostPattern>,
}

impl Preset {
    pub fn covers(&self, host: &str) -> bool {
        self.hosts.iter().any(|p| p.matches(host))
    }

    /// The "wikimedia-production" preset of SPEC §3.
    pub fn wikimedia_production() -> Preset {
        const HOSTS: [&str; 15] = [
            "*.wikipedia.org",
            "*.wikimedia.org",
            "*.wikidata.org",
            "*.wiktionary.org",
            "*.wikibooks.org",
            "*.wikinews.org",
            "*.wikiquote.org",
            "*.wikisource.org",
            "*.wikiversity.org",
            "*.wikivoyage.org",
            "*.mediawiki.org",
            "*.wikifunctions.org",
            "wikimediafoundation.org",
            "*.wmfusercontent.org",
            "w.wiki",
        ];
        Preset {
            name: "wikimedia-production".into(),
            hosts: HOSTS.iter().map(|h| HostPattern((*h).into())).collect(),
        }
    }
}

/// Where a request goes, as SPEC §3 and §8 describe it.
#[derive(Serialize, Clone, Debug, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct Destination {
    pub party: Party,
    /// Registrable domain (eTLD+1), or the host itself when it has none (IPs, `localhost`).
    pub site: String,
    /// Cloud tool or project name, for `cloud` only.
    pub tool: Option<String>,
    /// `scheme://host[:port]`, as the event's `origin`.
    pub origin: String,
}

/// The page a request is made from.
#[derive(Clone, Debug)]
pub struct PageContext {
    url: Url,
    host: String,
    port: Option<u16>,
    site: Option<String>,
    /// The preset that applies: the first whose hosts cover the page's host.
    preset: Option<Preset>,
    /// One per host pattern of `preset`, in order: see [`PatternGate`].
    preset_gates: Vec<PatternGate>,
}

/// A necessary condition for a [`HostPattern`] to match a host, checked with a length and
/// one word before the full comparison: most request hosts are not the operator's, and each
/// pattern is ruled out in a few instructions instead of a string comparison.
#[derive(Clone, Copy, Debug)]
struct PatternGate {
    /// `*.base`: the length of `base`; otherwise the pattern's length.
    len: usize,
    wildcard: bool,
    /// The last (up to) 8 bytes of the host or base, as [`host_tail`] reads them, and the mask
    /// of the bits they fill.
    tail: u64,
    mask: u64,
}

/// The last (up to) 8 bytes of `bytes`, the last one lowest (case kept: patterns compare
/// case-sensitively).
fn host_tail(bytes: &[u8]) -> u64 {
    let start = bytes.len().saturating_sub(8);
    match bytes.get(start..).and_then(|t| <[u8; 8]>::try_from(t).ok()) {
        Some(last) => u64::from_be_bytes(last),
        None => bytes[start..]
            .iter()
            .fold(0u64, |word, &b| word << 8 | u64::from(b)),
    }
}

impl PatternGate {
    fn of(pattern: &HostPattern) -> PatternGate {
        let (base, wildcard) = match pattern.0.strip_prefix("*.") {
            Some(base) => (base, true),
            None => (pattern.0.as_str(), false),
        };
        let filled = base.len().min(8) * 8;
        PatternGate {
            len: base.len(),
            wildcard,
            tail: host_tail(base.as_bytes()),
            mask: if filled >= 64 {
                u64::MAX
            } else {
                (1u64 << filled) - 1
            },
        }
    }

    /// False only when the pattern cannot match `host`, whose [`host_tail`] is `tail`.
    #[inline]
    fn admits(self, host: &[u8], tail: u64) -> bool {
        let placed = if self.wildcard {
            host.len() == self.len
                || (host.len() > self.len && host[host.len() - self.len - 1] == b'.')
        } else {
            host.len() == self.len
        };
        placed && tail & self.mask == self.tail
    }
}

impl PageContext {
    /// `presets` are tried in order; the Wikimedia preset is usually the only one.
    pub fn new(page_url: &str, presets: &[Preset]) -> Result<PageContext, UrlError> {
        let url = Url::parse(page_url).map_err(|e| UrlError::Malformed {
            url: excerpt(page_url),
            reason: e.to_string(),
        })?;
        let host = url
            .host_str()
            .ok_or_else(|| UrlError::NoHost(excerpt(page_url)))?
            .to_string();
        let site = psl::registrable_domain(&host).map(str::to_string);
        let preset = presets.iter().find(|p| p.covers(&host)).cloned();
        let port = url.port_or_known_default();
        let preset_gates = preset
            .iter()
            .flat_map(|p| p.hosts.iter().map(PatternGate::of))
            .collect();
        Ok(PageContext {
            url,
            host,
            port,
            site,
            preset,
            preset_gates,
        })
    }

    pub fn url(&self) -> &Url {
        &self.url
    }

    pub fn host(&self) -> &str {
        &self.host
    }

    pub fn preset(&self) -> Option<&Preset> {
        self.preset.as_ref()
    }

    /// Classifies a request URL (already resolved against the page).
    pub fn destination(&self, url: &Url) -> Result<Destination, UrlError> {
        let host = url
            .host()
            .ok_or_else(|| UrlError::NoHost(excerpt(url.as_str())))?;
        let origin = origin_of(url);
        // Only IP hosts need a string of their own; a domain is borrowed from the URL.
        let (host_str, domain): (Cow<'_, str>, Option<&str>) = match &host {
            Host::Domain(d) => (Cow::Borrowed(*d), Some(*d)),
            Host::Ipv4(ip) => (Cow::Owned(ip.to_string()), None),
            Host::Ipv6(ip) => (Cow::Owned(format!("[{ip}]")), None),
        };
        let site: Cow<'_, str> = match domain {
            // The page's own host, the most common one, was looked up once in `new`.
            Some(d) if d == self.host => Cow::Borrowed(self.site.as_deref().unwrap_or(d)),
            Some(d) => Cow::Borrowed(psl::registrable_domain(d).unwrap_or(d)),
            None => host_str.clone(),
        };

        let (party, tool) = if is_local(&host) {
            (Party::Local, None)
        } else if self.is_first(url, &host_str, &site) {
            (Party::First, None)
        } else if let Host::Domain(domain) = &host {
            if self.preset_covers(domain) {
                (Party::Wikimedia, None)
            } else if let Some(tool) = cloud_tool(domain, url.path()) {
                (Party::Cloud, tool)
            } else {
                (Party::Third, None)
            }
        } else {
            (Party::Third, None)
        };
        Ok(Destination {
            party,
            site: site.into_owned(),
            tool,
            origin,
        })
    }

    /// Whether the page's preset covers `host`: [`Preset::covers`], each pattern gated first.
    fn preset_covers(&self, host: &str) -> bool {
        let Some(preset) = &self.preset else {
            return false;
        };
        let bytes = host.as_bytes();
        let tail = host_tail(bytes);
        preset
            .hosts
            .iter()
            .zip(&self.preset_gates)
            .any(|(pattern, gate)| gate.admits(bytes, tail) && pattern.matches(host))
    }

    /// Same host and port (ws/wss count as http/https of the same host), or, on a wiki outside
    /// every preset, any host of the page's registrable domain (SPEC §3), the page's own host
    /// on another port included.
    fn is_first(&self, url: &Url, host: &str, site: &str) -> bool {
        if host == self.host {
            if url.port_or_known_default() == self.port {
                return true;
            }
            // ws://host (port 80) vs https://host (port 443): the same server by every
            // practical measure.
            if matches!(url.scheme(), "ws" | "wss" | "http" | "https")
                && url.port().is_none()
                && self.url.port().is_none()
            {
                return true;
            }
        }
        self.preset.is_none() && self.site.as_deref() == Some(site)
    }

    /// CSP sources for the first party beyond `'self'`: on a wiki outside every preset, every
    /// host of the page's registrable domain on any port, over http(s) and ws(s) (an insecure
    /// scheme admits its secure one, and browsers never let `http` admit `ws`). Empty on a
    /// preset wiki, where the first party is the page's own origin (`'self'`).
    pub fn first_party_csp_sources(&self) -> Vec<String> {
        let Some(site) = self.site.as_deref() else {
            return Vec::new();
        };
        if self.preset.is_some() {
            return Vec::new();
        }
        let mut out = Vec::new();
        for scheme in ["http", "ws"] {
            out.push(format!("{scheme}://{site}:*"));
            out.push(format!("{scheme}://*.{site}:*"));
        }
        out
    }
}

/// `localhost`, `*.localhost`, 127.0.0.0/8 and `[::1]`: the user's own machine.
fn is_local(host: &Host<&str>) -> bool {
    match host {
        Host::Domain(d) => *d == "localhost" || d.ends_with(".localhost"),
        Host::Ipv4(ip) => ip.is_loopback(),
        Host::Ipv6(ip) => *ip == Ipv6Addr::LOCALHOST || is_mapped_loopback(ip),
    }
}

fn is_mapped_loopback(ip: &Ipv6Addr) -> bool {
    ip.to_ipv4_mapped()
        .is_some_and(|v4: Ipv4Addr| v4.is_loopback())
}

/// The URL's origin as `url.origin().ascii_serialization()` writes it, built in one
/// allocation for the schemes requests use (their default port is never stored in the URL).
fn origin_of(url: &Url) -> String {
    let scheme = url.scheme();
    match (scheme, url.host_str()) {
        ("http" | "https" | "ws" | "wss", Some(host)) => {
            let mut origin = String::with_capacity(scheme.len() + 3 + host.len() + 6);
            origin.push_str(scheme);
            origin.push_str("://");
            origin.push_str(host);
            if let Some(port) = url.port() {
                let _ = write!(origin, ":{port}");
            }
            origin
        }
        _ => url.origin().ascii_serialization(),
    }
}

/// Wikimedia Cloud Services: `Some(tool)` when the host is a Cloud host (the tool may be
/// unknown, e.g. `toolforge.org` itself), `None` when it is not a Cloud host at all.
fn cloud_tool(host: &str, path: &str) -> Option<Option<String>> {
    // The legacy path form: tools.wmflabs.org/NAME/… and tools-static.wmflabs.org/NAME/…
    if host == "tools.wmflabs.org" || host == "tools-static.wmflabs.org" {
        return Some(first_path_segment(path));
    }
    for base in [
        "toolforge.org",
        "wmcloud.org",
        "wmflabs.org",
        "wikimedia.cloud",
    ] {
        if host == base {
            return Some(None);
        }
        let Some(head) = host.strip_suffix(base).and_then(|h| h.strip_suffix('.')) else {
            continue;
        };
        // The labels before the base, last first.
        let mut labels = head.rsplit('.').filter(|l| !l.is_empty());
        let last = labels.next();
        let before_last = labels.next();
        let tool = match (base, last, before_last) {
            // INSTANCE.PROJECT.DATACENTER.wikimedia.cloud: the project is what a user knows.
            ("wikimedia.cloud", Some(dc), Some(project))
                if dc.ends_with(|c: char| c.is_ascii_digit()) =>
            {
                Some(project)
            }
            // NAME.toolforge.org, NAME.wmcloud.org: the label right before the base.
            (_, Some(name), _) => Some(name),
            _ => None,
        };
        return Some(tool.map(str::to_string));
    }
    None
}

fn first_path_segment(path: &str) -> Option<String> {
    let seg = path.trim_start_matches('/').split('/').next().unwrap_or("");
    if seg.is_empty() {
        None
    } else {
        Some(
            percent_encoding::percent_decode_str(seg)
                .decode_utf8_lossy()
                .into_owned(),
        )
    }
}

/// Whether a frame's `sandbox` attribute lets scripts run. `None` = not sandboxed.
pub fn frame_runs_scripts(sandbox: Option<&str>) -> bool {
    match sandbox {
        None => true,
        Some(tokens) => tokens
            .split_ascii_whitespace()
            .any(|t| t.eq_ignore_ascii_case("allow-scripts")),
    }
}

/// The tier of a request (SPEC §3): executable beats carried data beats passive.
/// `frame_sandbox` is the frame's `sandbox` attribute, if the element has one.
pub fn tier(directive: Directive, frame_sandbox: Option<&str>, carries: &[CarryKind]) -> Tier {
    let executable = directive.runs_code()
        || (directive == Directive::FrameSrc && frame_runs_scripts(frame_sandbox));
    if executable {
        Tier::Executable
    } else if !carries.is_empty() {
        Tier::Data
    } else {
        Tier::Passive
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origin_matches_the_url_crate() {
        for raw in [
            "https://en.wikipedia.org/w/api.php?x=1#f",
            "https://en.wikipedia.org:443/x",
            "https://en.wikipedia.org:8443/x",
            "http://user:pw@example.com:80/x",
            "http://example.com:8080",
            "ws://stream.example.net/v2",
            "wss://stream.example.net:443/v2",
            "wss://stream.example.net:80/v2",
            "http://127.0.0.5/",
            "http://[::1]:8080/",
            "http://[::ffff:127.0.0.1]/",
            "https://xn--n3h.example/",
            "https://EXAMPLE.com./",
            "ftp://example.com:21/x",
            "file:///etc/passwd",
            "data:text/plain,x",
            "blob:https://example.com/uuid",
        ] {
            let url = Url::parse(raw).expect("valid");
            assert_eq!(origin_of(&url), url.origin().ascii_serialization(), "{raw}");
        }
    }

    #[test]
    fn gated_preset_matching_agrees_with_the_preset() {
        let mut presets = vec![Preset::wikimedia_production()];
        presets.push(Preset {
            name: "odd".into(),
            hosts: [
                "*.a.b",
                "x",
                "*.x",
                "*.Wiki.ORG",
                "w.wiki",
                "*.",
                "",
                "*.longer-than-8.example",
            ]
            .iter()
            .map(|h| HostPattern((*h).into()))
            .collect(),
        });
        let mut hosts: Vec<String> = Vec::new();
        for preset in &presets {
            for pattern in &preset.hosts {
                let bare = pattern.0.trim_start_matches("*.");
                for prefix in ["", "a.", "b.a.", ".", "xa", "www.", "-"] {
                    for suffix in ["", ".", "x", ".org"] {
                        hosts.push(format!("{prefix}{bare}{suffix}"));
                        hosts.push(format!("{prefix}{bare}{suffix}").to_uppercase());
                    }
                }
                hosts.push(bare.get(1..).unwrap_or("").to_string());
            }
        }
        hosts.extend(
            ["", ".", "b", "ab", "en.wikipedia.org", "wikipedia.org.evil"].map(String::from),
        );
        for preset in presets {
            let page = PageContext {
                url: Url::parse("https://example.org/").expect("valid"),
                host: "example.org".into(),
                port: Some(443),
                site: None,
                preset_gates: preset.hosts.iter().map(PatternGate::of).collect(),
                preset: Some(preset.clone()),
            };
            for host in &hosts {
                assert_eq!(page.preset_covers(host), preset.covers(host), "{host:?}");
            }
        }
    }

    #[test]
    fn cloud_tool_forms() {
        let tool = |host: &str| cloud_tool(host, "/x/y");
        assert_eq!(tool("a.b.toolforge.org"), Some(Some("b".into())));
        assert_eq!(tool("..x..toolforge.org"), Some(Some("x".into())));
        assert_eq!(tool(".toolforge.org"), Some(None));
        assert_eq!(tool("toolforge.org"), Some(None));
        assert_eq!(
            tool("vm1.project.eqiad1.wikimedia.cloud"),
            Some(Some("project".into()))
        );
        assert_eq!(tool("eqiad1.wikimedia.cloud"), Some(Some("eqiad1".into())));
        assert_eq!(tool("x.codfw.wikimedia.cloud"), Some(Some("codfw".into())));
        assert_eq!(tool("tools.wmflabs.org"), Some(Some("x".into())));
        assert_eq!(tool("example.org"), None);
    }
}
