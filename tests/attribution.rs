//! Attribution (SPEC §6): stack parsing in both engines' formats, MediaWiki source resolution,
//! and the walk that picks the nearest user-managed frame.

use std::collections::HashMap;
use tpr_auditor::attribution::{
    attribute, frame_origin, is_user_module, module_source, parse_stack, resolve_stack, skip_own,
    unpack_modules, user_module_source, AttributionContext, BatchIndex, EvalOrigin, Frame,
    FrameOrigin,
};
use tpr_auditor::model::{Source, SourceKind};

const PAGE: &str = "https://en.wikipedia.org/wiki/Main_Page";
const BATCH: &str = "http://w/load.php?lang=en&modules=ext.gadget.probe-default%2Cprobe-optin&skin=vector&version=18b6t";
const LIB_BATCH: &str =
    "https://en.wikipedia.org/w/load.php?lang=en&modules=jquery%2Cmediawiki.base&skin=vector&version=1xq9d";

/// A one-line MediaWiki 1.39 production batch of two gadgets; `probe-optin`'s wrapper starts at
/// column 370, so column 436 (in `img.src=…`) is inside it.
const BATCH_139: &str = r#"mw.loader.implement("ext.gadget.probe-default@1ydsb",function($,jQuery,require,module){(function(){'use strict';var api=new mw.Api();api.get({action:'query',meta:'siteinfo',formatversion:2}).then(function(d){$('#probe-default').text(d.query.general.sitename);});fetch('https://probe-default.example/ping?u='+encodeURIComponent(mw.config.get('wgUserName')||''));}());});mw.loader.implement("ext.gadget.probe-optin@0v2cq",function($,jQuery,require,module){(function(){var img=new Image();img.src='https://probe-optin.example/p.gif';navigator.sendBeacon('https://probe-optin.example/beacon',JSON.stringify({t:Date.now()}));}());});mw.loader.state({"ext.gadget.probe-default":"ready","ext.gadget.probe-optin":"ready"});"#;

/// The same batch as MediaWiki 1.41+ writes it; `probe-optin` starts at column 386.
const BATCH_NEW: &str = r#"mw.loader.impl(function(){return["ext.gadget.probe-default@1ydsb",function($,jQuery,require,module){(function(){'use strict';var api=new mw.Api();api.get({action:'query',meta:'siteinfo',formatversion:2}).then(function(d){$('#probe-default').text(d.query.general.sitename);});fetch('https://probe-default.example/ping?u='+encodeURIComponent(mw.config.get('wgUserName')||''));}());}];});mw.loader.impl(function(){return["ext.gadget.probe-optin@0v2cq",function($,jQuery,require,module){(function(){var img=new Image();img.src='https://probe-optin.example/p.gif';navigator.sendBeacon('https://probe-optin.example/beacon',JSON.stringify({t:Date.now()}));}());}];});mw.loader.state({"ext.gadget.probe-default":"ready","ext.gadget.probe-optin":"ready"});"#;

fn frame(url: &str, line: u32, column: u32) -> Frame {
    Frame {
        function: None,
        url: url.to_string(),
        line,
        column,
        is_async: false,
        eval: None,
    }
}

fn src(kind: SourceKind, name: &str, url: &str, line: u32, column: Option<u32>) -> Source {
    Source {
        kind,
        name: Some(name.to_string()),
        url: Some(url.to_string()),
        wiki: None,
        line: Some(line),
        column,
        chain: Vec::new(),
        spoofable: false,
    }
}

fn batches(url: &str, text: &str) -> HashMap<String, BatchIndex> {
    HashMap::from([(url.to_string(), BatchIndex::for_url(text, url))])
}

