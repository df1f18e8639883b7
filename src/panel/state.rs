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

/// A box in CSS pixels (viewport coordinates).
#[derive(Clone, Copy, PartialEq, Debug)]
pub struct Rect {
    pub x: f64,
    pub y: f64,
    pub w: f64,
    pub h: f64,
}

impl Rect {
    /// Whether the two boxes share any area (touching edges do not count).
    pub fn overlaps(&self, o: &Rect) -> bool {
        self.x < o.x + o.w && o.x < self.x + self.w && self.y < o.y + o.h && o.y < self.y + self.h
    }
}

/// Where the panel opens when the user has not moved it (issue 3/7 item 1: it never covers
/// the wiki's own edit controls by default).
#[derive(Clone, Copy, PartialEq, Debug)]
pub enum Placement {
    /// The stylesheet's place: bottom left, above the badge, full size.
    Default,
    /// A free box clear of every control (the panel is sized to it).
    At(Rect),
    /// No free box is big enough for the panel: only its title bar shows (Expand shows it
    /// all, where the user wants it), at `x`, `y`, `w` wide.
    Collapsed(Rect),
}

/// The panel's full size in a viewport (the stylesheet's `min(880px, 100vw - 16px)` and
/// `min(500px, 100vh - 64px)`).
pub fn panel_size(vw: f64, vh: f64) -> (f64, f64) {
    ((vw - 16.0).clamp(0.0, 880.0), (vh - 64.0).clamp(0.0, 500.0))
}

/// Smallest useful open panel, and a title bar's height.
const MIN_W: f64 = 360.0;
const MIN_H: f64 = 240.0;
const BAR_H: f64 = 44.0;
const BAR_MIN_W: f64 = 240.0;
/// Space kept between the panel and a control or the viewport's edge.
const GAP: f64 = 8.0;
/// Controls taken into account (the biggest first): enough for any edit form.
const MAX_AVOID: usize = 16;

