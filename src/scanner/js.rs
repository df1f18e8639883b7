//! The JavaScript walk: swc's tree, a small abstract interpreter, and the table of loading APIs.
//!
//! Values ([`Val`]) are what is statically knowable: strings with holes ([`Str`]), object and
//! array literals, paths of globals (`mw.loader`, `$`, `location`), functions (for call-site
//! substitution), elements under construction (`createElement`, `new Image`, `$('<img>')`) and
//! `XMLHttpRequest` instances. Scopes are per function; `let`/`const` in inner blocks share the
//! function's scope (last assignment in source order wins), which is what gadget code needs in
//! practice. The walk's recursion is bounded by [`MAX_WALK_DEPTH`] on top of the parser
//! pre-check.

use super::css::{self, CssKind};
use super::html;
use super::value::{self, Hole, Str};
use super::{Output, RawCode, RawFinding, ScanError};
use crate::model::{Channel, Directive};
use std::cell::RefCell;
use std::collections::{HashMap, VecDeque};
use std::rc::Rc;
use swc_common::{BytePos, Span, Spanned};
use swc_ecma_ast::*;
use swc_ecma_parser::{EsSyntax, Parser, StringInput, Syntax};

/// Recursion limit of the walk itself (expressions and statements). The release WebAssembly
/// module (1 MiB stack) overflowed at ~1,190 levels of `f()()()…`, the walk's heaviest
/// recursion; 500 leaves a wide margin and is far beyond real code.
pub const MAX_WALK_DEPTH: usize = 500;
/// Native stack of the parsing thread: the pre-check budget with a wide margin for
/// unoptimised (test) builds, which need about ten times the stack.
#[cfg(not(target_arch = "wasm32"))]
const PARSER_STACK: usize = 256 * 1024 * 1024;
/// Alternatives kept for one value (`a ? 'x' : 'y'`).
const MAX_ALTERNATIVES: usize = 8;

pub(crate) fn scan_js(text: &str, ts: bool, out: &mut Output<'_>) -> Result<(), ScanError> {
    #[cfg(not(target_arch = "wasm32"))]
    {
        std::thread::scope(|s| {
            let handle = std::thread::Builder::new()
                .name("tpr-scan".into())
                .stack_size(PARSER_STACK)
                .spawn_scoped(s, || run(text, ts, out))
                .map_err(|e| ScanError::Thread(e.to_string()))?;
            handle
                .join()
                .map_err(|_| ScanError::Thread("the scanner panicked".into()))
        })
    }
    #[cfg(target_arch = "wasm32")]
    {
        run(text, ts, out);
        Ok(())
    }
}

fn syntax(ts: bool) -> Syntax {
    #[cfg(feature = "scanner-typescript")]
    if ts {
        return Syntax::Typescript(swc_ecma_parser::TsSyntax {
            decorators: true,
            ..Default::default()
        });
    }
    let _ = ts;
    Syntax::Es(EsSyntax {
        allow_return_outside_function: true,
        decorators: true,
        import_attributes: true,
        explicit_resource_management: true,
        ..Default::default()
    })
}

fn offset(pos: BytePos) -> usize {
    (pos.0 as usize).saturating_sub(1)
}

fn run(text: &str, ts: bool, out: &mut Output<'_>) {
    let end = u32::try_from(text.len() + 1).unwrap_or(u32::MAX);
    let input = StringInput::new(text, BytePos(1), BytePos(end));
    let mut parser = Parser::new(syntax(ts), input, None);
    let program = parser.parse_program();
    for e in parser.take_errors() {
        out.error(e.kind().msg().into_owned(), offset(e.span().lo));
    }
    match program {
        Ok(program) => {
            let mut walker = Walker::new(out);
            walker.program(&program);
            let too_deep = walker.finish();
            if too_deep {
                // Dropping a tree deeper than the walk dared to go recurses as deep: leak it.
                std::mem::forget(program);
            }
        }
        Err(e) => {
            out.error(
                format!("syntax error: {}", e.kind().msg()),
                offset(e.span().lo),
            );
            out.set_partial();
            sweep_urls(text, out);
        }
    }
}

/// Fallback for code that does not parse: absolute URLs in string literals, as `likely`.
fn sweep_urls(text: &str, out: &mut Output<'_>) {
    let s = text.as_bytes();
    for (i, w) in s.windows(2).enumerate() {
        let quote = w[0];
        if !matches!(quote, b'\'' | b'"' | b'`') {
            continue;
        }
        let rest = &text[i + 1..];
        let lower = rest.get(..8).unwrap_or(rest).to_ascii_lowercase();
        if !(lower.starts_with("https://")
            || lower.starts_with("http://")
            || lower.starts_with("wss://")
            || lower.starts_with("//"))
        {
            continue;
        }
        let end = rest
            .find(|c: char| c as u32 == quote as u32 || c.is_whitespace())
            .unwrap_or(rest.len());
        out.push(RawFinding {
            api: "unparsed",
            channel: Channel::Other,
            directive: None,
            url: Str::lit(&rest[..end]),
            carries: 0,
            offset: i,
            function: None,
            likely: true,
        });
    }
}

// ---------------------------------------------------------------------------------------------
// Values and scopes

#[derive(Clone, Debug)]
enum Val {
    /// Unknown, carrying these kinds of user data.
    Unknown(u8),
    Str(Str),
    Obj(Rc<RefCell<Obj>>),
    Arr(Rc<Vec<Val>>),
    /// A free variable or a path into one: `mw.loader`, `$`, `location`.
    Global(Rc<str>),
    Func(u32),
    Elem(u32),
    Xhr(u32),
    /// One of several values (`c ? a : b`).
    Alt(Rc<Vec<Val>>),
}

#[derive(Default, Debug)]
struct Obj {
    props: Vec<(String, Val)>,
}

impl Obj {
    fn get(&self, key: &str) -> Option<&Val> {
        self.props
            .iter()
            .rev()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v)
    }
    fn set(&mut self, key: String, v: Val) {
        if let Some(slot) = self.props.iter_mut().find(|(k, _)| *k == key) {
            slot.1 = v;
        } else if self.props.len() < 256 {
            self.props.push((key, v));
        }
    }
}

fn carries(v: &Val) -> u8 {
    fn inner(v: &Val, depth: u8) -> u8 {
        if depth > 4 {
            return 0;
        }
        match v {
            Val::Unknown(c) => *c,
            Val::Str(s) => s.carries,
            Val::Obj(o) => o
                .borrow()
                .props
                .iter()
                .fold(0, |acc, (_, v)| acc | inner(v, depth + 1)),
            Val::Arr(a) | Val::Alt(a) => a.iter().fold(0, |acc, v| acc | inner(v, depth + 1)),
            _ => 0,
        }
    }
    inner(v, 0)
}

type ScopeRef = Rc<RefCell<Scope>>;

#[derive(Default)]
struct Scope {
    vars: HashMap<String, Val>,
    parent: Option<ScopeRef>,
}

fn lookup(scope: &ScopeRef, name: &str) -> Option<Val> {
    let mut cur = Some(scope.clone());
    while let Some(s) = cur {
        let s = s.borrow();
        if let Some(v) = s.vars.get(name) {
            return Some(v.clone());
        }
        cur = s.parent.clone();
    }
    None
}

/// `window.mw.loader` → `mw.loader`, `jQuery.ajax` → `$.ajax`, `mediaWiki.util` → `mw.util`.
fn normalize(path: &str) -> String {
    let mut p = path;
    'strip: loop {
        for prefix in ["window.", "self.", "globalThis.", "top.", "parent."] {
            if let Some(rest) = p.strip_prefix(prefix) {
                if !rest.is_empty() {
                    p = rest;
                    continue 'strip;
                }
            }
        }
        break;
    }
    let (head, rest) = match p.find('.') {
        Some(i) => (&p[..i], &p[i..]),
        None => (p, ""),
    };
    let head = match head {
        "mediaWiki" => "mw",
        "jQuery" => "$",
        h => h,
    };
    format!("{head}{rest}")
}

// ---------------------------------------------------------------------------------------------
// The walker

enum Body<'a> {
    Function(&'a Function),
    Arrow(&'a ArrowExpr),
    Constructor(&'a Constructor),
}

struct Deferred<'a> {
    body: Body<'a>,
    scope: ScopeRef,
    name: Option<Rc<str>>,
    id: u32,
    args: Option<Vec<Val>>,
    /// What `this` is in the body: the object of a method or class, or the instance of a
    /// constructor function; arrows inherit it.
    this: Val,
}

struct ElemAttr {
    name: String,
    value: Val,
    offset: usize,
    function: Option<Rc<str>>,
    api: &'static str,
}

struct Elem {
    /// How it was made: `createElement`, `Image`, `Audio`, `jQuery`.
    api: &'static str,
    tag: String,
    /// The tag is parameter `(func, index)` (`document.createElement(tag)` in a helper): each
    /// call site names it.
    tag_param: Option<(u32, u32)>,
    attrs: Vec<ElemAttr>,
    likely: bool,
}

/// A loading API whose URL is a parameter of the enclosing function.
struct Sink {
    func: u32,
    value: Str,
    /// Parameters of `func` whose carried data goes into the request body.
    data_params: u64,
    api: &'static str,
    channel: Channel,
    directive: Option<Directive>,
    carries: u8,
    offset: usize,
    function: Option<Rc<str>>,
    likely: bool,
    /// The channel depends on an element tag that is a parameter of `func`.
    tag: Option<Rc<TagParam>>,
}

/// What decides an element's role (its tag, `rel`, `type`, `as`): a constant (or nothing),
/// or parameter `index` of the function its sink waits on.
#[derive(Clone)]
enum Piece {
    Known(Option<String>),
    Param(u32),
}

impl Piece {
    /// `Err` when a parameter's argument is not a constant.
    fn at(&self, args: &[Str]) -> Result<Option<String>, ()> {
        match self {
            Piece::Known(v) => Ok(v.clone()),
            Piece::Param(i) => args
                .get(*i as usize)
                .and_then(Str::known)
                .map(|k| Some(k.to_string()))
                .ok_or(()),
        }
    }
}

/// A URL attribute of an element whose role depends on parameters of a function (the tag in
/// `document.createElement(tag)`, `link.rel = rel` in a helper): each call site decides it.
struct TagParam {
    tag: Piece,
    attr: String,
    rel: Piece,
    type_: Piece,
    as_: Piece,
}

impl TagParam {
    /// The channel for a call site's arguments: `None` inside when that element does not load
    /// this attribute; `None` outside when the tag is not a constant. A `rel`, `type` or `as`
    /// that is not a constant counts as not set (the role is then guessed, as without them).
    #[allow(clippy::type_complexity)]
    fn channel(&self, args: &[Str]) -> Option<Option<(Channel, Option<Directive>, bool)>> {
        let tag = self.tag.at(args).ok()??.to_ascii_lowercase();
        if !html::url_attrs(&tag).contains(&self.attr.as_str()) {
            return Some(None);
        }
        let opt = |p: &Piece| p.at(args).ok().flatten();
        Some(html::channel_for(
            &tag,
            &self.attr,
            opt(&self.rel).as_deref(),
            opt(&self.type_).as_deref(),
            opt(&self.as_).as_deref(),
        ))
    }
}

struct CallSite {
    func: u32,
    args: Vec<Val>,
    offset: usize,
    function: Option<Rc<str>>,
}

struct Walker<'a, 'o, 'p> {
    out: &'o mut Output<'p>,
    queue: VecDeque<Deferred<'a>>,
    funcs: u32,
    scope: ScopeRef,
    function: Option<Rc<str>>,
    hint: Option<Rc<str>>,
    depth: usize,
    too_deep: bool,
    elems: Vec<Elem>,
    /// Per `XMLHttpRequest` value: the finding of its `open`, and credentials.
    xhrs: Vec<(Option<usize>, bool)>,
    sinks: Vec<Sink>,
    calls: Vec<CallSite>,
    /// Return values per function id.
    rets: Vec<Option<Val>>,
    /// The function being walked.
    current: Option<u32>,
    /// `this` of the function being walked.
    this: Val,
    /// `this` of each (non-arrow) function: its instances' properties (`this.api = …`).
    thises: Vec<Val>,
    /// Depth of conditional code (branches, loops): assignments there add alternatives.
    cond: u32,
    /// Parameters of the current function that flow into the request body of the next sink.
    data_params: u64,
    root: ScopeRef,
    origin: String,
    /// `wgServer`: protocol-relative, as Wikimedia wikis set it (`//en.wikipedia.org`).
    server: String,
    host: String,
    script_path: String,
}

