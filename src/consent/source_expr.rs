//! CSP source expressions as destinations of consent rules (SPEC §7), matched per CSP Level 3
//! §6.7.2 ("Does url match expression in origin").
//!
//! Accepted: `'self'`, a scheme (`https:`), `*`, and host sources
//! `[scheme://]host[:port][/path]` where the host may start with `*.`, the port is digits or
//! `*`, and a path ending in `/` is a prefix. Everything CSP accepts that is not a
//! *destination* (`'unsafe-inline'`, nonces, hashes, `'none'`) is rejected with a reason, as
//! are IPv6 literals and non-ASCII hosts, which CSP's grammar does not allow either.
//!
//! The user's text is kept verbatim for display and serialisation; matching uses a
//! lower-cased, parsed copy.

use percent_encoding::percent_decode_str;
use url::Url;

/// A validated source expression.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SourceExpr {
    raw: String,
    pattern: Pattern,
}

/// What a source expression stands for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Pattern {
    /// `'self'`: the page origin.
    SelfOrigin,
    /// `*`: any http, https, ws or wss URL (and the page's own scheme).
    Any,
    /// `https:` and the like, lower-cased, without the colon.
    Scheme(String),
    Host(HostSource),
}

/// `[scheme://]host[:port][/path]`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HostSource {
    /// Lower-cased; `None` means "the page's scheme".
    pub scheme: Option<String>,
    pub host: HostPattern,
    pub port: Port,
    /// As written, starting with `/`; `None` when absent.
    pub path: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum HostPattern {
    /// `*` as the whole host (`https://*`).
    Any,
    /// `example.com`, lower-cased, without a trailing dot.
    Exact(String),
    /// `*.example.com`: stores `example.com`; matches strict subdomains only.
    Subdomains(String),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Port {
    /// Absent: the default port of the URL's scheme.
    Default,
    Any,
    Number(u16),
}

/// How specific a source is, compared field by field in this order (SPEC §7: longer host,
/// then path): the host's non-wildcard length in characters, an exact host over a wildcard,
/// the path prefix length, an explicit port over none.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Specificity {
    pub host_len: usize,
    pub exact_host: bool,
    pub path_len: usize,
    pub explicit_port: bool,
}

impl SourceExpr {
    /// Validates `raw`; the error is a reason phrased to follow "bad source expression …: ".
    pub fn parse(raw: &str) -> Result<SourceExpr, String> {
        let pattern = parse_pattern(raw)?;
        Ok(SourceExpr {
            raw: raw.to_string(),
            pattern,
        })
    }

    /// The text as the user wrote it.
    pub fn as_str(&self) -> &str {
        &self.raw
    }

    pub fn pattern(&self) -> &Pattern {
        &self.pattern
    }

    /// The secure twin the exported CSP header adds for this source, if any: for an
    /// `http://` or `ws://` (or scheme-less) host source with an explicit port number, the
    /// same host, port and path over `https://` / `wss://`.
    ///
    /// Why: CSP3 lets `http://h:8080` admit `https://h:8080` (an upgrade on the same explicit
    /// port), and so do Firefox and this auditor's matcher, but Chromium allows an upgrade
    /// only with a default or `*` port (or 80 to 443), and blocks it. Writing the twin into
    /// the header makes both browsers admit exactly what the auditor admits, and nothing
    /// more: the twin matches only the secure scheme on that port, which the source admits
    /// already (`https` does not admit `wss`, nor `wss` `https`).
    pub fn secure_twin(&self) -> Option<String> {
        let Pattern::Host(h) = &self.pattern else {
            return None;
        };
        if !matches!(h.port, Port::Number(_)) {
            return None;
        }
        match (h.scheme.as_deref(), self.raw.find("://")) {
            (Some("http"), Some(i)) => Some(format!("https://{}", &self.raw[i + 3..])),
            (Some("ws"), Some(i)) => Some(format!("wss://{}", &self.raw[i + 3..])),
            (None, _) => Some(format!("https://{}", self.raw)),
            _ => None,
        }
    }

    /// Whether a request to `url` made on a page at `page` matches this source.
    pub fn matches(&self, url: &Url, page: &Url) -> bool {
        match &self.pattern {
            Pattern::SelfOrigin => matches_self(url, page),
            Pattern::Any => {
                matches!(url.scheme(), "http" | "https" | "ws" | "wss")
                    || url.scheme() == page.scheme()
            }
            Pattern::Scheme(scheme) => scheme_matches(scheme, url.scheme()),
            Pattern::Host(h) => h.matches(url, page),
        }
    }

