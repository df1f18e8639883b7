//! The request model of SPEC §2 and §8: the vocabulary every other module speaks.
//!
//! Every enum serialises to the exact strings of the event schema (SPEC §8), so a record
//! produced here can cross the WebAssembly boundary or be exported without translation.

use serde::{Deserialize, Serialize};
use std::fmt;

/// The API or element through which a request was made (SPEC §4).
#[derive(Serialize, Deserialize, Clone, Copy, PartialEq, Eq, Hash, Debug)]
#[serde(rename_all = "kebab-case")]
pub enum Channel {
    Fetch,
    Xhr,
    Beacon,
    Websocket,
    Eventsource,
    Script,
    Module,
    Style,
    CssImport,
    CssUrl,
    FontFace,
    Img,
    Media,
    Frame,
    Object,
    Worker,
    Preload,
    /// Navigation the user caused (links, `window.open`, forms): shown, never a load (SPEC §5).
    Navigate,
    /// Seen only by a catch-all that could not tell the channel.
    Other,
}

impl Channel {
    pub const ALL: [Channel; 19] = [
        Channel::Fetch,
        Channel::Xhr,
        Channel::Beacon,
        Channel::Websocket,
        Channel::Eventsource,
        Channel::Script,
        Channel::Module,
        Channel::Style,
        Channel::CssImport,
        Channel::CssUrl,
        Channel::FontFace,
        Channel::Img,
        Channel::Media,
        Channel::Frame,
        Channel::Object,
        Channel::Worker,
        Channel::Preload,
        Channel::Navigate,
        Channel::Other,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Channel::Fetch => "fetch",
            Channel::Xhr => "xhr",
            Channel::Beacon => "beacon",
            Channel::Websocket => "websocket",
            Channel::Eventsource => "eventsource",
            Channel::Script => "script",
            Channel::Module => "module",
            Channel::Style => "style",
            Channel::CssImport => "css-import",
            Channel::CssUrl => "css-url",
            Channel::FontFace => "font-face",
            Channel::Img => "img",
            Channel::Media => "media",
            Channel::Frame => "frame",
            Channel::Object => "object",
            Channel::Worker => "worker",
            Channel::Preload => "preload",
            Channel::Navigate => "navigate",
            Channel::Other => "other",
        }
    }

    pub fn parse(name: &str) -> Option<Channel> {
        Channel::ALL.into_iter().find(|c| c.as_str() == name)
    }

    /// The CSP directive that governs this channel (SPEC §4 table). `preload` depends on the
    /// link's `as=` value, see [`Directive::for_preload_as`]; without one it is `connect-src`,
    /// which is what browsers check for `fetch`-destination preloads.
    pub fn directive(self) -> Directive {
        match self {
            Channel::Fetch
            | Channel::Xhr
            | Channel::Beacon
            | Channel::Websocket
            | Channel::Eventsource
            | Channel::Preload
            | Channel::Navigate
            | Channel::Other => Directive::ConnectSrc,
            Channel::Script | Channel::Module => Directive::ScriptSrc,
            Channel::Style | Channel::CssImport => Directive::StyleSrc,
            Channel::CssUrl | Channel::Img => Directive::ImgSrc,
            Channel::FontFace => Directive::FontSrc,
            Channel::Media => Directive::MediaSrc,
            Channel::Frame => Directive::FrameSrc,
            Channel::Object => Directive::ObjectSrc,
            Channel::Worker => Directive::WorkerSrc,
        }
    }
}

impl fmt::Display for Channel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A CSP fetch directive (SPEC §2).
#[derive(Serialize, Deserialize, Clone, Copy, PartialEq, Eq, Hash, Debug, PartialOrd, Ord)]
#[serde(rename_all = "kebab-case")]
pub enum Directive {
    ScriptSrc,
    StyleSrc,
    ImgSrc,
    FontSrc,
    ConnectSrc,
    FrameSrc,
    MediaSrc,
    WorkerSrc,
    ObjectSrc,
    ManifestSrc,
}