#[test]
fn batch_139_column_maps_to_optin_gadget() {
    assert_eq!(
        BATCH_139.find("mw.loader.implement(\"ext.gadget.probe-optin"),
        Some(369)
    );
    let idx = BatchIndex::new(BATCH_139);
    assert_eq!(idx.len(), 2);
    assert_eq!(idx.module_at(1, 436), Some("ext.gadget.probe-optin"));
    assert_eq!(idx.module_at(1, 369), Some("ext.gadget.probe-default"));
    assert_eq!(idx.module_at(1, 370), Some("ext.gadget.probe-optin"));

    let b = batches(BATCH, BATCH_139);
    let mut ctx = AttributionContext::new("http://w/index.php?title=Main_Page");
    ctx.batches = &b;
    let stack = format!("Error\n    at HTMLDocument.<anonymous> ({BATCH}:1:436)");
    let (source, frames) = resolve_stack(&stack, &ctx);
    assert_eq!(frames.len(), 1);
    assert_eq!(
        source,
        src(SourceKind::Gadget, "probe-optin", BATCH, 1, Some(436))
    );
}

#[test]
fn batch_new_wrapper_maps_to_optin_gadget() {
    assert_eq!(
        BATCH_NEW.find("mw.loader.impl(function(){return[\"ext.gadget.probe-optin"),
        Some(385)
    );
    let idx = BatchIndex::new(BATCH_NEW);
    assert_eq!(idx.module_at(1, 385), Some("ext.gadget.probe-default"));
    assert_eq!(idx.module_at(1, 386), Some("ext.gadget.probe-optin"));
    let b = batches(BATCH, BATCH_NEW);
    let mut ctx = AttributionContext::new("http://w/index.php?title=Main_Page");
    ctx.batches = &b;
    let frames = [frame(BATCH, 1, 436)];
    assert_eq!(
        attribute(&frames, &ctx),
        src(SourceKind::Gadget, "probe-optin", BATCH, 1, Some(436))
    );
    // Earlier on the line is the other gadget.
    let frames = [frame(BATCH, 1, 200)];
    assert_eq!(
        attribute(&frames, &ctx).name.as_deref(),
        Some("probe-default")
    );
}

#[test]
fn batch_index_multiline_single_quotes_and_before_first_wrapper() {
    let text = "/* prologue */\nmediaWiki.loader.implement( 'jquery.foo@1', function ( $ ) {\n$.x=1;\n} );\nmw.loader.implement( \"ext.gadget.Bar\", function () {\nfetch('/x');\n} );\n";
    let idx = BatchIndex::new(text);
    assert_eq!(idx.module_at(1, 5), None);
    assert_eq!(idx.module_at(3, 2), Some("jquery.foo"));
    assert_eq!(idx.module_at(6, 1), Some("ext.gadget.Bar"));
    assert_eq!(idx.module_at_line(6), Some("ext.gadget.Bar"));
    // A line on which a wrapper starts after column 1 is ambiguous without a column.
    assert_eq!(BatchIndex::new(BATCH_139).module_at_line(1), None);
}

#[test]
fn batch_index_ignores_lookalike_wrappers_inside_module_code() {
    // Gadget code that plants a fake wrapper, hoping to pass what follows off as library code.
    let fake = |lib: &str| {
        format!(
            r#"mw.loader.implement("jquery@3",function(){{}});mw.loader.implement("ext.gadget.Evil@1",function(){{var s='x';mw.loader.implement("{lib}@2",function(){{}});fetch('https://evil.example/');}});"#
        )
    };
    let text = fake("jquery");
    let col = text.find("fetch(").map_or(0, |i| i as u32 + 1);
    // Without the module list, the look-alike wins.
    assert_eq!(BatchIndex::new(&text).module_at(1, col), Some("jquery"));
    // With it: a module already seen (ResourceLoader emits request order) is dropped...
    let url = "https://en.wikipedia.org/w/load.php?modules=jquery%7Cext.gadget.Evil";
    let idx = BatchIndex::for_url(&text, url);
    assert_eq!(idx.len(), 2);
    assert_eq!(idx.module_at(1, col), Some("ext.gadget.Evil"));
    // ...and so is a module that was not requested.
    let text = fake("mediawiki.base");
    let idx = BatchIndex::for_url(&text, url);
    assert_eq!(idx.len(), 2);
    assert_eq!(idx.module_at(1, col), Some("ext.gadget.Evil"));
}

