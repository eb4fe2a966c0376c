//! Span-aware JSON for ARM templates, parameter files and NSG exports.
//!
//! Azure Resource Manager reads templates with a lenient parser: comments,
//! trailing commas and raw newlines inside strings are accepted, so we accept
//! them too (`jsonc-parser` does all three). Every value keeps its byte range;
//! [`Json::pointer`] resolves a JSON pointer to the value (and so its range).
//!
//! Nesting is checked by an iterative pre-scan before the recursive parser
//! runs, so hostile nesting ends as an error, never a stack overflow. Most
//! files take a faster path that builds the tree directly (see `fast`), with
//! the same result.

use std::ops::Range;

/// A parsed JSON value with its byte range in the file.
#[derive(Clone, Debug, PartialEq)]
pub struct Json {
    pub kind: JKind,
    pub range: Range<usize>,
}

#[derive(Clone, Debug, PartialEq)]
pub enum JKind {
    Null,
    Bool(bool),
    /// The number as written (`1`, `-2.5e3`, `0x1F`).
    Num(String),
    Str(String),
    Arr(Vec<Json>),
    Obj(Vec<Member>),
}

/// One property of an object, in source order.
#[derive(Clone, Debug, PartialEq)]
pub struct Member {
    pub key: String,
    pub key_range: Range<usize>,
    pub value: Json,
}

/// Why a text is not JSON: a message and the byte offset it applies to.
#[derive(Clone, Debug, PartialEq)]
pub struct JsonError {
    pub message: String,
    pub range: Range<usize>,
}

impl Json {
    /// Property of an object; ARM property names are case-insensitive, an
    /// exact match wins over a case-insensitive one.
    pub fn get(&self, key: &str) -> Option<&Json> {
        let JKind::Obj(members) = &self.kind else {
            return None;
        };
        members
            .iter()
            .find(|m| m.key == key)
            .or_else(|| members.iter().find(|m| m.key.eq_ignore_ascii_case(key)))
            .map(|m| &m.value)
    }

    /// The member (key and value) of an object.
    pub fn member(&self, key: &str) -> Option<&Member> {
        let JKind::Obj(members) = &self.kind else {
            return None;
        };
        members
            .iter()
            .find(|m| m.key == key)
            .or_else(|| members.iter().find(|m| m.key.eq_ignore_ascii_case(key)))
    }

    /// Walk a path of keys.
    pub fn path(&self, keys: &[&str]) -> Option<&Json> {
        let mut cur = self;
        for k in keys {
            cur = cur.get(k)?;
        }
        Some(cur)
    }

    pub fn as_str(&self) -> Option<&str> {
        match &self.kind {
            JKind::Str(s) => Some(s),
            _ => None,
        }
    }

    pub fn as_array(&self) -> Option<&[Json]> {
        match &self.kind {
            JKind::Arr(a) => Some(a),
            _ => None,
        }
    }

    pub fn as_object(&self) -> Option<&[Member]> {
        match &self.kind {
            JKind::Obj(m) => Some(m),
            _ => None,
        }
    }

    pub fn as_bool(&self) -> Option<bool> {
        match &self.kind {
            JKind::Bool(b) => Some(*b),
            _ => None,
        }
    }

    /// Resolve an RFC 6901 JSON pointer (`/resources/3/properties`); object
    /// keys match case-insensitively as ARM does.
    pub fn pointer(&self, ptr: &str) -> Option<&Json> {
        if ptr.is_empty() {
            return Some(self);
        }
        let rest = ptr.strip_prefix('/')?;
        let mut cur = self;
        for raw in rest.split('/') {
            let seg = raw.replace("~1", "/").replace("~0", "~");
            cur = match &cur.kind {
                JKind::Obj(_) => cur.get(&seg)?,
                JKind::Arr(items) => items.get(seg.parse::<usize>().ok()?)?,
                _ => return None,
            };
        }
        Some(cur)
    }
}

