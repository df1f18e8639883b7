//! Nesting pre-check: refuses JavaScript whose parse would need more stack than the budget.
//!
//! swc parses by recursive descent without a depth limit, so deeply nested input (`((((…`,
//! `!!!!…`, `a=a=a=…`, `x=>x=>…`, `if(a)if(a)…`) would overflow the stack: in WebAssembly a trap
//! that leaves the module unusable. This module is a linear, allocation-light tokenizer that
//! *estimates the stack the parser will use* and stops at [`BUDGET`] before swc ever runs.
//!
//! The estimate at any point is the sum over the open brackets of a fixed cost per bracket plus,
//! inside each bracket, the cost of the operators that make swc recurse since the last place
//! where the recursion necessarily ended (`;`, `,`, a newline where automatic semicolon
//! insertion applies). Costs are upper bounds of what an optimised native build of swc 47 was
//! measured to use per level (bytes): bracket/function/template ≤ 2,421, arrow ≤ 1,892, `if`
//! ≤ 1,358, label ≤ 1,002, prefix and right-associative operators ≤ 371, `**` ≤ 177; left-deep
//! chains (`a+b+…`, `a.b.…`, `f()()…`) are parsed iteratively, but dropping the tree recurses
//! (≤ 48 bytes a level), so they count too. `else` chains count until a statement ends without
//! `else`, which also bounds swc's quadratic `else if` handling.
//!
//! Regular expressions are told from division the way the grammar does (after an operator, a
//! keyword such as `return`, the `)` of `if (…)`, or a block's `}`); brackets inside a regular
//! expression literal that follows a block's `}` (the only place the guess could differ from
//! swc's) are added to the estimate for good.

/// Estimated stack budget (bytes of an optimised native build; see the module docs). The
/// parser runs natively on a thread with a much larger stack, and the WebAssembly build was
/// checked against it (tests in `tests/scanner.rs`).
pub const BUDGET: usize = 600_000;
/// Cost of one open bracket (`(`, `[`, `{`, `${`).
pub const BRACKET_COST: usize = 2_600;
const ARROW_COST: usize = 2_000;
const STMT_COST: usize = 1_400;
const COLON_COST: usize = 1_000;
const PREFIX_COST: usize = 400;
const EXP_COST: usize = 200;
const CHAIN_COST: usize = 64;

/// Where the budget ran out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TooDeep {
    pub offset: usize,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Root,
    /// `(`; `head` when it follows `if`/`while`/`for`/`with` (a regex may follow its `)`).
    Paren {
        head: bool,
    },
    Bracket,
    /// `{`; `block` for statement blocks and bodies (a regex may follow their `}`).
    Brace {
        block: bool,
    },
    /// `${` inside a template literal.
    Subst,
}

struct Level {
    kind: Kind,
    base: usize,
    expr: usize,
    stmt: usize,
    /// A statement ended: reset `stmt` unless the next token is `else`.
    stmt_end: bool,
}

/// What the previous token allows next.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Prev {
    /// An operand ended: `/` is division, a newline may end the statement.
    Operand,
    /// `/` would start a regular expression.
    Operator,
    /// Like `Operator`, after the `}` of a block: the regex guess is uncertain.
    BlockEnd,
    /// Like `Operator`, after the `)` of `if (…)` and friends.
    Head,
}

struct Scan {
    stack: Vec<Level>,
    slack: usize,
}

impl Scan {
    fn top(&mut self) -> &mut Level {
        let last = self.stack.len() - 1;
        &mut self.stack[last]
    }

    fn total(&self) -> usize {
        let l = &self.stack[self.stack.len() - 1];
        l.base + l.expr + l.stmt + self.slack
    }

    fn check(&self, offset: usize) -> Result<(), TooDeep> {
        if self.total() > BUDGET {
            Err(TooDeep { offset })
        } else {
            Ok(())
        }
    }

    fn add_expr(&mut self, cost: usize, offset: usize) -> Result<(), TooDeep> {
        self.top().expr += cost;
        self.check(offset)
    }

    fn add_stmt(&mut self, cost: usize, offset: usize) -> Result<(), TooDeep> {
        self.top().stmt += cost;
        self.check(offset)
    }

    fn push(&mut self, kind: Kind, offset: usize) -> Result<(), TooDeep> {
        let base = self.total() - self.slack + BRACKET_COST;
        self.stack.push(Level {
            kind,
            base,
            expr: 0,
            stmt: 0,
            stmt_end: false,
        });
        self.check(offset)
    }

    /// Pops the innermost level (never the root) and returns its kind.
    fn pop(&mut self) -> Kind {
        if self.stack.len() > 1 {
            self.stack.pop().map_or(Kind::Root, |l| l.kind)
        } else {
            Kind::Root
        }
    }