#[test]
fn debug_module_url_is_its_module() {
    let url =
        "https://en.wikipedia.org/w/load.php?debug=1&lang=en&modules=ext.gadget.Foo&only=scripts";
    let ctx = AttributionContext::new(PAGE);
    assert_eq!(
        attribute(&[frame(url, 12, 3)], &ctx),
        src(SourceKind::Gadget, "Foo", url, 12, Some(3))
    );
    assert_eq!(
        frame_origin(url, "en.wikipedia.org"),
        FrameOrigin::Module {
            name: "ext.gadget.Foo".into(),
            wiki: None
        }
    );
}

#[test]
fn user_script_on_meta() {
    let url = "https://meta.wikimedia.org/w/index.php?title=User:X/global.js&action=raw&ctype=text/javascript";
    let ctx = AttributionContext::new(PAGE);
    let mut want = src(SourceKind::UserScript, "User:X/global.js", url, 4, Some(9));
    want.wiki = Some("meta.wikimedia.org".into());
    assert_eq!(attribute(&[frame(url, 4, 9)], &ctx), want);
    assert_eq!(
        want.scope().as_deref(),
        Some("user-script:User:X/global.js")
    );

    // Local, underscores, and the article-path form.
    let local = "https://en.wikipedia.org/w/index.php?title=User:Some_One/tool.js&action=raw&ctype=text/javascript";
    assert_eq!(
        frame_origin(local, "en.wikipedia.org"),
        FrameOrigin::UserScript {
            title: "User:Some One/tool.js".into(),
            wiki: None
        }
    );
    assert_eq!(
        frame_origin(
            "https://en.wikipedia.org/wiki/User:A/b.js?action=raw",
            "en.wikipedia.org"
        ),
        FrameOrigin::UserScript {
            title: "User:A/b.js".into(),
            wiki: None
        }
    );
}

#[test]
fn mw_module_tags_and_nonce() {
    let mut ctx = AttributionContext::new(PAGE);
    let mut want = src(
        SourceKind::SiteScript,
        "site",
        "mw-module://site",
        2,
        Some(7),
    );
    want.spoofable = true;
    assert_eq!(attribute(&[frame("mw-module://site", 2, 7)], &ctx), want);

    ctx.tag_nonce = Some("n0nce");
    let tagged = "mw-module://site?tpr=n0nce";
    let want = src(SourceKind::SiteScript, "site", tagged, 2, Some(7));
    assert_eq!(attribute(&[frame(tagged, 2, 7)], &ctx), want);

    let wrong = "mw-module://ext.gadget.HotCat?tpr=guess";
    let got = attribute(&[frame(wrong, 1, 1)], &ctx);
    assert_eq!(
        (got.kind, got.name.as_deref(), got.spoofable),
        (SourceKind::Gadget, Some("HotCat"), true)
    );

    // A trusted library tag is skipped; the gadget under it decides.
    let frames = [
        frame("mw-module://jquery?tpr=n0nce", 1, 50),
        frame("mw-module://ext.gadget.Foo?tpr=n0nce", 3, 4),
    ];
    let got = attribute(&frames, &ctx);
    assert_eq!((got.name.as_deref(), got.spoofable), (Some("Foo"), false));

    // An untrusted library tag hides nothing: with no user frame after it, it is flagged.
    let got = attribute(&[frame("mw-module://jquery", 1, 50)], &ctx);
    assert_eq!(
        (got.kind, got.spoofable, got.url.as_deref()),
        (SourceKind::Page, true, Some("mw-module://jquery"))
    );

    // The user module, named from wgUserName.
    ctx.user_name = Some("Jane Doe");
    let got = attribute(&[frame("mw-module://user?tpr=n0nce", 1, 1)], &ctx);
    assert_eq!(
        (got.kind, got.name.as_deref()),
        (SourceKind::UserScript, Some("User:Jane Doe/common.js"))
    );
}

