//! Parsing of JavaScript `Error.stack` text into [`Frame`]s (SPEC §6).
//!
//! Two textual formats exist in the browsers we support:
//!
//! * **V8** (Chromium): an error message line, then one `    at …` line per frame:
//!   `at fn (url:line:col)`, `at url:line:col`, `at async fn (…)`, `at new Foo (…)`,
//!   `at fn [as alias] (…)`, `at fn (native)`, `at <anonymous>`, and eval frames
//!   `at eval (eval at caller (url:line:col), <anonymous>:line:col)`, nested to any depth.
//! * **SpiderMonkey** (Firefox; JavaScriptCore is close enough to parse too): no message line,
//!   one `fn@url:line:col` per frame, `async*` marking async boundaries, and evaluated code
//!   named after its caller: `url line 10 > eval:1:1`, `… > Function`, `… > injectedScript`.
//!
//! Both list the innermost frame first, and both report 1-based lines and columns; this module
//! passes them through untouched. The same stack written by either engine yields the same frame
//! URLs, lines and columns (function names may differ). An eval frame's own URL is
//! `<anonymous>` in both, with [`Frame::eval`] carrying the location of the code that called
//! `eval`, because that location is what the engine vouches for.
//!
//! Stacks come from hostile pages: everything here is total (no panics, no slicing inside a
//! character), linear in the input, and capped ([`MAX_FRAMES`], [`MAX_LINES`],
//! [`MAX_LINE_BYTES`], [`MAX_EVAL_DEPTH`]).
//!
//! Known limit: function names are page-controlled text. Locations are read from the *end* of
//! a line, so a name cannot displace the real location, but a name containing a line break
//! could forge whole frames. Only structured call sites (V8 `prepareStackTrace`) avoid that.

use serde::Serialize;

/// At most this many frames are returned; deeper frames are dropped. Attribution needs the
/// nearest user-managed frame, which sits well within this on any real MediaWiki stack.
pub const MAX_FRAMES: usize = 256;
/// At most this many lines are examined (message lines included).
pub const MAX_LINES: usize = 4096;
/// A frame line longer than this is not parsed; it yields a frame whose URL is
/// [`TOO_LONG_URL`], so the code behind it is flagged rather than silently ignored.
pub const MAX_LINE_BYTES: usize = 64 * 1024;
/// Nested `eval at … (eval at … (…))` levels followed to find the root caller.
pub const MAX_EVAL_DEPTH: usize = 32;
/// URL given to frames whose line exceeded [`MAX_LINE_BYTES`].
pub const TOO_LONG_URL: &str = "<too-long>";
/// URL given to the frames of evaluated code (`eval`, `new Function`, injected scripts).
pub const ANONYMOUS_URL: &str = "<anonymous>";

/// Where the code that called `eval` (or `new Function`, or injected a script) lives: the
/// outermost real script of a possibly nested chain of evaluations.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct EvalOrigin {
    pub url: String,
    pub line: u32,
    /// V8 gives the column; SpiderMonkey only the line.
    pub column: Option<u32>,
}

/// One stack frame. `line`/`column` are 1-based as engines report them; 0 means "not given"
/// (`native`, `<anonymous>` built-ins, `index 0`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Frame {
    pub function: Option<String>,
    pub url: String,
    pub line: u32,
    pub column: u32,
    pub is_async: bool,
    pub eval: Option<EvalOrigin>,
}

impl Frame {
    fn too_long() -> Frame {
        Frame {
            function: None,
            url: TOO_LONG_URL.to_string(),
            line: 0,
            column: 0,
            is_async: false,
            eval: None,
        }
    }
}

/// Parses a V8 or SpiderMonkey stack. Lines that are not frames (the message) are ignored.
pub fn parse_stack(text: &str) -> Vec<Frame> {
    // The format is decided once: in a V8 stack, a message line that happens to contain `@`
    // must not be read as a SpiderMonkey frame.
    let v8 = text
        .lines()
        .take(MAX_LINES)
        .any(|l| l.trim_start().starts_with("at "));
    let mut frames = Vec::new();
    for line in text.lines().take(MAX_LINES) {
        if frames.len() >= MAX_FRAMES {
            break;
        }
        let t = line.trim();
        let frame = if v8 {
            match t.strip_prefix("at ") {
                Some(_) if t.len() > MAX_LINE_BYTES => Some(Frame::too_long()),
                Some(rest) => Some(parse_v8_frame(rest)),
                None => None,
            }
        } else if !t.contains('@') {
            None
        } else if t.len() > MAX_LINE_BYTES {
            Some(Frame::too_long())
        } else {
            Some(parse_sm_frame(t))
        };
        frames.extend(frame);
    }
    frames
}

/// Removes the auditor's own frames: those whose URL (or eval caller URL) starts with one of
/// `own_prefixes`. Empty prefixes are ignored, since they would match every frame.
pub fn skip_own(frames: &mut Vec<Frame>, own_prefixes: &[&str]) {
    frames.retain(|f| !is_own(f, own_prefixes));
}

