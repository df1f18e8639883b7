//! URL parsing for text from the page, with one seam for international host names.
//!
//! The `url` crate's IDNA back end is chosen by the version of `idna_adapter` in the lock file;
//! this crate pins the 1.0 stream, a stub without Unicode data (Cargo.toml says why: the ICU4X
//! tables were 49 KB of the on-wiki gadget's 432 KB transfer, issue 8 item 9). Hosts that are
//! ASCII, punycode (`xn--…`) included, parse exactly as before; a host with any non-ASCII
//! character is refused by the stub with [`url::ParseError::IdnaError`].
//!
//! In a browser no Unicode data is needed for them: the page's own URL parser maps the host
//! (UTS 46) the way the browser will when it makes the request, so the web layer installs it
//! with [`set_host_normalizer`] at start-up, and the URL it returns — ASCII — is parsed instead.
//! The browser being the authority here is a feature: the host classified is the host the
//! request goes to. Natively (`cargo test`, the CLI) nothing is installed and such a URL stays
//! a clear error ("invalid international domain name"), never a guess.
//!
//! Only text that can hold a non-ASCII host goes through here: request URLs, consent rules a
//! user typed, URL constants of scanned scripts. URLs the browser itself serialised (stack
//! frames, `location.href`, webRequest records) are ASCII already.

use std::sync::RwLock;
use url::{ParseError, Url};

/// Resolves `raw` against `base` (when given) with the browser's URL parser and returns the
/// serialised result, or `None` when the browser refuses it too.
pub type HostNormalizer = fn(base: Option<&str>, raw: &str) -> Option<String>;

/// Installed once by the web layer; read only when a non-ASCII host was refused.
static NORMALIZER: RwLock<Option<HostNormalizer>> = RwLock::new(None);

/// Installs (or, with `None`, removes) the normalizer used for non-ASCII hosts.
pub fn set_host_normalizer(normalizer: Option<HostNormalizer>) {
    // A poisoned lock only means a panic elsewhere while it was held; the value is a plain
    // function pointer, always whole.
    let mut slot = NORMALIZER.write().unwrap_or_else(|e| e.into_inner());
    *slot = normalizer;
}

fn normalizer() -> Option<HostNormalizer> {
    *NORMALIZER.read().unwrap_or_else(|e| e.into_inner())
}

/// `Url::parse`, with non-ASCII hosts mapped by the installed normalizer.
pub fn parse(raw: &str) -> Result<Url, ParseError> {
    Url::parse(raw).or_else(|e| retry(e, None, raw))
}

/// `base.join(raw)`, with non-ASCII hosts mapped by the installed normalizer.
pub fn join(base: &Url, raw: &str) -> Result<Url, ParseError> {
    base.join(raw).or_else(|e| retry(e, Some(base), raw))
}

fn retry(error: ParseError, base: Option<&Url>, raw: &str) -> Result<Url, ParseError> {
    if error != ParseError::IdnaError || raw.is_ascii() {
        return Err(error);
    }
    let normalize = normalizer().ok_or(error)?;
    match normalize(base.map(Url::as_str), raw) {
        // Only an ASCII answer is taken: anything else would come straight back here, and a
        // normalizer that returns Unicode is not doing its job.
        Some(mapped) if mapped.is_ascii() => Url::parse(&mapped),
        _ => Err(error),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // The installed normalizer is process-wide: every case that installs one is in this one
    // test, so no other test of this binary sees it.
    #[test]
    fn non_ascii_hosts_need_the_normalizer() {
        let base = Url::parse("https://en.wikipedia.org/wiki/X").expect("valid");
        // ASCII and punycode hosts never ask the normalizer.
        assert_eq!(
            join(&base, "https://xn--bcher-kva.example/x").map(|u| u.host_str().map(String::from)),
            Ok(Some("xn--bcher-kva.example".to_string()))
        );
        set_host_normalizer(None);
        assert_eq!(
            join(&base, "https://bücher.example/x"),
            Err(ParseError::IdnaError)
        );
        assert_eq!(
            parse("https://bücher.example/x"),
            Err(ParseError::IdnaError)
        );
        // Other errors of non-ASCII text are not retried.
        assert_eq!(parse("bücher"), Err(ParseError::RelativeUrlWithoutBase));

        fn fake(base: Option<&str>, raw: &str) -> Option<String> {
            match (base, raw) {
                (_, "https://bücher.example/x") => Some("https://xn--bcher-kva.example/x".into()),
                (Some("https://en.wikipedia.org/wiki/X"), "//bücher.example/") => {
                    Some("https://xn--bcher-kva.example/".into())
                }
                (_, "https://ünicode.example/") => Some("https://ünicode.example/".into()),
                _ => None,
            }
        }
        set_host_normalizer(Some(fake));
        let host = |r: Result<Url, ParseError>| r.map(|u| u.host_str().map(String::from));
        let punycode = Ok(Some("xn--bcher-kva.example".to_string()));
        assert_eq!(host(parse("https://bücher.example/x")), punycode);
        assert_eq!(host(join(&base, "https://bücher.example/x")), punycode);
        // The base is handed over for relative text.
        assert_eq!(host(join(&base, "//bücher.example/")), punycode);
        // The browser refused it too; a non-ASCII answer is refused.
        assert_eq!(
            join(&base, "https://ständig.example/"),
            Err(ParseError::IdnaError)
        );
        assert_eq!(
            join(&base, "https://ünicode.example/"),
            Err(ParseError::IdnaError)
        );
        set_host_normalizer(None);
        assert_eq!(
            join(&base, "https://bücher.example/x"),
            Err(ParseError::IdnaError)
        );
    }
}