impl<'a, 'o, 'p> Walker<'a, 'o, 'p> {
    fn new(out: &'o mut Output<'p>) -> Self {
        let url = out.page().url().clone();
        let origin = url.origin().ascii_serialization();
        let host = url.host_str().unwrap_or("").to_string();
        let path = url.path();
        let script_path = match path.find("/index.php") {
            Some(i) => path[..i].to_string(),
            None => "/w".to_string(),
        };
        let root = Rc::new(RefCell::new(Scope::default()));
        Walker {
            out,
            queue: VecDeque::new(),
            funcs: 0,
            scope: root.clone(),
            rets: Vec::new(),
            current: None,
            this: Val::Unknown(0),
            thises: Vec::new(),
            cond: 0,
            data_params: 0,
            root,
            function: None,
            hint: None,
            depth: 0,
            too_deep: false,
            elems: Vec::new(),
            xhrs: Vec::new(),
            sinks: Vec::new(),
            calls: Vec::new(),
            server: origin
                .split_once(':')
                .map_or_else(|| origin.clone(), |(_, rest)| rest.to_string()),
            origin,
            host,
            script_path,
        }
    }

    fn program(&mut self, program: &'a Program) {
        match program {
            Program::Script(s) => self.body(&s.body),
            Program::Module(m) => {
                let stmts: Vec<&'a Stmt> = m
                    .body
                    .iter()
                    .filter_map(|item| match item {
                        ModuleItem::Stmt(s) => Some(s),
                        ModuleItem::ModuleDecl(_) => None,
                    })
                    .collect();
                self.hoist(stmts.iter().copied());
                for item in &m.body {
                    match item {
                        ModuleItem::Stmt(s) => {
                            if !matches!(s, Stmt::Decl(Decl::Fn(_))) {
                                self.stmt(s);
                            }
                        }
                        ModuleItem::ModuleDecl(d) => self.module_decl(d),
                    }
                }
            }
        }
        while let Some(d) = self.queue.pop_front() {
            self.run_deferred(d);
        }
    }

    fn module_decl(&mut self, d: &'a ModuleDecl) {
        let src = match d {
            ModuleDecl::Import(i) => Some((&i.src, i.span)),
            ModuleDecl::ExportAll(e) => Some((&e.src, e.span)),
            ModuleDecl::ExportNamed(e) => e.src.as_ref().map(|s| (s, e.span)),
            ModuleDecl::ExportDecl(e) => {
                self.decl(&e.decl);
                None
            }
            ModuleDecl::ExportDefaultExpr(e) => {
                self.expr(&e.expr);
                None
            }
            ModuleDecl::ExportDefaultDecl(e) => {
                match &e.decl {
                    DefaultDecl::Fn(f) => {
                        self.defer(Body::Function(&f.function), Some("default".into()), None);
                    }
                    DefaultDecl::Class(c) => {
                        self.class(&c.class);
                    }
                    DefaultDecl::TsInterfaceDecl(_) => {}
                }
                None
            }
            _ => None,
        };
        if let Some((src, span)) = src {
            let spec = src.value.to_atom_lossy();
            let spec = spec.as_str();
            // Bare specifiers (`vue`) are resolved by a bundler or import map, not fetched.
            if spec.starts_with('/')
                || spec.starts_with("./")
                || spec.starts_with("../")
                || spec.contains("://")
            {
                self.sink(
                    "import",
                    Channel::Module,
                    None,
                    &Val::Str(Str::lit(spec)),
                    0,
                    span,
                    false,
                );
            }
        }
    }

    /// Resolves call-site substitutions and element attributes; true if the walk hit its
    /// depth limit.
    fn finish(mut self) -> bool {
        // Elements: their role (rel, type) may be set after their URL.
        let elems = std::mem::take(&mut self.elems);
        for elem in &elems {
            let known = |name: &str| -> Option<String> {
                elem.attrs
                    .iter()
                    .rev()
                    .find(|a| a.name == name)
                    .and_then(|a| match &a.value {
                        Val::Str(s) => s.known().map(str::to_string),
                        _ => None,
                    })
            };
            let rel = known("rel");
            let type_ = known("type");
            let as_ = known("as");
            // A role given by the caller: the tag, or `rel`/`type`/`as`, is a parameter.
            let mut role_func = elem.tag_param.map(|(f, _)| f);
            let mut piece = |name: &str, k: &Option<String>| -> Piece {
                let param = elem
                    .attrs
                    .iter()
                    .rev()
                    .find(|a| a.name == name)
                    .and_then(|a| match &a.value {
                        Val::Str(s) if k.is_none() => s.lone_param(),
                        _ => None,
                    });
                match param {
                    Some((f, i)) if role_func.is_none_or(|r| r == f) => {
                        role_func = Some(f);
                        Piece::Param(i)
                    }
                    _ => Piece::Known(k.clone()),
                }
            };
            let rel_p = piece("rel", &rel);
            let type_p = piece("type", &type_);
            let as_p = piece("as", &as_);
            if let Some(func) = role_func {
                // The role comes from each call site: one sink per URL attribute, its
                // channel decided when the call sites are substituted.
                let tag_p = match elem.tag_param {
                    Some((_, i)) => Piece::Param(i),
                    None => Piece::Known(Some(elem.tag.clone())),
                };
                for attr in &elem.attrs {
                    if !["src", "href", "data", "srcset", "poster"].contains(&attr.name.as_str()) {
                        continue;
                    }
                    let tag = Rc::new(TagParam {
                        tag: tag_p.clone(),
                        attr: attr.name.clone(),
                        rel: rel_p.clone(),
                        type_: type_p.clone(),
                        as_: as_p.clone(),
                    });
                    for alt in alternatives(&attr.value) {
                        let value = self.to_str(&alt);
                        self.sinks.push(Sink {
                            func,
                            data_params: 0,
                            value,
                            api: attr.api,
                            channel: Channel::Other,
                            directive: None,
                            carries: 0,
                            offset: attr.offset,
                            function: attr.function.clone(),
                            likely: true,
                            tag: Some(tag.clone()),
                        });
                    }
                }
                continue;
            }
            for attr in &elem.attrs {
                if !html::url_attrs(&elem.tag).contains(&attr.name.as_str()) {
                    continue;
                }
                let Some((channel, directive, guessed)) = html::channel_for(
                    &elem.tag,
                    &attr.name,
                    rel.as_deref(),
                    type_.as_deref(),
                    as_.as_deref(),
                ) else {
                    continue;
                };
                let value = if attr.name == "srcset" {
                    match &attr.value {
                        Val::Str(s) => match s.known() {
                            Some(k) => Val::Str(Str::lit(html::first_srcset_url(k))),
                            None => attr.value.clone(),
                        },
                        v => v.clone(),
                    }
                } else {
                    attr.value.clone()
                };
                let saved = std::mem::replace(&mut self.function, attr.function.clone());
                self.sink_at(
                    attr.api,
                    channel,
                    directive,
                    &value,
                    0,
                    attr.offset,
                    guessed || elem.likely,
                );
                self.function = saved;
            }
        }
        // Wrappers: substitute call-site arguments, a few rounds for wrappers of wrappers.
        let mut pending = std::mem::take(&mut self.sinks);
        for _round in 0..4 {
            if pending.is_empty() {
                break;
            }
            let mut next = Vec::new();
            for sink in pending {
                let mut resolved = false;
                for call in self.calls.iter().filter(|c| c.func == sink.func) {
                    let mut data = 0u8;
                    for (i, a) in call.args.iter().enumerate().take(64) {
                        if sink.data_params & (1u64 << i) != 0 {
                            data |= carries(a);
                        }
                    }
                    // Each argument may have alternatives; keep the combinations few.
                    let mut combos: Vec<Vec<Str>> = vec![Vec::new()];
                    for a in &call.args {
                        let alts = alternatives(a);
                        let mut next_combos = Vec::new();
                        for c in &combos {
                            for x in &alts {
                                if next_combos.len() < MAX_ALTERNATIVES {
                                    let mut c = c.clone();
                                    c.push(self.to_str(x));
                                    next_combos.push(c);
                                }
                            }
                        }
                        combos = next_combos;
                    }
                    for strs in combos {
                        let value = sink.value.substitute_params(sink.func, &strs);
                        resolved = true;
                        let (channel, directive, likely) =
                            match sink.tag.as_ref().and_then(|t| t.channel(&strs)) {
                                // This call site's element does not load this attribute.
                                Some(None) => continue,
                                Some(Some((c, d, guessed))) => (c, d, guessed),
                                None => (sink.channel, sink.directive, sink.likely),
                            };
                        let still = value.param_func().filter(|_| {
                            matches!(
                                value::resolve_destination(self.out.page(), &value),
                                Some(None)
                            )
                        });
                        match still {
                            Some(func) => next.push(Sink {
                                func,
                                value,
                                offset: call.offset,
                                function: call.function.clone(),
                                carries: sink.carries | data,
                                channel,
                                directive,
                                likely,
                                tag: None,
                                ..sink.clone_meta()
                            }),
                            None => {
                                let carries = sink.carries | value.carries | data;
                                self.out.push(RawFinding {
                                    api: sink.api,
                                    channel,
                                    directive,
                                    url: value,
                                    carries,
                                    offset: call.offset,
                                    function: call.function.as_deref().map(str::to_string),
                                    likely,
                                });
                            }
                        }
                    }
                }
                if !resolved {
                    // Never called with a known argument: report the sink itself as dynamic
                    // (an element of unknown tag keeps what is known of its URL).
                    let url = if sink.tag.is_some() {
                        sink.value.substitute_params(sink.func, &[])
                    } else {
                        Str::hole(Hole::Unknown, sink.value.carries)
                    };
                    self.out.push(RawFinding {
                        api: sink.api,
                        channel: sink.channel,
                        directive: sink.directive,
                        url,
                        carries: sink.carries,
                        offset: sink.offset,
                        function: sink.function.as_deref().map(str::to_string),
                        likely: sink.likely,
                    });
                }
            }
            pending = next;
        }
        if self.too_deep {
            self.out.error(
                format!("nesting deeper than the scanner's walk limit ({MAX_WALK_DEPTH}): findings below it are missing"),
                0,
            );
            self.out.set_partial();
        }
        self.too_deep
    }

    // --- helpers ------------------------------------------------------------------------

    fn enter(&mut self) -> bool {
        self.depth += 1;
        if self.depth > MAX_WALK_DEPTH {
            self.too_deep = true;
            false
        } else {
            true
        }
    }

    fn leave(&mut self) {
        self.depth -= 1;
    }

    fn declare(&mut self, name: &str, v: Val) {
        self.scope.borrow_mut().vars.insert(name.to_string(), v);
    }

    fn assign(&mut self, name: &str, v: Val) {
        let mut cur = Some(self.scope.clone());
        while let Some(s) = cur {
            if s.borrow().vars.contains_key(name) {
                s.borrow_mut().vars.insert(name.to_string(), v);
                return;
            }
            let parent = s.borrow().parent.clone();
            if parent.is_none() {
                // Implicit global.
                s.borrow_mut().vars.insert(name.to_string(), v);
                return;
            }
            cur = parent;
        }
    }

    fn ident(&self, name: &str) -> Val {
        match lookup(&self.scope, name) {
            Some(v) => v,
            None if name == "undefined" || name == "NaN" || name == "Infinity" => Val::Unknown(0),
            None => Val::Global(normalize(name).into()),
        }
    }

    fn function_name(&self) -> Option<String> {
        self.function.as_deref().map(str::to_string)
    }