/// The default placement in a `vw`×`vh` viewport, given the boxes of the wiki's edit
/// controls on screen (`avoid`; empty on a page that is not an edit form). The stylesheet's
/// place is kept if it covers none of them; otherwise the free box (between the controls and
/// the viewport's edges) that holds most of the panel, preferring boxes nearer the bottom
/// left; if none holds a useful panel, the title bar alone where it covers nothing.
pub fn default_placement(avoid: &[Rect], vw: f64, vh: f64) -> Placement {
    let ok = |v: f64| v.is_finite();
    if !(ok(vw) && ok(vh)) || vw <= 0.0 || vh <= 0.0 {
        return Placement::Default;
    }
    let screen = Rect {
        x: 0.0,
        y: 0.0,
        w: vw,
        h: vh,
    };
    let mut avoid: Vec<Rect> = avoid
        .iter()
        .filter(|r| [r.x, r.y, r.w, r.h].into_iter().all(ok) && r.w > 0.0 && r.h > 0.0)
        .filter(|r| r.overlaps(&screen))
        .copied()
        .collect();
    crate::sort::sort_by(&mut avoid, |a, b| (b.w * b.h).total_cmp(&(a.w * a.h)));
    avoid.truncate(MAX_AVOID);
    let (pw, ph) = panel_size(vw, vh);
    let default = Rect {
        x: GAP,
        y: vh - 48.0 - ph,
        w: pw,
        h: ph,
    };
    if !avoid.iter().any(|r| r.overlaps(&default)) {
        return Placement::Default;
    }
    // Candidate edges: the viewport's and each control's, a gap away.
    let mut x0s = vec![GAP];
    let mut x1s = vec![vw - GAP];
    let mut y0s = vec![GAP];
    let mut y1s = vec![vh - GAP];
    for r in &avoid {
        x0s.push(r.x + r.w + GAP);
        x1s.push(r.x - GAP);
        y0s.push(r.y + r.h + GAP);
        y1s.push(r.y - GAP);
    }
    let free = |b: &Rect| {
        b.x >= 0.0
            && b.y >= 0.0
            && b.x + b.w <= vw
            && b.y + b.h <= vh
            && !avoid.iter().any(|r| r.overlaps(b))
    };
    // The best free box at least `min_w`×`min_h`: most of the panel shown, then lowest,
    // then leftmost. The panel takes its full size or the box's, whichever is smaller,
    // in the box's bottom-left corner.
    let search = |min_w: f64, min_h: f64, want_h: f64| -> Option<Rect> {
        let mut best: Option<(f64, f64, f64, Rect)> = None;
        for &x0 in &x0s {
            for &x1 in &x1s {
                if x1 - x0 < min_w {
                    continue;
                }
                let w = (x1 - x0).min(pw);
                for &y0 in &y0s {
                    for &y1 in &y1s {
                        if y1 - y0 < min_h {
                            continue;
                        }
                        let h = (y1 - y0).min(want_h);
                        let b = Rect {
                            x: x0,
                            y: y1 - h,
                            w,
                            h,
                        };
                        if !free(&Rect {
                            x: x0,
                            y: y0,
                            w: x1 - x0,
                            h: y1 - y0,
                        }) {
                            continue;
                        }
                        let score = (w * h, b.y + b.h, -b.x);
                        let better = match &best {
                            None => true,
                            Some((a, by, bx, _)) => (score.0, score.1, score.2) > (*a, *by, *bx),
                        };
                        if better {
                            best = Some((score.0, score.1, score.2, b));
                        }
                    }
                }
            }
        }
        best.map(|(_, _, _, b)| b)
    };
    if let Some(b) = search(MIN_W.min(pw), MIN_H.min(ph), ph) {
        return Placement::At(b);
    }
    if let Some(b) = search(BAR_MIN_W.min(pw), BAR_H, BAR_H) {
        return Placement::Collapsed(b);
    }
    // Nowhere is free (a tiny window): the title bar alone, at the default corner.
    Placement::Collapsed(Rect {
        x: GAP,
        y: (vh - 48.0 - BAR_H).max(0.0),
        w: pw.min(BAR_MIN_W.max(360.0)),
        h: BAR_H,
    })
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

    #[test]
    fn default_placement_keeps_clear_of_edit_controls() {
        let r = |x: f64, y: f64, w: f64, h: f64| Rect { x, y, w, h };
        // No controls, or controls elsewhere: the stylesheet's place.
        assert_eq!(default_placement(&[], 1366.0, 768.0), Placement::Default);
        assert_eq!(
            default_placement(&[r(1000.0, 0.0, 300.0, 100.0)], 1366.0, 768.0),
            Placement::Default
        );
        // A textarea across the content column, the summary and save below it, with room
        // on the right of the summary: a smaller panel there, covering nothing.
        let form = [
            r(176.0, 150.0, 1170.0, 300.0),
            r(176.0, 470.0, 700.0, 30.0),
            r(176.0, 520.0, 120.0, 32.0),
        ];
        let Placement::At(b) = default_placement(&form, 1366.0, 768.0) else {
            panic!("{:?}", default_placement(&form, 1366.0, 768.0));
        };
        assert!(form.iter().all(|c| !c.overlaps(&b)), "{b:?}");
        assert!(
            b.w >= MIN_W && b.h >= MIN_H && b.x + b.w <= 1366.0 && b.y + b.h <= 768.0,
            "{b:?}"
        );
        // The form fills the screen: the title bar alone, where it covers nothing.
        let full = [r(176.0, 120.0, 1180.0, 560.0), r(176.0, 690.0, 900.0, 30.0)];
        let Placement::Collapsed(b) = default_placement(&full, 1366.0, 768.0) else {
            panic!("{:?}", default_placement(&full, 1366.0, 768.0));
        };
        assert!(
            full.iter().all(|c| !c.overlaps(&b)) && b.h == BAR_H,
            "{b:?}"
        );
        // Garbage boxes are ignored.
        assert_eq!(
            default_placement(
                &[r(f64::NAN, 0.0, 1e9, 1e9), r(0.0, 0.0, -5.0, 10.0)],
                800.0,
                600.0
            ),
            Placement::Default
        );
    }
}