/// Parse JSON with comments, trailing commas and raw newlines in strings.
/// Nesting deeper than `max_depth` is an error.
pub fn parse(text: &str, max_depth: usize) -> Result<Json, JsonError> {
    // Editors on Windows save templates with a byte-order mark, and Azure
    // accepts them; three spaces in its place keep every offset.
    let owned;
    let text = match text.strip_prefix('\u{feff}') {
        Some(rest) => {
            owned = format!("   {rest}");
            owned.as_str()
        }
        None => text,
    };
    prescan_depth(text, max_depth)?;
    match fast::parse(text) {
        Some(j) => Ok(j),
        None => parse_jsonc(text),
    }
}

/// The full parser: every extension ARM accepts, and the errors.
fn parse_jsonc(text: &str) -> Result<Json, JsonError> {
    let opts = jsonc_parser::ParseOptions {
        allow_comments: true,
        allow_loose_object_property_names: false,
        allow_trailing_commas: true,
        // Azure rejects a missing comma; accepting it would hide real mistakes.
        allow_missing_commas: false,
        allow_single_quoted_strings: true,
        allow_hexadecimal_numbers: false,
        allow_unary_plus_numbers: false,
        allow_bare_decimal_point_numbers: false,
        allow_non_finite_numbers: false,
        allow_extended_string_escapes: false,
    };
    let res = jsonc_parser::parse_to_ast(text, &Default::default(), &opts).map_err(|e| {
        let r = e.range();
        JsonError {
            message: lower_first(&e.kind().to_string()),
            range: r.start..r.end.max(r.start),
        }
    })?;
    match res.value {
        Some(v) => Ok(convert(v)),
        None => Err(JsonError {
            message: "file holds no JSON value".into(),
            range: 0..0,
        }),
    }
}

fn lower_first(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_lowercase().collect::<String>() + c.as_str(),
        None => String::new(),
    }
}

fn convert(v: jsonc_parser::ast::Value<'_>) -> Json {
    use jsonc_parser::ast::Value as V;
    match v {
        V::NullKeyword(n) => Json {
            kind: JKind::Null,
            range: n.range.start..n.range.end,
        },
        V::BooleanLit(b) => Json {
            kind: JKind::Bool(b.value),
            range: b.range.start..b.range.end,
        },
        V::NumberLit(n) => Json {
            kind: JKind::Num(n.value.to_string()),
            range: n.range.start..n.range.end,
        },
        V::StringLit(s) => Json {
            kind: JKind::Str(s.value.into_owned()),
            range: s.range.start..s.range.end,
        },
        V::Array(a) => Json {
            kind: JKind::Arr(a.elements.into_iter().map(convert).collect()),
            range: a.range.start..a.range.end,
        },
        V::Object(o) => Json {
            range: o.range.start..o.range.end,
            kind: JKind::Obj(
                o.properties
                    .into_iter()
                    .map(|p| {
                        let key_range = match &p.name {
                            jsonc_parser::ast::ObjectPropName::String(s) => {
                                s.range.start..s.range.end
                            }
                            jsonc_parser::ast::ObjectPropName::Word(w) => {
                                w.range.start..w.range.end
                            }
                        };
                        Member {
                            key: p.name.into_string(),
                            key_range,
                            value: convert(p.value),
                        }
                    })
                    .collect(),
            ),
        },
    }
}

/// A direct parser for the JSON most templates are: building the tree
/// straight from the text costs less than half of building `jsonc-parser`'s
/// syntax tree and converting it. It accepts a strict subset of what
/// `jsonc-parser` accepts (comments and trailing commas included) and gives
/// the same tree; anything else (an error, single quotes, unusual
/// whitespace or escapes) returns `None` and goes to `jsonc-parser`, which
/// says what is wrong and where. Iterative: nesting costs no stack.
mod fast {
    use super::{JKind, Json, Member};

    enum Frame {
        Arr {
            start: usize,
            /// First element of this array in the shared value stack.
            from: usize,
        },
        Obj {
            start: usize,
            /// First member of this object in the shared member stack.
            from: usize,
            key: Option<(String, std::ops::Range<usize>)>,
        },
    }