    /// Called before every token: settles a pending statement end.
    fn token(&mut self, is_else: bool) {
        let top = self.top();
        if top.stmt_end {
            top.stmt_end = false;
            if !is_else {
                top.stmt = 0;
            }
        }
    }
}

fn is_ident_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_' || b == b'$' || b == b'\\' || b >= 0x80
}

/// Keywords after which `/` starts a regular expression.
fn keyword_before_expression(word: &[u8]) -> bool {
    matches!(
        word,
        b"return"
            | b"typeof"
            | b"instanceof"
            | b"in"
            | b"of"
            | b"new"
            | b"delete"
            | b"void"
            | b"throw"
            | b"case"
            | b"do"
            | b"else"
            | b"yield"
            | b"await"
            | b"extends"
    )
}

/// Tokens that cannot continue an expression after a newline: automatic semicolon insertion.
fn starts_statement(b: u8, next: u8) -> bool {
    is_ident_byte(b)
        || b == b'\''
        || b == b'"'
        || b == b'{'
        || b == b'!'
        || b == b'~'
        || b == b'@'
        || b == b'#'
        || (b == b'+' && next == b'+')
        || (b == b'-' && next == b'-')
}

/// Binary keywords that continue an expression across a newline.
fn continues_expression(word: &[u8]) -> bool {
    matches!(word, b"in" | b"of" | b"instanceof")
}

