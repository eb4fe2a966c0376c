//! The source store: every file read during a run, addressed by [`FileId`],
//! with byte-offset spans and line/column lookup.
//!
//! Sources are filled once by discovery and are immutable afterwards, so
//! frontends can run in parallel over `&Sources`.

use std::ops::Range;
use std::path::{Path, PathBuf};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct FileId(pub u32);

/// A byte range in one file. The file lives in the span because one egress
/// path crosses several files.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Default)]
pub struct Span {
    pub file: FileId,
    pub range: Range<usize>,
}

impl Span {
    pub fn new(file: FileId, range: Range<usize>) -> Self {
        Span { file, range }
    }
}

/// A value with the place it was written.
#[derive(Clone, Debug, PartialEq)]
pub struct Spanned<T> {
    pub value: T,
    pub span: Span,
}

impl<T> Spanned<T> {
    pub fn new(value: T, span: Span) -> Self {
        Spanned { value, span }
    }
    pub fn map<U>(self, f: impl FnOnce(T) -> U) -> Spanned<U> {
        Spanned {
            value: f(self.value),
            span: self.span,
        }
    }
    pub fn as_ref(&self) -> Spanned<&T> {
        Spanned {
            value: &self.value,
            span: self.span.clone(),
        }
    }
}

#[derive(Debug)]
pub struct SourceFile {
    /// Path as given on disk.
    pub path: PathBuf,
    /// Path shown to users: relative to the current directory, `/` separators.
    pub display: String,
    /// Text of the file. Files that are not valid UTF-8 are stored empty and
    /// reported as a parse error by discovery: invalid bytes are never replaced.
    pub text: String,
    /// Byte offset of each line, built the first time a position in the file
    /// is shown: most files of a large repository never need it.
    line_starts: std::sync::OnceLock<LineStarts>,
}

impl SourceFile {
    pub fn new(path: PathBuf, display: String, text: String) -> Self {
        SourceFile {
            path,
            display,
            text,
            line_starts: std::sync::OnceLock::new(),
        }
    }

    fn line_starts(&self) -> &LineStarts {
        self.line_starts.get_or_init(|| {
            let starts =
                std::iter::once(0).chain(self.text.match_indices('\n').map(|(i, _)| i + 1));
            match u32::try_from(self.text.len()) {
                Ok(_) => LineStarts::Narrow(starts.map(|i| i as u32).collect()),
                Err(_) => LineStarts::Wide(starts.collect()),
            }
        })
    }

    /// 1-based line and column (in characters) of a byte offset. Offsets past
    /// the end are clamped to the end of the file.
    pub fn line_col(&self, offset: usize) -> (usize, usize) {
        let offset = offset.min(self.text.len());
        let starts = self.line_starts();
        let line = starts.line_of(offset);
        let start = starts.get(line).unwrap_or(0);
        let mut end = offset;
        while end > start && !self.text.is_char_boundary(end) {
            end -= 1;
        }
        let col = self.text[start..end].chars().count() + 1;
        (line + 1, col)
    }

    /// Byte offset of a 1-based line and column (columns in characters).
    pub fn offset_of(&self, line: usize, col: usize) -> usize {
        let Some(start) = self.line_starts().get(line.saturating_sub(1)) else {
            return self.text.len();
        };
        let line_text = self.text[start..].split('\n').next().unwrap_or("");
        // Past the end of the line: the line's end.
        line_text
            .char_indices()
            .nth(col.saturating_sub(1))
            .map_or(start + line_text.len(), |(b, _)| start + b)
    }
}

/// Byte offset of each line; 32-bit when the file allows (nearly always),
/// which halves the index of the files findings point into.
#[derive(Debug)]
enum LineStarts {
    Narrow(Vec<u32>),
    Wide(Vec<usize>),
}

impl LineStarts {
    fn get(&self, line: usize) -> Option<usize> {
        match self {
            LineStarts::Narrow(v) => v.get(line).map(|&o| o as usize),
            LineStarts::Wide(v) => v.get(line).copied(),
        }
    }

    /// 0-based line holding `offset` (the first line starts at 0).
    fn line_of(&self, offset: usize) -> usize {
        let after = match self {
            LineStarts::Narrow(v) => v.partition_point(|&o| (o as usize) <= offset),
            LineStarts::Wide(v) => v.partition_point(|&o| o <= offset),
        };
        after.saturating_sub(1)
    }
}

#[derive(Debug, Default)]
pub struct Sources {
    files: Vec<SourceFile>,
}