    struct P<'t> {
        text: &'t str,
        b: &'t [u8],
        i: usize,
    }

    pub fn parse(text: &str) -> Option<Json> {
        let mut p = P {
            text,
            b: text.as_bytes(),
            i: 0,
        };
        let mut frames: Vec<Frame> = vec![];
        // Children of the open containers, in order; a container takes its
        // own when it closes, so every list is allocated once at its size.
        let mut values: Vec<Json> = vec![];
        let mut members: Vec<Member> = vec![];
        'value: loop {
            p.skip_ws()?;
            let start = p.i;
            let mut done = match *p.b.get(p.i)? {
                b'{' => {
                    p.i += 1;
                    frames.push(Frame::Obj {
                        start,
                        from: members.len(),
                        key: None,
                    });
                    p.skip_ws()?;
                    if p.b.get(p.i) == Some(&b'}') {
                        p.i += 1;
                        close(&mut frames, &mut values, &mut members, p.i)?
                    } else {
                        p.key(&mut frames)?;
                        continue 'value;
                    }
                }
                b'[' => {
                    p.i += 1;
                    frames.push(Frame::Arr {
                        start,
                        from: values.len(),
                    });
                    p.skip_ws()?;
                    if p.b.get(p.i) == Some(&b']') {
                        p.i += 1;
                        close(&mut frames, &mut values, &mut members, p.i)?
                    } else {
                        continue 'value;
                    }
                }
                b'"' => {
                    let s = p.string()?;
                    Json {
                        kind: JKind::Str(s),
                        range: start..p.i,
                    }
                }
                b't' => p.word("true", JKind::Bool(true))?,
                b'f' => p.word("false", JKind::Bool(false))?,
                b'n' => p.word("null", JKind::Null)?,
                b'-' | b'0'..=b'9' => p.number()?,
                _ => return None,
            };
            // Hand the finished value to its container; a container that
            // closes is itself a finished value.
            loop {
                match frames.last_mut() {
                    None => {
                        p.skip_ws()?;
                        return (p.i == p.b.len()).then_some(done);
                    }
                    Some(Frame::Arr { .. }) => {
                        values.push(done);
                        p.skip_ws()?;
                        match *p.b.get(p.i)? {
                            b',' => {
                                p.i += 1;
                                p.skip_ws()?;
                                if p.b.get(p.i) != Some(&b']') {
                                    continue 'value;
                                }
                                p.i += 1;
                            }
                            b']' => p.i += 1,
                            _ => return None,
                        }
                    }
                    Some(Frame::Obj { key, .. }) => {
                        let (k, key_range) = key.take()?;
                        members.push(Member {
                            key: k,
                            key_range,
                            value: done,
                        });
                        p.skip_ws()?;
                        match *p.b.get(p.i)? {
                            b',' => {
                                p.i += 1;
                                p.skip_ws()?;
                                if p.b.get(p.i) != Some(&b'}') {
                                    p.key(&mut frames)?;
                                    continue 'value;
                                }
                                p.i += 1;
                            }
                            b'}' => p.i += 1,
                            _ => return None,
                        }
                    }
                }
                done = close(&mut frames, &mut values, &mut members, p.i)?;
            }
        }
    }

    /// Close the innermost container, which ends at `end`.
    fn close(
        frames: &mut Vec<Frame>,
        values: &mut Vec<Json>,
        members: &mut Vec<Member>,
        end: usize,
    ) -> Option<Json> {
        Some(match frames.pop()? {
            Frame::Arr { start, from } => Json {
                kind: JKind::Arr(values.drain(from..).collect()),
                range: start..end,
            },
            Frame::Obj { start, from, key } => {
                if key.is_some() {
                    return None;
                }
                Json {
                    kind: JKind::Obj(members.drain(from..).collect()),
                    range: start..end,
                }
            }
        })
    }

    impl P<'_> {
        /// Whitespace and comments.
        fn skip_ws(&mut self) -> Option<()> {
            loop {
                match self.b.get(self.i) {
                    Some(b' ' | b'\t' | b'\n' | b'\r') => self.i += 1,
                    Some(b'/') => match self.b.get(self.i + 1)? {
                        b'/' => {
                            self.i += 2;
                            while let Some(&c) = self.b.get(self.i) {
                                match c {
                                    b'\n' | b'\r' => break,
                                    // How other line ends end a comment is
                                    // for the full parser to say.
                                    0x80.. => return None,
                                    _ => self.i += 1,
                                }
                            }
                        }
                        b'*' => {
                            let rest = self.text.get(self.i + 2..)?;
                            self.i += 2 + rest.find("*/")? + 2;
                        }
                        _ => return None,
                    },
                    Some(c) if *c >= 0x80 => return None,
                    Some(0x0b | 0x0c) => return None,
                    _ => return Some(()),
                }
            }
        }

        /// An object key and its colon, stored in the innermost frame.
        fn key(&mut self, frames: &mut [Frame]) -> Option<()> {
            if self.b.get(self.i) != Some(&b'"') {
                return None;
            }
            let start = self.i;
            let k = self.string()?;
            let range = start..self.i;
            self.skip_ws()?;
            if self.b.get(self.i) != Some(&b':') {
                return None;
            }
            self.i += 1;
            match frames.last_mut()? {
                Frame::Obj { key, .. } => *key = Some((k, range)),
                Frame::Arr { .. } => return None,
            }
            Some(())
        }

        /// A double-quoted string at `self.i`, decoded.
        fn string(&mut self) -> Option<String> {
            let start = self.i + 1;
            let mut i = start;
            // The common case: no escapes.
            loop {
                match *self.b.get(i)? {
                    b'"' => {
                        self.i = i + 1;
                        return Some(self.text.get(start..i)?.to_string());
                    }
                    b'\\' => break,
                    c if c < 0x20 && !matches!(c, b'\t' | b'\n' | b'\r') => return None,
                    _ => i += 1,
                }
            }
            let mut out = String::with_capacity(i - start + 16);
            out.push_str(self.text.get(start..i)?);
            loop {
                match *self.b.get(i)? {
                    b'"' => {
                        self.i = i + 1;
                        return Some(out);
                    }
                    b'\\' => {
                        let c = match *self.b.get(i + 1)? {
                            b'"' => '"',
                            b'\\' => '\\',
                            b'/' => '/',
                            b'b' => '\u{8}',
                            b'f' => '\u{c}',
                            b'n' => '\n',
                            b'r' => '\r',
                            b't' => '\t',
                            b'u' => {
                                let hex = self.text.get(i + 2..i + 6)?;
                                if !hex.bytes().all(|h| h.is_ascii_hexdigit()) {
                                    return None;
                                }
                                // Surrogates (pairs or not) are left to the full parser.
                                let c = char::from_u32(u32::from_str_radix(hex, 16).ok()?)?;
                                i += 4;
                                c
                            }
                            _ => return None,
                        };
                        out.push(c);
                        i += 2;
                    }
                    c if c < 0x20 && !matches!(c, b'\t' | b'\n' | b'\r') => return None,
                    _ => {
                        // Copy up to the next quote or backslash at once.
                        let run = self.b.get(i..)?;
                        let n = run
                            .iter()
                            .position(|&c| c == b'"' || c == b'\\' || c < 0x20)
                            .unwrap_or(run.len())
                            .max(1);
                        out.push_str(self.text.get(i..i + n)?);
                        i += n;
                    }
                }
            }
        }

        fn word(&mut self, w: &str, kind: JKind) -> Option<Json> {
            let start = self.i;
            if !self.b.get(start..)?.starts_with(w.as_bytes()) {
                return None;
            }
            self.i += w.len();
            self.delimited()?;
            Some(Json {
                kind,
                range: start..self.i,
            })
        }

        /// `-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?`, as written.
        fn number(&mut self) -> Option<Json> {
            let start = self.i;
            let digits = |p: &mut Self| {
                let from = p.i;
                while p.b.get(p.i).is_some_and(u8::is_ascii_digit) {
                    p.i += 1;
                }
                p.i > from
            };
            if self.b.get(self.i) == Some(&b'-') {
                self.i += 1;
            }
            let int = self.i;
            // `01` is two values to the full parser.
            if !digits(self) || (self.b.get(int) == Some(&b'0') && self.i - int > 1) {
                return None;
            }
            if self.b.get(self.i) == Some(&b'.') {
                self.i += 1;
                if !digits(self) {
                    return None;
                }
            }
            if matches!(self.b.get(self.i), Some(b'e' | b'E')) {
                self.i += 1;
                if matches!(self.b.get(self.i), Some(b'+' | b'-')) {
                    self.i += 1;
                }
                if !digits(self) {
                    return None;
                }
            }
            self.delimited()?;
            Some(Json {
                kind: JKind::Num(self.text.get(start..self.i)?.to_string()),
                range: start..self.i,
            })
        }

        /// A word or number must end here.
        fn delimited(&self) -> Option<()> {
            match self.b.get(self.i) {
                None | Some(b' ' | b'\t' | b'\n' | b'\r' | b',' | b']' | b'}' | b'/') => Some(()),
                _ => None,
            }
        }
    }
}

