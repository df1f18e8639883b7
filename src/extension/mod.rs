//! The browser extension's pure logic (SPEC §10, issue 5/7): nothing here touches a browser,
//! so all of it is tested natively; `web::extension` exposes it to the extension's own pages
//! and background through wasm-bindgen.
//!
//! * [`dnr`]: the consent list compiled to `declarativeNetRequest` rules for `block` mode.
//! * [`sync_store`]: the consent document split across `storage.sync` items within the
//!   browser's quotas, and joined back (with a checksum: a half-synced set is never used).

pub mod dnr;
pub mod sync_store;
