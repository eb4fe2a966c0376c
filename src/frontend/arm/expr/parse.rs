//! Lexer and parser of the template expression language: the text between
//! the outer `[` and `]` of an ARM string (`format('{0}-fw', parameters('p'))`).
//!
//! Grammar (what ARM accepts):
//! ```text
//! expr     := primary accessor*
//! primary  := 'string' | number | ident ( '(' args? ')' )? | ident '.' ident '(' args? ')'
//! accessor := '.' ident | '[' expr ']'
//! args     := expr (',' expr)*
//! ```
//! Strings use `''` for a quote. Nesting is bounded: a parse deeper than the
//! limit is an error, never a stack overflow.

/// A parsed expression.
#[derive(Clone, Debug, PartialEq)]
pub enum Expr {
    Str(String),
    Int(i64),
    /// A bare `true`, `false` or `null` (ARM also has the functions `true()`).
    Bool(bool),
    Null,
    /// `name(args)`; user-defined functions keep their namespace (`ns.name`).
    Call(String, Vec<Expr>),
    /// `expr.name`
    Prop(Box<Expr>, String),
    /// `expr[index]`
    Index(Box<Expr>, Box<Expr>),
}

#[derive(Clone, Debug, PartialEq)]
enum Tok {
    Str(String),
    Int(i64),
    Ident(String),
    LParen,
    RParen,
    LBrack,
    RBrack,
    Comma,
    Dot,
}

/// A syntax error at a character offset in the expression text.
#[derive(Clone, Debug, PartialEq)]
pub struct SyntaxError {
    pub message: String,
    /// Byte offset in the text given to [`parse`].
    pub offset: usize,
}

fn lex(src: &str) -> Result<Vec<(Tok, usize)>, SyntaxError> {
    let mut out = vec![];
    let b = src.as_bytes();
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        let start = i;
        match c {
            b' ' | b'\t' | b'\r' | b'\n' => {
                i += 1;
                continue;
            }
            b'(' => out.push((Tok::LParen, i)),
            b')' => out.push((Tok::RParen, i)),
            b'[' => out.push((Tok::LBrack, i)),
            b']' => out.push((Tok::RBrack, i)),
            b',' => out.push((Tok::Comma, i)),
            b'.' => out.push((Tok::Dot, i)),
            b'\'' => {
                let mut s = String::new();
                i += 1;
                let mut seg = i;
                loop {
                    if i >= b.len() {
                        return Err(SyntaxError {
                            message: "unterminated string literal".into(),
                            offset: start,
                        });
                    }
                    if b[i] == b'\'' {
                        s.push_str(&src[seg..i]);
                        if b.get(i + 1) == Some(&b'\'') {
                            s.push('\'');
                            i += 2;
                            seg = i;
                            continue;
                        }
                        break;
                    }
                    i += 1;
                }
                out.push((Tok::Str(s), start));
            }
            b'-' | b'0'..=b'9' => {
                i += 1;
                while i < b.len() && b[i].is_ascii_digit() {
                    i += 1;
                }
                let n = src[start..i].parse::<i64>().map_err(|_| SyntaxError {
                    message: format!("invalid number `{}`", &src[start..i]),
                    offset: start,
                })?;
                out.push((Tok::Int(n), start));
                continue;
            }
            c if c.is_ascii_alphabetic() || c == b'_' || c == b'$' => {
                while i < b.len() && (b[i].is_ascii_alphanumeric() || b[i] == b'_' || b[i] == b'$')
                {
                    i += 1;
                }
                out.push((Tok::Ident(src[start..i].to_string()), start));
                continue;
            }
            _ => {
                let ch = src[i..].chars().next().unwrap_or('?');
                return Err(SyntaxError {
                    message: format!("unexpected character `{ch}`"),
                    offset: i,
                });
            }
        }
        i += 1;
    }
    Ok(out)
}

struct Parser {
    toks: Vec<(Tok, usize)>,
    pos: usize,
    end: usize,
    depth: usize,
    max_depth: usize,
}

impl Parser {
    fn peek(&self) -> Option<&Tok> {
        self.toks.get(self.pos).map(|t| &t.0)
    }
    fn offset(&self) -> usize {
        self.toks.get(self.pos).map(|t| t.1).unwrap_or(self.end)
    }
    fn err<T>(&self, message: impl Into<String>) -> Result<T, SyntaxError> {
        Err(SyntaxError {
            message: message.into(),
            offset: self.offset(),
        })
    }
    fn expect(&mut self, t: Tok, what: &str) -> Result<(), SyntaxError> {
        if self.peek() == Some(&t) {
            self.pos += 1;
            Ok(())
        } else {
            self.err(format!("expected {what}"))
        }
    }

    fn expr(&mut self) -> Result<Expr, SyntaxError> {
        self.depth += 1;
        if self.depth > self.max_depth {
            return self.err(format!(
                "expression nested deeper than {} levels",
                self.max_depth
            ));
        }
        let mut e = self.primary()?;
        // Each `.name` or `[i]` nests the tree one level deeper too.
        let mut chain = 0;
        loop {
            if matches!(self.peek(), Some(Tok::Dot | Tok::LBrack)) {
                chain += 1;
                if self.depth + chain > self.max_depth {
                    return self.err(format!(
                        "expression nested deeper than {} levels",
                        self.max_depth
                    ));
                }
            }
            match self.peek() {
                Some(Tok::Dot) => {
                    self.pos += 1;
                    match self.toks.get(self.pos).map(|t| &t.0) {
                        Some(Tok::Ident(name)) => {
                            let name = name.clone();
                            self.pos += 1;
                            e = Expr::Prop(Box::new(e), name);
                        }
                        _ => return self.err("expected a property name after `.`"),
                    }
                }
                Some(Tok::LBrack) => {
                    self.pos += 1;
                    let idx = self.expr()?;
                    self.expect(Tok::RBrack, "`]`")?;
                    e = Expr::Index(Box::new(e), Box::new(idx));
                }
                _ => break,
            }
        }
        self.depth -= 1;
        Ok(e)
    }