/// Iterative scan for the nesting depth, skipping strings and comments.
fn prescan_depth(text: &str, max_depth: usize) -> Result<(), JsonError> {
    let b = text.as_bytes();
    let mut depth = 0usize;
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            q @ (b'"' | b'\'') => {
                i += 1;
                while i < b.len() && b[i] != q {
                    if b[i] == b'\\' {
                        i += 1;
                    }
                    i += 1;
                }
            }
            b'/' if b.get(i + 1) == Some(&b'/') => {
                while i < b.len() && b[i] != b'\n' {
                    i += 1;
                }
            }
            b'/' if b.get(i + 1) == Some(&b'*') => {
                i += 2;
                while i + 1 < b.len() && !(b[i] == b'*' && b[i + 1] == b'/') {
                    i += 1;
                }
                i += 1;
            }
            b'{' | b'[' => {
                depth += 1;
                if depth > max_depth {
                    return Err(JsonError {
                        message: format!(
                            "nesting deeper than {max_depth} levels; the file was not analysed"
                        ),
                        range: i..i + 1,
                    });
                }
            }
            b'}' | b']' => depth = depth.saturating_sub(1),
            _ => {}
        }
        i += 1;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spans_and_leniency() {
        let text = "{\n  // comment\n  \"a\": [1, \"x\ny\",],\n  \"B\": {\"c\": true},\n}";
        let j = parse(text, 64).unwrap();
        let a = j.get("a").unwrap();
        assert_eq!(&text[a.range.clone()], "[1, \"x\ny\",]");
        let s = j.pointer("/a/1").unwrap();
        assert_eq!(s.as_str(), Some("x\ny"));
        assert_eq!(&text[s.range.clone()], "\"x\ny\"");
        assert_eq!(j.pointer("/b/c").unwrap().as_bool(), Some(true));
        assert!(j.pointer("/a/7").is_none());
    }

    #[test]
    fn errors_have_positions() {
        let e = parse("{\"a\": 1 \"b\": 2}", 64).unwrap_err();
        assert_eq!(e.range.start, 7); // right after `1`, where the comma belongs
        let e = parse("{\"a\": }", 64).unwrap_err();
        assert_eq!(e.range.start, 6);
        let deep = "[".repeat(10_000) + &"]".repeat(10_000);
        let e = parse(&deep, 128).unwrap_err();
        assert_eq!(e.range.start, 128);
        assert!(parse("", 64).is_err());
    }
}

