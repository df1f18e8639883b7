//! The closed panel's cost per event (issue 3/7 item 12: "panel-closed overhead per event
//! ≤ 2 µs over the no-panel path"), natively.
//!
//! While the panel is closed, the page runtime still tells it which events changed, and the
//! panel counts them into its aggregates ([`Tracker::observe`]: the per-destination and
//! per-source counts that outlive the ring buffer). That is the whole per-event cost of a
//! closed panel; the badge is redrawn at most once per animation frame, not per event.
//!
//! Two benchmarks over the same 10,000 observations (12 request shapes, 40 gadgets, each
//! gadget making a run of 5 requests, every URL distinct so none folds into another):
//! - `session-observe`: [`Session::observe`] alone — the core of the no-panel path (stack
//!   parsing, attribution, classification, decision, the event record);
//! - `session-observe+closed-panel`: the same plus, per event, what `Panel::notify` does
//!   while closed: `Tracker::observe`, `forget_before`, the summary read;
//! - `closed-panel-alone`: `Tracker::observe` of the same 10,000 recorded events, without the
//!   session around it (the precise figure; the difference of the two above is within noise).
//!
//! Run: `cargo bench --bench panel`; per event = criterion's time / 10,000. In the page
//! (WebAssembly, opt-level "z") the same work costs about ten times more: `tests/e2e/panel.mjs`
//! prints the closed panel's per-event time measured in the page (`tprAuditor.panel.stats()`).

use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use std::hint::black_box;
use tpr_auditor::assess::Auditor;
use tpr_auditor::carried::PageValues;
use tpr_auditor::classify::Preset;
use tpr_auditor::consent::ConsentList;
use tpr_auditor::events::{NoBatchSource, Observation, Observed, Session};
use tpr_auditor::model::Channel;
use tpr_auditor::panel::aggregate::Tracker;

const PAGE: &str = "https://en.wikipedia.org/wiki/Main_Page";
const N: usize = 10_000;

fn observations() -> Vec<Observation> {
    let shapes: [(Channel, &str); 12] = [
        (
            Channel::Fetch,
            "https://en.wikipedia.org/w/api.php?action=query&format=json&list=search&n={i}",
        ),
        (
            Channel::Script,
            "https://en.wikipedia.org/w/load.php?modules=ext.gadget.X{i}&only=scripts",
        ),
        (
            Channel::Img,
            "https://upload.wikimedia.org/wikipedia/commons/thumb/a/ab/F{i}.jpg/120px-F{i}.jpg",
        ),
        (
            Channel::Fetch,
            "https://xtools.toolforge.org/api/page/articleinfo/en.wikipedia.org/P{i}",
        ),
        (Channel::Fetch, "https://api.wmcloud.org/v1/lookup?q={i}"),
        (
            Channel::Style,
            "https://fonts.googleapis.com/css2?family=Roboto{i}",
        ),
        (
            Channel::Script,
            "https://cdn.jsdelivr.net/npm/lib@1.{i}/dist/lib.min.js",
        ),
        (Channel::Beacon, "https://stats.example.com/collect?e={i}"),
        (Channel::Fetch, "http://localhost:8000/dev?i={i}"),
        (Channel::Websocket, "wss://ws.example.net/live?c={i}"),
        (Channel::Img, "https://tracker.example.org/pixel.gif?u={i}"),
        (
            Channel::Fetch,
            "https://www.wikidata.org/w/api.php?action=wbgetentities&ids=Q{i}",
        ),
    ];
    (0..N)
        .map(|i| {
            let (channel, url) = shapes[i % shapes.len()];
            let mut obs = Observation::new(channel, url.replace("{i}", &i.to_string()));
            let gadget = (i / 5) % 40;
            obs.stack = Some(format!(
                "Error\n    at probe (https://en.wikipedia.org/w/load.php?debug=1&modules=ext.gadget.G{gadget}&only=scripts:3:5)"
            ));
            obs
        })
        .collect()
}

fn session() -> Session {
    let values = PageValues::default();
    let auditor = Auditor::new(
        PAGE,
        &[Preset::wikimedia_production()],
        &values,
        ConsentList::default(),
    )
    .expect("page URL");
    Session::new(auditor, &values)
}

/// Feeds every observation; with `tracker`, also counts each event as the closed panel does.
fn run(obs: &[Observation], s: &mut Session, mut tracker: Option<&mut Tracker>) -> u64 {
    let mut flagged = 0;
    for o in obs {
        let id = match s.observe(o, &mut NoBatchSource) {
            Ok(Observed::New(id) | Observed::Updated(id)) => id,
            _ => continue,
        };
        if let Some(t) = tracker.as_deref_mut() {
            if let Some(e) = s.event(id) {
                t.observe(e);
            }
            if let Some(first) = s.events().next() {
                t.forget_before(first.id);
            }
            let m = s.summary();
            flagged += m.unconsented + m.blocked;
        }
    }
    flagged
}

fn bench(c: &mut Criterion) {
    let obs = observations();
    let mut g = c.benchmark_group("panel-per-10k-events");
    g.throughput(Throughput::Elements(N as u64));
    g.bench_function("session-observe", |b| {
        b.iter_batched(
            session,
            |mut s| black_box(run(&obs, &mut s, None)),
            BatchSize::LargeInput,
        )
    });
    g.bench_function("session-observe+closed-panel", |b| {
        b.iter_batched(
            || (session(), Tracker::new()),
            |(mut s, mut t)| black_box(run(&obs, &mut s, Some(&mut t))),
            BatchSize::LargeInput,
        )
    });
    // The closed panel's part alone, over the events the session recorded: the same work as
    // the difference of the two above, without the session's noise around it.
    let mut s = session();
    s.set_cap(N);
    run(&obs, &mut s, None);
    let events: Vec<_> = s.events().collect();
    g.bench_function("closed-panel-alone", |b| {
        b.iter_batched(
            Tracker::new,
            |mut t| {
                for e in &events {
                    black_box(t.observe(e));
                }
                t
            },
            BatchSize::LargeInput,
        )
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