/// Whether `frame` belongs to the auditor itself (see [`skip_own`]).
pub fn is_own(frame: &Frame, own_prefixes: &[&str]) -> bool {
    url_is_own(&frame.url, own_prefixes)
        || frame
            .eval
            .as_ref()
            .is_some_and(|o| url_is_own(&o.url, own_prefixes))
}

pub(crate) fn url_is_own(url: &str, own_prefixes: &[&str]) -> bool {
    own_prefixes
        .iter()
        .any(|p| !p.is_empty() && url.starts_with(p))
}

/// `rest` is a V8 frame line after `at `.
fn parse_v8_frame(rest: &str) -> Frame {
    let (is_async, rest) = match rest.strip_prefix("async ") {
        Some(r) => (true, r),
        None => (false, rest),
    };
    let (function, loc) = match v8_location_paren(rest) {
        Some(open) => {
            let name = rest[..open].trim_end();
            // `open` indexes an ASCII '(' and the line ends with an ASCII ')'.
            let loc = &rest[open + 1..rest.len() - 1];
            ((!name.is_empty()).then(|| name.to_string()), loc)
        }
        None => (None, rest),
    };
    let (url, line, column, eval) = parse_v8_location(loc);
    Frame {
        function,
        url,
        line,
        column,
        is_async,
        eval,
    }
}

/// Index of the `(` that opens the location of `fn (location)`, if the line has that shape.
fn v8_location_paren(rest: &str) -> Option<usize> {
    if !rest.ends_with(')') {
        return None;
    }
    // The location is the last parenthesised group, so page-chosen function names (which come
    // first) cannot shift it. Balanced matching keeps URLs like `x=(1)` whole.
    if let Some(open) = matching_open(rest) {
        if looks_like_location(&rest[open + 1..]) {
            return Some(open);
        }
    }
    // An unbalanced parenthesis inside the URL: take the last `(` that starts a location.
    rest.bytes()
        .enumerate()
        .rev()
        .filter(|&(i, b)| b == b'(' && looks_like_location(&rest[i + 1..]))
        .map(|(i, _)| i)
        .next()
}

/// Position of the `(` balancing the final `)` of `s`.
fn matching_open(s: &str) -> Option<usize> {
    let mut depth: usize = 0;
    for (i, b) in s.bytes().enumerate().rev() {
        match b {
            b')' => depth += 1,
            b'(' => {
                depth = depth.saturating_sub(1);
                if depth == 0 {
                    return Some(i);
                }
            }
            _ => {}
        }
    }
    None
}

/// Whether `s` begins like something V8 prints as a location.
fn looks_like_location(s: &str) -> bool {
    s.starts_with("eval at ")
        || s.starts_with('<')
        || s.starts_with("native")
        || s.starts_with("index ")
        || s.starts_with("unknown location")
        || scheme_len(s).is_some()
}

/// Length of a leading URL scheme (`[A-Za-z][A-Za-z0-9+.-]*`) followed by `:`.
fn scheme_len(s: &str) -> Option<usize> {
    let b = s.as_bytes();
    if !b.first()?.is_ascii_alphabetic() {
        return None;
    }
    let n = b
        .iter()
        .take_while(|c| c.is_ascii_alphanumeric() || matches!(c, b'+' | b'-' | b'.'))
        .count();
    (b.get(n) == Some(&b':')).then_some(n)
}

/// Parses a V8 location: `url:line:col`, `native`, `<anonymous>`, or
/// `eval at fn (origin), url:line:col` with `origin` itself possibly an eval location.
fn parse_v8_location(loc: &str) -> (String, u32, u32, Option<EvalOrigin>) {
    if !loc.starts_with("eval at ") {
        let (url, line, col) = split_line_col(loc);
        return (url.to_string(), line, col, None);
    }
    // The frame's own position is after the last top-level ", ".
    let (eval_part, own) = match split_last_top_level_comma(loc) {
        Some(parts) => parts,
        None => (loc, ""),
    };
    let (url, line, col) = split_line_col(own);
    let url = if url.is_empty() { ANONYMOUS_URL } else { url };
    (url.to_string(), line, col, v8_eval_root(eval_part))
}

/// Follows `eval at fn (eval at g (url:l:c), <anonymous>:l:c)` down to the outermost real script.
fn v8_eval_root(mut eval_part: &str) -> Option<EvalOrigin> {
    for _ in 0..MAX_EVAL_DEPTH {
        let caller = eval_part.strip_prefix("eval at ")?;
        if !caller.ends_with(')') {
            // `eval at <anonymous>` with no location: the engine did not say.
            return None;
        }
        let open = matching_open(caller)?;
        let inner = &caller[open + 1..caller.len() - 1];
        if inner.starts_with("eval at ") {
            eval_part = match split_last_top_level_comma(inner) {
                Some((e, _)) => e,
                None => inner,
            };
            continue;
        }
        let (url, line, col) = split_line_col(inner);
        if url.is_empty() || line == 0 {
            return None;
        }
        return Some(EvalOrigin {
            url: url.to_string(),
            line,
            column: (col > 0).then_some(col),
        });
    }
    None
}

