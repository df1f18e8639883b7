//! Attribution of a request to the user-managed code that made it (SPEC §6).
//!
//! The runtime captures a stack when a request starts; [`stack::parse_stack`] turns it into
//! frames and [`attribute`] walks them innermost first, skipping the auditor's own frames,
//! library code (jQuery, ResourceLoader, OOUI, Codex, `mediawiki.*` and other deployed
//! modules) and the page's inline scripts. The first frame of user-managed code decides:
//!
//! | frame | source |
//! |---|---|
//! | `load.php` batch, module found by [`BatchIndex`] | that gadget / site / user module |
//! | `load.php` batch, module not determinable | `script`, named by the batch URL (see below) |
//! | `load.php` with one module (debug mode, `only=scripts`) | that module |
//! | `mw-module://NAME?tpr=NONCE` (runtime's `//# sourceURL` tag) | that module; `spoofable` unless the nonce matches |
//! | `mw-batch://N?tpr=NONCE` (a `mw.loader.store` replay, tagged) | the module at that position in the tagged text |
//! | `index.php?title=T&action=raw`, `/wiki/T?action=raw` | `user-script` T, `wiki` = host if foreign |
//! | the page host's `…/resources/…`, `…/skins/…`, `…/extensions/…` `.js` file (debug mode) | skipped (deployed code) |
//! | `chrome-extension://ID/…`, `moz-extension://ID/…` | `extension` ID |
//! | other http(s), `blob:`, `data:` script | `script` URL, `chain` from its loader |
//! | eval / `new Function` / injected code | as its caller's location, when the engine gives it |
//! | nothing user-managed | `page` |
//!
//! Decisions:
//! * **Never guess a module.** A batch frame whose module cannot be determined (no index yet,
//!   or the index does not cover that position or disagrees with the URL) while the batch
//!   holds user-managed modules ends the walk with kind `script`, name = the batch URL: an
//!   honest "unknown code in this batch" that no gadget's consent covers by accident. A batch
//!   of library modules only is skipped without an index.
//! * **Anonymous code is flagged, not trusted.** Evaluated code whose caller the engine does
//!   not give (or whose caller is library code, such as ResourceLoader's `domEval`), and tags
//!   that name a library module without the right nonce, do not stop the walk; if no
//!   user-managed frame follows, the result is `page` with `spoofable: true` and the location
//!   of the first such frame. Built-in frames (`native`, `<anonymous>` without position) are
//!   skipped silently.
//! * Eval frames are attributed to the eval *caller* (the outermost real script), with that
//!   caller's URL, line and column (SpiderMonkey gives no column).

pub mod mediawiki;
pub mod stack;

pub use mediawiki::{
    frame_origin, is_user_module, module_source, module_source_for, unpack_modules,
    user_module_source, without_fragment, BatchIndex, FrameOrigin, WrapperStart,
};
pub use stack::{is_own, parse_stack, skip_own, EvalOrigin, Frame};

use crate::model::{Source, SourceKind};
use std::collections::HashMap;

/// Indexes of the `load.php` batch texts the runtime has read, by batch URL.
pub trait BatchLookup {
    fn batch(&self, url: &str) -> Option<&BatchIndex>;
}

/// Which source inserted each external `<script>`, by script URL (for chains).
pub trait LoaderLookup {
    fn loader(&self, script_url: &str) -> Option<Source>;
}

/// No batch indexes known.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoBatches;

impl BatchLookup for NoBatches {
    fn batch(&self, _url: &str) -> Option<&BatchIndex> {
        None
    }
}

/// No script loaders known.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoLoaders;

impl LoaderLookup for NoLoaders {
    fn loader(&self, _script_url: &str) -> Option<Source> {
        None
    }
}

impl BatchLookup for HashMap<String, BatchIndex> {
    fn batch(&self, url: &str) -> Option<&BatchIndex> {
        self.get(url)
    }
}

impl LoaderLookup for HashMap<String, Source> {
    fn loader(&self, script_url: &str) -> Option<Source> {
        self.get(script_url).cloned()
    }
}

