//! Every user-visible text the panel builds from the model, through the message catalog.
//! Icons come with text (never colour alone, issue 3/7 item 5). Values from the page or the
//! network pass through [`text::display`](crate::panel::text::display) first.

use crate::consent::RuleRef;
use crate::events::{BlockedBy, Event, Observer};
use crate::model::{CarryKind, Directive, Mode, Outcome, Party, Source, SourceKind, Tier, Verdict};
use crate::panel::aggregate::Risk;
use crate::panel::i18n::Catalog;
use crate::panel::rules::{For, RuleTarget};
use crate::panel::text::{display, frame_module, row_text, DETAIL_CHARS};

/// A glyph per tier, also drawn in the badge (shape, not only colour).
pub fn tier_icon(t: Option<Tier>) -> &'static str {
    match t {
        Some(Tier::Executable) => "▲",
        Some(Tier::Data) => "◆",
        Some(Tier::Passive) => "●",
        None => "✓",
    }
}

pub fn tier_name(cat: &Catalog, t: Option<Tier>) -> String {
    cat.msg(match t {
        Some(Tier::Executable) => "tpr-tier-executable",
        Some(Tier::Data) => "tpr-tier-data",
        Some(Tier::Passive) => "tpr-tier-passive",
        None => "tpr-tier-none",
    })
}

pub fn decision_icon(d: Outcome) -> &'static str {
    match d {
        Outcome::Blocked => "⊘",
        Outcome::Unconsented => "!",
        Outcome::Pending => "?",
        Outcome::Allowed => "✓",
    }
}

pub fn decision_name(cat: &Catalog, d: Outcome) -> String {
    cat.msg(match d {
        Outcome::Blocked => "tpr-decision-blocked",
        Outcome::Unconsented => "tpr-decision-unconsented",
        Outcome::Pending => "tpr-decision-pending",
        Outcome::Allowed => "tpr-decision-allowed",
    })
}

/// A glyph per party (shape, not only colour), always drawn next to the party's name or with
/// the name as its text alternative: the wiki itself ⌂, Wikimedia ◎, Cloud Services ☁, a
/// third party ↗ (leaves the wiki's operator), this machine ⌘.
pub fn party_icon(p: Party) -> &'static str {
    match p {
        Party::First => "⌂",
        Party::Wikimedia => "◎",
        Party::Cloud => "☁",
        Party::Third => "↗",
        Party::Local => "⌘",
    }
}

pub fn party_name(cat: &Catalog, p: Party) -> String {
    cat.msg(match p {
        Party::Local => "tpr-party-local",
        Party::First => "tpr-party-first",
        Party::Wikimedia => "tpr-party-wikimedia",
        Party::Cloud => "tpr-party-cloud",
        Party::Third => "tpr-party-third",
    })
}

pub fn verdict_name(cat: &Catalog, v: Verdict) -> String {
    cat.msg(match v {
        Verdict::Allow => "tpr-verdict-allow",
        Verdict::Ask => "tpr-verdict-ask",
        Verdict::Block => "tpr-verdict-block",
    })
}

pub fn mode_name(cat: &Catalog, m: Mode) -> String {
    cat.msg(match m {
        Mode::Audit => "tpr-mode-audit",
        Mode::Ask => "tpr-mode-ask",
        Mode::Block => "tpr-mode-block",
    })
}

pub fn carry_name(cat: &Catalog, k: CarryKind) -> String {
    cat.msg(match k {
        CarryKind::User => "tpr-carry-user",
        CarryKind::Page => "tpr-carry-page",
        CarryKind::Revision => "tpr-carry-revision",
        CarryKind::Token => "tpr-carry-token",
        CarryKind::Cookies => "tpr-carry-cookies",
    })
}

pub fn risk_name(cat: &Catalog, r: Risk) -> String {
    cat.msg(match r {
        Risk::ExecutableThird => "tpr-risk-executable-third",
        Risk::Tokens => "tpr-risk-tokens",
        Risk::UserData => "tpr-risk-user-data",
        Risk::ExecutableCloud => "tpr-risk-executable-cloud",
        Risk::OtherThird => "tpr-risk-other-third",
        Risk::OtherCloud => "tpr-risk-other-cloud",
    })
}

/// "Gadget HotCat", "User script User:X/common.js", "The page"…
pub fn source_label(cat: &Catalog, s: &Source) -> String {
    let name = row_text(s.name.as_deref().unwrap_or(""));
    match s.kind {
        SourceKind::Gadget => cat.fmt("tpr-source-gadget", &[&name]),
        SourceKind::UserScript => cat.fmt("tpr-source-user-script", &[&name]),
        SourceKind::SiteScript => cat.fmt("tpr-source-site-script", &[&name]),
        SourceKind::Script => cat.fmt("tpr-source-script", &[&name]),
        SourceKind::Extension => cat.fmt("tpr-source-extension", &[&name]),
        SourceKind::Page => cat.msg("tpr-source-page"),
    }
}