/// Checks the nesting budget of a JavaScript text.
pub fn check(text: &str) -> Result<(), TooDeep> {
    let s = text.as_bytes();
    let n = s.len();
    let mut sc = Scan {
        stack: vec![Level {
            kind: Kind::Root,
            base: 0,
            expr: 0,
            stmt: 0,
            stmt_end: false,
        }],
        slack: 0,
    };
    let mut prev = Prev::Operator;
    let mut newline = false;
    let mut i = 0;
    // Set when the scanner is inside a template literal's text (after `` ` `` or a `}` that
    // closed a `${`).
    let mut in_template = false;
    let mut tok_start = 0usize;
    while i < n {
        if in_template {
            // Template text up to `` ` `` or `${`.
            let mut j = i;
            let mut subst = false;
            while j < n {
                match s[j] {
                    b'\\' => j += 2,
                    b'`' => {
                        j += 1;
                        break;
                    }
                    b'$' if j + 1 < n && s[j + 1] == b'{' => {
                        j += 2;
                        subst = true;
                        break;
                    }
                    _ => j += 1,
                }
            }
            in_template = false;
            if subst {
                sc.push(Kind::Subst, j)?;
                prev = Prev::Operator;
            } else {
                prev = Prev::Operand;
            }
            i = j.min(n);
            continue;
        }
        let b = s[i];
        let next = if i + 1 < n { s[i + 1] } else { 0 };
        match b {
            b'\n' | b'\r' => {
                newline = true;
                i += 1;
                continue;
            }
            b' ' | b'\t' | 0x0b | 0x0c => {
                i += 1;
                continue;
            }
            b'/' if next == b'/' => {
                while i < n && s[i] != b'\n' && s[i] != b'\r' {
                    i += 1;
                }
                continue;
            }
            b'/' if next == b'*' => {
                let end = text[i + 2..].find("*/").map_or(n, |e| i + 2 + e + 2);
                if s[i..end].contains(&b'\n') {
                    newline = true;
                }
                i = end;
                continue;
            }
            _ => {}
        }
        // A token starts here.
        let word_end = if is_ident_byte(b) && !b.is_ascii_digit() {
            let mut j = i;
            while j < n && is_ident_byte(s[j]) {
                j += 1;
            }
            j
        } else {
            i
        };
        let word = &s[i..word_end];
        let prev_text = trim_end(&s[tok_start..i]);
        tok_start = i;
        sc.token(word == b"else");
        if newline
            && prev == Prev::Operand
            && starts_statement(b, next)
            && !continues_expression(word)
        {
            sc.top().expr = 0;
            sc.top().stmt_end = true;
            sc.token(word == b"else");
        }
        newline = false;
        if word_end > i {
            i = word_end;
            match word {
                b"if" | b"else" | b"while" | b"for" | b"with" | b"do" => {
                    sc.add_stmt(STMT_COST, i)?;
                    prev = Prev::Operator;
                }
                b"typeof" | b"void" | b"delete" | b"await" | b"yield" | b"new" | b"throw" => {
                    sc.add_expr(PREFIX_COST, i)?;
                    prev = Prev::Operator;
                }
                w if keyword_before_expression(w) => {
                    sc.add_expr(CHAIN_COST, i)?;
                    prev = Prev::Operator;
                }
                _ => prev = Prev::Operand,
            }
            continue;
        }
        match b {
            b'0'..=b'9' => {
                while i < n && (is_ident_byte(s[i]) || s[i] == b'.') {
                    i += 1;
                }
                prev = Prev::Operand;
            }
            b'.' if next.is_ascii_digit() => {
                i += 1;
                while i < n && (is_ident_byte(s[i]) || s[i] == b'.') {
                    i += 1;
                }
                prev = Prev::Operand;
            }
            b'\'' | b'"' => {
                i += 1;
                while i < n && s[i] != b {
                    match s[i] {
                        b'\\' => i += 2,
                        b'\n' | b'\r' => break,
                        _ => i += 1,
                    }
                }
                i = (i + 1).min(n);
                prev = Prev::Operand;
            }
            b'`' => {
                i += 1;
                in_template = true;
            }
            b'/' if prev != Prev::Operand => {
                // A regular expression literal.
                let start = i;
                i += 1;
                let mut class = false;
                while i < n {
                    match s[i] {
                        b'\\' => i += 2,
                        b'\n' | b'\r' => break,
                        b'[' => {
                            class = true;
                            i += 1;
                        }
                        b']' => {
                            class = false;
                            i += 1;
                        }
                        b'/' if !class => {
                            i += 1;
                            break;
                        }
                        _ => i += 1,
                    }
                }
                i = i.min(n);
                while i < n && is_ident_byte(s[i]) {
                    i += 1;
                }
                if prev == Prev::BlockEnd {
                    // swc might read this as division: count its brackets for good.
                    let opens = s[start..i]
                        .iter()
                        .filter(|c| matches!(c, b'(' | b'[' | b'{'))
                        .count();
                    sc.slack += opens * BRACKET_COST;
                    sc.check(i)?;
                }
                prev = Prev::Operand;
            }
            b'(' => {
                let head = matches!(prev_text, b"if" | b"while" | b"for" | b"with");
                sc.push(Kind::Paren { head }, i)?;
                i += 1;
                prev = Prev::Operator;
            }
            b'[' => {
                sc.push(Kind::Bracket, i)?;
                i += 1;
                prev = Prev::Operator;
            }
            b'{' => {
                let block = prev != Prev::Operator
                    || matches!(
                        prev_text,
                        b"" | b";" | b"{" | b"}" | b"=>" | b"else" | b"do" | b"try" | b"finally"
                    );
                sc.push(Kind::Brace { block }, i)?;
                i += 1;
                prev = Prev::Operator;
            }
            b')' | b']' | b'}' => {
                let kind = sc.pop();
                i += 1;
                match kind {
                    Kind::Subst => {
                        in_template = true;
                        continue;
                    }
                    Kind::Paren { head: true } => prev = Prev::Head,
                    Kind::Brace { block: true } => {
                        sc.top().stmt_end = true;
                        prev = Prev::BlockEnd;
                    }
                    _ => {
                        sc.add_expr(CHAIN_COST, i)?;
                        prev = Prev::Operand;
                    }
                }
            }
            b';' => {
                sc.top().expr = 0;
                sc.top().stmt_end = true;
                i += 1;
                prev = Prev::Operator;
            }
            b',' => {
                sc.top().expr = 0;
                i += 1;
                prev = Prev::Operator;
            }
            _ => {
                // Punctuators, longest first.
                let rest = &s[i..n.min(i + 4)];
                let (len, cost) = punctuator(rest);
                i += len;
                if cost > 0 {
                    sc.add_expr(cost, i)?;
                }
                prev = if rest.starts_with(b"++") || rest.starts_with(b"--") {
                    // postfix or prefix: either way an operand may end here
                    Prev::Operand
                } else {
                    Prev::Operator
                };
            }
        }
    }
    Ok(())
}

fn trim_end(mut t: &[u8]) -> &[u8] {
    while let [rest @ .., last] = t {
        if last.is_ascii_whitespace() {
            t = rest;
        } else {
            break;
        }
    }
    t
}

