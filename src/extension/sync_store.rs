//! The consent document in `storage.sync` (SPEC §7 "Stored (a)", issue 5/7 item 3).
//!
//! `storage.sync` limits every item to [`SyncLimits::per_item`] bytes (the key plus the JSON
//! text of the value, UTF-8) and the whole area to [`SyncLimits::quota`] bytes. A consent list
//! with notes easily passes 8 KiB, so it is stored as:
//!
//! * `consent` → `{"format": "tpr-consent/chunks", "version": 1, "chunks": N, "length": L,
//!   "checksum": "fnv1a32 hex"}`
//! * `consent.0` … `consent.{N-1}` → consecutive pieces of the document text.
//!
//! The text is first made compact (whitespace outside strings removed; nothing else changes,
//! so it parses to the same list). [`plan`] computes every item of one write, or refuses with
//! a [`QuotaError`] saying how many bytes were needed and how many are free: the caller then
//! writes nothing, so the stored list stays as it was (no rule is lost by a write that could
//! not fit). [`join`] rebuilds the text and checks the count, length and checksum, so a set of
//! items another device is still syncing is recognised as incomplete instead of being read.

use serde_json::{json, Map, Value};
use std::fmt;

/// The key of the meta item; chunks are `consent.0`, `consent.1`, ….
pub const META_KEY: &str = "consent";
pub const FORMAT: &str = "tpr-consent/chunks";

/// `chrome.storage.sync` quotas (the same numbers in Firefox).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SyncLimits {
    /// `QUOTA_BYTES`: the whole area.
    pub quota: usize,
    /// `QUOTA_BYTES_PER_ITEM`: one key plus its value's JSON.
    pub per_item: usize,
    /// `MAX_ITEMS`.
    pub max_items: usize,
}

impl Default for SyncLimits {
    fn default() -> Self {
        SyncLimits {
            quota: 102_400,
            per_item: 8_192,
            max_items: 512,
        }
    }
}

/// Why a consent document cannot be stored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct QuotaError {
    /// Bytes the document needs (all its items).
    pub needed: usize,
    /// Bytes free for it (the quota less what other items use).
    pub available: usize,
    pub quota: usize,
    /// Items it needs, and the most it may have.
    pub items: usize,
    pub max_items: usize,
}

impl fmt::Display for QuotaError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "the consent list needs {} bytes ({} items) of the browser's sync storage but only \
             {} bytes are free (the browser allows {} bytes and {} items in total): nothing was \
             saved and the stored list is unchanged; remove rules or shorten their notes, or \
             export the list to keep a copy",
            self.needed, self.items, self.available, self.quota, self.max_items,
        )
    }
}

/// One write: every item to set, and the chunk keys of an older, longer document to remove.
#[derive(Clone, Debug, PartialEq)]
pub struct SyncPlan {
    /// `(key, value)` in write order: the chunks, then the meta item.
    pub items: Vec<(String, Value)>,
    /// Bytes the items take, as the browser counts them.
    pub bytes: usize,
    /// Chunk count; keys `consent.N…` from an older document are stale.
    pub chunks: usize,
}

/// Why stored items do not give a document.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum JoinError {
    /// No `consent` item: nothing stored yet.
    Missing,
    /// The meta item is not ours or not readable.
    BadMeta(String),
    /// A chunk is absent or the text does not match the meta item (still syncing, or damaged).
    Incomplete(String),
}

impl fmt::Display for JoinError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            JoinError::Missing => f.write_str("no consent list is stored"),
            JoinError::BadMeta(m) => write!(f, "the stored consent index is unreadable: {m}"),
            JoinError::Incomplete(m) => write!(f, "the stored consent list is incomplete: {m}"),
        }
    }
}

/// The key of chunk `i`.
pub fn chunk_key(i: usize) -> String {
    format!("{META_KEY}.{i}")
}

/// FNV-1a, 32 bits, over the UTF-8 bytes, as 8 lower-case hex digits.
pub fn checksum(text: &str) -> String {
    let mut h: u32 = 0x811c_9dc5;
    for b in text.bytes() {
        h ^= u32::from(b);
        h = h.wrapping_mul(0x0100_0193);
    }
    format!("{h:08x}")
}

/// JSON text without the whitespace outside strings. Text that is not JSON is kept as it is
/// (the caller validated it; this only saves bytes).
pub fn compact(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut in_string = false;
    let mut escaped = false;
    for c in text.chars() {
        if in_string {
            out.push(c);
            if escaped {
                escaped = false;
            } else if c == '\\' {
                escaped = true;
            } else if c == '"' {
                in_string = false;
            }
        } else if c == '"' {
            in_string = true;
            out.push(c);
        } else if !matches!(c, ' ' | '\n' | '\r' | '\t') {
            out.push(c);
        }
    }
    if in_string {
        return text.to_string();
    }
    out
}

