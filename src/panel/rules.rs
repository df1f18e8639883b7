//! The consent rules the panel's actions write (SPEC §7, §9): "allow / block this destination
//! for this source, or for every source, per directive". The JSON is one rule, as
//! `PanelHost::add_rule` takes it; the host validates it like any rule of a document.

use crate::events::Event;
use crate::json;
use crate::model::{Directive, Party, Verdict};
use crate::panel::text::source_key;

/// What an action is about: a destination, its directives, and the source it came from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RuleTarget {
    /// CSP source expression of the destination (see [`destination_expr`]).
    pub destination: String,
    pub directives: Vec<Directive>,
    /// The consent scope of the source (`gadget:NAME`…); `None` for the page and extensions,
    /// which only rules for every source cover.
    pub scope: Option<String>,
    /// The source as the panel names it (its key), for labels.
    pub source_key: String,
}

/// Who a rule is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum For {
    ThisSource,
    Everyone,
}

/// The destination of a rule for a request: its origin; for a Cloud Services tool in the
/// legacy path form (`tools.wmflabs.org/NAME/…`), the origin and the tool's path, so that the
/// consent stays per tool (SPEC §1, §3).
pub fn destination_expr(origin: &str, party: Party, tool: Option<&str>, url: &str) -> String {
    if party == Party::Cloud {
        if let (Some(tool), Ok(u)) = (tool, url::Url::parse(url)) {
            let legacy = matches!(
                u.host_str(),
                Some("tools.wmflabs.org") | Some("tools-static.wmflabs.org")
            );
            let prefix = format!("/{tool}/");
            if legacy && u.path().starts_with(&prefix) {
                return format!("{origin}{prefix}");
            }
        }
    }
    origin.to_string()
}

impl RuleTarget {
    /// The target of an action on one request: its destination and directive, its source.
    pub fn for_event(e: &Event) -> RuleTarget {
        RuleTarget {
            destination: destination_expr(&e.origin, e.party, e.tool.as_deref(), &e.url),
            directives: vec![e.directive],
            scope: e.source.scope(),
            source_key: source_key(&e.source),
        }
    }

    /// Whether a rule for this source alone can be written.
    pub fn has_scope(&self) -> bool {
        self.scope.is_some()
    }

    /// The directives as a rule lists them (`["*"]` when empty).
    pub fn directive_names(&self) -> Vec<&'static str> {
        if self.directives.is_empty() {
            vec!["*"]
        } else {
            self.directives.iter().map(|d| d.as_str()).collect()
        }
    }
}

/// The rule JSON an action writes, or `None` when a rule for this source alone was asked for
/// a source that has no consent scope.
pub fn rule_json(
    target: &RuleTarget,
    decision: Verdict,
    who: For,
    added: Option<&str>,
) -> Option<String> {
    let scope = match who {
        For::Everyone => "*",
        For::ThisSource => target.scope.as_deref()?,
    };
    let mut out = String::with_capacity(128);
    out.push_str("{\"source\":");
    json::write_string(&mut out, &target.destination);
    out.push_str(",\"directives\":[");
    for (i, d) in target.directive_names().iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        json::write_string(&mut out, d);
    }
    out.push_str("],\"scope\":");
    json::write_string(&mut out, scope);
    out.push_str(",\"decision\":");
    json::write_string(&mut out, decision.as_str());
    if let Some(added) = added {
        out.push_str(",\"added\":");
        json::write_string(&mut out, added);
    }
    out.push('}');
    Some(out)
}