/// The label of a source key (`gadget:NAME`…) when only the key is known.
pub fn source_key_label(cat: &Catalog, key: &str) -> String {
    let (kind, name) = key.split_once(':').unwrap_or((key, ""));
    let name = row_text(name);
    match kind {
        "gadget" => cat.fmt("tpr-source-gadget", &[&name]),
        "user-script" => cat.fmt("tpr-source-user-script", &[&name]),
        "site-script" => cat.fmt("tpr-source-site-script", &[&name]),
        "script" => cat.fmt("tpr-source-script", &[&name]),
        "extension" => cat.fmt("tpr-source-extension", &[&name]),
        _ => cat.msg("tpr-source-page"),
    }
}

/// The question of an `ask` prompt: "Gadget X wants to load a script from Y".
pub fn prompt_text(cat: &Catalog, e: &Event) -> String {
    let who = source_label(cat, &e.source);
    let dest = row_text(&e.origin);
    let key = match e.directive {
        Directive::ScriptSrc => "tpr-prompt-script-src",
        Directive::StyleSrc => "tpr-prompt-style-src",
        Directive::ImgSrc => "tpr-prompt-img-src",
        Directive::FontSrc => "tpr-prompt-font-src",
        Directive::ConnectSrc => "tpr-prompt-connect-src",
        Directive::FrameSrc => "tpr-prompt-frame-src",
        Directive::MediaSrc => "tpr-prompt-media-src",
        Directive::WorkerSrc => "tpr-prompt-worker-src",
        Directive::ObjectSrc => "tpr-prompt-object-src",
        Directive::ManifestSrc => "tpr-prompt-manifest-src",
    };
    cat.fmt(key, &[&who, &dest])
}

/// Why a request got its verdict: the rule or the party default.
pub fn rule_text(cat: &Catalog, r: &RuleRef) -> String {
    match r {
        RuleRef::Rule {
            index,
            source,
            directives,
            scope,
            decision,
        } => cat.fmt(
            "tpr-details-rule-rule",
            &[
                &(index + 1).to_string(),
                &verdict_name(cat, *decision),
                &row_text(source),
                &row_text(scope),
                &directives.join(" "),
            ],
        ),
        RuleRef::Default { name } => {
            let key = match name.as_str() {
                "wikimedia" => "tpr-default-wikimedia",
                "local" => "tpr-default-local",
                "cloud" => "tpr-default-cloud",
                "third" => "tpr-default-third",
                "executable-third" => "tpr-default-executable-third",
                _ => "tpr-default-first",
            };
            cat.fmt("tpr-details-rule-default", &[&cat.msg(key)])
        }
    }
}

/// The label of an allow/block action on a target.
pub fn action_label(cat: &Catalog, t: &RuleTarget, decision: Verdict, who: For) -> String {
    let dest = row_text(&t.destination);
    let dirs = t.directive_names().join(" ");
    let source = source_key_label(cat, &t.source_key);
    let key = match (decision, who) {
        (Verdict::Block, For::ThisSource) => "tpr-action-block-source",
        (Verdict::Block, For::Everyone) => "tpr-action-block-all",
        (_, For::ThisSource) => "tpr-action-allow-source",
        (_, For::Everyone) => "tpr-action-allow-all",
    };
    cat.fmt(key, &[&dest, &dirs, &source])
}

/// How a field of the details pane looks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Tone {
    Normal,
    /// Monospace (URLs, code positions).
    Code,
    Warning,
    Danger,
}

/// One field of the details pane.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Field {
    /// Stable name, for tests and styling (`url`, `method`, …).
    pub id: &'static str,
    pub label: String,
    pub value: String,
    pub tone: Tone,
}

fn field(id: &'static str, label: String, value: String, tone: Tone) -> Field {
    Field {
        id,
        label,
        value,
        tone,
    }
}

