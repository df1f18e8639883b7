//! A small, strict JSON parser (RFC 8259) that keeps the position of every value.
//!
//! `serde_json` forgets where a value was, but the consent list (SPEC §7) is hand-edited
//! text and every validation error must point at its `line:column`. This parser produces a
//! tree of [`Spanned`] values instead.
//!
//! Its input is hostile (user-edited or corrupted stored data), so it:
//! - never panics and never recurses deeper than [`MAX_DEPTH`] containers;
//! - accepts exactly RFC 8259: no comments, no trailing commas, no lone surrogates in
//!   `\u` escapes, no raw control characters in strings, no leading zeros;
//! - ignores one leading byte-order mark, which RFC 8259 §8.1 allows a parser to do and which
//!   text pasted from some editors carries;
//! - keeps numbers as their raw text, so nothing is lost or rounded before a validator looks;
//! - keeps every member of an object, duplicates included, in document order: the *caller*
//!   decides what a duplicate key means (the consent validator reports it as an error).
//!
//! Lines are counted at `\n`; columns count characters (not bytes), both from 1.

use std::fmt;
use thiserror::Error;

/// How many arrays/objects may be nested. Far above any real consent list, low enough that
/// the recursive descent cannot exhaust the (small, in WebAssembly) stack.
pub const MAX_DEPTH: usize = 128;

/// Where a value starts in the text.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct Pos {
    /// Byte offset from the start of the text.
    pub offset: usize,
    /// 1-based line.
    pub line: usize,
    /// 1-based column, in characters.
    pub column: usize,
}

impl fmt::Display for Pos {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.line, self.column)
    }
}

/// A value together with the position where it starts.
#[derive(Clone, Debug, PartialEq)]
pub struct Spanned<T = JsonValue> {
    pub pos: Pos,
    pub value: T,
}

/// A JSON value whose children carry their positions.
#[derive(Clone, Debug, PartialEq)]
pub enum JsonValue {
    Null,
    Bool(bool),
    /// The number's raw text, already checked against the RFC 8259 grammar.
    Number(String),
    String(String),
    Array(Vec<Spanned>),
    /// Members in document order, duplicates kept.
    Object(Vec<(Spanned<String>, Spanned)>),
}

impl JsonValue {
    /// The kind of value, phrased for error messages ("expected a string, found an array").
    pub fn type_name(&self) -> &'static str {
        match self {
            JsonValue::Null => "null",
            JsonValue::Bool(_) => "a boolean",
            JsonValue::Number(_) => "a number",
            JsonValue::String(_) => "a string",
            JsonValue::Array(_) => "an array",
            JsonValue::Object(_) => "an object",
        }
    }

    /// The number's value; huge numbers become infinities rather than errors.
    pub fn as_f64(&self) -> Option<f64> {
        match self {
            JsonValue::Number(raw) => raw.parse().ok(),
            _ => None,
        }
    }

    pub fn as_str(&self) -> Option<&str> {
        match self {
            JsonValue::String(s) => Some(s),
            _ => None,
        }
    }

    /// The first member called `key`, if this is an object.
    pub fn get(&self, key: &str) -> Option<&Spanned> {
        match self {
            JsonValue::Object(members) => {
                members.iter().find(|(k, _)| k.value == key).map(|(_, v)| v)
            }
            _ => None,
        }
    }
}

/// Why the text is not JSON, and where.
#[derive(Error, Clone, Debug, PartialEq, Eq)]
#[error("{message} at {pos}")]
pub struct SyntaxError {
    pub pos: Pos,
    pub message: String,
}

