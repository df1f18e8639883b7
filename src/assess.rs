//! The per-request pipeline: resolve the URL, classify it (SPEC §3), find carried data, ask
//! the consent list (SPEC §7) and turn the verdict into a decision for the mode (SPEC §8).
//!
//! [`Auditor`] is built once per page; [`Auditor::assess`] runs on every request a hook sees,
//! so it does the least work it can: one URL parse, a few hash lookups, a few substring
//! searches, one pass over the rules.

use crate::carried::{CarriedDetector, PageValues};
use crate::classify::{self, Destination, PageContext, Preset, UrlError};
use crate::consent::{ConsentList, ConsentQuery, PreparedConsent, RuleRef};
use crate::model::{CarryKind, Channel, Directive, Mode, Outcome, Party, Source, Tier, Verdict};
use serde::{Deserialize, Serialize};
use thiserror::Error;
use url::Url;

/// Why a request could not be assessed. The caller (a hook) lets the request through in
/// `audit` mode and reports the error; in `block` mode it fails closed.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum RequestError {
    #[error(transparent)]
    Url(#[from] UrlError),
    /// `data:`, `blob:`, `about:`, `javascript:`: not an outbound request by itself (SPEC §3).
    #[error("{0}: URLs are not outbound requests")]
    NotOutbound(String),
}

/// A request as a hook reports it. Only `url` and `channel` are required.
#[derive(Deserialize, Debug, Clone, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct RequestInput {
    pub url: String,
    pub channel: Channel,
    /// `as=` of a `<link rel=preload>`, which picks the directive.
    #[serde(default, rename = "as")]
    pub preload_as: Option<String>,
    #[serde(default)]
    pub method: Option<String>,
    /// The body as text, when the hook could read it (string, URLSearchParams, FormData, JSON).
    #[serde(default)]
    pub body: Option<String>,
    /// `credentials: 'include'` or `withCredentials = true`.
    #[serde(default)]
    pub credentials: bool,
    /// The `sandbox` attribute of a frame, when it has one.
    #[serde(default)]
    pub sandbox: Option<String>,
}

impl RequestInput {
    pub fn new(url: impl Into<String>, channel: Channel) -> RequestInput {
        RequestInput {
            url: url.into(),
            channel,
            preload_as: None,
            method: None,
            body: None,
            credentials: false,
            sandbox: None,
        }
    }

    pub fn directive(&self) -> Directive {
        match (&self.channel, &self.preload_as) {
            (Channel::Preload, Some(as_value)) => Directive::for_preload_as(as_value),
            (channel, _) => channel.directive(),
        }
    }
}

/// Everything the core concludes about one request: the event fields of SPEC §8 that do not
/// depend on the hook (id, time, observers and counts are the runtime's).
#[derive(Serialize, Debug, Clone, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Assessment {
    pub url: String,
    pub origin: String,
    pub channel: Channel,
    pub directive: Directive,
    pub method: String,
    pub party: Party,
    pub site: String,
    pub tool: Option<String>,
    pub tier: Tier,
    pub carries: Vec<CarryKind>,
    pub verdict: Verdict,
    pub rule: RuleRef,
    pub decision: Outcome,
}

/// The auditor of one page: its context, its values, its consent list.
pub struct Auditor {
    page: PageContext,
    detector: CarriedDetector,
    /// Indexed once here so that each request only looks at the rules that can apply.
    consent: PreparedConsent,
}

impl Auditor {
    pub fn new(
        page_url: &str,
        presets: &[Preset],
        values: &PageValues,
        consent: ConsentList,
    ) -> Result<Auditor, UrlError> {
        Ok(Auditor {
            page: PageContext::new(page_url, presets)?,
            detector: CarriedDetector::new(values),
            consent: PreparedConsent::new(consent),
        })
    }

    pub fn page(&self) -> &PageContext {
        &self.page
    }

    /// The page values (`mw.config`, tokens) changed: carried data is detected with these.
    pub fn set_values(&mut self, values: &PageValues) {
        self.detector = CarriedDetector::new(values);
    }

    /// The URL with the page's token values replaced (see [`CarriedDetector::redact`]).
    pub fn redact(&self, url: &str) -> Option<String> {
        self.detector.redact(url)
    }

    pub fn consent(&self) -> &ConsentList {
        self.consent.list()
    }

    pub fn set_consent(&mut self, consent: ConsentList) {
        self.consent = PreparedConsent::new(consent);
    }

    pub fn mode(&self) -> Mode {
        self.consent.mode()
    }

    pub fn set_mode(&mut self, mode: Mode) {
        self.consent.set_mode(mode);
    }

    /// Classifies the destination of a request URL (resolved against the page).
    #[inline]
    pub fn destination(&self, raw_url: &str) -> Result<(Url, Destination), RequestError> {
        let url = classify::parse_request_url(self.page.url(), raw_url)?;
        match url.scheme() {
            "http" | "https" | "ws" | "wss" => {}
            other => return Err(RequestError::NotOutbound(other.to_string())),
        }
        let destination = self.page.destination(&url)?;
        Ok((url, destination))
    }

    /// The full assessment of a request made by `source`.
    pub fn assess(&self, req: &RequestInput, source: &Source) -> Result<Assessment, RequestError> {
        let (url, dest) = self.destination(&req.url)?;
        let directive = req.directive();

        // The fragment is never sent, so it is not searched.
        let sent = &url[url::Position::BeforePath..url::Position::AfterQuery];
        let mut carries = self.detector.scan(sent, req.body.as_deref());
        if req.credentials && dest.party != Party::First && !carries.contains(&CarryKind::Cookies) {
            carries.push(CarryKind::Cookies);
        }
        let tier = classify::tier(directive, req.sandbox.as_deref(), &carries);

        // The source's consent scopes are its own and its loaders' (`consent_scopes`); a
        // source loaded by nothing, the usual case, is looked up without writing them out.
        let record = self.consent.decide_for(
            &ConsentQuery {
                url: &url,
                page_origin: self.page.url(),
                directive,
                party: dest.party,
                tier,
                scopes: &[],
            },
            source,
        );
        let method = req
            .method
            .as_deref()
            .map(str::to_ascii_uppercase)
            .unwrap_or_else(|| default_method(req.channel).to_string());
        let verdict = record.verdict;
        Ok(Assessment {
            // The URL's own serialization, moved rather than copied.
            url: url.into(),
            origin: dest.origin,
            channel: req.channel,
            directive,
            method,
            party: dest.party,
            site: dest.site,
            tool: dest.tool,
            tier,
            carries,
            verdict,
            decision: self.consent.mode().outcome(verdict),
            rule: record.rule,
        })
    }
}

/// The consent scopes a source answers to, most specific first: its own, then the loaders of
/// its chain from the nearest outwards (a gadget answers for the scripts it loads).
pub fn consent_scopes(source: &Source) -> Vec<String> {
    let mut scopes: Vec<String> = source.scope().into_iter().collect();
    scopes.extend(source.chain.iter().rev().cloned());
    scopes
}

fn default_method(channel: Channel) -> &'static str {
    match channel {
        Channel::Beacon => "POST",
        _ => "GET",
    }
}