    fn defer(&mut self, body: Body<'a>, name: Option<Rc<str>>, args: Option<Vec<Val>>) -> u32 {
        let id = self.funcs;
        self.funcs += 1;
        self.rets.push(None);
        let this = match body {
            Body::Arrow(_) => self.this.clone(),
            _ => Val::Obj(Rc::new(RefCell::new(Obj::default()))),
        };
        self.thises.push(this.clone());
        self.queue.push_back(Deferred {
            body,
            scope: self.scope.clone(),
            name,
            id,
            args,
            this,
        });
        id
    }

    /// Makes `this` of a function not walked yet be `this` (a method's object).
    fn set_this(&mut self, id: u32, this: &Val) {
        if let Some(slot) = self.thises.get_mut(id as usize) {
            *slot = this.clone();
        }
        // The function was usually deferred just now: look from the back.
        if let Some(d) = self.queue.iter_mut().rev().take(64).find(|d| d.id == id) {
            d.this = this.clone();
        }
    }

    fn run_deferred(&mut self, d: Deferred<'a>) {
        let scope = Rc::new(RefCell::new(Scope {
            vars: HashMap::new(),
            parent: Some(d.scope),
        }));
        let saved_scope = std::mem::replace(&mut self.scope, scope);
        let saved_fn = std::mem::replace(&mut self.function, d.name);
        let saved_current = self.current.replace(d.id);
        let saved_this = std::mem::replace(&mut self.this, d.this);
        let saved_cond = std::mem::replace(&mut self.cond, 0);
        let param_val = |this: &Self, i: usize, name: Option<&str>| -> Val {
            if let Some(args) = &d.args {
                return args.get(i).cloned().unwrap_or(Val::Unknown(0));
            }
            match name {
                Some(n @ ("$" | "jQuery" | "mw" | "mediaWiki")) => Val::Global(normalize(n).into()),
                _ => {
                    let _ = this;
                    Val::Str(Str::hole(
                        Hole::Param {
                            func: d.id,
                            index: u32::try_from(i).unwrap_or(u32::MAX),
                        },
                        0,
                    ))
                }
            }
        };
        match d.body {
            Body::Function(f) => {
                for (i, p) in f.params.iter().enumerate() {
                    let v = param_val(self, i, pat_name(&p.pat));
                    self.pat(&p.pat, v);
                }
                if let Some(body) = &f.body {
                    self.body(&body.stmts);
                }
            }
            Body::Arrow(a) => {
                for (i, p) in a.params.iter().enumerate() {
                    let v = param_val(self, i, pat_name(p));
                    self.pat(p, v);
                }
                match &*a.body {
                    ArrowFunctionBody::FunctionBody(b) => self.body(&b.stmts),
                    ArrowFunctionBody::Expr(e) => {
                        let v = self.expr(e);
                        self.returned(v);
                    }
                }
            }
            Body::Constructor(c) => {
                for (i, p) in c.params.iter().enumerate() {
                    if let ParamOrTsParamProp::Param(p) = p {
                        let v = param_val(self, i, pat_name(&p.pat));
                        self.pat(&p.pat, v);
                    }
                }
                if let Some(body) = &c.body {
                    self.body(&body.stmts);
                }
            }
        }
        self.scope = saved_scope;
        self.function = saved_fn;
        self.current = saved_current;
        self.this = saved_this;
        self.cond = saved_cond;
    }

    /// Bit `i` set when parameter `i` of the current function appears in `v`.
    fn param_mask(&self, v: &Val, depth: u8) -> u64 {
        let Some(current) = self.current else {
            return 0;
        };
        if depth > 3 {
            return 0;
        }
        match v {
            Val::Str(s) => s.parts.iter().fold(0, |acc, p| match p {
                value::Part::Hole(Hole::Param { func, index })
                    if *func == current && *index < 64 =>
                {
                    acc | (1u64 << index)
                }
                _ => acc,
            }),
            Val::Obj(o) => o
                .borrow()
                .props
                .iter()
                .fold(0, |acc, (_, v)| acc | self.param_mask(v, depth + 1)),
            Val::Arr(a) | Val::Alt(a) => a
                .iter()
                .fold(0, |acc, v| acc | self.param_mask(v, depth + 1)),
            _ => 0,
        }
    }

    /// Records a value the current function returns.
    fn returned(&mut self, v: Val) {
        if let Some(id) = self.current {
            if let Some(slot) = self.rets.get_mut(id as usize) {
                *slot = Some(match slot.take() {
                    None => v,
                    Some(old) => alt_of(old, v),
                });
            }
        }
    }

    /// The value of a call to a function whose body was already walked.
    fn call_result(&self, id: u32, args: &[Val]) -> Val {
        let c = args.iter().fold(0, |acc, v| acc | carries(v));
        match self.rets.get(id as usize).cloned().flatten() {
            Some(ret) => {
                let strs: Vec<Str> = args.iter().map(|a| self.to_str(a)).collect();
                let subst = |v: &Val| match v {
                    Val::Str(s) => Val::Str(s.substitute_params(id, &strs)),
                    other => other.clone(),
                };
                match &ret {
                    Val::Alt(items) => Val::Alt(Rc::new(items.iter().map(subst).collect())),
                    other => subst(other),
                }
            }
            None => Val::Unknown(c),
        }
    }