/// Parses one JSON document (surrounding whitespace allowed, nothing else).
pub fn parse(text: &str) -> Result<Spanned, SyntaxError> {
    let mut p = Parser {
        text,
        bytes: text.as_bytes(),
        i: 0,
        line: 1,
        column: 1,
    };
    if text.starts_with('\u{feff}') {
        // Three bytes, one character: bump them one by one so the column stays right.
        p.bump();
        p.bump();
        p.bump();
    }
    p.skip_ws();
    let value = p.value(0)?;
    p.skip_ws();
    if p.i < p.bytes.len() {
        return Err(p.error(format!(
            "unexpected {} after the end of the JSON value",
            p.found()
        )));
    }
    Ok(value)
}

/// Appends `s` as a JSON string literal. Beyond what JSON requires it also escapes DEL, the
/// C1 controls and U+2028/U+2029, so exported text never carries an invisible control
/// character into whatever displays or embeds it.
pub fn write_string(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c.is_control() || c == '\u{2028}' || c == '\u{2029}' => {
                out.push_str(&format!("\\u{:04x}", u32::from(c)));
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

/// `s` as a JSON string literal (see [`write_string`]).
pub fn quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    write_string(&mut out, s);
    out
}

struct Parser<'a> {
    text: &'a str,
    bytes: &'a [u8],
    i: usize,
    line: usize,
    column: usize,
}