#[test]
fn packed_module_lists() {
    assert_eq!(
        unpack_modules("jquery,mediawiki.base|ext.gadget.A,B"),
        ["jquery", "mediawiki.base", "ext.gadget.A", "ext.gadget.B"]
    );
    assert_eq!(
        unpack_modules("ext.gadget.probe-default%2Cprobe-optin"),
        ["ext.gadget.probe-default", "ext.gadget.probe-optin"]
    );
    assert_eq!(
        unpack_modules("jquery.ui.core,widget"),
        ["jquery.ui.core", "jquery.ui.widget"]
    );
    assert_eq!(
        unpack_modules("jquery%7Cmediawiki.base%7Cext.gadget.X"),
        ["jquery", "mediawiki.base", "ext.gadget.X"]
    );
    assert_eq!(unpack_modules("a,b,c"), ["a", "b", "c"]);
    assert_eq!(unpack_modules(""), Vec::<String>::new());
    assert_eq!(unpack_modules(&"x,".repeat(100_000)).len(), 1024);
}

#[test]
fn module_sources() {
    assert_eq!(
        module_source("ext.gadget.HotCat"),
        Some(Source::named(SourceKind::Gadget, Some("HotCat".into())))
    );
    assert_eq!(
        module_source("site").map(|s| s.kind),
        Some(SourceKind::SiteScript)
    );
    assert_eq!(
        module_source("ext.globalCssJs.site").map(|s| s.kind),
        Some(SourceKind::SiteScript)
    );
    assert_eq!(
        module_source("user").and_then(|s| s.name).as_deref(),
        Some("user")
    );
    assert_eq!(
        module_source("ext.globalCssJs.user")
            .and_then(|s| s.name)
            .as_deref(),
        Some("global.js")
    );
    assert_eq!(
        user_module_source(Some("X")).name.as_deref(),
        Some("User:X/common.js")
    );
    for user in [
        "site",
        "user",
        "ext.globalCssJs.user",
        "ext.globalCssJs.site",
        "ext.gadget.A",
    ] {
        assert!(is_user_module(user), "{user}");
    }
    for lib in [
        "jquery",
        "jquery.ui",
        "mediawiki.base",
        "mediawiki.util",
        "oojs",
        "oojs-ui-core",
        "@wikimedia/codex",
        "codex-search-styles",
        "startup",
        "skins.vector.js",
        "ext.popups",
        "site.styles",
        "user.options",
        "user.styles",
        "ext.gadget.",
    ] {
        assert_eq!(module_source(lib), None, "{lib}");
        assert!(!is_user_module(lib), "{lib}");
    }
}