    /// See [`Specificity`]. `page` is needed because `'self'` counts as the page's exact host.
    pub fn specificity(&self, page: &Url) -> Specificity {
        self.page_independent_specificity()
            .unwrap_or_else(|| Specificity {
                host_len: page.host_str().map_or(0, |h| h.chars().count()),
                exact_host: true,
                path_len: 0,
                explicit_port: false,
            })
    }

    /// The specificity of every source but `'self'` (`None`), which depends on the page.
    pub fn page_independent_specificity(&self) -> Option<Specificity> {
        Some(match &self.pattern {
            Pattern::SelfOrigin => return None,
            Pattern::Any | Pattern::Scheme(_) => Specificity {
                host_len: 0,
                exact_host: false,
                path_len: 0,
                explicit_port: false,
            },
            Pattern::Host(h) => {
                let (host_len, exact_host) = match &h.host {
                    HostPattern::Any => (0, false),
                    HostPattern::Exact(host) => (host.chars().count(), true),
                    HostPattern::Subdomains(host) => (host.chars().count(), false),
                };
                Specificity {
                    host_len,
                    exact_host,
                    path_len: h.path.as_deref().map_or(0, |p| p.chars().count()),
                    explicit_port: h.port != Port::Default,
                }
            }
        })
    }
}

/// Scheme-part match as Chromium and Firefox enforce it: the same scheme, or the secure
/// counterpart of an insecure one (`http` admits `https`, `ws` admits `wss`); never a
/// downgrade, and never across http and ws (an `https` source does not admit `wss`, a `ws`
/// source does not admit `http`). `'self'` has its own, wider rule ([`matches_self`]).
fn scheme_matches(source: &str, url: &str) -> bool {
    source == url || matches!((source, url), ("http", "https") | ("ws", "wss"))
}

fn is_secure(scheme: &str) -> bool {
    matches!(scheme, "https" | "wss")
}

/// CSP3 §6.7.2.8 step for `'self'`: same host, and the same port or both default, and no
/// downgrade (an `https` page's `'self'` does not admit `http`, but admits `wss`).
fn matches_self(url: &Url, page: &Url) -> bool {
    let (Some(host), Some(page_host)) = (url.host_str(), page.host_str()) else {
        return false;
    };
    if !host.eq_ignore_ascii_case(page_host) {
        return false;
    }
    let ports_agree = url.port() == page.port()
        || (url.port().is_none() && page.port().is_none())
        || url.port_or_known_default() == page.port_or_known_default();
    if !ports_agree {
        return false;
    }
    is_secure(url.scheme())
        || (page.scheme() == "http" && matches!(url.scheme(), "http" | "ws"))
        || url.scheme() == page.scheme()
}

impl HostSource {
    fn matches(&self, url: &Url, page: &Url) -> bool {
        // The host is checked first: it is what rules out most rules, and cheaply.
        let Some(host) = url.host_str() else {
            return false;
        };
        // A trailing dot is part of the host: browsers do not match `a.org.` to `a.org`.
        let host_ok = match &self.host {
            HostPattern::Any => true,
            HostPattern::Exact(h) => host.eq_ignore_ascii_case(h),
            HostPattern::Subdomains(h) => host
                .len()
                .checked_sub(h.len() + 1)
                .filter(|&dot| dot > 0)
                .is_some_and(|dot| {
                    host.as_bytes().get(dot) == Some(&b'.')
                        && host
                            .get(dot + 1..)
                            .is_some_and(|t| t.eq_ignore_ascii_case(h))
                }),
        };
        if !host_ok {
            return false;
        }
        let source_scheme = self.scheme.as_deref().unwrap_or(page.scheme());
        if !scheme_matches(source_scheme, url.scheme()) {
            return false;
        }
        let Some(port) = url.port_or_known_default() else {
            return false;
        };
        let port_ok = match self.port {
            Port::Any => true,
            Port::Default => Some(port) == default_port(url.scheme()),
            // CSP3 lets an explicit :80 follow an upgrade to the secure default port.
            Port::Number(p) => p == port || (p == 80 && port == 443 && is_secure(url.scheme())),
        };
        port_ok
            && self
                .path
                .as_deref()
                .is_none_or(|p| path_matches(p, url.path()))
    }
}