#[cfg(test)]
mod bom_tests {
    use super::*;

    #[test]
    fn byte_order_mark_is_skipped() {
        let text = "\u{feff}{\"a\": \"x\"}";
        let j = parse(text, 8).unwrap();
        let a = j.get("a").unwrap();
        assert_eq!(&text[a.range.clone()], "\"x\"");
    }
}

#[cfg(test)]
mod fast_tests {
    use super::*;
    use proptest::prelude::*;

    fn floor(s: &str, mut i: usize) -> usize {
        while !s.is_char_boundary(i) {
            i -= 1;
        }
        i
    }

    /// The fast path answers only when it agrees with `jsonc-parser`.
    fn agrees(text: &str) -> bool {
        let fast = fast::parse(text);
        if let Some(f) = &fast {
            assert_eq!(Ok(f.clone()), parse_jsonc(text), "{text:?}");
        }
        fast.is_some()
    }

    #[test]
    fn same_tree_as_the_full_parser() {
        let taken = [
            "{\"a\":1,\"a\":2}",
            "\"a\\tb\\u00e9\\u0000\\/\\\"\\\\\\b\\f\\n\\r\"",
            "\"a\tb\nc\rd é\"",
            "/* /* */ 1",
            "// c\r1",
            "// c\n1 // end",
            "[1 ,]",
            "{\"a\" : 1 , }",
            "{\"\":1}",
            "[true,false,null,-0,-0.5e-3,1E+5,2147483648,0]",
            "{\"a\"\n:\n{\"b\": [[], {}, [{}]]}}",
            "  {\"x\": \"[concat('a', 'b')]\"}  \r\n",
        ];
        for t in taken {
            assert!(agrees(t), "not taken: {t:?}");
        }
        // Errors and the rarer extensions are the full parser's.
        let left = [
            "",
            "01",
            "-01",
            "1.",
            ".5",
            "-",
            "1e",
            "[,]",
            "{,}",
            "[1,,2]",
            "{\"a\":1,,}",
            "1 x",
            "1a",
            "tru",
            "truex",
            "nul",
            "\u{a0}1",
            "\u{c}1",
            "\"\\ud83d\\ude00\"",
            "\"\\ud83d\"",
            "\"\\x41\"",
            "\"\u{1}\"",
            "[1]]",
            "{\"a\":}",
            "1 /* end",
            "'a'",
            "{a: 1}",
            "{'a': 1}",
            "[1 2]",
            "{\"a\" 1}",
            "\"abc",
            "[1",
            "{\"a\":1",
            "/",
            "1/",
            "// ü\n1",
            "\"\\u12\"",
            "[-]",
            "{\"a\":1}}",
        ];
        for t in left {
            assert!(!agrees(t), "taken: {t:?}");
        }
    }