impl Parser<'_> {
    fn pos(&self) -> Pos {
        Pos {
            offset: self.i,
            line: self.line,
            column: self.column,
        }
    }

    fn error(&self, message: String) -> SyntaxError {
        SyntaxError {
            pos: self.pos(),
            message,
        }
    }

    fn error_at(pos: Pos, message: String) -> SyntaxError {
        SyntaxError { pos, message }
    }

    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.i).copied()
    }

    /// Advances one byte. Only bytes that start a character move the column, so columns
    /// count characters; the input is a `&str`, hence valid UTF-8.
    fn bump(&mut self) {
        if let Some(&b) = self.bytes.get(self.i) {
            self.i += 1;
            if b == b'\n' {
                self.line += 1;
                self.column = 1;
            } else if b & 0xC0 != 0x80 {
                self.column += 1;
            }
        }
    }

    /// The character at the cursor, described for an error message.
    fn found(&self) -> String {
        match self.text.get(self.i..).and_then(|rest| rest.chars().next()) {
            None => "end of input".to_string(),
            Some(c) => format!("{c:?}"),
        }
    }

    fn skip_ws(&mut self) {
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.peek() {
            self.bump();
        }
    }

    fn value(&mut self, depth: usize) -> Result<Spanned, SyntaxError> {
        let pos = self.pos();
        let value = match self.peek() {
            Some(b'{') => self.object(depth)?,
            Some(b'[') => self.array(depth)?,
            Some(b'"') => JsonValue::String(self.string()?),
            Some(b't') => self.literal("true", JsonValue::Bool(true))?,
            Some(b'f') => self.literal("false", JsonValue::Bool(false))?,
            Some(b'n') => self.literal("null", JsonValue::Null)?,
            Some(b'-' | b'0'..=b'9') => JsonValue::Number(self.number()?),
            _ => return Err(self.error(format!("expected a value, found {}", self.found()))),
        };
        Ok(Spanned { pos, value })
    }

    fn literal(&mut self, word: &str, value: JsonValue) -> Result<JsonValue, SyntaxError> {
        if self.bytes.get(self.i..self.i + word.len()) == Some(word.as_bytes()) {
            for _ in 0..word.len() {
                self.bump();
            }
            Ok(value)
        } else {
            Err(self.error(format!("expected a value, found {}", self.found())))
        }
    }

    fn enter(&self, depth: usize) -> Result<usize, SyntaxError> {
        if depth >= MAX_DEPTH {
            Err(self.error(format!("nested deeper than {MAX_DEPTH} arrays or objects")))
        } else {
            Ok(depth + 1)
        }
    }

    fn object(&mut self, depth: usize) -> Result<JsonValue, SyntaxError> {
        let depth = self.enter(depth)?;
        self.bump(); // '{'
        let mut members = Vec::new();
        self.skip_ws();
        if self.peek() == Some(b'}') {
            self.bump();
            return Ok(JsonValue::Object(members));
        }
        loop {
            self.skip_ws();
            if self.peek() != Some(b'"') {
                return Err(self.error(format!(
                    "expected '\"' to start a member name, found {}",
                    self.found()
                )));
            }
            let key_pos = self.pos();
            let key = self.string()?;
            self.skip_ws();
            if self.peek() != Some(b':') {
                return Err(self.error(format!("expected ':', found {}", self.found())));
            }
            self.bump();
            self.skip_ws();
            let value = self.value(depth)?;
            members.push((
                Spanned {
                    pos: key_pos,
                    value: key,
                },
                value,
            ));
            self.skip_ws();
            match self.peek() {
                Some(b',') => self.bump(),
                Some(b'}') => {
                    self.bump();
                    return Ok(JsonValue::Object(members));
                }
                _ => {
                    return Err(self.error(format!("expected ',' or '}}', found {}", self.found())))
                }
            }
        }
    }

    fn array(&mut self, depth: usize) -> Result<JsonValue, SyntaxError> {
        let depth = self.enter(depth)?;
        self.bump(); // '['
        let mut items = Vec::new();
        self.skip_ws();
        if self.peek() == Some(b']') {
            self.bump();
            return Ok(JsonValue::Array(items));
        }
        loop {
            self.skip_ws();
            items.push(self.value(depth)?);
            self.skip_ws();
            match self.peek() {
                Some(b',') => self.bump(),
                Some(b']') => {
                    self.bump();
                    return Ok(JsonValue::Array(items));
                }
                _ => return Err(self.error(format!("expected ',' or ']', found {}", self.found()))),
            }
        }
    }

    fn string(&mut self) -> Result<String, SyntaxError> {
        let start = self.pos();
        self.bump(); // '"'
        let mut out = String::new();
        loop {
            let run = self.i;
            while let Some(b) = self.peek() {
                if b == b'"' || b == b'\\' || b < 0x20 {
                    break;
                }
                self.bump();
            }
            // The run ends at an ASCII byte or at the end, so it is a char boundary; `get`
            // keeps this panic-free regardless.
            out.push_str(self.text.get(run..self.i).unwrap_or_default());
            match self.peek() {
                None => {
                    return Err(self.error(format!("unterminated string (it starts at {start})")))
                }
                Some(b'"') => {
                    self.bump();
                    return Ok(out);
                }
                Some(b'\\') => self.escape(&mut out)?,
                Some(b) => {
                    return Err(self.error(format!(
                        "raw control character U+{b:04X} in a string (write it as an escape)"
                    )))
                }
            }
        }
    }

    fn escape(&mut self, out: &mut String) -> Result<(), SyntaxError> {
        let at = self.pos();
        self.bump(); // '\\'
        let c = match self.peek() {
            Some(b'"') => '"',
            Some(b'\\') => '\\',
            Some(b'/') => '/',
            Some(b'b') => '\u{8}',
            Some(b'f') => '\u{c}',
            Some(b'n') => '\n',
            Some(b'r') => '\r',
            Some(b't') => '\t',
            Some(b'u') => {
                self.bump();
                let unit = self.hex4(at)?;
                let c = match unit {
                    0xD800..=0xDBFF => {
                        let low_at = self.pos();
                        if self.bytes.get(self.i..self.i + 2) != Some(b"\\u".as_slice()) {
                            return Err(Self::error_at(
                                at,
                                format!("lone surrogate \\u{unit:04X}: a high surrogate must be followed by a \\uDC00-\\uDFFF escape"),
                            ));
                        }
                        self.bump();
                        self.bump();
                        let low = self.hex4(low_at)?;
                        if !(0xDC00..=0xDFFF).contains(&low) {
                            return Err(Self::error_at(
                                low_at,
                                format!("\\u{low:04X} is not a low surrogate after \\u{unit:04X}"),
                            ));
                        }
                        0x10000 + ((u32::from(unit) - 0xD800) << 10) + (u32::from(low) - 0xDC00)
                    }
                    0xDC00..=0xDFFF => {
                        return Err(Self::error_at(
                            at,
                            format!(
                            "lone surrogate \\u{unit:04X}: a low surrogate must follow a high one"
                        ),
                        ))
                    }
                    unit => u32::from(unit),
                };
                let c = char::from_u32(c).ok_or_else(|| {
                    Self::error_at(at, format!("\\u escape is not a character: U+{c:X}"))
                })?;
                out.push(c);
                return Ok(());
            }
            None => return Err(self.error("unterminated escape at end of input".to_string())),
            Some(_) => {
                return Err(Self::error_at(
                    at,
                    format!("invalid escape \\{}", self.found_bare()),
                ))
            }
        };
        self.bump();
        out.push(c);
        Ok(())
    }

    /// The character at the cursor, unquoted (for `\x`-style messages).
    fn found_bare(&self) -> String {
        self.text
            .get(self.i..)
            .and_then(|rest| rest.chars().next())
            .map(|c| c.escape_debug().to_string())
            .unwrap_or_default()
    }

    fn hex4(&mut self, escape_at: Pos) -> Result<u16, SyntaxError> {
        let mut unit: u16 = 0;
        for _ in 0..4 {
            let digit = match self.peek() {
                Some(b @ b'0'..=b'9') => b - b'0',
                Some(b @ b'a'..=b'f') => b - b'a' + 10,
                Some(b @ b'A'..=b'F') => b - b'A' + 10,
                _ => {
                    return Err(Self::error_at(
                        escape_at,
                        format!("\\u escape needs four hex digits, found {}", self.found()),
                    ))
                }
            };
            unit = (unit << 4) | u16::from(digit);
            self.bump();
        }
        Ok(unit)
    }

    fn digits(&mut self) -> usize {
        let mut n = 0;
        while let Some(b'0'..=b'9') = self.peek() {
            self.bump();
            n += 1;
        }
        n
    }

    fn number(&mut self) -> Result<String, SyntaxError> {
        let start = self.i;
        if self.peek() == Some(b'-') {
            self.bump();
        }
        match self.peek() {
            Some(b'0') => {
                self.bump();
                if let Some(b'0'..=b'9') = self.peek() {
                    return Err(self.error("numbers may not have leading zeros".to_string()));
                }
            }
            Some(b'1'..=b'9') => {
                self.digits();
            }
            _ => return Err(self.error(format!("expected a digit, found {}", self.found()))),
        }
        if self.peek() == Some(b'.') {
            self.bump();
            if self.digits() == 0 {
                return Err(self.error(format!(
                    "expected a digit after '.', found {}",
                    self.found()
                )));
            }
        }
        if let Some(b'e' | b'E') = self.peek() {
            self.bump();
            if let Some(b'+' | b'-') = self.peek() {
                self.bump();
            }
            if self.digits() == 0 {
                return Err(self.error(format!(
                    "expected a digit in the exponent, found {}",
                    self.found()
                )));
            }
        }
        Ok(self.text.get(start..self.i).unwrap_or_default().to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(text: &str) -> String {
        match parse(text) {
            Ok(v) => panic!("{text:?} parsed as {v:?}"),
            Err(e) => e.to_string(),
        }
    }

    #[test]
    fn values_and_positions() {
        let v =
            parse("{\n  \"a\": [1, -2.5e3, true, null],\n  \"é\": \"x\\u00e9\\ud83d\\ude00\"\n}")
                .expect("valid");
        let JsonValue::Object(members) = &v.value else {
            panic!("object expected")
        };
        assert_eq!(members.len(), 2);
        assert_eq!((members[0].0.pos.line, members[0].0.pos.column), (2, 3));
        let JsonValue::Array(items) = &members[0].1.value else {
            panic!("array expected")
        };
        assert_eq!(items[1].value, JsonValue::Number("-2.5e3".into()));
        assert_eq!((items[1].pos.line, items[1].pos.column), (2, 12));
        assert_eq!(items[2].value, JsonValue::Bool(true));
        // Columns count characters: "é" is one column although two bytes.
        assert_eq!((members[1].1.pos.line, members[1].1.pos.column), (3, 8));
        assert_eq!(members[1].1.value.as_str(), Some("xé😀"));
    }

    #[test]
    fn syntax_errors_say_what_and_where() {
        assert_eq!(
            err("{\"a\": 1,}"),
            "expected '\"' to start a member name, found '}' at 1:9"
        );
        assert_eq!(err("[1,]"), "expected a value, found ']' at 1:4");
        assert_eq!(err("{\"a\" 1}"), "expected ':', found '1' at 1:6");
        assert_eq!(
            err("{\n\"a\": 1\n\"b\": 2}"),
            "expected ',' or '}', found '\"' at 3:1"
        );
        assert_eq!(err("// c\n{}"), "expected a value, found '/' at 1:1");
        assert_eq!(
            err("{} x"),
            "unexpected 'x' after the end of the JSON value at 1:4"
        );
        assert_eq!(err("01"), "numbers may not have leading zeros at 1:2");
        assert_eq!(
            err("\"a\tb\""),
            "raw control character U+0009 in a string (write it as an escape) at 1:3"
        );
        assert_eq!(err(""), "expected a value, found end of input at 1:1");
    }

    #[test]
    fn hostile_inputs_do_not_panic() {
        let deep = "[".repeat(100_000);
        assert!(err(&deep).contains("nested deeper than 128"));
        let deep_obj = "{\"a\":".repeat(100_000);
        assert!(err(&deep_obj).contains("nested deeper than 128"));
        // Exactly the limit is fine.
        let ok = format!("{}{}", "[".repeat(MAX_DEPTH), "]".repeat(MAX_DEPTH));
        assert!(parse(&ok).is_ok());
        for truncated in [
            "{",
            "{\"a",
            "{\"a\":",
            "[1,",
            "\"\\u12",
            "\"\\",
            "tru",
            "-",
            "1.",
            "1e+",
            "\"\\ud800\\u",
        ] {
            assert!(parse(truncated).is_err(), "{truncated:?}");
        }
        assert!(err("\"\\ud800\"").contains("lone surrogate \\uD800"));
        assert!(err("\"\\udc00\"").contains("lone surrogate \\uDC00"));
        assert!(err("\"\\ud800\\u0041\"").contains("not a low surrogate"));
        assert!(err("\"\\uzzzz\"").contains("four hex digits"));
        assert!(err("\"\\x\"").contains("invalid escape \\x"));
        let huge = format!("1{}", "0".repeat(400));
        let v = parse(&huge).expect("huge numbers are numbers");
        assert_eq!(v.value.as_f64(), Some(f64::INFINITY));
        assert!(parse("1e999999999999999999").is_ok());
        // Every prefix of a valid document, cut at any byte that is a char boundary.
        let doc = "{\"é\": [1, 2.5, \"\\ud83d\\ude00\", {\"x\": null}], \"b\": false}";
        for (i, _) in doc.char_indices() {
            let _ = parse(&doc[..i]);
        }
        assert!(parse("\u{feff}{}").is_ok());
    }

    #[test]
    fn quoting_escapes_controls() {
        assert_eq!(
            quote("a\"b\\c\n\u{1b}\u{2028}\u{85}"),
            "\"a\\\"b\\\\c\\n\\u001b\\u2028\\u0085\""
        );
        let back = parse(&quote("x\u{0}\u{7f}é")).expect("valid");
        assert_eq!(back.value.as_str(), Some("x\u{0}\u{7f}é"));
    }
}