fn default_port(scheme: &str) -> Option<u16> {
    match scheme {
        "http" | "ws" => Some(80),
        "https" | "wss" => Some(443),
        _ => None,
    }
}

/// Path match as Chromium and Firefox enforce it (and as the exported header is enforced):
/// both paths percent-decoded *whole*, then a source path ending in `/` is a prefix of the
/// request's path and any other must equal it; case-sensitive, bytes compared (a decoded
/// path need not be UTF-8). CSP3 §6.7.2.12 splits on `/` before decoding, so that `%2F` is
/// never a segment boundary; no browser does, so `/a%2Fb` matches `/a/b` and a `/v1/`
/// prefix admits `/v1%2Fx`. The auditor follows the browsers: its verdict is the one the
/// exported header gets.
fn path_matches(source: &str, url_path: &str) -> bool {
    // No allocation: this runs on the request path for every rule with a path.
    let prefix = percent_decode_str(source).last() == Some(b'/');
    let mut got = percent_decode_str(url_path);
    percent_decode_str(source).all(|b| got.next() == Some(b)) && (prefix || got.next().is_none())
}

fn parse_pattern(raw: &str) -> Result<Pattern, String> {
    if raw.is_empty() {
        return Err("it is empty".to_string());
    }
    if let Some(c) = raw.chars().find(|c| c.is_whitespace() || c.is_control()) {
        return Err(format!(
            "it contains {}; write one source per rule",
            describe(c)
        ));
    }
    if raw.starts_with('\'') {
        return match raw.to_ascii_lowercase().as_str() {
            "'self'" => Ok(Pattern::SelfOrigin),
            "'none'" => Err(
                "'none' is not a destination; a rule without it already allows nothing".to_string(),
            ),
            _ if raw.len() < 2 || !raw.ends_with('\'') => Err("unbalanced quote".to_string()),
            other => Err(format!(
                "{other} is not a destination; the only quoted keyword here is 'self'"
            )),
        };
    }
    if raw == "*" {
        return Ok(Pattern::Any);
    }
    let (scheme, rest) = match raw.find("://") {
        Some(i) => (Some(check_scheme(&raw[..i])?), &raw[i + 3..]),
        None => match raw.strip_suffix(':') {
            // `example.com:` is a valid scheme to CSP's grammar but surely a host whose
            // port was left out; no scheme in use has a dot.
            Some(s) if is_scheme(s) && !s.contains('.') => {
                return Ok(Pattern::Scheme(s.to_ascii_lowercase()))
            }
            _ => (None, raw),
        },
    };
    if rest.is_empty() {
        return Err("a host is missing after the scheme".to_string());
    }
    if rest.starts_with('[') {
        return Err("IPv6 literals are not valid in CSP source expressions".to_string());
    }
    let host_end = rest.find([':', '/']).unwrap_or(rest.len());
    let host = check_host(&rest[..host_end])?;
    let mut after = &rest[host_end..];
    let mut port = Port::Default;
    if let Some(p) = after.strip_prefix(':') {
        let end = p.find('/').unwrap_or(p.len());
        port = check_port(&p[..end])?;
        after = &p[end..];
    }
    let path = if after.is_empty() {
        None
    } else {
        check_path(after)?;
        Some(after.to_string())
    };
    Ok(Pattern::Host(HostSource {
        scheme,
        host,
        port,
        path,
    }))
}

fn describe(c: char) -> String {
    if c == ' ' {
        "a space".to_string()
    } else {
        format!("the character {}", c.escape_debug())
    }
}

fn is_scheme(s: &str) -> bool {
    let mut chars = s.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
}

fn check_scheme(s: &str) -> Result<String, String> {
    if is_scheme(s) {
        Ok(s.to_ascii_lowercase())
    } else if s.is_empty() {
        Err("the scheme before \"://\" is empty".to_string())
    } else {
        Err(format!("{s:?} is not a valid scheme"))
    }
}