    fn to_str(&self, v: &Val) -> Str {
        match v {
            Val::Str(s) => s.clone(),
            Val::Global(p) => match self.global_value(p) {
                Some(Val::Str(s)) => s,
                Some(other) => Str::hole(Hole::Unknown, carries(&other)),
                None => Str::hole(Hole::Unknown, 0),
            },
            Val::Alt(a) => a
                .first()
                .map_or_else(|| Str::hole(Hole::Unknown, 0), |v| self.to_str(v)),
            Val::Arr(items) => {
                // Array.prototype.toString joins with commas.
                let mut s = Str::default();
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        s.push_lit(",");
                    }
                    s.append(&self.to_str(item));
                }
                s
            }
            other => Str::hole(Hole::Unknown, carries(other)),
        }
    }

    /// What a global path evaluates to when used as a value.
    fn global_value(&self, path: &str) -> Option<Val> {
        let path = path
            .strip_prefix("document.")
            .filter(|p| p.starts_with("location"))
            .unwrap_or(path);
        Some(match path {
            "location.origin" => Val::Str(Str::lit(&self.origin)),
            "location.protocol" => Val::Str(Str::lit(
                self.origin
                    .split(':')
                    .next()
                    .map(|s| format!("{s}:"))
                    .as_deref()
                    .unwrap_or("https:"),
            )),
            "location.host" | "location.hostname" => Val::Str(Str::lit(&self.host)),
            "location"
            | "location.href"
            | "location.pathname"
            | "location.search"
            | "document.URL"
            | "document.title"
            | "document.documentURI" => Val::Unknown(value::PAGE),
            _ => {
                if let Some(name) = path.strip_prefix("mw.config.values.") {
                    return Some(self.config_value(name));
                }
                if path.starts_with("mw.user.tokens.values") {
                    return Some(Val::Unknown(value::TOKEN));
                }
                return None;
            }
        })
    }

    /// `mw.config.get(name)`.
    fn config_value(&self, name: &str) -> Val {
        match name {
            "wgUserName" | "wgUserId" | "wgGlobalUserId" | "wgUserEditCount"
            | "wgRelevantUserName" => Val::Unknown(value::USER),
            "wgPageName"
            | "wgTitle"
            | "wgRelevantPageName"
            | "wgArticleId"
            | "wgRelevantArticleId"
            | "wgCanonicalSpecialPageName"
            | "wgPageContentModel" => Val::Unknown(value::PAGE),
            "wgRevisionId" | "wgCurRevisionId" | "wgDiffOldId" | "wgDiffNewId" => {
                Val::Unknown(value::REVISION)
            }
            "wgServer" => Val::Str(Str::lit(&self.server)),
            "wgServerName" => Val::Str(Str::lit(&self.host)),
            "wgScriptPath" => Val::Str(Str::lit(&self.script_path)),
            "wgScript" => Val::Str(Str::lit(&format!("{}/index.php", self.script_path))),
            "wgArticlePath" => Val::Str(Str::lit("/wiki/$1")),
            "wgExtensionAssetsPath" => {
                Val::Str(Str::lit(&format!("{}/extensions", self.script_path)))
            }
            _ => Val::Unknown(0),
        }
    }

    // --- sinks --------------------------------------------------------------------------

    #[allow(clippy::too_many_arguments)]
    fn sink(
        &mut self,
        api: &'static str,
        channel: Channel,
        directive: Option<Directive>,
        v: &Val,
        extra: u8,
        span: Span,
        likely: bool,
    ) -> Option<usize> {
        self.sink_at(api, channel, directive, v, extra, offset(span.lo), likely)
    }

    #[allow(clippy::too_many_arguments)]
    fn sink_at(
        &mut self,
        api: &'static str,
        channel: Channel,
        directive: Option<Directive>,
        v: &Val,
        extra: u8,
        at: usize,
        likely: bool,
    ) -> Option<usize> {
        let mut last = None;
        for alt in alternatives(v) {
            let s = self.to_str(&alt);
            let param_func = s
                .param_func()
                .filter(|_| matches!(value::resolve_destination(self.out.page(), &s), Some(None)));
            if let Some(func) = param_func {
                self.sinks.push(Sink {
                    func,
                    data_params: self.data_params,
                    value: s,
                    api,
                    channel,
                    directive,
                    carries: extra,
                    offset: at,
                    function: self.function.clone(),
                    likely,
                    tag: None,
                });
                continue;
            }
            let carries = extra | s.carries;
            last = Some(self.out.push(RawFinding {
                api,
                channel,
                directive,
                url: s,
                carries,
                offset: at,
                function: self.function_name(),
                likely,
            }));
        }
        last
    }

    fn dynamic_code(&mut self, api: &'static str, span: Span) {
        self.out.code(RawCode {
            api,
            offset: offset(span.lo),
            function: self.function_name(),
        });
    }

    /// HTML text reaching the DOM.
    fn html_sink(&mut self, api: &'static str, v: &Val, span: Span) {
        for alt in alternatives(v) {
            let s = self.to_str(&alt);
            let text = css::flatten(&s);
            if !text.contains('<') {
                continue;
            }
            let (tags, styles) = html::tags(&text);
            for tag in &tags {
                let rel = tag.attr("rel");
                let type_ = tag.attr("type");
                let as_ = tag.attr("as");
                for attr in html::url_attrs(&tag.name) {
                    let Some(value) = tag.attr(attr) else {
                        continue;
                    };
                    let value = if *attr == "srcset" {
                        html::first_srcset_url(value)
                    } else {
                        value
                    };
                    let Some((channel, directive, likely)) =
                        html::channel_for(&tag.name, attr, rel, type_, as_)
                    else {
                        continue;
                    };
                    let value = Val::Str(css::unflatten(value, s.carries));
                    self.sink(api, channel, directive, &value, 0, span, likely);
                }
                if let Some(style) = tag.attr("style") {
                    self.css_sink(api, &Val::Str(css::unflatten(style, s.carries)), span);
                }
            }
            for style in styles {
                self.css_sink(api, &Val::Str(css::unflatten(&style, s.carries)), span);
            }
        }
    }

    /// CSS text reaching the page (`mw.util.addCSS`, `<style>`, `style=`).
    fn css_sink(&mut self, api: &'static str, v: &Val, span: Span) {
        for alt in alternatives(v) {
            let s = self.to_str(&alt);
            for (kind, url) in css::scan_css_value(&s) {
                self.sink(api, kind.channel(), None, &Val::Str(url), 0, span, false);
            }
        }
    }

    fn new_elem(&mut self, tag: &str, api: &'static str) -> Val {
        let id = u32::try_from(self.elems.len()).unwrap_or(u32::MAX);
        self.elems.push(Elem {
            api,
            tag: tag.to_ascii_lowercase(),
            tag_param: None,
            attrs: Vec::new(),
            likely: false,
        });
        Val::Elem(id)
    }

    /// An element whose tag is parameter `index` of function `func`.
    fn new_elem_param(&mut self, func: u32, index: u32, api: &'static str) -> Val {
        let v = self.new_elem("", api);
        if let Some(e) = self.elems.last_mut() {
            e.tag_param = Some((func, index));
        }
        v
    }

    fn set_attr(&mut self, elem: u32, name: &str, value: Val, span: Span) {
        let name = name.to_ascii_lowercase();
        let function = self.function.clone();
        let Some(e) = self.elems.get_mut(elem as usize) else {
            return;
        };
        let api = e.api;
        match name.as_str() {
            "innerhtml" | "outerhtml" => {
                self.html_sink("innerHTML", &value, span);
            }
            "textcontent" | "innertext" | "text" if e.tag == "style" => {
                self.css_sink(api, &value, span);
            }
            "csstext" => self.css_sink(api, &value, span),
            _ => {
                if e.attrs.len() < 64 {
                    e.attrs.push(ElemAttr {
                        name,
                        value,
                        offset: offset(span.lo),
                        function,
                        api,
                    });
                }
            }
        }
    }

    /// `.attr({src: …, rel: …})`, `$('<img>', {src: …})`.
    fn set_attrs_from(&mut self, elem: u32, obj: &Val, span: Span) {
        if let Val::Obj(o) = obj {
            let props: Vec<(String, Val)> = o.borrow().props.clone();
            for (k, v) in props {
                if k == "css" {
                    continue;
                }
                let name = if k == "html" {
                    "innerHTML".to_string()
                } else {
                    k
                };
                self.set_attr(elem, &name, v, span);
            }
        }
    }

    // --- statements -----------------------------------------------------------------------

    fn hoist(&mut self, stmts: impl Iterator<Item = &'a Stmt>) {
        for s in stmts {
            if let Stmt::Decl(Decl::Fn(f)) = s {
                let name: Rc<str> = f.ident.sym.as_str().into();
                let id = self.defer(Body::Function(&f.function), Some(name.clone()), None);
                self.declare(&name, Val::Func(id));
            }
        }
    }

    /// A function body or program: function declarations first (hoisting).
    fn body(&mut self, stmts: &'a [Stmt]) {
        self.hoist(stmts.iter());
        for s in stmts {
            if !matches!(s, Stmt::Decl(Decl::Fn(_))) {
                self.stmt(s);
            }
        }
    }

    fn stmts(&mut self, stmts: &'a [Stmt]) {
        for s in stmts {
            self.stmt(s);
        }
    }

    fn stmt(&mut self, s: &'a Stmt) {
        if !self.enter() {
            self.leave();
            return;
        }
        match s {
            Stmt::Block(b) => self.stmts(&b.stmts),
            Stmt::Empty(_) | Stmt::Debugger(_) | Stmt::Break(_) | Stmt::Continue(_) => {}
            Stmt::With(w) => {
                self.expr(&w.obj);
                self.stmt(&w.body);
            }
            Stmt::Return(r) => {
                if let Some(a) = &r.arg {
                    let v = self.expr(a);
                    self.returned(v);
                }
            }
            Stmt::Labeled(l) => self.stmt(&l.body),
            Stmt::If(i) => {
                self.expr(&i.test);
                self.cond += 1;
                self.stmt(&i.cons);
                // `else if` chains: iterate instead of recursing.
                let mut alt = i.alt.as_deref();
                while let Some(a) = alt {
                    if let Stmt::If(inner) = a {
                        self.expr(&inner.test);
                        self.stmt(&inner.cons);
                        alt = inner.alt.as_deref();
                    } else {
                        self.stmt(a);
                        alt = None;
                    }
                }
                self.cond -= 1;
            }
            Stmt::Switch(sw) => {
                self.expr(&sw.discriminant);
                self.cond += 1;
                for c in &sw.cases {
                    if let Some(t) = &c.test {
                        self.expr(t);
                    }
                    self.stmts(&c.cons);
                }
                self.cond -= 1;
            }
            Stmt::Throw(t) => {
                self.expr(&t.arg);
            }
            Stmt::Try(t) => {
                self.stmts(&t.block.stmts);
                if let Some(h) = &t.handler {
                    if let Some(p) = &h.param {
                        self.pat(p, Val::Unknown(0));
                    }
                    self.stmts(&h.body.stmts);
                }
                if let Some(f) = &t.finalizer {
                    self.stmts(&f.stmts);
                }
            }
            Stmt::While(w) => {
                self.expr(&w.test);
                self.cond += 1;
                self.stmt(&w.body);
                self.cond -= 1;
            }
            Stmt::DoWhile(w) => {
                self.cond += 1;
                self.stmt(&w.body);
                self.cond -= 1;
                self.expr(&w.test);
            }
            Stmt::For(f) => {
                match &f.init {
                    Some(VarDeclOrExpr::VarDecl(v)) => self.var_decl(v),
                    Some(VarDeclOrExpr::Expr(e)) => {
                        self.expr(e);
                    }
                    None => {}
                }
                if let Some(t) = &f.test {
                    self.expr(t);
                }
                if let Some(u) = &f.update {
                    self.expr(u);
                }
                self.cond += 1;
                self.stmt(&f.body);
                self.cond -= 1;
            }
            Stmt::ForIn(f) => {
                let items = self.expr(&f.right);
                self.for_head(&f.left, Val::Unknown(carries(&items)));
                self.stmt(&f.body);
            }
            Stmt::ForOf(f) => {
                let items = self.expr(&f.right);
                // `for (const u of ['https://a', 'https://b'])`: the alternatives.
                let item = match &items {
                    Val::Arr(a) if !a.is_empty() && a.len() <= MAX_ALTERNATIVES => {
                        Val::Alt(a.clone())
                    }
                    other => Val::Unknown(carries(other)),
                };
                self.for_head(&f.left, item);
                self.stmt(&f.body);
            }
            Stmt::Decl(d) => self.decl(d),
            Stmt::Expr(e) => {
                self.expr(&e.expr);
            }
        }
        self.leave();
    }

    fn for_head(&mut self, head: &'a ForHead, v: Val) {
        match head {
            ForHead::VarDecl(d) => {
                for decl in &d.decls {
                    self.pat(&decl.name, v.clone());
                }
            }
            ForHead::UsingDecl(d) => {
                for decl in &d.decls {
                    self.pat(&decl.name, v.clone());
                }
            }
            ForHead::Pat(p) => self.pat(p, v),
        }
    }

    fn decl(&mut self, d: &'a Decl) {
        match d {
            Decl::Fn(f) => {
                let name: Rc<str> = f.ident.sym.as_str().into();
                let id = self.defer(Body::Function(&f.function), Some(name.clone()), None);
                self.declare(&name, Val::Func(id));
            }
            Decl::Class(c) => {
                let v = self.class(&c.class);
                self.declare(c.ident.sym.as_str(), v);
            }
            Decl::Var(v) => self.var_decl(v),
            Decl::Using(u) => {
                for d in &u.decls {
                    let v = d.init.as_ref().map_or(Val::Unknown(0), |e| self.expr(e));
                    self.pat(&d.name, v);
                }
            }
            _ => {}
        }
    }

    fn var_decl(&mut self, v: &'a VarDecl) {
        for d in &v.decls {
            let value = match &d.init {
                Some(init) => {
                    self.hint = pat_name(&d.name).map(Rc::from);
                    let value = self.expr(init);
                    self.hint = None;
                    value
                }
                None => {
                    // `var x;` must not forget a value assigned earlier (hoisting).
                    if let Some(name) = pat_name(&d.name) {
                        if self.scope.borrow().vars.contains_key(name) {
                            continue;
                        }
                    }
                    Val::Unknown(0)
                }
            };
            self.pat(&d.name, value);
        }
    }

    /// A class: one object stands for its instances (`this`) and holds its methods.
    fn class(&mut self, c: &'a Class) -> Val {
        if let Some(s) = &c.super_class {
            self.expr(s);
        }
        let this = Val::Obj(Rc::new(RefCell::new(Obj::default())));
        let saved_this = std::mem::replace(&mut self.this, this.clone());
        for m in &c.body {
            let (body, name): (Option<Body<'a>>, Option<Rc<str>>) = match m {
                ClassMember::Constructor(k) => {
                    (Some(Body::Constructor(k)), Some("constructor".into()))
                }
                ClassMember::Method(m) => (
                    Some(Body::Function(&m.function)),
                    prop_name_static(&m.key).map(Rc::from),
                ),
                ClassMember::PrivateMethod(m) => (
                    Some(Body::Function(&m.function)),
                    Some(m.key.name.as_str().into()),
                ),
                ClassMember::ClassProp(p) => {
                    if let Some(v) = &p.value {
                        let v = self.expr(v);
                        if let (Some(k), Val::Obj(o)) = (prop_name_static(&p.key), &this) {
                            o.borrow_mut().set(k.to_string(), v);
                        }
                    }
                    (None, None)
                }
                ClassMember::PrivateProp(p) => {
                    if let Some(v) = &p.value {
                        let v = self.expr(v);
                        if let Val::Obj(o) = &this {
                            o.borrow_mut().set(p.key.name.to_string(), v);
                        }
                    }
                    (None, None)
                }
                ClassMember::StaticBlock(b) => {
                    self.stmts(&b.body.stmts);
                    (None, None)
                }
                ClassMember::AutoAccessor(a) => {
                    if let Some(v) = &a.value {
                        self.expr(v);
                    }
                    (None, None)
                }
                ClassMember::TsIndexSignature(_) | ClassMember::Empty(_) => (None, None),
            };
            if let Some(body) = body {
                let id = self.defer(body, name.clone(), None);
                self.set_this(id, &this);
                if let (Some(n), Val::Obj(o)) = (name, &this) {
                    if &*n != "constructor" {
                        o.borrow_mut().set(n.to_string(), Val::Func(id));
                    }
                }
            }
        }
        self.this = saved_this;
        this
    }

    /// Binds a pattern to a value.
    fn pat(&mut self, p: &'a Pat, v: Val) {
        match p {
            Pat::Ident(i) => self.declare(i.id.sym.as_str(), v),
            Pat::Assign(a) => {
                let v = match v {
                    Val::Unknown(0) => self.expr(&a.right),
                    Val::Str(s) if matches!(s.leading_hole(), Some(Hole::Param { .. })) => {
                        // A parameter with a default: the default is one value it can have.
                        let d = self.expr(&a.right);
                        match d {
                            Val::Str(_) => Val::Alt(Rc::new(vec![Val::Str(s), d])),
                            _ => Val::Str(s),
                        }
                    }
                    other => other,
                };
                self.pat(&a.left, v);
            }
            Pat::Object(o) => {
                for prop in &o.props {
                    match prop {
                        ObjectPatProp::KeyValue(kv) => {
                            let sub = prop_name_static(&kv.key)
                                .and_then(|k| member_of(&v, k))
                                .unwrap_or(Val::Unknown(carries(&v)));
                            self.pat(&kv.value, sub);
                        }
                        ObjectPatProp::Assign(a) => {
                            let name = a.key.id.sym.as_str();
                            let sub = match member_of(&v, name) {
                                Some(s) => s,
                                None => match &a.value {
                                    Some(d) => self.expr(d),
                                    None => Val::Unknown(carries(&v)),
                                },
                            };
                            self.declare(name, sub);
                        }
                        ObjectPatProp::Rest(r) => self.pat(&r.arg, Val::Unknown(carries(&v))),
                    }
                }
            }
            Pat::Array(a) => {
                for (i, e) in a.elems.iter().enumerate() {
                    if let Some(e) = e {
                        let sub = match &v {
                            Val::Arr(items) => items.get(i).cloned().unwrap_or(Val::Unknown(0)),
                            other => Val::Unknown(carries(other)),
                        };
                        self.pat(e, sub);
                    }
                }
            }
            Pat::Rest(r) => self.pat(&r.arg, Val::Unknown(carries(&v))),
            Pat::Expr(e) => {
                self.expr(e);
            }
            Pat::Invalid(_) => {}
        }
    }

    // --- expressions ----------------------------------------------------------------------

    fn exprs(&mut self, args: &'a [ExprOrSpread]) -> Vec<Val> {
        args.iter()
            .map(|a| {
                let v = self.expr(&a.expr);
                if a.spread.is_some() {
                    Val::Unknown(carries(&v))
                } else {
                    v
                }
            })
            .collect()
    }

    fn expr(&mut self, e: &'a Expr) -> Val {
        if !self.enter() {
            self.leave();
            return Val::Unknown(0);
        }
        let v = self.expr_inner(e);
        self.leave();
        v
    }

    fn expr_inner(&mut self, e: &'a Expr) -> Val {
        let hint = self.hint.take();
        match e {
            Expr::Lit(l) => match l {
                Lit::Str(s) => Val::Str(Str::lit(s.value.to_atom_lossy().as_str())),
                Lit::Num(n) => Val::Str(Str::lit(&n.value.to_string())),
                Lit::Bool(b) => Val::Str(Str::lit(if b.value { "true" } else { "false" })),
                _ => Val::Unknown(0),
            },
            Expr::Tpl(t) => self.template(t),
            Expr::TaggedTpl(t) => {
                self.expr(&t.tag);
                let v = self.template(&t.tpl);
                Val::Unknown(carries(&v))
            }
            Expr::Ident(i) => self.ident(i.sym.as_str()),
            Expr::This(_) => self.this.clone(),
            Expr::Array(a) => {
                let mut items = Vec::new();
                for el in a.elems.iter() {
                    match el {
                        Some(e) => {
                            let v = self.expr(&e.expr);
                            items.push(if e.spread.is_some() {
                                Val::Unknown(carries(&v))
                            } else {
                                v
                            });
                        }
                        None => items.push(Val::Unknown(0)),
                    }
                }
                Val::Arr(Rc::new(items))
            }
            Expr::Object(o) => self.object(o),
            Expr::Fn(f) => {
                let name = f.ident.as_ref().map(|i| Rc::from(i.sym.as_str())).or(hint);
                Val::Func(self.defer(Body::Function(&f.function), name, None))
            }
            Expr::Arrow(a) => Val::Func(self.defer(Body::Arrow(a), hint, None)),
            Expr::Class(c) => self.class(&c.class),
            Expr::Unary(u) => {
                let v = self.expr(&u.arg);
                match u.op {
                    UnaryOp::TypeOf | UnaryOp::Bang | UnaryOp::Void | UnaryOp::Delete => {
                        Val::Unknown(0)
                    }
                    _ => Val::Unknown(carries(&v)),
                }
            }
            Expr::Update(u) => {
                self.expr(&u.arg);
                Val::Unknown(0)
            }
            Expr::Bin(_) => self.binary(e),
            Expr::Assign(a) => self.assign_expr(a),
            Expr::Member(m) => self.member(m),
            Expr::SuperProp(_) | Expr::MetaProp(_) | Expr::PrivateName(_) | Expr::Invalid(_) => {
                Val::Unknown(0)
            }
            Expr::Cond(c) => {
                self.expr(&c.test);
                let a = self.expr(&c.cons);
                let b = self.expr(&c.alt);
                alt_of(a, b)
            }
            Expr::Call(c) => match &c.callee {
                Callee::Expr(callee) => self.call(callee, &c.args, c.span, false),
                Callee::Import(_) => {
                    let args = self.exprs(&c.args);
                    if let Some(url) = args.first() {
                        if is_url_like(url, self) {
                            self.sink("import()", Channel::Module, None, url, 0, c.span, false);
                        }
                    }
                    Val::Unknown(0)
                }
                Callee::Super(_) => {
                    self.exprs(&c.args);
                    Val::Unknown(0)
                }
            },
            Expr::New(n) => {
                let args: &'a [ExprOrSpread] = n.args.as_deref().unwrap_or(&[]);
                self.call(&n.callee, args, n.span, true)
            }
            Expr::Seq(s) => {
                let mut last = Val::Unknown(0);
                for e in &s.exprs {
                    last = self.expr(e);
                }
                last
            }
            Expr::Yield(y) => {
                if let Some(a) = &y.arg {
                    self.expr(a);
                }
                Val::Unknown(0)
            }
            Expr::Await(a) => self.expr(&a.arg),
            Expr::Paren(p) => {
                self.hint = hint;
                self.expr(&p.expr)
            }
            Expr::OptChain(o) => match &*o.base {
                OptChainBase::Member(m) => self.member(m),
                OptChainBase::Call(c) => self.call(&c.callee, &c.args, c.span, false),
            },
            Expr::TsTypeAssertion(t) => self.expr(&t.expr),
            Expr::TsConstAssertion(t) => self.expr(&t.expr),
            Expr::TsNonNull(t) => self.expr(&t.expr),
            Expr::TsAs(t) => self.expr(&t.expr),
            Expr::TsInstantiation(t) => self.expr(&t.expr),
            Expr::TsSatisfies(t) => self.expr(&t.expr),
            _ => Val::Unknown(0),
        }
    }

    fn template(&mut self, t: &'a Tpl) -> Val {
        let mut s = Str::default();
        for (i, q) in t.quasis.iter().enumerate() {
            match &q.cooked {
                Some(c) => s.push_lit(c.to_atom_lossy().as_str()),
                None => s.push_lit(q.raw.as_str()),
            }
            if let Some(e) = t.exprs.get(i) {
                let v = self.expr(e);
                s.append(&self.to_str(&v));
            }
        }
        Val::Str(s)
    }

    fn object(&mut self, o: &'a ObjectLit) -> Val {
        let rc = Rc::new(RefCell::new(Obj::default()));
        let this = Val::Obj(rc.clone());
        let mut obj = Obj::default();
        for p in &o.props {
            match p {
                PropOrSpread::Spread(s) => {
                    if let Val::Obj(src) = self.expr(&s.expr) {
                        for (k, v) in src.borrow().props.iter() {
                            obj.set(k.clone(), v.clone());
                        }
                    }
                }
                PropOrSpread::Prop(p) => match &**p {
                    Prop::Shorthand(i) => {
                        let v = self.ident(i.sym.as_str());
                        obj.set(i.sym.to_string(), v);
                    }
                    Prop::KeyValue(kv) => {
                        let key = match &kv.key {
                            PropName::Computed(c) => {
                                let k = self.expr(&c.expr);
                                match k {
                                    Val::Str(s) => s.known().map(str::to_string),
                                    _ => None,
                                }
                            }
                            other => prop_name_static(other).map(str::to_string),
                        };
                        self.hint = key.as_deref().map(Rc::from);
                        let v = self.expr(&kv.value);
                        self.hint = None;
                        if let (Val::Func(id), Expr::Fn(_)) = (&v, unparen(&kv.value)) {
                            self.set_this(*id, &this);
                        }
                        if let Some(k) = key {
                            obj.set(k, v);
                        }
                    }
                    Prop::Assign(a) => {
                        self.expr(&a.value);
                    }
                    Prop::Getter(g) => {
                        let name = prop_name_static(&g.key).map(Rc::from);
                        self.defer(Body::Function(&g.function), name, None);
                    }
                    Prop::Setter(st) => {
                        let name = prop_name_static(&st.key).map(Rc::from);
                        self.defer(Body::Function(&st.function), name, None);
                    }
                    Prop::Method(m) => {
                        let name = prop_name_static(&m.key);
                        let id = self.defer(Body::Function(&m.function), name.map(Rc::from), None);
                        self.set_this(id, &this);
                        if let Some(n) = name {
                            obj.set(n.to_string(), Val::Func(id));
                        }
                    }
                },
            }
        }
        *rc.borrow_mut() = obj;
        this
    }

    /// `+` chains are evaluated iteratively (long concatenations are common).
    fn binary(&mut self, e: &'a Expr) -> Val {
        let Expr::Bin(top) = e else {
            return Val::Unknown(0);
        };
        let op = top.op;
        let mut rights: Vec<&'a Expr> = Vec::new();
        let mut cur = e;
        while let Expr::Bin(b) = cur {
            if b.op != op {
                break;
            }
            rights.push(&b.right);
            cur = &b.left;
        }
        let mut acc = self.expr(cur);
        for r in rights.into_iter().rev() {
            let rv = self.expr(r);
            acc = match op {
                BinaryOp::Add => self.concat(&acc, &rv),
                BinaryOp::LogicalOr | BinaryOp::NullishCoalescing => match (&acc, &rv) {
                    (Val::Str(_) | Val::Alt(_), Val::Str(_) | Val::Alt(_)) => alt_of(acc, rv),
                    // `config.url || 'https://default'`: the default is a guess.
                    (Val::Unknown(_) | Val::Global(_), Val::Str(s)) => {
                        let mut s = s.clone();
                        s.likely = true;
                        s.carries |= carries(&acc);
                        Val::Str(s)
                    }
                    (
                        Val::Unknown(_) | Val::Global(_),
                        Val::Obj(_) | Val::Arr(_) | Val::Func(_),
                    ) => rv,
                    (Val::Unknown(a), Val::Unknown(b)) => Val::Unknown(a | b),
                    _ => acc,
                },
                BinaryOp::LogicalAnd => rv,
                _ => Val::Unknown(0),
            };
        }
        acc
    }

    fn concat(&self, a: &Val, b: &Val) -> Val {
        let alts_a = alternatives(a);
        let alts_b = alternatives(b);
        if alts_a.len() * alts_b.len() > 1 && alts_a.len() * alts_b.len() <= MAX_ALTERNATIVES {
            let mut out = Vec::new();
            for x in &alts_a {
                for y in &alts_b {
                    let mut s = self.to_str(x);
                    s.append(&self.to_str(y));
                    out.push(Val::Str(s));
                }
            }
            return Val::Alt(Rc::new(out));
        }
        let mut s = self.to_str(a);
        s.append(&self.to_str(b));
        Val::Str(s)
    }

    /// A call's callee `recv.method`: the receiver's value, the method name when constant,
    /// and the global path (`mw.loader.load`) when the receiver is a known global.
    fn method_of(&mut self, m: &'a MemberExpr) -> (Option<Val>, Option<String>, Option<String>) {
        let recv = self.expr(&m.obj);
        let method = self.member_key(&m.prop);
        let path = match (&recv, &method) {
            (Val::Global(p), Some(k)) => Some(normalize(&format!("{p}.{k}"))),
            _ => None,
        };
        (Some(recv), method, path)
    }

    fn member_key(&mut self, prop: &'a MemberProp) -> Option<String> {
        match prop {
            MemberProp::Ident(i) => Some(i.sym.to_string()),
            MemberProp::PrivateName(p) => Some(p.name.to_string()),
            MemberProp::Computed(c) => match self.expr(&c.expr) {
                Val::Str(s) => s.known().map(str::to_string),
                _ => None,
            },
        }
    }

    fn member(&mut self, m: &'a MemberExpr) -> Val {
        let obj = self.expr(&m.obj);
        let key = self.member_key(&m.prop);
        let Some(key) = key else {
            return Val::Unknown(carries(&obj));
        };
        match &obj {
            Val::Global(p) => {
                let path = normalize(&format!("{p}.{key}"));
                if !path.contains('.') {
                    if let Some(v) = self.root.borrow().vars.get(&path) {
                        return v.clone();
                    }
                }
                Val::Global(path.into())
            }
            Val::Obj(o) => o.borrow().get(&key).cloned().unwrap_or(Val::Unknown(0)),
            // `Foo.prototype`: the object standing for Foo's instances.
            Val::Func(id) if key == "prototype" => self
                .thises
                .get(*id as usize)
                .cloned()
                .unwrap_or(Val::Unknown(0)),
            Val::Arr(a) => match key.parse::<usize>() {
                Ok(i) => a.get(i).cloned().unwrap_or(Val::Unknown(0)),
                Err(_) => Val::Unknown(carries(&obj)),
            },
            other => Val::Unknown(carries(other)),
        }
    }

    fn assign_expr(&mut self, a: &'a AssignExpr) -> Val {
        // Name hint for function values: `x.onload = function () {}` is `onload`.
        let target_name = match &a.left {
            AssignTarget::Simple(SimpleAssignTarget::Ident(i)) => Some(i.id.sym.to_string()),
            AssignTarget::Simple(SimpleAssignTarget::Member(m)) => match &m.prop {
                MemberProp::Ident(i) => Some(i.sym.to_string()),
                _ => None,
            },
            _ => None,
        };
        self.hint = target_name.as_deref().map(Rc::from);
        let right = self.expr(&a.right);
        self.hint = None;
        match &a.left {
            AssignTarget::Simple(SimpleAssignTarget::Ident(i)) => {
                let name = i.id.sym.as_str();
                let old = self.ident(name);
                let value = match a.op {
                    AssignOp::Assign
                        if self.cond > 0 && matches!(old, Val::Str(_) | Val::Alt(_)) =>
                    {
                        alt_of(old.clone(), right.clone())
                    }
                    AssignOp::Assign => right.clone(),
                    AssignOp::AddAssign => self.concat(&old, &right),
                    AssignOp::OrAssign | AssignOp::NullishAssign => match old {
                        Val::Str(_) => old.clone(),
                        _ => right.clone(),
                    },
                    _ => Val::Unknown(0),
                };
                if let Val::Global(p) = &old {
                    if &**p == "location" && lookup(&self.scope, name).is_none() {
                        self.sink(
                            "location",
                            Channel::Navigate,
                            None,
                            &value,
                            0,
                            a.span,
                            false,
                        );
                        return right;
                    }
                }
                self.assign(name, value);
            }
            AssignTarget::Simple(SimpleAssignTarget::Member(m)) => {
                let obj = self.expr(&m.obj);
                let key = self.member_key(&m.prop);
                if let Some(key) = key {
                    self.member_assign(&m.obj, &obj, &key, &right, a.op, a.span);
                }
            }
            AssignTarget::Simple(other) => {
                if let SimpleAssignTarget::Paren(p) = other {
                    self.expr(&p.expr);
                }
            }
            AssignTarget::Pat(p) => match p {
                AssignTargetPat::Array(arr) => {
                    for e in arr.elems.iter().flatten() {
                        self.pat(e, Val::Unknown(carries(&right)));
                    }
                }
                AssignTargetPat::Object(o) => {
                    let pat = Pat::Object(o.clone());
                    // Rare in gadget code: bind names without keeping the cloned pattern.
                    let names = pat_names(&pat);
                    for n in names {
                        self.assign(&n, Val::Unknown(carries(&right)));
                    }
                }
                AssignTargetPat::Invalid(_) => {}
            },
        }
        right
    }

    fn member_assign(
        &mut self,
        obj_expr: &'a Expr,
        obj: &Val,
        key: &str,
        right: &Val,
        op: AssignOp,
        span: Span,
    ) {
        match obj {
            Val::Elem(id) => {
                let value = if op == AssignOp::AddAssign {
                    let old = self
                        .elems
                        .get(*id as usize)
                        .and_then(|e| {
                            e.attrs
                                .iter()
                                .rev()
                                .find(|a| a.name == key.to_ascii_lowercase())
                        })
                        .map(|a| a.value.clone())
                        .unwrap_or(Val::Str(Str::default()));
                    self.concat(&old, right)
                } else {
                    right.clone()
                };

                self.set_attr(*id, key, value, span);
            }
            Val::Xhr(id) => {
                if key == "withCredentials" {
                    if let Some(x) = self.xhrs.get_mut(*id as usize) {
                        x.1 = true;
                        if let Some(i) = x.0 {
                            self.out.add_carries(i, value::COOKIES);
                        }
                    }
                }
            }
            Val::Obj(o) => {
                let value = if op == AssignOp::AddAssign {
                    let old = o.borrow().get(key).cloned().unwrap_or(Val::Unknown(0));
                    self.concat(&old, right)
                } else if self.cond > 0 {
                    match o.borrow().get(key) {
                        Some(old @ (Val::Str(_) | Val::Alt(_))) => {
                            alt_of(old.clone(), right.clone())
                        }
                        _ => right.clone(),
                    }
                } else {
                    right.clone()
                };
                if let (Val::Func(id), Expr::Fn(_) | Expr::Ident(_) | Expr::Member(_)) =
                    (right, unparen(obj_expr))
                {
                    // `obj.method = function () { this.… }`, `Foo.prototype.m = …`.
                    self.set_this(*id, obj);
                }
                o.borrow_mut().set(key.to_string(), value);
            }
            Val::Func(id) if key == "prototype" => {
                let this = self.thises.get(*id as usize).cloned();
                if let (Some(this), Val::Obj(methods)) = (this, right) {
                    let funcs: Vec<u32> = methods
                        .borrow()
                        .props
                        .iter()
                        .filter_map(|(_, v)| if let Val::Func(f) = v { Some(*f) } else { None })
                        .collect();
                    for f in funcs {
                        self.set_this(f, &this);
                    }
                    if let Val::Obj(t) = &this {
                        for (k, v) in methods.borrow().props.iter() {
                            t.borrow_mut().set(k.clone(), v.clone());
                        }
                    }
                }
            }
            Val::Global(p) => {
                let path = normalize(&format!("{p}.{key}"));
                let browser_global = matches!(
                    path.as_str(),
                    "location"
                        | "document"
                        | "navigator"
                        | "history"
                        | "name"
                        | "status"
                        | "opener"
                );
                if !path.contains('.') && !browser_global {
                    // `window.foo = …` declares the global `foo`.
                    self.root
                        .borrow_mut()
                        .vars
                        .insert(path.clone(), right.clone());
                }
                match path.as_str() {
                    "location"
                    | "location.href"
                    | "document.location"
                    | "document.location.href" => {
                        self.sink("location", Channel::Navigate, None, right, 0, span, false);
                    }
                    "document.body.innerHTML" | "document.documentElement.innerHTML" => {
                        self.html_sink("innerHTML", right, span);
                    }
                    _ => {}
                }
            }
            _ => match key {
                "innerHTML" | "outerHTML" => self.html_sink("innerHTML", right, span),
                // `.src` on an element the scanner did not see created.
                "src" if is_url_like(right, self) => {
                    self.sink("src", Channel::Other, None, right, 0, span, true);
                }
                "cssText" | "background" | "backgroundImage" | "listStyleImage" | "content"
                | "borderImage" | "borderImageSource" | "cursor" | "mask" | "maskImage"
                    if is_style_object(obj_expr) =>
                {
                    self.css_sink("style", right, span);
                }
                _ => {}
            },
        }
    }

    // --- calls ------------------------------------------------------------------------------

    fn call(
        &mut self,
        callee: &'a Expr,
        args: &'a [ExprOrSpread],
        span: Span,
        is_new: bool,
    ) -> Val {
        // Immediately invoked function expressions bind their arguments.
        if !is_new {
            if let Some(v) = self.iife(callee, args) {
                return v;
            }
        }
        let (recv, method, path) = match unparen(callee) {
            Expr::Member(m) => self.method_of(m),
            Expr::OptChain(o) => match &*o.base {
                OptChainBase::Member(m) => self.method_of(m),
                OptChainBase::Call(_) => {
                    let v = self.expr(callee);
                    (None, None, global_path(&v))
                }
            },
            other => {
                let v = self.expr(other);
                match v {
                    Val::Obj(_) if is_new => {
                        self.exprs(args);
                        return v;
                    }
                    Val::Func(id) if is_new => {
                        let vals = self.exprs(args);
                        self.calls.push(CallSite {
                            func: id,
                            args: vals,
                            offset: offset(span.lo),
                            function: self.function.clone(),
                        });
                        return self
                            .thises
                            .get(id as usize)
                            .cloned()
                            .unwrap_or(Val::Unknown(0));
                    }
                    Val::Func(id) => {
                        let vals = self.exprs(args);
                        let result = self.call_result(id, &vals);
                        self.calls.push(CallSite {
                            func: id,
                            args: vals,
                            offset: offset(span.lo),
                            function: self.function.clone(),
                        });
                        return result;
                    }
                    v => (None, None, global_path(&v)),
                }
            }
        };
        let vals = self.exprs(args);
        // A method that is a known function of an object literal: a wrapper call.
        if let (Some(Val::Obj(o)), Some(m)) = (&recv, &method) {
            let f = o.borrow().get(m).cloned();
            if let Some(Val::Func(id)) = f {
                let result = self.call_result(id, &vals);
                self.calls.push(CallSite {
                    func: id,
                    args: vals.clone(),
                    offset: offset(span.lo),
                    function: self.function.clone(),
                });
                return result;
            }
        }
        if let Some(path) = &path {
            // Parameters of a wrapper that reach the request (its body or URL).
            self.data_params = vals.iter().fold(0, |acc, v| acc | self.param_mask(v, 0));
            let result = self.api_call(path, &vals, span, is_new);
            self.data_params = 0;
            if let Some(v) = result {
                return v;
            }
        }
        if let (Some(recv), Some(method)) = (&recv, &method) {
            if let Some(v) = self.method_call(recv, method, &vals, span) {
                return v;
            }
        }
        let c = vals.iter().fold(0, |acc, v| acc | carries(v)) | recv.as_ref().map_or(0, carries);
        Val::Unknown(c)
    }

    fn iife(&mut self, callee: &'a Expr, args: &'a [ExprOrSpread]) -> Option<Val> {
        let (func, vals): (&'a Expr, Vec<Val>) = match unparen(callee) {
            f @ (Expr::Fn(_) | Expr::Arrow(_)) => (f, self.exprs(args)),
            Expr::Member(m) => {
                let inner = unparen(&m.obj);
                if !matches!(inner, Expr::Fn(_) | Expr::Arrow(_)) {
                    return None;
                }
                let method = match &m.prop {
                    MemberProp::Ident(i) => i.sym.as_str(),
                    _ => return None,
                };
                let vals = self.exprs(args);
                match method {
                    "call" => (inner, vals.into_iter().skip(1).collect()),
                    "apply" => match vals.get(1) {
                        Some(Val::Arr(a)) => (inner, a.as_ref().clone()),
                        _ => (inner, Vec::new()),
                    },
                    _ => return None,
                }
            }
            _ => return None,
        };
        match func {
            Expr::Fn(f) => {
                let name = f.ident.as_ref().map(|i| Rc::from(i.sym.as_str()));
                self.defer(Body::Function(&f.function), name, Some(vals));
            }
            Expr::Arrow(a) => {
                self.defer(Body::Arrow(a), None, Some(vals));
            }
            _ => return None,
        }
        Some(Val::Unknown(0))
    }

    /// Calls and constructions of known global APIs.
    fn api_call(&mut self, path: &str, args: &[Val], span: Span, is_new: bool) -> Option<Val> {
        let arg = |i: usize| args.get(i).cloned().unwrap_or(Val::Unknown(0));
        let known = |i: usize| match args.get(i) {
            Some(Val::Str(s)) => s.known().map(str::to_string),
            _ => None,
        };
        if is_new {
            match path {
                "WebSocket" => {
                    self.sink(
                        "WebSocket",
                        Channel::Websocket,
                        None,
                        &arg(0),
                        0,
                        span,
                        false,
                    );
                }
                "EventSource" => {
                    let creds = member_of(&arg(1), "withCredentials").is_some_and(|v| is_true(&v));
                    let extra = if creds { value::COOKIES } else { 0 };
                    self.sink(
                        "EventSource",
                        Channel::Eventsource,
                        None,
                        &arg(0),
                        extra,
                        span,
                        false,
                    );
                }
                "Worker" | "SharedWorker" => {
                    self.sink("Worker", Channel::Worker, None, &arg(0), 0, span, false);
                }
                "Image" => return Some(self.new_elem("img", "Image")),
                "Audio" => {
                    let el = self.new_elem("audio", "Audio");
                    if let (Val::Elem(id), Some(src)) = (&el, args.first()) {
                        self.set_attr(*id, "src", src.clone(), span);
                    }
                    return Some(el);
                }
                "XMLHttpRequest" => {
                    let id = u32::try_from(self.xhrs.len()).unwrap_or(u32::MAX);
                    self.xhrs.push((None, false));
                    return Some(Val::Xhr(id));
                }
                "mw.Api" => {
                    let url = member_of(&arg(0), "ajax")
                        .and_then(|a| member_of(&a, "url"))
                        .unwrap_or_else(|| {
                            Val::Str(Str::lit(&format!("{}/api.php", self.script_path)))
                        });
                    self.sink("mw.Api", Channel::Xhr, None, &url, 0, span, false);
                }
                "mw.Rest" => {
                    let url = Val::Str(Str::lit(&format!("{}/rest.php", self.script_path)));
                    self.sink("mw.Rest", Channel::Xhr, None, &url, 0, span, false);
                }
                "mw.ForeignApi" => {
                    self.sink("mw.ForeignApi", Channel::Xhr, None, &arg(0), 0, span, false);
                }
                "mw.ForeignRest" => {
                    self.sink(
                        "mw.ForeignRest",
                        Channel::Xhr,
                        None,
                        &arg(0),
                        0,
                        span,
                        false,
                    );
                }
                "Function" => self.dynamic_code("Function", span),
                "FontFace" => {
                    let src = self.to_str(&arg(1));
                    for (_, url) in css::scan_css_value(&src) {
                        self.sink(
                            "FontFace",
                            Channel::FontFace,
                            None,
                            &Val::Str(url),
                            0,
                            span,
                            false,
                        );
                    }
                }
                "URL" => {
                    let a = self.to_str(&arg(0));
                    if let (Some(rel), Some(base)) = (a.known(), known(1)) {
                        if let Ok(u) =
                            crate::urls::parse(&base).and_then(|b| crate::urls::join(&b, rel))
                        {
                            return Some(Val::Str(Str::lit(u.as_str())));
                        }
                    }
                    return Some(Val::Str(a));
                }
                "URLSearchParams" => return Some(Val::Unknown(carries(&arg(0)))),
                _ => return None,
            }
            return Some(Val::Unknown(0));
        }
        match path {
            "mw.loader.load" => {
                let url = arg(0);
                let is_module = |v: &Val| match v {
                    Val::Arr(_) => true,
                    Val::Str(s) => s
                        .known()
                        .is_some_and(|k| !k.contains('/') && !k.contains(':')),
                    _ => false,
                };
                if !alternatives(&url).iter().all(is_module) {
                    let css = known(1).is_some_and(|t| t.eq_ignore_ascii_case("text/css"));
                    let channel = if css { Channel::Style } else { Channel::Script };
                    self.sink("mw.loader.load", channel, None, &url, 0, span, false);
                }
            }
            "navigator.serviceWorker.register" => {
                self.sink(
                    "serviceWorker.register",
                    Channel::Worker,
                    None,
                    &arg(0),
                    0,
                    span,
                    false,
                );
            }
            "importScripts" => {
                for a in args {
                    self.sink("importScripts", Channel::Worker, None, a, 0, span, false);
                }
            }
            "mw.util.addPortletLink" => {
                if args.len() >= 2 {
                    self.sink(
                        "mw.util.addPortletLink",
                        Channel::Navigate,
                        None,
                        &arg(1),
                        0,
                        span,
                        false,
                    );
                }
            }
            "Object.assign" | "$.extend" => {
                // Object.assign(target, …sources) / $.extend([deep,] target, …sources)
                let skip = usize::from(
                    matches!(args.first(), Some(Val::Str(s)) if s.known() == Some("true")),
                );
                let Some(target) = args.get(skip).cloned() else {
                    return Some(Val::Unknown(0));
                };
                for source in args.iter().skip(skip + 1) {
                    match (&target, source) {
                        (Val::Elem(id), Val::Obj(_)) => self.set_attrs_from(*id, source, span),
                        (Val::Obj(t), Val::Obj(s)) if !Rc::ptr_eq(t, s) => {
                            let props = s.borrow().props.clone();
                            for (k, v) in props {
                                t.borrow_mut().set(k, v);
                            }
                        }
                        _ => {}
                    }
                }
                return Some(target);
            }
            "mw.loader.getScript" => {
                self.sink(
                    "mw.loader.getScript",
                    Channel::Script,
                    None,
                    &arg(0),
                    0,
                    span,
                    false,
                );
            }
            "importScript" | "importStylesheet" => {
                let (ctype, channel) = if path == "importScript" {
                    ("text/javascript", Channel::Script)
                } else {
                    ("text/css", Channel::Style)
                };
                let mut url = Str::lit(&format!("{}/index.php?title=", self.script_path));
                url.append(&self.to_str(&arg(0)));
                url.push_lit(&format!("&action=raw&ctype={ctype}"));
                let api = if path == "importScript" {
                    "importScript"
                } else {
                    "importStylesheet"
                };
                self.sink(api, channel, None, &Val::Str(url), 0, span, false);
            }
            "importScriptURI" => {
                self.sink(
                    "importScriptURI",
                    Channel::Script,
                    None,
                    &arg(0),
                    0,
                    span,
                    false,
                );
            }
            "importStylesheetURI" => {
                self.sink(
                    "importStylesheetURI",
                    Channel::Style,
                    None,
                    &arg(0),
                    0,
                    span,
                    false,
                );
            }
            "$.getScript" => {
                self.sink(
                    "$.getScript",
                    Channel::Script,
                    None,
                    &arg(0),
                    0,
                    span,
                    false,
                );
            }
            "$.ajax" => {
                let (url, opts) = match &arg(0) {
                    Val::Obj(_) => (member_of(&arg(0), "url").unwrap_or(Val::Unknown(0)), arg(0)),
                    u => (u.clone(), arg(1)),
                };
                let data = member_of(&opts, "data").map_or(0, |d| carries(&d));
                let creds = member_of(&opts, "xhrFields")
                    .and_then(|x| member_of(&x, "withCredentials"))
                    .is_some_and(|v| is_true(&v));
                let data_type = member_of(&opts, "dataType").and_then(|v| known_str(&v));
                let jsonp = member_of(&opts, "jsonp").is_some()
                    || member_of(&opts, "jsonpCallback").is_some();
                self.ajax(
                    "$.ajax",
                    &url,
                    data_type.as_deref(),
                    jsonp,
                    data | if creds { value::COOKIES } else { 0 },
                    span,
                );
            }
            "$.get" | "$.post" | "$.getJSON" => {
                let api = match path {
                    "$.get" => "$.get",
                    "$.post" => "$.post",
                    _ => "$.getJSON",
                };
                let (url, data, data_type) = match &arg(0) {
                    Val::Obj(_) => (
                        member_of(&arg(0), "url").unwrap_or(Val::Unknown(0)),
                        member_of(&arg(0), "data").map_or(0, |d| carries(&d)),
                        member_of(&arg(0), "dataType").and_then(|v| known_str(&v)),
                    ),
                    u => {
                        let data = args
                            .get(1)
                            .filter(|v| !matches!(v, Val::Func(_)))
                            .map_or(0, carries);
                        let dt = args.iter().skip(1).rev().find_map(known_str);
                        (u.clone(), data, dt)
                    }
                };
                let data_type = if api == "$.getJSON" {
                    data_type.or(Some("json".into()))
                } else {
                    data_type
                };
                self.ajax(api, &url, data_type.as_deref(), false, data, span);
            }
            "fetch" => {
                let opts = arg(1);
                let mut extra = member_of(&opts, "body").map_or(0, |b| carries(&b));
                if member_of(&opts, "credentials")
                    .and_then(|c| known_str(&c))
                    .as_deref()
                    == Some("include")
                {
                    extra |= value::COOKIES;
                }
                // `fetch(new Request(url))` is not followed: the request is dynamic.
                self.sink("fetch", Channel::Fetch, None, &arg(0), extra, span, false);
            }
            "navigator.sendBeacon" => {
                let extra = carries(&arg(1));
                self.sink(
                    "navigator.sendBeacon",
                    Channel::Beacon,
                    None,
                    &arg(0),
                    extra,
                    span,
                    false,
                );
            }
            "eval" => self.dynamic_code("eval", span),
            "Function" => self.dynamic_code("Function", span),
            "setTimeout" | "setInterval" => {
                if matches!(arg(0), Val::Str(_)) {
                    self.dynamic_code(
                        if path == "setTimeout" {
                            "setTimeout"
                        } else {
                            "setInterval"
                        },
                        span,
                    );
                }
            }
            "document.write" | "document.writeln" => {
                self.dynamic_code("document.write", span);
                for a in args {
                    self.html_sink("document.write", a, span);
                }
            }
            "open" => {
                if !args.is_empty() {
                    self.sink(
                        "window.open",
                        Channel::Navigate,
                        None,
                        &arg(0),
                        0,
                        span,
                        false,
                    );
                }
            }
            "location.assign"
            | "location.replace"
            | "document.location.assign"
            | "document.location.replace" => {
                self.sink("location", Channel::Navigate, None, &arg(0), 0, span, false);
            }
            "mw.util.addCSS" | "mw.loader.addStyleTag" => {
                let api = if path == "mw.util.addCSS" {
                    "mw.util.addCSS"
                } else {
                    "mw.loader.addStyleTag"
                };
                self.css_sink(api, &arg(0), span);
            }
            "mw.config.get" => {
                return Some(match &arg(0) {
                    Val::Arr(names) => {
                        let mut obj = Obj::default();
                        for n in names.iter() {
                            if let Some(k) = known_str(n) {
                                let v = self.config_value(&k);
                                obj.set(k, v);
                            }
                        }
                        Val::Obj(Rc::new(RefCell::new(obj)))
                    }
                    v => match known_str(v) {
                        Some(k) => self.config_value(&k),
                        None => Val::Unknown(0),
                    },
                });
            }
            "mw.user.getName" | "mw.user.id" | "mw.user.getId" => {
                return Some(Val::Unknown(value::USER));
            }
            "mw.user.tokens.get" => return Some(Val::Unknown(value::TOKEN)),
            "mw.util.wikiScript" => {
                let which = known(0).unwrap_or_else(|| "index".to_string());
                return Some(Val::Str(Str::lit(&format!(
                    "{}/{which}.php",
                    self.script_path
                ))));
            }
            "mw.util.getUrl" => {
                let mut s = Str::lit("/wiki/");
                s.append(&self.to_str(&arg(0)));
                return Some(Val::Str(s));
            }
            "encodeURIComponent"
            | "encodeURI"
            | "escape"
            | "String"
            | "mw.util.wikiUrlencode"
            | "mw.util.rawurlencode"
            | "$.trim" => {
                return Some(match arg(0) {
                    Val::Str(s) => Val::Str(s),
                    other => Val::Unknown(carries(&other)),
                });
            }
            "$.param" | "JSON.stringify" => return Some(Val::Unknown(carries(&arg(0)))),
            "document.createElement" | "document.createElementNS" => {
                let tag = if path == "document.createElement" {
                    known(0)
                } else {
                    known(1)
                };
                let param = match arg(usize::from(path != "document.createElement")) {
                    Val::Str(s) => s.lone_param(),
                    _ => None,
                };
                return Some(match (tag, param) {
                    (Some(t), _) => self.new_elem(&t, "createElement"),
                    (None, Some((func, index))) => {
                        self.new_elem_param(func, index, "createElement")
                    }
                    (None, None) => Val::Unknown(0),
                });
            }
            "$" => return Some(self.jquery(args, span)),
            _ => return None,
        }
        Some(Val::Unknown(0))
    }

    fn ajax(
        &mut self,
        api: &'static str,
        url: &Val,
        data_type: Option<&str>,
        jsonp: bool,
        extra: u8,
        span: Span,
    ) {
        let url_text = self.to_str(url);
        let jsonp = jsonp
            || matches!(data_type, Some("script" | "jsonp"))
            || url_text.prefix().contains("callback=?")
            || url_text
                .parts
                .iter()
                .any(|p| matches!(p, value::Part::Lit(s) if s.contains("=?")));
        let channel = if jsonp { Channel::Script } else { Channel::Xhr };
        self.sink(api, channel, None, url, extra, span, false);
    }

    /// `$(…)` / `jQuery(…)`: element construction, HTML parsing, or a selector.
    fn jquery(&mut self, args: &[Val], span: Span) -> Val {
        let Some(first) = args.first() else {
            return Val::Unknown(0);
        };
        let s = match first {
            Val::Str(s) => s.clone(),
            Val::Elem(_) => return first.clone(),
            _ => return Val::Unknown(0),
        };
        let text = css::flatten(&s);
        let trimmed = text.trim();
        if !trimmed.starts_with('<') {
            return Val::Unknown(0);
        }
        // `<tag>`, `<tag/>`, `<tag></tag>`: a single element to be configured by .attr().
        if let Some(tag) = simple_tag(trimmed) {
            let el = self.new_elem(&tag, "jQuery");
            if let (Val::Elem(id), Some(attrs)) = (&el, args.get(1)) {
                self.set_attrs_from(*id, attrs, span);
            }
            return el;
        }
        self.html_sink("jQuery", first, span);
        Val::Unknown(0)
    }

    fn method_call(&mut self, recv: &Val, method: &str, args: &[Val], span: Span) -> Option<Val> {
        let arg = |i: usize| args.get(i).cloned().unwrap_or(Val::Unknown(0));
        match recv {
            Val::Elem(id) => {
                let id = *id;
                match method {
                    "setAttribute" | "attr" | "prop" => {
                        match (args.first(), args.get(1)) {
                            (Some(Val::Obj(_)), _) => self.set_attrs_from(id, &arg(0), span),
                            (Some(name), Some(v)) => {
                                if let Some(n) = known_str(name) {
                                    self.set_attr(id, &n, v.clone(), span);
                                }
                            }
                            _ => {}
                        }
                        if method == "setAttribute" {
                            return Some(Val::Unknown(0));
                        }
                    }
                    "html" | "append" | "prepend" | "after" | "before" | "replaceWith" => {
                        if let Some(a) = args.first() {
                            self.html_sink("html", a, span);
                        }
                    }
                    "insertAdjacentHTML" => self.html_sink("insertAdjacentHTML", &arg(1), span),
                    "text"
                        if self
                            .elems
                            .get(id as usize)
                            .is_some_and(|e| e.tag == "style") =>
                    {
                        self.css_sink("style", &arg(0), span);
                    }
                    "css" => self.css_call(args, span),
                    "appendChild" | "append_child" | "get" => return Some(Val::Unknown(0)),
                    _ => {}
                }
                Some(recv.clone())
            }
            Val::Xhr(id) => {
                match method {
                    "open" => {
                        let creds = self.xhrs.get(*id as usize).is_some_and(|x| x.1);
                        let extra = if creds { value::COOKIES } else { 0 };
                        let idx = self.sink(
                            "XMLHttpRequest.open",
                            Channel::Xhr,
                            None,
                            &arg(1),
                            extra,
                            span,
                            false,
                        );
                        if let Some(x) = self.xhrs.get_mut(*id as usize) {
                            x.0 = idx;
                        }
                    }
                    "send" => {
                        let c = carries(&arg(0));
                        if let Some(Some(i)) = self.xhrs.get(*id as usize).map(|x| x.0) {
                            self.out.add_carries(i, c);
                        }
                    }
                    _ => {}
                }
                Some(Val::Unknown(0))
            }
            Val::Arr(items)
                if matches!(
                    method,
                    "forEach" | "map" | "filter" | "some" | "every" | "find" | "flatMap"
                ) && matches!(args.first(), Some(Val::Func(_))) =>
            {
                if let Some(Val::Func(id)) = args.first() {
                    for item in items.iter().take(16) {
                        self.calls.push(CallSite {
                            func: *id,
                            args: vec![item.clone()],
                            offset: offset(span.lo),
                            function: self.function.clone(),
                        });
                    }
                }
                Some(Val::Unknown(0))
            }
            Val::Arr(items) if method == "join" => {
                let sep = match args.first() {
                    Some(v) => self.to_str(v),
                    None => Str::lit(","),
                };
                let mut s = Str::default();
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        s.append(&sep);
                    }
                    s.append(&self.to_str(item));
                }
                Some(Val::Str(s))
            }
            Val::Str(s) => match method {
                "concat" => {
                    let mut s = s.clone();
                    for a in args {
                        s.append(&self.to_str(a));
                    }
                    Some(Val::Str(s))
                }
                "toString" | "valueOf" | "trim" => Some(Val::Str(s.clone())),
                "replace" | "replaceAll" => {
                    if let (Some(base), Some(Val::Str(from)), Some(Val::Str(to))) =
                        (s.known(), args.first(), args.get(1))
                    {
                        if let (Some(from), Some(to)) = (from.known(), to.known()) {
                            let out = if method == "replace" {
                                base.replacen(from, to, 1)
                            } else {
                                base.replace(from, to)
                            };
                            return Some(Val::Str(Str::lit(&out)));
                        }
                    }
                    // `'https://x/{user}'.replace('{user}', name)`: the host survives a
                    // replacement that is not about it; keep the text up to the last '/'.
                    let mut kept = Str::default();
                    let prefix = s.prefix();
                    if let Some(i) = prefix.rfind('/') {
                        kept.push_lit(&prefix[..=i]);
                    }
                    kept.push_hole(Hole::Unknown);
                    kept.carries = s.carries | args.iter().fold(0, |acc, v| acc | carries(v));
                    Some(Val::Str(kept))
                }
                _ => None,
            },
            _ => match method {
                "open"
                    if args.len() >= 2
                        && known_str(&arg(0)).is_some_and(|m| is_http_method(&m)) =>
                {
                    self.sink(
                        "XMLHttpRequest.open",
                        Channel::Xhr,
                        None,
                        &arg(1),
                        0,
                        span,
                        true,
                    );
                    Some(Val::Unknown(0))
                }
                "html" | "append" | "prepend" | "after" | "before" | "replaceWith" | "appendTo"
                | "wrap" => {
                    if let Some(a) = args.first() {
                        if starts_with_tag(a, self) {
                            self.html_sink("html", a, span);
                        }
                    }
                    None
                }
                "insertAdjacentHTML" => {
                    self.html_sink("insertAdjacentHTML", &arg(1), span);
                    None
                }
                "css" => {
                    self.css_call(args, span);
                    None
                }
                "load" if args.first().is_some_and(|a| is_url_like(a, self)) => {
                    // jQuery's `$(sel).load(url)`.
                    self.sink("$.fn.load", Channel::Xhr, None, &arg(0), 0, span, true);
                    None
                }
                _ => None,
            },
        }
    }

    /// jQuery `.css(name, value)` / `.css({…})` with `url()` values.
    fn css_call(&mut self, args: &[Val], span: Span) {
        match (args.first(), args.get(1)) {
            (Some(Val::Obj(o)), _) => {
                let values: Vec<Val> = o.borrow().props.iter().map(|(_, v)| v.clone()).collect();
                for v in values {
                    self.css_sink("css", &v, span);
                }
            }
            (Some(_), Some(v)) => self.css_sink("css", v, span),
            _ => {}
        }
    }
}