    #[test]
    fn every_test_file_takes_the_fast_path_or_agrees() {
        let mut stack = vec![std::path::PathBuf::from("testdata")];
        let mut taken = 0;
        while let Some(d) = stack.pop() {
            for e in std::fs::read_dir(d).unwrap().flatten() {
                let p = e.path();
                if p.is_dir() {
                    stack.push(p);
                } else if p.extension().is_some_and(|x| x == "json" || x == "jsonc")
                    && let Ok(t) = std::fs::read_to_string(&p)
                {
                    let t = t.strip_prefix('\u{feff}').unwrap_or(&t);
                    taken += usize::from(agrees(t));
                }
            }
        }
        assert!(taken > 30, "{taken}");
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(4000))]
        #[test]
        fn edited_template_agrees(at in 0usize..4000, len in 0usize..6, with in "[ {}\\[\\],:\"'/*\\\\\n0-9a-z.-]{0,3}") {
            let text = include_str!("../../../testdata/arm-hand-written/azuredeploy.json");
            let at = at % text.len();
            let (at, end) = (floor(text, at), floor(text, (at + len).min(text.len())));
            let edited = format!("{}{with}{}", &text[..at], &text[end..]);
            agrees(&edited);
        }

        #[test]
        fn random_text_agrees(t in "[ {}\\[\\],:\"'a-c/*\\\\\n\r\t0-9.eE+-]{0,40}|(true|false|null|\"k\"|\"\\\\u00e9\"|\\{|\\}|\\[|\\]|,|:| |//|/\\*|\\*/|\n|-?[0-9]{1,3}(\\.[0-9])?){0,24}") {
            agrees(&t);
        }
    }
}