/// Length and cost of the punctuator at the start of `s` (longest match).
fn punctuator(s: &[u8]) -> (usize, usize) {
    let at = |i: usize| s.get(i).copied().unwrap_or(0);
    let (b0, b1, b2, b3) = (at(0), at(1), at(2), at(3));
    match b0 {
        b'=' => match (b1, b2) {
            (b'>', _) => (2, ARROW_COST),
            (b'=', b'=') => (3, CHAIN_COST),
            (b'=', _) => (2, CHAIN_COST),
            _ => (1, PREFIX_COST),
        },
        b'!' => match (b1, b2) {
            (b'=', b'=') => (3, CHAIN_COST),
            (b'=', _) => (2, CHAIN_COST),
            _ => (1, PREFIX_COST),
        },
        b'.' if b1 == b'.' && b2 == b'.' => (3, PREFIX_COST),
        b'.' => (1, CHAIN_COST),
        b'*' => match (b1, b2) {
            (b'*', b'=') => (3, PREFIX_COST),
            (b'*', _) => (2, EXP_COST),
            (b'=', _) => (2, PREFIX_COST),
            _ => (1, CHAIN_COST),
        },
        b'<' => match (b1, b2) {
            (b'<', b'=') => (3, PREFIX_COST),
            (b'<', _) | (b'=', _) => (2, CHAIN_COST),
            _ => (1, CHAIN_COST),
        },
        b'>' => match (b1, b2, b3) {
            (b'>', b'>', b'=') => (4, PREFIX_COST),
            (b'>', b'>', _) => (3, CHAIN_COST),
            (b'>', b'=', _) => (3, PREFIX_COST),
            (b'>', _, _) | (b'=', _, _) => (2, CHAIN_COST),
            _ => (1, CHAIN_COST),
        },
        b'&' | b'|' => match (b1, b2) {
            (x, b'=') if x == b0 => (3, PREFIX_COST),
            (x, _) if x == b0 => (2, CHAIN_COST),
            (b'=', _) => (2, PREFIX_COST),
            _ => (1, CHAIN_COST),
        },
        b'?' => match (b1, b2) {
            (b'?', b'=') => (3, PREFIX_COST),
            (b'?', _) => (2, CHAIN_COST),
            // `?.` but not `?.5` (a ternary with a number).
            (b'.', c) if !c.is_ascii_digit() => (2, CHAIN_COST),
            _ => (1, PREFIX_COST),
        },
        b'+' | b'-' => match b1 {
            x if x == b0 => (2, PREFIX_COST),
            b'=' => (2, PREFIX_COST),
            _ => (1, PREFIX_COST),
        },
        b'/' | b'%' | b'^' => match b1 {
            b'=' => (2, PREFIX_COST),
            _ => (1, CHAIN_COST),
        },
        b'~' => (1, PREFIX_COST),
        b':' => (1, COLON_COST),
        // `@`, `#`, stray bytes: no recursion of their own.
        _ => (1, 0),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn deep(open: &str, close: &str, n: usize) -> String {
        format!("x={}a{};", open.repeat(n), close.repeat(n))
    }

    #[test]
    fn ordinary_code_passes() {
        let code = r#"
            (function ($, mw) {
                'use strict';
                var re = /\(\[\{/g, s = "(((", t = `${a + `${b}`}`;
                if (a) { b(); } else if (c) { d(); } else { e(); }
                mw.loader.using(['x']).then(function () { return x / 2 / 3; });
            }(jQuery, mediaWiki));
        "#;
        assert_eq!(check(code), Ok(()));
        // Many statements at one level never add up.
        let many = "if (a) { b(); } else { c(); }\n".repeat(10_000);
        assert_eq!(check(&many), Ok(()));
        let asi = "a = b\nc = d\n".repeat(10_000);
        assert_eq!(check(&asi), Ok(()));
        let regexes = "x = /\\(/.test(s);\n".repeat(10_000);
        assert_eq!(check(&regexes), Ok(()));
        // 60 levels of callbacks in callbacks.
        assert_eq!(check(&deep("f(function(){", "})", 60)), Ok(()));
    }

    #[test]
    fn deep_nesting_is_refused() {
        for (open, close) in [("(", ")"), ("[", "]"), ("{a:", "}"), ("`${", "}`")] {
            assert!(check(&deep(open, close, 300)).is_err(), "{open}");
        }
        assert!(check(&format!("x={}a;", "!".repeat(2000))).is_err());
        assert!(check(&format!("{}a;", "a=".repeat(2000))).is_err());
        assert!(check(&format!("x={}a;", "a=>".repeat(400))).is_err());
        assert!(check(&format!("{}a;", "if(a)".repeat(500))).is_err());
        assert!(check(&format!("{}a;", "if(a)\n".repeat(500))).is_err());
        assert!(check(&format!("if(a)b;{}", "else if(a)b;".repeat(500))).is_err());
        assert!(check(&format!("x=a{};", "+a".repeat(20_000))).is_err());
        assert!(check(&format!("x=a{};", "\n+a".repeat(20_000))).is_err());
        assert!(check(&format!("x=f{};", "()".repeat(20_000))).is_err());
        assert!(check(&format!("x=a{};", ".b".repeat(20_000))).is_err());
    }
}
