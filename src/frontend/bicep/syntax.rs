//! The Bicep syntax tree the rest of the frontend reads: statements and
//! expressions with their byte ranges in the original file. It is built from
//! the tree-sitter-bicep CST by [`super::parse`] and never holds tree-sitter
//! types, so the grammar can be replaced without touching the lowering.

use std::ops::Range;

#[derive(Clone, Debug, PartialEq)]
pub struct Expr {
    pub kind: ExprKind,
    pub range: Range<usize>,
}

#[derive(Clone, Debug, PartialEq)]
pub enum StrPart {
    Lit(String),
    Interp(Expr),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BinOp {
    Add,
    Sub,
    Mul,
    Div,
    Mod,
    Or,
    And,
    Eq,
    Ne,
    EqI,
    NeI,
    Gt,
    Ge,
    Lt,
    Le,
    Coalesce,
}

#[derive(Clone, Debug, PartialEq)]
pub enum ExprKind {
    Null,
    Bool(bool),
    Int(i64),
    Str(Vec<StrPart>),
    Ident(String),
    Array(Vec<Element>),
    Object(Vec<Prop>),
    Member {
        obj: Box<Expr>,
        name: String,
        name_range: Range<usize>,
    },
    Index {
        obj: Box<Expr>,
        index: Box<Expr>,
    },
    /// `parent::child`
    ChildAccess {
        obj: Box<Expr>,
        name: String,
    },
    /// `name(args)` or `ns.name(args)` (`sys.`, `az.`).
    Call {
        ns: Option<String>,
        name: String,
        name_range: Range<usize>,
        args: Vec<Expr>,
    },
    /// A call on something other than a plain name (`x.y.z()` method-style
    /// calls on imports): kept so the evaluator can report it.
    CallExpr {
        callee: Box<Expr>,
        args: Vec<Expr>,
    },
    /// `(x)`: kept so that precedence repairs do not reach inside it.
    Paren(Box<Expr>),
    Not(Box<Expr>),
    Neg(Box<Expr>),
    Binary {
        op: BinOp,
        left: Box<Expr>,
        right: Box<Expr>,
    },
    Ternary {
        cond: Box<Expr>,
        then: Box<Expr>,
        other: Box<Expr>,
    },
    /// `[for (item, index) in iter: body]`
    For {
        item: Option<String>,
        index: Option<String>,
        iter: Box<Expr>,
        body: Box<Expr>,
    },
    /// `if (cond) { ... }` as a resource, module or loop body.
    If {
        cond: Box<Expr>,
        body: Box<Expr>,
    },
    Lambda {
        params: Vec<String>,
        body: Box<Expr>,
    },
    /// Syntax this frontend does not evaluate (kept with its text).
    Unsupported(String),
}

#[derive(Clone, Debug, PartialEq)]
pub struct Element {
    pub spread: bool,
    pub value: Expr,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Prop {
    KeyValue {
        key: String,
        key_range: Range<usize>,
        value: Expr,
    },
    /// `...expr` inside an object.
    Spread(Expr),
    /// A child resource declared inside its parent's body.
    Resource(Box<ResourceDecl>),
}

#[derive(Clone, Debug, PartialEq)]
pub struct Decorator {
    pub name: String,
    pub args: Vec<Expr>,
    pub range: Range<usize>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct ResourceDecl {
    pub name: String,
    pub name_range: Range<usize>,
    /// `Microsoft.Network/azureFirewalls@2023-04-01` as written.
    pub type_ref: String,
    pub type_range: Range<usize>,
    pub existing: bool,
    /// An object, `if (...) {}`, or a `for` expression.
    pub body: Expr,
    pub range: Range<usize>,
}

#[derive(Clone, Debug, PartialEq)]
pub enum StmtKind {
    Param {
        /// The type as written (`string`, `array`, a user-defined type name).
        ty: String,
        default: Option<Expr>,
    },
    Var {
        value: Expr,
    },
    Resource(ResourceDecl),
    Module {
        /// The path or registry reference as written.
        path: String,
        path_range: Range<usize>,
        body: Expr,
    },
    Output {
        value: Expr,
    },
    Func {
        params: Vec<String>,
        body: Expr,
    },
    /// `type T = ...`: only the name matters to values.
    Type,
    Using {
        path: String,
        path_range: Range<usize>,
    },
    /// Imports, metadata, target scope, tests, asserts, extensions.
    Other,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Stmt {
    pub name: String,
    pub name_range: Range<usize>,
    pub decorators: Vec<Decorator>,
    pub kind: StmtKind,
    pub range: Range<usize>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct SyntaxError {
    pub message: String,
    pub range: Range<usize>,
}

#[derive(Clone, Debug, PartialEq, Default)]
pub struct File {
    pub stmts: Vec<Stmt>,
    /// Names imported with `import {...} from` (values unknown to us).
    pub imports: Vec<String>,
    pub errors: Vec<SyntaxError>,
}
