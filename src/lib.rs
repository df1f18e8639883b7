//! # TPR Auditor core
//!
//! The pure part of the auditor: everything that decides, and nothing that touches a browser.
//! Modules mirror `SPEC.md`:
//!
//! | module | SPEC | what it answers |
//! |---|---|---|
//! | [`model`] | §2, §8 | the vocabulary: channel, directive, party, tier, verdict, source |
//! | [`psl`] | §3 | registrable domain of a host (Public Suffix List, private section included) |
//! | [`classify`] | §3 | party, site, tool and tier of a request on a given page |
//! | [`carried`] | §3 | which user-identifying values a request carries |
//! | [`consent`] | §7 | the consent list: parse, validate, decide, export |
//! | [`assess`] | §3, §7, §8 | the per-request pipeline: classify, detect, decide |
//! | [`attribution`] | §6 | stack parsing and MediaWiki source resolution |
//! | [`events`] | §4, §8 | the page's event log: merge observers, fold repeats, summary |
//! | `scanner` | §3, §4 | static scan of gadget JavaScript/CSS: what it *can* contact (feature `scanner`) |
//! | [`panel`] | §9 | the live panel's view model: aggregates, filters, groupings, i18n |
//! | [`urls`] | §3 | URL parsing of page text; non-ASCII hosts mapped by the browser's parser |
//!
//! The WebAssembly API lives in `web` (only on `wasm32`) and is a thin layer over these.

pub mod assess;
pub mod attribution;
pub mod carried;
pub mod classify;
pub mod consent;
pub mod events;
pub mod extension;
pub mod json;
pub mod model;
pub mod panel;
pub mod psl;
#[cfg(feature = "scanner")]
pub mod scanner;
pub mod sort;
pub mod urls;

#[cfg(target_arch = "wasm32")]
pub mod web;