impl Sources {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn add(&mut self, path: impl Into<PathBuf>, text: impl Into<String>) -> FileId {
        let path = path.into();
        let display = display_path(&path);
        let id = FileId(self.files.len() as u32);
        self.files.push(SourceFile::new(path, display, text.into()));
        id
    }

    /// Add an in-memory file whose display name is given verbatim (tests).
    pub fn add_named(&mut self, name: &str, text: impl Into<String>) -> FileId {
        let id = FileId(self.files.len() as u32);
        self.files.push(SourceFile::new(
            PathBuf::from(name),
            name.to_string(),
            text.into(),
        ));
        id
    }

    pub fn get(&self, id: FileId) -> &SourceFile {
        &self.files[id.0 as usize]
    }

    pub fn text(&self, id: FileId) -> &str {
        &self.get(id).text
    }

    pub fn len(&self) -> usize {
        self.files.len()
    }

    pub fn is_empty(&self) -> bool {
        self.files.is_empty()
    }

    pub fn iter(&self) -> impl Iterator<Item = (FileId, &SourceFile)> {
        self.files
            .iter()
            .enumerate()
            .map(|(i, f)| (FileId(i as u32), f))
    }

    /// Find a file by its on-disk path (after normalisation).
    pub fn find(&self, path: &Path) -> Option<FileId> {
        let want = normalize(path);
        self.iter()
            .find(|(_, f)| normalize(&f.path) == want)
            .map(|(id, _)| id)
    }

    /// Start line/column and end line/column of a span, all 1-based.
    pub fn span_lines(&self, span: &Span) -> (usize, usize, usize, usize) {
        let f = self.get(span.file);
        let (l1, c1) = f.line_col(span.range.start);
        let (l2, c2) = f.line_col(span.range.end);
        (l1, c1, l2, c2)
    }

    /// The text a span covers (empty if the span is out of range).
    pub fn slice(&self, span: &Span) -> &str {
        self.text(span.file).get(span.range.clone()).unwrap_or("")
    }
}

/// Lexically normalise a path (no filesystem access): drop `.`, fold `..`.
pub fn normalize(path: &Path) -> PathBuf {
    use std::path::Component;
    let mut out = PathBuf::new();
    for c in path.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => {
                if !out.pop() {
                    out.push("..");
                }
            }
            other => out.push(other.as_os_str()),
        }
    }
    out
}

/// Path relative to the current directory when possible, with `/` separators.
pub fn display_path(path: &Path) -> String {
    let rel = std::env::current_dir()
        .ok()
        .and_then(|cwd| {
            let abs = if path.is_absolute() {
                path.to_path_buf()
            } else {
                cwd.join(path)
            };
            normalize(&abs)
                .strip_prefix(normalize(&cwd))
                .ok()
                .map(Path::to_path_buf)
        })
        .unwrap_or_else(|| normalize(path));
    let s = rel.to_string_lossy().replace('\\', "/");
    if s.is_empty() { ".".into() } else { s }
}

#[cfg(test)]
mod tests {

    #[test]
    fn narrow_and_wide_line_indexes_agree() {
        let text = "a\nbc\n\nd";
        let starts: Vec<usize> = vec![0, 2, 5, 6];
        let narrow = LineStarts::Narrow(starts.iter().map(|&o| o as u32).collect());
        let wide = LineStarts::Wide(starts.clone());
        for off in 0..=text.len() + 2 {
            assert_eq!(narrow.line_of(off), wide.line_of(off), "offset {off}");
        }
        assert_eq!(
            (0..=9).map(|o| wide.line_of(o)).collect::<Vec<_>>(),
            [0, 0, 1, 1, 1, 2, 3, 3, 3, 3]
        );
        assert_eq!(narrow.get(3), Some(6));
        assert_eq!(wide.get(4), None);
    }

    use super::*;

    #[test]
    fn line_col_round_trip() {
        let f = SourceFile::new("x".into(), "x".into(), "ab\ncdé\n\nf".into());
        assert_eq!(f.line_col(0), (1, 1));
        assert_eq!(f.line_col(3), (2, 1));
        assert_eq!(f.line_col(5), (2, 3));
        assert_eq!(f.line_col(7), (2, 4)); // after the two-byte é
        assert_eq!(f.line_col(9), (4, 1));
        assert_eq!(f.line_col(999), (4, 2));
        assert_eq!(f.offset_of(2, 3), 5);
        assert_eq!(f.offset_of(4, 1), 9);
    }
}