/// Splits `a (b, c), d` at the last `, ` outside parentheses.
fn split_last_top_level_comma(s: &str) -> Option<(&str, &str)> {
    let b = s.as_bytes();
    let mut depth: usize = 0;
    for i in (0..b.len()).rev() {
        match b[i] {
            b')' => depth += 1,
            b'(' => depth = depth.saturating_sub(1),
            b',' if depth == 0 && b.get(i + 1) == Some(&b' ') => {
                return Some((&s[..i], &s[i + 2..]));
            }
            _ => {}
        }
    }
    None
}

/// Splits `url:line:col` from the end (URLs contain colons: ports, IPv6, `load.php?x=a:b`).
/// Missing numbers are 0.
pub(crate) fn split_line_col(loc: &str) -> (&str, u32, u32) {
    let Some((head, last)) = loc.rsplit_once(':') else {
        return (loc, 0, 0);
    };
    let Some(last_n) = parse_num(last) else {
        return (loc, 0, 0);
    };
    match head.rsplit_once(':') {
        Some((url, mid)) => match parse_num(mid) {
            Some(line) => (url, line, last_n),
            None => (head, last_n, 0),
        },
        None => (head, last_n, 0),
    }
}

/// A decimal number; values past `u32::MAX` saturate rather than fail, so a hostile
/// `:99999999999` still reads as a position and is not glued onto the URL.
fn parse_num(s: &str) -> Option<u32> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some(s.parse::<u32>().unwrap_or(u32::MAX))
}

/// Parses one SpiderMonkey/JavaScriptCore frame line (`fn@url:line:col`).
fn parse_sm_frame(t: &str) -> Frame {
    let at = sm_split_at(t).unwrap_or(0);
    let (name, loc) = if t.as_bytes().get(at) == Some(&b'@') {
        (&t[..at], &t[at + 1..])
    } else {
        ("", t)
    };
    let (is_async, name) = match name.strip_prefix("async*") {
        Some(n) => (true, n),
        None => (false, name),
    };
    let (url, line, column) = split_line_col(loc);
    let (url, eval) = match sm_eval_origin(url) {
        Some(origin) => (ANONYMOUS_URL, Some(origin)),
        None => (url, None),
    };
    Frame {
        function: (!name.is_empty()).then(|| name.to_string()),
        url: url.to_string(),
        line,
        column,
        is_async,
        eval,
    }
}

/// Which `@` separates the function name from the location. URLs contain `@`
/// (`cdn.jsdelivr.net/npm/pkg@1.2.3/x.js`) and so can page-chosen names, so the separator is
/// the last `@` followed by something only a location starts with (`scheme://`, `blob:`,
/// `data:`); failing that, the first `@`.
fn sm_split_at(t: &str) -> Option<usize> {
    let starts_location = |rest: &str| {
        scheme_len(rest).is_some_and(|n| rest[n..].starts_with("://"))
            || rest.starts_with("blob:")
            || rest.starts_with("data:")
    };
    t.bytes()
        .enumerate()
        .rev()
        .filter(|&(i, b)| b == b'@' && starts_location(&t[i + 1..]))
        .map(|(i, _)| i)
        .next()
        .or_else(|| t.find('@'))
}

/// SpiderMonkey names evaluated code after its caller: `https://x/y.js line 10 > eval`, nested
/// as `… line 10 > eval line 2 > Function`. The first ` line N > ` gives the outermost caller.
fn sm_eval_origin(url: &str) -> Option<EvalOrigin> {
    for (i, _) in url.match_indices(" line ").take(MAX_EVAL_DEPTH) {
        let after = &url[i + " line ".len()..];
        let digits = after.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 || !after[digits..].starts_with(" > ") {
            continue;
        }
        let line = parse_num(&after[..digits])?;
        let caller = &url[..i];
        if caller.is_empty() {
            return None;
        }
        return Some(EvalOrigin {
            url: caller.to_string(),
            line,
            column: None,
        });
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_col_from_end() {
        assert_eq!(
            split_line_col("http://[::1]:8080/a.js:1:2"),
            ("http://[::1]:8080/a.js", 1, 2)
        );
        assert_eq!(split_line_col("native"), ("native", 0, 0));
        assert_eq!(split_line_col("a.js:7"), ("a.js", 7, 0));
    }

    #[test]
    fn nested_v8_eval() {
        let f = parse_v8_frame(
            "eval (eval at inner (eval at outer (https://x/y.js:10:5), <anonymous>:2:3), <anonymous>:1:1)",
        );
        assert_eq!(f.url, "<anonymous>");
        assert_eq!((f.line, f.column), (1, 1));
        let o = f.eval.expect("origin");
        assert_eq!(
            (o.url.as_str(), o.line, o.column),
            ("https://x/y.js", 10, Some(5))
        );
    }
}