impl Directive {
    pub const ALL: [Directive; 10] = [
        Directive::ScriptSrc,
        Directive::StyleSrc,
        Directive::ImgSrc,
        Directive::FontSrc,
        Directive::ConnectSrc,
        Directive::FrameSrc,
        Directive::MediaSrc,
        Directive::WorkerSrc,
        Directive::ObjectSrc,
        Directive::ManifestSrc,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Directive::ScriptSrc => "script-src",
            Directive::StyleSrc => "style-src",
            Directive::ImgSrc => "img-src",
            Directive::FontSrc => "font-src",
            Directive::ConnectSrc => "connect-src",
            Directive::FrameSrc => "frame-src",
            Directive::MediaSrc => "media-src",
            Directive::WorkerSrc => "worker-src",
            Directive::ObjectSrc => "object-src",
            Directive::ManifestSrc => "manifest-src",
        }
    }

    pub fn parse(name: &str) -> Option<Directive> {
        Directive::ALL.into_iter().find(|d| d.as_str() == name)
    }

    /// Directive for `<link rel=preload as=…>` (and `modulepreload`, which is always a script).
    pub fn for_preload_as(as_value: &str) -> Directive {
        match as_value.trim().to_ascii_lowercase().as_str() {
            "script" | "module" => Directive::ScriptSrc,
            "style" => Directive::StyleSrc,
            "image" => Directive::ImgSrc,
            "font" => Directive::FontSrc,
            "audio" | "video" | "track" => Directive::MediaSrc,
            "document" | "iframe" => Directive::FrameSrc,
            "worker" | "sharedworker" | "serviceworker" => Directive::WorkerSrc,
            "object" | "embed" => Directive::ObjectSrc,
            "manifest" => Directive::ManifestSrc,
            _ => Directive::ConnectSrc,
        }
    }

    /// Directives whose response runs code in the user's browser (SPEC §3, tier).
    /// Frames are executable too unless sandboxed without `allow-scripts`; that needs the
    /// element, so it is decided in [`crate::classify`].
    pub fn runs_code(self) -> bool {
        matches!(
            self,
            Directive::ScriptSrc | Directive::WorkerSrc | Directive::ObjectSrc
        )
    }
}

impl fmt::Display for Directive {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Where the destination stands (SPEC §3), in the order the classifier tries them.
#[derive(Serialize, Deserialize, Clone, Copy, PartialEq, Eq, Hash, Debug, PartialOrd, Ord)]
#[serde(rename_all = "kebab-case")]
pub enum Party {
    Local,
    First,
    Wikimedia,
    Cloud,
    Third,
}

impl Party {
    pub const ALL: [Party; 5] = [
        Party::Local,
        Party::First,
        Party::Wikimedia,
        Party::Cloud,
        Party::Third,
    ];
    pub fn as_str(self) -> &'static str {
        match self {
            Party::Local => "local",
            Party::First => "first",
            Party::Wikimedia => "wikimedia",
            Party::Cloud => "cloud",
            Party::Third => "third",
        }
    }
}

/// How much power or information a request hands over (SPEC §3). Ordered from the most
/// to the least risky, so `min()` of a set is its worst tier.
#[derive(Serialize, Deserialize, Clone, Copy, PartialEq, Eq, Hash, Debug, PartialOrd, Ord)]
#[serde(rename_all = "kebab-case")]
pub enum Tier {
    Executable,
    Data,
    Passive,
}

impl Tier {
    pub fn as_str(self) -> &'static str {
        match self {
            Tier::Executable => "executable",
            Tier::Data => "data",
            Tier::Passive => "passive",
        }
    }
}

/// A kind of user-identifying value found in a request (SPEC §3, carried data). Only the
/// kind is ever reported; the value itself never leaves the detector.
#[derive(Serialize, Deserialize, Clone, Copy, PartialEq, Eq, Hash, Debug, PartialOrd, Ord)]
#[serde(rename_all = "kebab-case")]
pub enum CarryKind {
    User,
    Page,
    Revision,
    Token,
    Cookies,
}

impl CarryKind {
    /// Every kind, in order.
    pub const ALL: [CarryKind; 5] = [
        CarryKind::User,
        CarryKind::Page,
        CarryKind::Revision,
        CarryKind::Token,
        CarryKind::Cookies,
    ];

    /// Its bit in a set of kinds (`u8`, one bit per kind, in [`CarryKind::ALL`] order).
    pub fn bit(self) -> u8 {
        match self {
            CarryKind::User => 1,
            CarryKind::Page => 2,
            CarryKind::Revision => 4,
            CarryKind::Token => 8,
            CarryKind::Cookies => 16,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            CarryKind::User => "user",
            CarryKind::Page => "page",
            CarryKind::Revision => "revision",
            CarryKind::Token => "token",
            CarryKind::Cookies => "cookies",
        }
    }
}

/// What a consent rule or default says (SPEC §7): the *verdict* of a request.
#[derive(Serialize, Deserialize, Clone, Copy, PartialEq, Eq, Hash, Debug)]
#[serde(rename_all = "kebab-case")]
pub enum Verdict {
    Allow,
    Ask,
    Block,
}

