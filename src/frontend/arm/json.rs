//! Span-aware JSON for ARM templates, parameter files and NSG exports.
//!
//! Azure Resource Manager reads templates with a lenient parser: comments,
//! trailing commas and raw newlines inside strings are accepted, so we accept
//! them too (`jsonc-parser` does all three). Every value keeps its byte range;
//! [`Json::pointer`] resolves a JSON pointer to the value (and so its range).
//!
//! Nesting is checked by an iterative pre-scan before the recursive parser
//! runs, so hostile nesting ends as an error, never a stack overflow.

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