/// Bytes `JSON.stringify` gives for one character inside a string (UTF-8).
fn json_char_len(c: char) -> usize {
    match c {
        '"' | '\\' | '\u{8}' | '\u{c}' | '\n' | '\r' | '\t' => 2,
        c if (c as u32) < 0x20 => 6,
        c => c.len_utf8(),
    }
}

/// Bytes of one item as the browser counts them: the key plus the value's JSON.
pub fn item_bytes(key: &str, value: &Value) -> usize {
    key.len() + value.to_string().len()
}

/// Plans the write of `text` (compacted first). `used_by_others` is what the area's other
/// items take (`getBytesInUse` less the consent items).
pub fn plan(text: &str, used_by_others: usize, limits: SyncLimits) -> Result<SyncPlan, QuotaError> {
    let text = compact(text);
    let mut chunks: Vec<String> = Vec::new();
    let mut current = String::new();
    let mut current_len = 2; // the quotes
                             // Room for the longest key this document can need; keys are short, so be generous.
    let room = |i: usize| limits.per_item.saturating_sub(chunk_key(i).len());
    for c in text.chars() {
        let n = json_char_len(c);
        if current_len + n > room(chunks.len()) && !current.is_empty() {
            chunks.push(std::mem::take(&mut current));
            current_len = 2;
        }
        current.push(c);
        current_len += n;
    }
    if !current.is_empty() || chunks.is_empty() {
        chunks.push(current);
    }
    let meta = json!({
        "format": FORMAT,
        "version": 1,
        "chunks": chunks.len(),
        "length": text.chars().count(),
        "checksum": checksum(&text),
    });
    let mut items: Vec<(String, Value)> = chunks
        .into_iter()
        .enumerate()
        .map(|(i, c)| (chunk_key(i), Value::String(c)))
        .collect();
    let count = items.len();
    items.push((META_KEY.to_string(), meta));
    let bytes: usize = items.iter().map(|(k, v)| item_bytes(k, v)).sum();
    let available = limits.quota.saturating_sub(used_by_others);
    if bytes > available || items.len() > limits.max_items {
        return Err(QuotaError {
            needed: bytes,
            available,
            quota: limits.quota,
            items: items.len(),
            max_items: limits.max_items,
        });
    }
    Ok(SyncPlan {
        items,
        bytes,
        chunks: count,
    })
}

/// Rebuilds the document from the stored items (`key → value`, as `storage.sync.get(null)`
/// gives them).
pub fn join(items: &Map<String, Value>) -> Result<String, JoinError> {
    let meta = items.get(META_KEY).ok_or(JoinError::Missing)?;
    if meta.get("format").and_then(Value::as_str) != Some(FORMAT) {
        return Err(JoinError::BadMeta(format!(
            "expected format {FORMAT:?}, found {}",
            meta.get("format")
                .map_or("nothing".to_string(), Value::to_string)
        )));
    }
    if meta.get("version").and_then(Value::as_u64) != Some(1) {
        return Err(JoinError::BadMeta("unknown version".to_string()));
    }
    let n = meta
        .get("chunks")
        .and_then(Value::as_u64)
        .ok_or_else(|| JoinError::BadMeta("no chunk count".to_string()))? as usize;
    let mut text = String::new();
    for i in 0..n {
        let key = chunk_key(i);
        let part = items
            .get(&key)
            .and_then(Value::as_str)
            .ok_or_else(|| JoinError::Incomplete(format!("{key} is missing")))?;
        text.push_str(part);
    }
    let length = meta.get("length").and_then(Value::as_u64);
    if length != Some(text.chars().count() as u64) {
        return Err(JoinError::Incomplete(format!(
            "{} characters where the index says {}",
            text.chars().count(),
            length.map_or("nothing".to_string(), |l| l.to_string())
        )));
    }
    let sum = meta.get("checksum").and_then(Value::as_str);
    if sum != Some(checksum(&text).as_str()) {
        return Err(JoinError::Incomplete(
            "the checksum does not match".to_string(),
        ));
    }
    Ok(text)
}

/// Keys of chunks beyond `chunks` that an older document left (`consent.N` …), in `keys`.
pub fn stale_keys<'a>(keys: impl IntoIterator<Item = &'a str>, chunks: usize) -> Vec<String> {
    let mut out: Vec<String> = keys
        .into_iter()
        .filter_map(|k| {
            let i: usize = k.strip_prefix("consent.")?.parse().ok()?;
            (i >= chunks).then(|| k.to_string())
        })
        .collect();
    crate::sort::sort(&mut out);
    out
}

/// Bytes the consent items among `items` take (to tell what the others use).
pub fn consent_bytes(items: &Map<String, Value>) -> usize {
    items
        .iter()
        .filter(|(k, _)| {
            k.as_str() == META_KEY
                || k.strip_prefix("consent.")
                    .is_some_and(|n| n.parse::<usize>().is_ok())
        })
        .map(|(k, v)| item_bytes(k, v))
        .sum()
}