const V8_STACK: &str = "Error: boom
    at send (https://en.wikipedia.org/w/load.php?lang=en&modules=jquery%2Cmediawiki.base&skin=vector&version=1xq9d:2:5000)
    at Object.<anonymous> (http://w/load.php?lang=en&modules=ext.gadget.probe-default%2Cprobe-optin&skin=vector&version=18b6t:1:436)
    at new Loader (https://x.toolforge.org/lib.js:3:7)
    at async load (https://x.toolforge.org/lib.js:10:5)
    at run [as go] (https://w/load.php?modules=a%7Cb&x=(1):1:436)
    at eval (eval at load (https://x/y.js:10:5), <anonymous>:1:1)
    at http://[::1]:8080/a.js:1:2
    at Array.forEach (<anonymous>)
    at fn (native)";

const SM_STACK: &str = "send@https://en.wikipedia.org/w/load.php?lang=en&modules=jquery%2Cmediawiki.base&skin=vector&version=1xq9d:2:5000
@http://w/load.php?lang=en&modules=ext.gadget.probe-default%2Cprobe-optin&skin=vector&version=18b6t:1:436
Loader@https://x.toolforge.org/lib.js:3:7
async*load@https://x.toolforge.org/lib.js:10:5
run@https://w/load.php?modules=a%7Cb&x=(1):1:436
@https://x/y.js line 10 > eval:1:1
@http://[::1]:8080/a.js:1:2
forEach@<anonymous>
fn@native";

#[test]
fn v8_and_spidermonkey_give_the_same_frames() {
    let v8 = parse_stack(V8_STACK);
    let sm = parse_stack(SM_STACK);
    let key = |f: &Frame| {
        (
            f.url.clone(),
            f.line,
            f.column,
            f.is_async,
            f.eval.as_ref().map(|o| (o.url.clone(), o.line)),
        )
    };
    assert_eq!(v8.len(), 9);
    assert_eq!(
        v8.iter().map(key).collect::<Vec<_>>(),
        sm.iter().map(key).collect::<Vec<_>>()
    );

    assert_eq!(v8[0].function.as_deref(), Some("send"));
    assert_eq!(v8[1].function.as_deref(), Some("Object.<anonymous>"));
    assert_eq!(v8[2].function.as_deref(), Some("new Loader"));
    assert_eq!(
        (v8[3].function.as_deref(), v8[3].is_async),
        (Some("load"), true)
    );
    assert_eq!(v8[4].url, "https://w/load.php?modules=a%7Cb&x=(1)");
    assert_eq!(v8[4].function.as_deref(), Some("run [as go]"));
    assert_eq!(
        v8[5],
        Frame {
            function: Some("eval".into()),
            url: "<anonymous>".into(),
            line: 1,
            column: 1,
            is_async: false,
            eval: Some(EvalOrigin {
                url: "https://x/y.js".into(),
                line: 10,
                column: Some(5)
            }),
        }
    );
    assert_eq!(
        sm[5].eval,
        Some(EvalOrigin {
            url: "https://x/y.js".into(),
            line: 10,
            column: None
        })
    );
    assert_eq!(
        (
            v8[6].url.as_str(),
            v8[6].line,
            v8[6].column,
            v8[6].function.as_deref()
        ),
        ("http://[::1]:8080/a.js", 1, 2, None)
    );
    assert_eq!((v8[8].url.as_str(), v8[8].line), ("native", 0));

    // Both attribute to the same gadget, the jQuery/mediawiki.base batch frame being skipped.
    let b = batches(BATCH, BATCH_139);
    let mut ctx = AttributionContext::new(PAGE);
    ctx.batches = &b;
    let a = attribute(&v8, &ctx);
    assert_eq!(a, attribute(&sm, &ctx));
    // The gadget's batch came from host `w`, not the page's wiki.
    let mut want = src(SourceKind::Gadget, "probe-optin", BATCH, 1, Some(436));
    want.wiki = Some("w".into());
    assert_eq!(a, want);
}

#[test]
fn spidermonkey_specifics() {
    let f = parse_stack("fn/<@https://cdn.jsdelivr.net/npm/pkg@1.2.3/x.js:4:2\n@https://x/y.js line 10 > Function:1:1\nrun@https://en.wikipedia.org/w/load.php?modules=startup line 3 > injectedScript:2:9\n");
    assert_eq!(f.len(), 3);
    assert_eq!(
        (
            f[0].function.as_deref(),
            f[0].url.as_str(),
            f[0].line,
            f[0].column
        ),
        (
            Some("fn/<"),
            "https://cdn.jsdelivr.net/npm/pkg@1.2.3/x.js",
            4,
            2
        )
    );
    assert_eq!(
        f[1].eval,
        Some(EvalOrigin {
            url: "https://x/y.js".into(),
            line: 10,
            column: None
        })
    );
    assert_eq!(
        f[2].eval.as_ref().map(|o| o.url.as_str()),
        Some("https://en.wikipedia.org/w/load.php?modules=startup")
    );
    // A page-chosen name that imitates a library location does not displace the real one.
    let f = parse_stack(
        "x@https://en.wikipedia.org/w/load.php?modules=jquery:1:1@https://evil.example/x.js:5:5",
    );
    assert_eq!(
        (f[0].url.as_str(), f[0].line),
        ("https://evil.example/x.js", 5)
    );
    let f = parse_stack("    at x (https://en.wikipedia.org/w/load.php?modules=jquery:1:1) (https://evil.example/x.js:5:5)");
    assert_eq!(
        (f[0].url.as_str(), f[0].line),
        ("https://evil.example/x.js", 5)
    );
    // Unbalanced parenthesis in the URL.
    let f = parse_stack("    at fn (https://x/a.js?q=(:1:2)");
    assert_eq!(
        (
            f[0].url.as_str(),
            f[0].line,
            f[0].column,
            f[0].function.as_deref()
        ),
        ("https://x/a.js?q=(", 1, 2, Some("fn"))
    );
}

#[test]
fn library_frames_are_skipped_to_find_the_gadget() {
    let gadget_debug =
        "https://en.wikipedia.org/w/load.php?debug=1&modules=ext.gadget.Under&only=scripts";
    let frames = [
        frame(LIB_BATCH, 2, 5000),
        frame(
            "https://en.wikipedia.org/w/load.php?debug=1&modules=mediawiki.base&only=scripts",
            40,
            1,
        ),
        frame("mw-module://jquery", 0, 0),
        frame(PAGE, 80, 3),
        frame(gadget_debug, 7, 11),
        frame("https://other.example/outer.js", 1, 1),
    ];
    // The untrusted library tag is only flagged, so the gadget further out still decides.
    let ctx = AttributionContext::new(PAGE);
    assert_eq!(
        attribute(&frames, &ctx),
        src(SourceKind::Gadget, "Under", gadget_debug, 7, Some(11))
    );
    // Nothing user-managed at all: page.
    assert_eq!(attribute(&frames[..2], &ctx), Source::page());
    assert_eq!(attribute(&[], &ctx), Source::page());
}

#[test]
fn own_frames_are_removed() {
    let own = [
        "chrome-extension://auditorid/",
        "https://en.wikipedia.org/w/index.php?title=MediaWiki:Gadget-tpr-auditor",
        "",
    ];
    let stack = "Error
    at hook (chrome-extension://auditorid/boot.js:1:100)
    at wasm://wasm/0012abcd:wasm-function[55]:0x1f3a
    at window.fetch (https://en.wikipedia.org/w/index.php?title=MediaWiki:Gadget-tpr-auditor.js&action=raw:9:9)
    at probe (https://probe.example/x.js:2:3)";
    let mut frames = parse_stack(stack);
    assert_eq!(frames.len(), 4);
    skip_own(&mut frames, &own);
    assert_eq!(frames.len(), 2);
    let mut ctx = AttributionContext::new(PAGE);
    ctx.own_prefixes = &own;
    let (source, frames) = resolve_stack(stack, &ctx);
    assert_eq!(frames.len(), 2);
    assert_eq!(
        source,
        src(
            SourceKind::Script,
            "https://probe.example/x.js",
            "https://probe.example/x.js",
            2,
            Some(3)
        )
    );
}

#[test]
fn chains_through_script_loaders() {
    let lib = "https://x.toolforge.org/lib.js";
    let inner = "https://cdn.example/inner.js";
    let mut hotcat = Source::named(SourceKind::Gadget, Some("HotCat".into()));
    hotcat.url = Some("https://en.wikipedia.org/w/load.php?modules=ext.gadget.HotCat".into());
    let mut lib_source = Source::named(SourceKind::Script, Some(lib.into()));
    lib_source.chain = vec!["gadget:HotCat".into()];
    let loaders = HashMap::from([(lib.to_string(), hotcat), (inner.to_string(), lib_source)]);
    let mut ctx = AttributionContext::new(PAGE);
    ctx.script_loaders = &loaders;

    let mut want = src(SourceKind::Script, lib, lib, 3, Some(7));
    want.chain = vec!["gadget:HotCat".into()];
    assert_eq!(attribute(&[frame(lib, 3, 7)], &ctx), want);

    let got = attribute(&[frame(&format!("{inner}#frag"), 1, 2)], &ctx);
    assert_eq!(got.name.as_deref(), Some(inner));
    assert_eq!(
        got.chain,
        ["gadget:HotCat", "script:https://x.toolforge.org/lib.js"]
    );
}

#[test]
fn eval_frames_in_both_engines() {
    let caller = "https://probe.example/evaluator.js";
    let ctx = AttributionContext::new(PAGE);
    let v8 = format!("Error\n    at eval (eval at run (eval at boot ({caller}:10:5), <anonymous>:2:3), <anonymous>:1:1)\n    at run (<anonymous>:2:3)");
    let (s, _) = resolve_stack(&v8, &ctx);
    assert_eq!(s, src(SourceKind::Script, caller, caller, 10, Some(5)));
    let sm = format!("@{caller} line 10 > eval line 2 > eval:1:1\nrun@{caller} line 10 > eval:2:3");
    let (s, _) = resolve_stack(&sm, &ctx);
    assert_eq!(s, src(SourceKind::Script, caller, caller, 10, None));

    // Eval in a batch, mapped through the caller's position.
    let b = batches(BATCH, BATCH_139);
    let mut ctx2 = AttributionContext::new(PAGE);
    ctx2.batches = &b;
    let v8 = format!("Error\n    at eval (eval at <anonymous> ({BATCH}:1:436), <anonymous>:1:20)");
    assert_eq!(
        resolve_stack(&v8, &ctx2).0.name.as_deref(),
        Some("probe-optin")
    );

    // No caller given: flagged, location kept, and a later real frame still wins.
    let (s, _) = resolve_stack("Error\n    at <anonymous>:3:14", &ctx);
    let mut want = Source::page();
    want.url = Some("<anonymous>".into());
    want.line = Some(3);
    want.column = Some(14);
    want.spoofable = true;
    assert_eq!(s, want);
    let (s, _) = resolve_stack(
        "Error\n    at <anonymous>:3:14\n    at go (https://probe.example/y.js:1:1)",
        &ctx,
    );
    assert_eq!(
        (s.name.as_deref(), s.spoofable),
        (Some("https://probe.example/y.js"), false)
    );

    // Firefox's domEval: code injected by ResourceLoader is not ResourceLoader's.
    let (s, _) = resolve_stack("@https://en.wikipedia.org/w/load.php?modules=jquery%2Cmediawiki.base line 3 > injectedScript:1:9", &ctx);
    assert_eq!((s.kind, s.spoofable), (SourceKind::Page, true));
}

#[test]
fn extension_frames() {
    let ctx = AttributionContext::new(PAGE);
    for (url, id) in [
        (
            "chrome-extension://abcdefghijklmnop/content.js",
            "abcdefghijklmnop",
        ),
        (
            "moz-extension://0b1c2d3e-1111-2222-3333-444455556666/inject.js",
            "0b1c2d3e-1111-2222-3333-444455556666",
        ),
        ("safari-web-extension://ABCD/x.js", "ABCD"),
    ] {
        assert_eq!(
            attribute(&[frame(url, 5, 6)], &ctx),
            src(SourceKind::Extension, id, url, 5, Some(6))
        );
    }
    let f = parse_stack("    at inject (chrome-extension://abcdefghijklmnop/content.js:5:6)");
    assert_eq!(
        attribute(&f, &ctx).name.as_deref(),
        Some("abcdefghijklmnop")
    );
}

#[test]
fn unresolved_batches_are_not_guessed() {
    let ctx = AttributionContext::new(PAGE);
    // No index: the batch is named, not one of its gadgets.
    assert_eq!(
        attribute(&[frame(BATCH, 1, 436)], &ctx),
        src(SourceKind::Script, BATCH, BATCH, 1, Some(436))
    );
    // An index that does not match the URL's modules is not trusted either.
    let b = batches(
        BATCH,
        "mw.loader.implement(\"ext.gadget.Other@1\",function(){});",
    );
    let mut ctx2 = AttributionContext::new(PAGE);
    ctx2.batches = &b;
    assert_eq!(
        attribute(&[frame(BATCH, 1, 436)], &ctx2).kind,
        SourceKind::Script
    );
    // A library-only batch needs no index.
    assert_eq!(attribute(&[frame(LIB_BATCH, 1, 436)], &ctx), Source::page());
}

#[test]
fn foreign_load_php_is_never_skipped_as_library() {
    let ctx = AttributionContext::new(PAGE);
    let evil = "https://evil.example/load.php?modules=jquery";
    assert_eq!(
        attribute(&[frame(evil, 1, 1)], &ctx),
        src(SourceKind::Script, evil, evil, 1, Some(1))
    );
    let meta = "https://meta.wikimedia.org/w/load.php?modules=ext.gadget.Global&only=scripts";
    let got = attribute(&[frame(meta, 1, 1)], &ctx);
    assert_eq!(
        (got.kind, got.name.as_deref(), got.wiki.as_deref()),
        (
            SourceKind::Gadget,
            Some("Global"),
            Some("meta.wikimedia.org")
        )
    );
}

/// Legacy debug mode (`?debug=1`, MediaWiki 1.39) loads file modules by their file URL
/// (`resources/lib/jquery/jquery.js`): on the page's host that is deployed library code, skipped
/// so that `$.ajax` from a gadget is the gadget's; on another host it is an ordinary script.
#[test]
fn deployed_files_on_the_page_host_are_skipped() {
    let host = "en.wikipedia.org";
    for path in [
        "/w/resources/lib/jquery/jquery.js?7e265",
        "/resources/src/mediawiki.api/index.js",
        "/w/skins/Vector/resources/skins.vector.js/skin.js",
        "/w/extensions/Gadgets/modules/ext.gadget.foo.js#x",
    ] {
        let url = format!("https://{host}{path}");
        assert!(
            matches!(frame_origin(&url, host), FrameOrigin::Deployed { .. }),
            "{url}"
        );
    }
    for url in [
        "https://other.example/w/resources/lib/jquery/jquery.js",
        "https://en.wikipedia.org/w/resources/lib/jquery/",
        "https://en.wikipedia.org/w/resources/data.json",
        "https://en.wikipedia.org/wiki/User:X/resources/a.js",
        "https://en.wikipedia.org/w/index.php/resources/a.js",
        "https://en.wikipedia.org/w/lib/a.js",
    ] {
        assert!(
            matches!(frame_origin(url, host), FrameOrigin::External { .. }),
            "{url}"
        );
    }
    let gadget =
        "https://en.wikipedia.org/w/load.php?debug=1&lang=en&modules=ext.gadget.Ajax&only=scripts";
    let jquery = "https://en.wikipedia.org/w/resources/lib/jquery/jquery.js?7e265";
    let frames = [
        frame(jquery, 9000, 12),
        frame(jquery, 8000, 3),
        frame(gadget, 4, 7),
    ];
    let ctx = AttributionContext::new(PAGE);
    assert_eq!(
        attribute(&frames, &ctx),
        src(SourceKind::Gadget, "Ajax", gadget, 4, Some(7))
    );
    assert_eq!(attribute(&frames[..2], &ctx), Source::page());
}

#[test]
fn hostile_input_does_not_panic() {
    let ctx = AttributionContext::new(PAGE);
    let huge = "x".repeat(10 << 20);
    let inputs = [
        huge.clone(),
        format!("    at {huge}"),
        format!("    at f ({huge}:1:2)"),
        format!("f@{huge}"),
        "    at f (https://x/a.js:1:2)\n".repeat(100_000),
        "@\n".repeat(100_000),
        "@".to_string(),
        "at (".to_string(),
        "    at (".to_string(),
        "    at ()".to_string(),
        "    at eval (eval at ".to_string(),
        format!("    at eval ({}https://x/y.js:1:1{}, <anonymous>:1:1)", "eval at f (".repeat(1000), "), <anonymous>:1:1)".repeat(1000)),
        "    at f (ü😀\u{2028}é:1:2)\n    at ☃ (https://ü.example/😀.js:99999999999:4294967296)".to_string(),
        "fn@https://x/ü.js line 😀 > eval:1:1\n@:\n@::\n@https://x/a.js line 5 > ".to_string(),
        "mw-module://\n@mw-module://?tpr=\n@chrome-extension://\n@https://w/load.php?modules=\n@https://w/load.php?modules=%FF%FE|,,|.|a.".to_string(),
    ];
    for input in &inputs {
        let (_source, frames) = resolve_stack(input, &ctx);
        assert!(frames.len() <= 256);
    }
    let (s, frames) = resolve_stack(&format!("    at f ({huge}:1:2)"), &ctx);
    assert_eq!(frames[0].url, "<too-long>");
    assert!(s.spoofable);
    assert_eq!(
        parse_stack(&"    at f (https://x/a.js:1:2)\n".repeat(100_000)).len(),
        256
    );
    // Batch texts: huge, unicode, truncated wrappers.
    let idx = BatchIndex::new(&format!("{huge}mw.loader.impl(function(){{return[\"ext.gadget.A@1\"mw.loader.implement(\"é😀mw.loader.implement("));
    assert_eq!(idx.len(), 1);
    assert_eq!(idx.module_at(1, u32::MAX), Some("ext.gadget.A"));
    assert_eq!(unpack_modules(&huge).len(), 1);
}