/// What attribution needs to know about the page and the runtime's observations.
#[derive(Clone, Copy)]
pub struct AttributionContext<'a> {
    /// The document URL; frames at this URL are the page's inline scripts.
    pub page_url: &'a str,
    /// `wgUserName`, to name the `user` module's page.
    pub user_name: Option<&'a str>,
    /// URL prefixes of the auditor's own code (bootstrap, wasm glue), skipped.
    pub own_prefixes: &'a [&'a str],
    /// The nonce the runtime puts in its `mw-module://NAME?tpr=NONCE` tags.
    pub tag_nonce: Option<&'a str>,
    pub batches: &'a dyn BatchLookup,
    pub script_loaders: &'a dyn LoaderLookup,
}

impl<'a> AttributionContext<'a> {
    /// A context knowing only the page URL.
    pub fn new(page_url: &'a str) -> AttributionContext<'a> {
        AttributionContext {
            page_url,
            user_name: None,
            own_prefixes: &[],
            tag_nonce: None,
            batches: &NoBatches,
            script_loaders: &NoLoaders,
        }
    }
}

/// Parses `stack_text`, drops the auditor's frames and attributes the rest.
pub fn resolve_stack(stack_text: &str, ctx: &AttributionContext) -> (Source, Vec<Frame>) {
    let mut frames = parse_stack(stack_text);
    skip_own(&mut frames, ctx.own_prefixes);
    let source = attribute(&frames, ctx);
    (source, frames)
}

/// The source of a request whose stack is `frames` (innermost first).
pub fn attribute(frames: &[Frame], ctx: &AttributionContext) -> Source {
    attribute_indexed(frames, ctx).0
}

/// [`attribute`], also giving the index of the deciding frame (`None` for `page`, also when
/// flagged spoofable).
pub fn attribute_indexed(frames: &[Frame], ctx: &AttributionContext) -> (Source, Option<usize>) {
    let page_host = url::Url::parse(ctx.page_url)
        .ok()
        .and_then(|u| {
            u.host_str().map(|h| match u.port() {
                Some(p) => format!("{h}:{p}"),
                None => h.to_string(),
            })
        })
        .unwrap_or_default();
    let walker = Walker {
        ctx,
        page_host: &page_host,
        page_url: without_fragment(ctx.page_url),
    };
    let mut flagged: Option<Source> = None;
    for (i, frame) in frames.iter().enumerate() {
        if is_own(frame, ctx.own_prefixes) {
            continue;
        }
        let step = match &frame.eval {
            Some(origin) => {
                match walker.step(&origin.url, origin.line, origin.column.unwrap_or(0)) {
                    found @ Step::Found(_) => found,
                    // Code evaluated by library or page code came from somewhere else.
                    Step::Skip | Step::Anonymous => Step::Anonymous,
                }
            }
            None => walker.step(&frame.url, frame.line, frame.column),
        };
        match step {
            Step::Found(source) => return (source, Some(i)),
            Step::Anonymous if flagged.is_none() => {
                let (url, line, column) = match &frame.eval {
                    Some(o) => (o.url.as_str(), o.line, o.column.unwrap_or(0)),
                    None => (frame.url.as_str(), frame.line, frame.column),
                };
                let mut s = Source::page();
                located(&mut s, url, line, column);
                s.spoofable = true;
                flagged = Some(s);
            }
            Step::Anonymous | Step::Skip => {}
        }
    }
    (flagged.unwrap_or_else(Source::page), None)
}

enum Step {
    /// Not user-managed code: keep walking.
    Skip,
    /// Possibly user code that cannot be named: keep walking, flag if nothing follows.
    Anonymous,
    Found(Source),
}

struct Walker<'c, 'a> {
    ctx: &'c AttributionContext<'a>,
    page_host: &'c str,
    page_url: &'c str,
}

impl Walker<'_, '_> {
    /// Classifies one location. `column` 0 means unknown.
    fn step(&self, url: &str, line: u32, column: u32) -> Step {
        if url == stack::TOO_LONG_URL {
            return Step::Anonymous;
        }
        if url.starts_with('<') {
            // `<anonymous>:1:1` is evaluated code; `<anonymous>` alone is a built-in.
            return if line > 0 {
                Step::Anonymous
            } else {
                Step::Skip
            };
        }
        if without_fragment(url) == self.page_url {
            return Step::Skip;
        }
        let user = self.ctx.user_name;
        let found = |mut s: Source| {
            located(&mut s, url, line, column);
            Step::Found(s)
        };
        match frame_origin(url, self.page_host) {
            FrameOrigin::Unknown | FrameOrigin::Deployed { .. } => Step::Skip,
            FrameOrigin::Module { name, wiki } => match module_source_for(&name, user) {
                Some(mut s) => {
                    s.wiki = wiki;
                    found(s)
                }
                None if wiki.is_some() => found(self.external(url)),
                None => Step::Skip,
            },
            FrameOrigin::Batch {
                url: batch_url,
                modules,
                wiki,
            } => {
                if wiki.is_none() && !modules.iter().any(|m| is_user_module(m)) {
                    return Step::Skip;
                }
                let index = self
                    .ctx
                    .batches
                    .batch(url)
                    .or_else(|| self.ctx.batches.batch(&batch_url));
                let module = index
                    .and_then(|idx| match column {
                        0 => idx.module_at_line(line),
                        c => idx.module_at(line, c),
                    })
                    .filter(|m| modules.iter().any(|x| x == m));
                match module.map(|m| module_source_for(m, user)) {
                    Some(Some(mut s)) => {
                        s.wiki = wiki;
                        found(s)
                    }
                    Some(None) if wiki.is_none() => Step::Skip,
                    // Unresolved, or library code served by another host: never guess.
                    _ => found(Source::named(SourceKind::Script, Some(batch_url))),
                }
            }
            FrameOrigin::Tagged { name, nonce } => {
                let trusted = matches!(
                    (nonce.as_deref(), self.ctx.tag_nonce),
                    (Some(a), Some(b)) if a == b
                );
                match module_source_for(&name, user) {
                    Some(mut s) => {
                        s.spoofable = !trusted;
                        found(s)
                    }
                    None if trusted => Step::Skip,
                    // Anyone can name their code `mw-module://jquery` to hide.
                    None => Step::Anonymous,
                }
            }
            FrameOrigin::InlineBatch {
                url: batch_url,
                nonce,
            } => {
                let trusted = matches!(
                    (nonce.as_deref(), self.ctx.tag_nonce),
                    (Some(a), Some(b)) if a == b
                );
                let module = self
                    .ctx
                    .batches
                    .batch(&batch_url)
                    .and_then(|idx| match column {
                        0 => idx.module_at_line(line),
                        c => idx.module_at(line, c),
                    });
                match module.map(|m| module_source_for(m, user)) {
                    Some(Some(mut s)) => {
                        s.spoofable = !trusted;
                        found(s)
                    }
                    Some(None) if trusted => Step::Skip,
                    // No index, or a forged tag: unknown code, flagged.
                    _ => Step::Anonymous,
                }
            }
            FrameOrigin::UserScript { title, wiki } => {
                let mut s = Source::named(SourceKind::UserScript, Some(title));
                s.wiki = wiki;
                s.chain = self.chain(url);
                found(s)
            }
            FrameOrigin::Extension { id } => found(Source::named(SourceKind::Extension, Some(id))),
            FrameOrigin::External { .. } => found(self.external(url)),
        }
    }

    fn external(&self, url: &str) -> Source {
        let mut s = Source::named(SourceKind::Script, Some(without_fragment(url).to_string()));
        s.chain = self.chain(url);
        s
    }

    /// The loaders of the script at `url`: its loader's own chain, then the loader itself.
    fn chain(&self, url: &str) -> Vec<String> {
        let loaders = self.ctx.script_loaders;
        let loader = loaders.loader(url).or_else(|| {
            let bare = without_fragment(url);
            (bare.len() != url.len())
                .then(|| loaders.loader(bare))
                .flatten()
        });
        let Some(loader) = loader else {
            return Vec::new();
        };
        let mut chain = loader.chain.clone();
        let link = match (loader.kind, &loader.name) {
            (SourceKind::Extension, Some(id)) => Some(format!("extension:{id}")),
            _ => loader.scope(),
        };
        chain.extend(link);
        chain
    }
}

fn located(s: &mut Source, url: &str, line: u32, column: u32) {
    s.url = Some(url.to_string());
    s.line = (line > 0).then_some(line);
    s.column = (column > 0).then_some(column);
}