impl Verdict {
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Allow => "allow",
            Verdict::Ask => "ask",
            Verdict::Block => "block",
        }
    }
    pub fn parse(s: &str) -> Option<Verdict> {
        match s {
            "allow" => Some(Verdict::Allow),
            "ask" => Some(Verdict::Ask),
            "block" => Some(Verdict::Block),
            _ => None,
        }
    }
    /// Strictness rank: at equal specificity the stricter verdict wins (SPEC §7).
    pub fn strictness(self) -> u8 {
        match self {
            Verdict::Allow => 0,
            Verdict::Ask => 1,
            Verdict::Block => 2,
        }
    }
}

/// How the auditor acts on verdicts (SPEC §2).
#[derive(Serialize, Deserialize, Clone, Copy, PartialEq, Eq, Hash, Debug, Default)]
#[serde(rename_all = "kebab-case")]
pub enum Mode {
    #[default]
    Audit,
    Ask,
    Block,
}

impl Mode {
    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Audit => "audit",
            Mode::Ask => "ask",
            Mode::Block => "block",
        }
    }
    pub fn parse(s: &str) -> Option<Mode> {
        match s {
            "audit" => Some(Mode::Audit),
            "ask" => Some(Mode::Ask),
            "block" => Some(Mode::Block),
            _ => None,
        }
    }

    /// What the auditor does with a request, given its verdict (SPEC §8 `decision`).
    pub fn outcome(self, verdict: Verdict) -> Outcome {
        match (self, verdict) {
            (_, Verdict::Allow) => Outcome::Allowed,
            (Mode::Audit, _) => Outcome::Unconsented,
            (Mode::Ask, Verdict::Ask) => Outcome::Pending,
            (Mode::Ask, Verdict::Block) | (Mode::Block, _) => Outcome::Blocked,
        }
    }
}

/// What the auditor did about a request (SPEC §8 `decision`).
#[derive(Serialize, Deserialize, Clone, Copy, PartialEq, Eq, Hash, Debug)]
#[serde(rename_all = "kebab-case")]
pub enum Outcome {
    Allowed,
    Blocked,
    Pending,
    /// Went out in `audit` mode although the verdict was not `allow`.
    Unconsented,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Allowed => "allowed",
            Outcome::Blocked => "blocked",
            Outcome::Pending => "pending",
            Outcome::Unconsented => "unconsented",
        }
    }
}

/// The kind of user-managed code behind a request (SPEC §6, §8 `source.kind`).
#[derive(Serialize, Deserialize, Clone, Copy, PartialEq, Eq, Hash, Debug)]
#[serde(rename_all = "kebab-case")]
pub enum SourceKind {
    Gadget,
    UserScript,
    SiteScript,
    Script,
    Extension,
    Page,
}

/// The initiator of a request (SPEC §6, §8 `source`).
#[derive(Serialize, Deserialize, Clone, PartialEq, Eq, Debug)]
#[serde(rename_all = "camelCase")]
pub struct Source {
    pub kind: SourceKind,
    /// Gadget name, user-script page title, `site`, the script URL, or the extension id.
    pub name: Option<String>,
    /// The URL of the frame that was attributed (script, batch, or page).
    pub url: Option<String>,
    /// The wiki (host) a user script or gadget came from, when it is not the page's own.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub wiki: Option<String>,
    pub line: Option<u32>,
    pub column: Option<u32>,
    /// Loaders from outermost to innermost, e.g. `["gadget:HotCat", "script:https://x/lib.js"]`.
    pub chain: Vec<String>,
    /// True when the attribution rests on something the code could fake (`//# sourceURL`, eval).
    pub spoofable: bool,
}

impl Source {
    /// The page itself or MediaWiki: no user-managed frame was on the stack.
    pub fn page() -> Source {
        Source::named(SourceKind::Page, None)
    }

    pub fn named(kind: SourceKind, name: Option<String>) -> Source {
        Source {
            kind,
            name,
            url: None,
            wiki: None,
            line: None,
            column: None,
            chain: Vec::new(),
            spoofable: false,
        }
    }

    /// The consent scope this source falls under (SPEC §7 `scope`), e.g. `gadget:HotCat`.
    /// `None` for the page and extensions, which only `*` rules cover.
    pub fn scope(&self) -> Option<String> {
        let name = self.name.as_deref();
        match (self.kind, name) {
            (SourceKind::Gadget, Some(n)) => Some(format!("gadget:{n}")),
            (SourceKind::UserScript, Some(n)) => Some(format!("user-script:{n}")),
            (SourceKind::SiteScript, _) => Some("site-script".to_string()),
            (SourceKind::Script, Some(n)) => Some(format!("script:{n}")),
            _ => None,
        }
    }
}