/// The details pane of one request (SPEC §9): full URL, method, directive, carried data,
/// source with its chain, the mapped stack, the verdict and what produced it, observers.
pub fn details(cat: &Catalog, e: &Event) -> (Vec<Field>, Vec<String>) {
    let mut f = Vec::new();
    let (url, clipped) = display(&e.url, DETAIL_CHARS);
    let url = if clipped {
        cat.fmt(
            "tpr-details-clipped",
            &[&url, &e.url.chars().count().to_string()],
        )
    } else {
        url
    };
    f.push(field("url", cat.msg("tpr-details-url"), url, Tone::Code));
    f.push(field(
        "method",
        cat.msg("tpr-details-method"),
        row_text(&e.method),
        Tone::Code,
    ));
    f.push(field(
        "channel",
        cat.msg("tpr-details-channel"),
        e.channel.as_str().into(),
        Tone::Code,
    ));
    f.push(field(
        "directive",
        cat.msg("tpr-details-directive"),
        e.directive.as_str().into(),
        Tone::Code,
    ));
    let mut party = party_name(cat, e.party);
    if !e.site.is_empty() {
        party = cat.fmt("tpr-details-party-site", &[&party, &row_text(&e.site)]);
    }
    if let Some(tool) = &e.tool {
        party = cat.fmt("tpr-details-party-tool", &[&party, &row_text(tool)]);
    }
    f.push(field(
        "party",
        cat.msg("tpr-details-party"),
        party,
        Tone::Normal,
    ));
    let tier_tone = match e.tier {
        Tier::Executable => Tone::Danger,
        Tier::Data => Tone::Warning,
        Tier::Passive => Tone::Normal,
    };
    f.push(field(
        "tier",
        cat.msg("tpr-details-tier"),
        format!(
            "{} {}",
            tier_icon(Some(e.tier)),
            tier_name(cat, Some(e.tier))
        ),
        tier_tone,
    ));
    let carries = if e.carries.is_empty() {
        cat.msg("tpr-details-carries-none")
    } else {
        e.carries
            .iter()
            .map(|k| carry_name(cat, *k))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let carries_tone = if e.carries.contains(&CarryKind::Token) {
        Tone::Danger
    } else if e.carries.is_empty() {
        Tone::Normal
    } else {
        Tone::Warning
    };
    f.push(field(
        "carries",
        cat.msg("tpr-details-carries"),
        carries,
        carries_tone,
    ));
    let mut source = source_label(cat, &e.source);
    if let Some(url) = &e.source.url {
        let at = cat.fmt(
            "tpr-details-source-at",
            &[
                &row_text(url),
                &e.source.line.map_or_else(|| "?".into(), |l| l.to_string()),
                &e.source
                    .column
                    .map_or_else(|| "?".into(), |c| c.to_string()),
            ],
        );
        source = format!("{source} — {at}");
    }
    f.push(field(
        "source",
        cat.msg("tpr-details-source"),
        source,
        Tone::Normal,
    ));
    if !e.source.chain.is_empty() {
        let chain = e
            .source
            .chain
            .iter()
            .map(|c| row_text(c))
            .collect::<Vec<_>>()
            .join(" → ");
        f.push(field(
            "chain",
            cat.msg("tpr-details-chain"),
            chain,
            Tone::Code,
        ));
    }
    if e.source.spoofable {
        f.push(field(
            "spoofable",
            cat.msg("tpr-details-attribution"),
            cat.msg("tpr-details-spoofable"),
            Tone::Warning,
        ));
    }
    if e.attribution_pending {
        f.push(field(
            "pending",
            cat.msg("tpr-details-attribution"),
            cat.msg("tpr-details-attribution-pending"),
            Tone::Normal,
        ));
    }
    f.push(field(
        "verdict",
        cat.msg("tpr-details-verdict"),
        verdict_name(cat, e.verdict),
        Tone::Normal,
    ));
    f.push(field(
        "decision",
        cat.msg("tpr-details-decision"),
        format!(
            "{} {}",
            decision_icon(e.decision),
            decision_name(cat, e.decision)
        ),
        match e.decision {
            Outcome::Blocked | Outcome::Unconsented => Tone::Danger,
            Outcome::Pending => Tone::Warning,
            Outcome::Allowed => Tone::Normal,
        },
    ));
    f.push(field(
        "rule",
        cat.msg("tpr-details-rule"),
        rule_text(cat, &e.rule),
        Tone::Normal,
    ));
    if let Some(b) = e.blocked_by {
        let by = cat.msg(match b {
            BlockedBy::Consent => "tpr-details-blocked-by-consent",
            BlockedBy::WikiCsp => "tpr-details-blocked-by-wiki-csp",
        });
        f.push(field(
            "blocked-by",
            cat.msg("tpr-details-blocked-by"),
            by,
            Tone::Danger,
        ));
    }
    if !e.enforceable {
        f.push(field(
            "enforceable",
            cat.msg("tpr-details-enforceable"),
            cat.msg("tpr-details-enforceable-no"),
            Tone::Warning,
        ));
    }
    let observers = e
        .observed_by
        .iter()
        .map(|o| {
            cat.msg(match o {
                Observer::Hook => "tpr-observer-hook",
                Observer::Performance => "tpr-observer-performance",
                Observer::Csp => "tpr-observer-csp",
                Observer::Network => "tpr-observer-network",
            })
        })
        .collect::<Vec<_>>()
        .join(", ");
    f.push(field(
        "observed-by",
        cat.msg("tpr-details-observed-by"),
        observers,
        Tone::Normal,
    ));
    f.push(field(
        "count",
        cat.msg("tpr-details-count"),
        e.count.to_string(),
        Tone::Normal,
    ));
    let frames = e
        .frames
        .iter()
        .map(|fr| {
            let place = format!("{}:{}:{}", row_text(&fr.url), fr.line, fr.column);
            let func = fr
                .function
                .as_deref()
                .map(row_text)
                .unwrap_or_else(|| cat.msg("tpr-details-frame-anonymous"));
            // The core's mapping (batch positions included) first, the URL's own claim else.
            match fr.module.clone().or_else(|| frame_module(&fr.url)) {
                Some(m) => cat.fmt("tpr-details-frame-module", &[&func, &place, &row_text(&m)]),
                None => cat.fmt("tpr-details-frame", &[&func, &place]),
            }
        })
        .collect();
    (f, frames)
}
