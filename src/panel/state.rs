//! What the panel remembers between page views (issue 3/7 item 1): open or closed, collapsed,
//! where it was moved to, which tab was shown. Stored as JSON in `localStorage` under
//! [`STORAGE_KEY`]; the stored text is page data like any other (another script can write it),
//! so reading it never fails: anything invalid falls back to the default field by field.

use crate::json::JsonValue;

/// The `localStorage` key (not a message key).
pub const STORAGE_KEY: &str = "tpr-auditor-panel";
/// Longest stored text read (anything longer is someone else's data).
const MAX_STORED: usize = 4096;

/// The panel's tabs, in order.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default, Hash)]
pub enum Tab {
    #[default]
    Summary,
    Log,
    Destinations,
    Sources,
    Prompts,
    Consent,
    /// The static scan of the wiki's gadgets and the user's scripts (issue 7/7).
    Scan,
}

impl Tab {
    pub const ALL: [Tab; 7] = [
        Tab::Summary,
        Tab::Log,
        Tab::Destinations,
        Tab::Sources,
        Tab::Prompts,
        Tab::Consent,
        Tab::Scan,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Tab::Summary => "summary",
            Tab::Log => "log",
            Tab::Destinations => "destinations",
            Tab::Sources => "sources",
            Tab::Prompts => "prompts",
            Tab::Consent => "consent",
            Tab::Scan => "scan",
        }
    }

    pub fn parse(name: &str) -> Option<Tab> {
        Tab::ALL.into_iter().find(|t| t.as_str() == name)
    }

    pub fn index(self) -> usize {
        Tab::ALL.iter().position(|t| *t == self).unwrap_or(0)
    }

    /// The tab `delta` steps away, wrapping around (arrow keys in the tab list).
    pub fn step(self, delta: isize) -> Tab {
        let n = Tab::ALL.len() as isize;
        let i = (self.index() as isize + delta).rem_euclid(n);
        Tab::ALL[i as usize]
    }
}

/// The remembered state. `x`/`y` are the panel's top-left corner in CSS pixels once the user
/// moved it; `None` keeps the default place (bottom left, clear of the wiki's edit controls).
#[derive(Clone, Copy, PartialEq, Debug, Default)]
pub struct PanelState {
    pub open: bool,
    pub collapsed: bool,
    pub x: Option<f64>,
    pub y: Option<f64>,
    pub tab: Tab,
}

impl PanelState {
    /// Reads a stored text; every field that is missing or invalid takes its default.
    pub fn parse(text: Option<&str>) -> PanelState {
        let mut s = PanelState::default();
        let Some(doc) = text
            .filter(|t| t.len() <= MAX_STORED)
            .and_then(|t| crate::json::parse(t).ok())
        else {
            return s;
        };
        let v = &doc.value;
        let flag = |k: &str| match v.get(k).map(|x| &x.value) {
            Some(JsonValue::Bool(b)) => Some(*b),
            _ => None,
        };
        if let Some(b) = flag("open") {
            s.open = b;
        }
        if let Some(b) = flag("collapsed") {
            s.collapsed = b;
        }
        let coord = |k: &str| {
            v.get(k)
                .and_then(|x| x.value.as_f64())
                .filter(|n| n.is_finite() && n.abs() < 1e6)
        };
        if let (Some(x), Some(y)) = (coord("x"), coord("y")) {
            s.x = Some(x);
            s.y = Some(y);
        }
        if let Some(tab) = v
            .get("tab")
            .and_then(|t| t.value.as_str())
            .and_then(Tab::parse)
        {
            s.tab = tab;
        }
        s
    }

    pub fn to_json(&self) -> String {
        let num = |v: Option<f64>| v.map_or_else(|| "null".to_string(), |n| format!("{n:?}"));
        format!(
            "{{\"open\":{},\"collapsed\":{},\"x\":{},\"y\":{},\"tab\":\"{}\"}}",
            self.open,
            self.collapsed,
            num(self.x),
            num(self.y),
            self.tab.as_str()
        )
    }
}

/// Keeps a box of `w`×`h` at (`x`, `y`) inside a `vw`×`vh` viewport, with at least `margin`
/// of it (or all of it, if smaller) reachable, so a panel moved on a big screen is never lost
/// on a small one.
pub fn clamp_position(x: f64, y: f64, w: f64, h: f64, vw: f64, vh: f64) -> (f64, f64) {
    let fix = |v: f64| if v.is_finite() { v } else { 0.0 };
    let (x, y, w, h, vw, vh) = (
        fix(x),
        fix(y),
        fix(w).max(0.0),
        fix(h).max(0.0),
        fix(vw),
        fix(vh),
    );
    let max_x = (vw - w).max(0.0);
    let max_y = (vh - h).max(0.0);
    (x.clamp(0.0, max_x), y.clamp(0.0, max_y))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_tolerant_parse() {
        let s = PanelState {
            open: true,
            collapsed: false,
            x: Some(40.0),
            y: Some(300.5),
            tab: Tab::Log,
        };
        assert_eq!(PanelState::parse(Some(&s.to_json())), s);
        assert_eq!(
            s.to_json(),
            r#"{"open":true,"collapsed":false,"x":40.0,"y":300.5,"tab":"log"}"#
        );
        // Broken, hostile or foreign text: defaults, field by field.
        assert_eq!(PanelState::parse(None), PanelState::default());
        assert_eq!(PanelState::parse(Some("{nope")), PanelState::default());
        assert_eq!(PanelState::parse(Some("[1,2]")), PanelState::default());
        let p = PanelState::parse(Some(
            r#"{"open":"yes","tab":"<img>","x":1e308,"y":5,"collapsed":true}"#,
        ));
        assert_eq!(
            p,
            PanelState {
                collapsed: true,
                ..PanelState::default()
            }
        );
        let long = format!(r#"{{"open":true,"pad":"{}"}}"#, "x".repeat(5000));
        assert!(!PanelState::parse(Some(&long)).open);
        // Only x with y counts as a position.
        assert_eq!(PanelState::parse(Some(r#"{"x":5}"#)).x, None);
    }

    #[test]
    fn tabs_wrap() {
        assert_eq!(Tab::Summary.step(-1), Tab::Scan);
        assert_eq!(Tab::Scan.step(1), Tab::Summary);
        assert_eq!(Tab::Consent.step(1), Tab::Scan);
        assert_eq!(Tab::Log.step(1), Tab::Destinations);
    }

    #[test]
    fn positions_stay_reachable() {
        assert_eq!(
            clamp_position(900.0, 700.0, 400.0, 300.0, 1000.0, 800.0),
            (600.0, 500.0)
        );
        assert_eq!(
            clamp_position(-50.0, -5.0, 400.0, 300.0, 1000.0, 800.0),
            (0.0, 0.0)
        );
        // A viewport smaller than the panel pins it to the corner.
        assert_eq!(
            clamp_position(10.0, 10.0, 400.0, 300.0, 300.0, 200.0),
            (0.0, 0.0)
        );
        assert_eq!(
            clamp_position(f64::NAN, 5.0, 10.0, 10.0, 100.0, 100.0),
            (0.0, 5.0)
        );
    }
}