fn check_host(host: &str) -> Result<HostPattern, String> {
    if host.is_empty() {
        return Err("the host is empty".to_string());
    }
    if host == "*" {
        return Ok(HostPattern::Any);
    }
    let (wildcard, name) = match host.strip_prefix("*.") {
        Some(rest) => (true, rest),
        None => (false, host),
    };
    if name.is_empty() {
        return Err("a bare \"*.\" needs a domain after it, like *.example.org".to_string());
    }
    if name.contains('*') || (!wildcard && host.starts_with('*')) {
        return Err("'*' may only stand for a whole host or start it as \"*.\"".to_string());
    }
    if name.ends_with('.') {
        return Err(
            "a trailing dot is not part of a CSP host (browsers match it to nothing or only to \"host.\"); write the host without it"
                .to_string(),
        );
    }
    if let Some(c) = name
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || *c == '-' || *c == '.'))
    {
        return Err(if c.is_ascii() {
            format!("invalid character {:?} in the host", c)
        } else {
            "non-ASCII host: write it in punycode (xn--…)".to_string()
        });
    }
    if name.split('.').any(str::is_empty) {
        return Err("empty label in the host (\"..\" or a leading dot)".to_string());
    }
    let name = name.to_ascii_lowercase();
    Ok(if wildcard {
        HostPattern::Subdomains(name)
    } else {
        HostPattern::Exact(name)
    })
}

fn check_port(p: &str) -> Result<Port, String> {
    if p == "*" {
        return Ok(Port::Any);
    }
    if p.is_empty() {
        return Err("the port after ':' is empty".to_string());
    }
    if !p.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!("bad port {p:?}: digits or '*' expected"));
    }
    match p.parse::<u16>() {
        Ok(n) => Ok(Port::Number(n)),
        Err(_) => Err(format!("bad port {p}: above 65535")),
    }
}