    fn primary(&mut self) -> Result<Expr, SyntaxError> {
        let Some((tok, _)) = self.toks.get(self.pos).cloned() else {
            return self.err("expected an expression");
        };
        self.pos += 1;
        match tok {
            Tok::Str(s) => Ok(Expr::Str(s)),
            Tok::Int(n) => Ok(Expr::Int(n)),
            Tok::Ident(name) => {
                let mut name = name;
                // `namespace.function(...)`: user-defined functions.
                if self.peek() == Some(&Tok::Dot)
                    && matches!(self.toks.get(self.pos + 1), Some((Tok::Ident(_), _)))
                    && matches!(self.toks.get(self.pos + 2), Some((Tok::LParen, _)))
                {
                    if let Some((Tok::Ident(f), _)) = self.toks.get(self.pos + 1) {
                        name = format!("{name}.{f}");
                    }
                    self.pos += 2;
                }
                if self.peek() == Some(&Tok::LParen) {
                    self.pos += 1;
                    let mut args = vec![];
                    if self.peek() != Some(&Tok::RParen) {
                        loop {
                            args.push(self.expr()?);
                            match self.peek() {
                                Some(Tok::Comma) => self.pos += 1,
                                Some(Tok::RParen) => break,
                                _ => return self.err("expected `,` or `)`"),
                            }
                        }
                    }
                    self.expect(Tok::RParen, "`)`")?;
                    Ok(Expr::Call(name, args))
                } else {
                    match name.to_ascii_lowercase().as_str() {
                        "true" => Ok(Expr::Bool(true)),
                        "false" => Ok(Expr::Bool(false)),
                        "null" => Ok(Expr::Null),
                        _ => {
                            self.pos -= 1;
                            self.err(format!("`{name}` is not a function call"))
                        }
                    }
                }
            }
            _ => {
                self.pos -= 1;
                self.err("expected an expression")
            }
        }
    }
}

/// Parse the inside of an ARM expression (without the outer brackets).
pub fn parse(src: &str, max_depth: usize) -> Result<Expr, SyntaxError> {
    let toks = lex(src)?;
    let mut p = Parser {
        toks,
        pos: 0,
        end: src.len(),
        depth: 0,
        max_depth,
    };
    let e = p.expr()?;
    if p.pos < p.toks.len() {
        return p.err("unexpected text after the expression");
    }
    Ok(e)
}

/// How an ARM string reads: a literal, or an expression between brackets.
#[derive(Clone, Debug, PartialEq)]
pub enum Template<'a> {
    /// A plain string, with a leading `[[` unescaped to `[`.
    Literal(std::borrow::Cow<'a, str>),
    /// The text between `[` and `]`, and its byte offset in the string.
    Expr(&'a str, usize),
}

/// Classify a JSON string value the way ARM does: `[...]` is an expression,
/// `[[...` is a literal starting with `[`, anything else is a literal.
pub fn classify(s: &str) -> Template<'_> {
    if s.starts_with("[[") {
        return Template::Literal(std::borrow::Cow::Owned(s[1..].to_string()));
    }
    if s.len() > 2 && s.starts_with('[') && s.ends_with(']') {
        return Template::Expr(&s[1..s.len() - 1], 1);
    }
    Template::Literal(std::borrow::Cow::Borrowed(s))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_calls_and_accessors() {
        let e = parse("variables('a')[copyIndex()].b", 32).unwrap();
        assert_eq!(
            e,
            Expr::Prop(
                Box::new(Expr::Index(
                    Box::new(Expr::Call("variables".into(), vec![Expr::Str("a".into())])),
                    Box::new(Expr::Call("copyIndex".into(), vec![]))
                )),
                "b".into()
            )
        );
        assert_eq!(parse("'it''s'", 8).unwrap(), Expr::Str("it's".into()));
        assert_eq!(parse("-5", 8).unwrap(), Expr::Int(-5));
        assert!(parse("concat('a',", 8).is_err());
        assert!(parse("a b", 8).is_err());
        let deep = "concat(".repeat(100) + &")".repeat(100);
        assert!(parse(&deep, 32).is_err());
        // Accessor chains nest as deeply as calls.
        assert!(parse(&format!("a(){}", ".b".repeat(100)), 32).is_err());
        assert!(parse(&format!("a(){}", "[0]".repeat(100)), 32).is_err());
        assert!(parse(&format!("a(){}", ".b[0]".repeat(10)), 32).is_ok());
    }

    #[test]
    fn classifies() {
        assert_eq!(classify("[x()]"), Template::Expr("x()", 1));
        assert_eq!(classify("[[x]"), Template::Literal("[x]".into()));
        assert_eq!(classify("x"), Template::Literal("x".into()));
        assert_eq!(classify("[x"), Template::Literal("[x".into()));
    }
}
