//! The browser extension's pure logic (SPEC §10, issue 5/7): nothing here touches a browser,
//! so all of it is tested natively; `web::extension` exposes it to the extension's own pages
//! and background through wasm-bindgen.
//!
//! * [`dnr`]: the consent list compiled to `declarativeNetRequest` rules for `block` mode.
//! * [`sync_store`]: the consent document split across `storage.sync` items within the
//!   browser's quotas, and joined back (with a checksum: a half-synced set is never used).
//! * [`merge_page_save`]: a page's save merged into the stored list without reverting what
//!   was changed elsewhere.

pub mod dnr;
pub mod sync_store;

use crate::consent::{merge, ConsentList, Defaults};
use crate::model::Verdict;

/// A page's save merged into what `storage.sync` holds (a three-way merge).
///
/// Pages keep their own copy of the list and save it whole; another tab, the options page or
/// another device may have changed the stored list since the page last adopted it (`base`).
/// Rules: [`merge`] (every rule of both is kept, the newer decision about one destination
/// wins). Mode and each default: the page's value if the page changed it from `base`, else
/// the stored value, so a page that only added a rule never reverts a mode set elsewhere.
/// Without a stored list the page's list is taken as it is.
pub fn merge_page_save(
    local: &ConsentList,
    base: &ConsentList,
    stored: Option<&ConsentList>,
) -> ConsentList {
    let Some(stored) = stored else {
        return local.clone();
    };
    let mut out = merge(local, stored);
    out.mode = if local.mode == base.mode {
        stored.mode
    } else {
        local.mode
    };
    let pick = |l: Verdict, b: Verdict, s: Verdict| if l == b { s } else { l };
    let (l, b, s) = (&local.defaults, &base.defaults, &stored.defaults);
    out.defaults = Defaults {
        wikimedia: pick(l.wikimedia, b.wikimedia, s.wikimedia),
        local: pick(l.local, b.local, s.local),
        cloud: pick(l.cloud, b.cloud, s.cloud),
        third: pick(l.third, b.third, s.third),
        executable_third: pick(l.executable_third, b.executable_third, s.executable_third),
        first: pick(l.first, b.first, s.first),
    };
    out
}