/// CSP's path-part: RFC 3986 path characters, without `;` and `,` (which separate CSP
/// sources and directives), and without a query or fragment.
fn check_path(path: &str) -> Result<(), String> {
    let bytes = path.as_bytes();
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        match b {
            b'%' => {
                let hex = bytes.get(i + 1..i + 3);
                if !hex.is_some_and(|h| h.iter().all(u8::is_ascii_hexdigit)) {
                    return Err("'%' in the path must start a %XX escape".to_string());
                }
                i += 3;
                continue;
            }
            b'?' | b'#' => return Err("a query or fragment cannot be part of a source".to_string()),
            b';' | b',' => {
                return Err(format!(
                    "{:?} cannot appear in a source (it separates CSP lists)",
                    char::from(b)
                ))
            }
            b if b.is_ascii_alphanumeric() || b"-._~!$&'()*+=:@/".contains(&b) => {}
            _ => {
                let c = path.get(i..).and_then(|s| s.chars().next()).unwrap_or('?');
                return Err(format!(
                    "invalid character {:?} in the path (percent-encode it)",
                    c
                ));
            }
        }
        i += 1;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url(s: &str) -> Url {
        Url::parse(s).expect("test URL")
    }

    fn m(source: &str, target: &str) -> bool {
        let page = url("https://en.wikipedia.org/wiki/X");
        SourceExpr::parse(source)
            .expect("valid source")
            .matches(&url(target), &page)
    }

    #[test]
    fn rejections_name_the_reason() {
        for (raw, reason) in [
            ("", "empty"),
            ("https://a b", "a space"),
            ("https://ex*ample.com", "'*' may only"),
            ("https://a.*.com", "'*' may only"),
            ("*example.com", "'*' may only"),
            ("*.", "bare \"*.\""),
            ("https://*.", "bare \"*.\""),
            ("https://a.org:", "port after ':' is empty"),
            ("example.org:", "port after ':' is empty"),
            ("https://a.org:8o", "bad port"),
            ("https://a.org:99999", "above 65535"),
            ("'unsafe-inline'", "'unsafe-inline' is not a destination"),
            ("'nonce-abc'", "not a destination"),
            ("'self", "unbalanced quote"),
            ("https://a_b.org", "invalid character '_'"),
            ("https://bücher.de", "punycode"),
            ("https://a.org/x?y", "query"),
            ("https://a.org/x;y", "separates"),
            ("https://a.org/%zz", "%XX"),
            ("https://[::1]", "IPv6"),
            ("1http://a.org", "not a valid scheme"),
            ("https://", "host is missing"),
            ("a..b.org", "empty label"),
            ("https://a.org.", "trailing dot"),
            ("*.a.org.:443", "trailing dot"),
        ] {
            let err = SourceExpr::parse(raw).expect_err(raw);
            assert!(err.contains(reason), "{raw:?}: {err}");
        }
    }

    #[test]
    fn matching_follows_csp3() {
        assert!(m("https://*.toolforge.org", "https://x.toolforge.org/api"));
        assert!(m("https://*.toolforge.org", "https://a.b.toolforge.org/"));
        assert!(!m("https://*.toolforge.org", "https://toolforge.org/"));
        assert!(!m("https://*.toolforge.org", "https://eviltoolforge.org/"));
        assert!(
            !m("https://*.toolforge.org", "https://x.toolforge.org./"),
            "a trailing dot is part of the host"
        );
        assert!(m(
            "HTTPS://Fonts.GoogleAPIs.com",
            "https://fonts.googleapis.com/css"
        ));
        // Scheme-less sources take the page scheme, upgrades allowed, downgrades not.
        assert!(m("example.org", "https://example.org/"));
        assert!(
            !m("example.org", "wss://example.org/"),
            "https does not admit wss"
        );
        assert!(!m("example.org", "http://example.org/"));
        assert!(m("http://example.org", "https://example.org/"));
        assert!(!m("https://example.org", "wss://example.org/s"));
        assert!(
            !m("http://example.org", "ws://example.org/s"),
            "http does not admit ws"
        );
        assert!(
            !m("ws://example.org", "https://example.org/"),
            "ws does not admit http(s)"
        );
        assert!(!m("wss://example.org", "https://example.org/"));
        assert!(m("ws://example.org", "wss://example.org/s"));
        assert!(!m("https://example.org", "ws://example.org/s"));
        assert!(m("http:", "https://any.example/"));
        assert!(!m("https:", "http://any.example/"));
        // Ports.
        assert!(m("https://a.org", "https://a.org:443/"));
        assert!(!m("https://a.org", "https://a.org:8443/"));
        assert!(m("https://a.org:8443", "https://a.org:8443/"));
        assert!(m("https://a.org:*", "https://a.org:9/"));
        assert!(m("http://a.org:80", "https://a.org/"));
        // Paths.
        assert!(m("https://a.org/v1/", "https://a.org/v1/x/y"));
        assert!(!m("https://a.org/v1/", "https://a.org/v2/x"));
        assert!(
            !m("https://a.org/v1/", "https://a.org/v1"),
            "a prefix needs its trailing slash"
        );
        assert!(m("https://a.org/", "https://a.org/"));
        assert!(m("https://a.org/lib.js", "https://a.org/lib.js?x=1"));
        assert!(!m("https://a.org/lib.js", "https://a.org/lib.js/more"));
        assert!(!m("https://a.org/Lib.js", "https://a.org/lib.js"));
        assert!(m("https://a.org/a%20b", "https://a.org/a b"));
        // Decoded whole, as browsers do: %2F is a slash like any other.
        assert!(m("https://a.org/a/b", "https://a.org/a%2Fb"));
        assert!(m("https://a.org/a%2Fb", "https://a.org/a/b"));
        assert!(m("https://a.org/v1/", "https://a.org/v1%2Fx"));
        assert!(
            m("https://a.org/v1%2F", "https://a.org/v1/x"),
            "a decoded '/' ends a prefix"
        );
        assert!(!m("https://a.org/v1%2F", "https://a.org/v1"));
        // '*' and 'self'.
        assert!(m("*", "wss://x.example/"));
        assert!(!m("*", "ftp://x.example/"));
        assert!(m("'self'", "https://en.wikipedia.org/w/api.php"));
        assert!(m("'self'", "wss://en.wikipedia.org/"));
        assert!(!m("'self'", "http://en.wikipedia.org/"));
        assert!(!m("'self'", "https://de.wikipedia.org/"));
    }

    #[test]
    fn specificity_orders_as_spec_says() {
        let page = url("https://en.wikipedia.org/");
        let s = |raw: &str| SourceExpr::parse(raw).expect("valid").specificity(&page);
        assert!(s("evil.example.com") > s("*.example.com"));
        assert!(
            s("a.example.com") > s("*.a.example.com"),
            "equal length: exact wins"
        );
        assert!(s("https://a.org/x/") > s("https://a.org"));
        assert!(s("https://a.org:8443") > s("https://a.org"));
        assert!(s("*.example.com") > s("https:"));
        assert_eq!(s("https:"), s("*"));
    }
}