impl Sink {
    fn clone_meta(&self) -> Sink {
        Sink {
            func: self.func,
            data_params: 0,
            value: Str::default(),
            api: self.api,
            channel: self.channel,
            directive: self.directive,
            carries: self.carries,
            offset: self.offset,
            function: self.function.clone(),
            likely: self.likely,
            tag: self.tag.clone(),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Small helpers

fn alternatives(v: &Val) -> Vec<Val> {
    match v {
        Val::Alt(a) => a
            .iter()
            .flat_map(alternatives)
            .take(MAX_ALTERNATIVES)
            .collect(),
        other => vec![other.clone()],
    }
}

fn alt_of(a: Val, b: Val) -> Val {
    let mut items = alternatives(&a);
    for x in alternatives(&b) {
        if items.len() < MAX_ALTERNATIVES {
            items.push(x);
        }
    }
    // Keep only string alternatives when there are some: an unknown branch adds nothing.
    let strs: Vec<Val> = items
        .iter()
        .filter(|v| matches!(v, Val::Str(_)))
        .cloned()
        .collect();
    match strs.len() {
        0 => Val::Unknown(carries(&a) | carries(&b)),
        1 => strs.into_iter().next().unwrap_or(Val::Unknown(0)),
        _ => Val::Alt(Rc::new(strs)),
    }
}

fn unparen(mut e: &Expr) -> &Expr {
    while let Expr::Paren(p) = e {
        e = &p.expr;
    }
    e
}

fn global_path(v: &Val) -> Option<String> {
    match v {
        Val::Global(p) => Some(p.to_string()),
        _ => None,
    }
}

fn member_of(v: &Val, key: &str) -> Option<Val> {
    match v {
        Val::Obj(o) => o.borrow().get(key).cloned(),
        _ => None,
    }
}

fn known_str(v: &Val) -> Option<String> {
    match v {
        Val::Str(s) => s.known().map(str::to_string),
        _ => None,
    }
}

fn is_true(v: &Val) -> bool {
    known_str(v).as_deref() == Some("true")
}

fn is_http_method(m: &str) -> bool {
    matches!(
        m.to_ascii_uppercase().as_str(),
        "GET" | "POST" | "PUT" | "DELETE" | "HEAD" | "PATCH" | "OPTIONS"
    )
}

/// A value that looks like a URL (for APIs recognised by shape only).
fn is_url_like(v: &Val, w: &Walker<'_, '_, '_>) -> bool {
    alternatives(v).iter().any(|a| {
        let s = w.to_str(a);
        let p = s.prefix().trim_start();
        if matches!(s.leading_hole(), Some(Hole::Param { .. })) {
            return true;
        }
        p.starts_with("//")
            || p.starts_with('/')
            || p.starts_with("./")
            || p.starts_with("../")
            || p.to_ascii_lowercase().starts_with("http:")
            || p.to_ascii_lowercase().starts_with("https:")
    })
}

fn starts_with_tag(v: &Val, w: &Walker<'_, '_, '_>) -> bool {
    alternatives(v)
        .iter()
        .any(|a| w.to_str(a).prefix().trim_start().starts_with('<'))
}

/// `x.style.prop = …`.
fn is_style_object(e: &Expr) -> bool {
    matches!(unparen(e), Expr::Member(m) if matches!(&m.prop, MemberProp::Ident(i) if i.sym == "style"))
}

/// `<img>`, `<img/>`, `<img />`, `<script></script>` → the tag name.
fn simple_tag(text: &str) -> Option<String> {
    let inner = text.strip_prefix('<')?;
    let end = inner.find(|c: char| !c.is_ascii_alphanumeric())?;
    let name = &inner[..end];
    if name.is_empty() {
        return None;
    }
    let rest = inner[end..].trim_start();
    let rest = rest.strip_prefix('/').unwrap_or(rest).trim_start();
    let rest = rest.strip_prefix('>')?;
    let rest = rest.trim();
    let close = format!("</{name}>");
    if rest.is_empty() || rest.eq_ignore_ascii_case(&close) {
        Some(name.to_ascii_lowercase())
    } else {
        None
    }
}

fn pat_name(p: &Pat) -> Option<&str> {
    match p {
        Pat::Ident(i) => Some(i.id.sym.as_str()),
        Pat::Assign(a) => pat_name(&a.left),
        _ => None,
    }
}

fn pat_names(p: &Pat) -> Vec<String> {
    let mut out = Vec::new();
    let mut stack = vec![p];
    while let Some(p) = stack.pop() {
        match p {
            Pat::Ident(i) => out.push(i.id.sym.to_string()),
            Pat::Assign(a) => stack.push(&a.left),
            Pat::Rest(r) => stack.push(&r.arg),
            Pat::Array(a) => stack.extend(a.elems.iter().flatten()),
            Pat::Object(o) => {
                for prop in &o.props {
                    match prop {
                        ObjectPatProp::KeyValue(kv) => stack.push(&kv.value),
                        ObjectPatProp::Assign(a) => out.push(a.key.id.sym.to_string()),
                        ObjectPatProp::Rest(r) => stack.push(&r.arg),
                    }
                }
            }
            _ => {}
        }
    }
    out
}

fn prop_name_static(p: &PropName) -> Option<&str> {
    match p {
        PropName::Ident(i) => Some(i.sym.as_str()),
        PropName::Str(s) => s.value.as_atom().map(|a| a.as_str()),
        _ => None,
    }
}

#[allow(dead_code)]
fn css_kind_api(k: CssKind) -> &'static str {
    k.api()
}
