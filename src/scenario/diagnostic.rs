//! Errors in a scenario, each pointing at the file, line and column, and the key, and saying
//! what was expected.

use std::fmt;

/// A step of a key path: a table key or an index into an array of tables.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyStep {
    Key(String),
    Index(usize),
}

/// A dotted key path such as `arm[1].dose[0].amount_per_day`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct KeyPath(pub Vec<KeyStep>);

impl KeyPath {
    pub fn root() -> Self {
        KeyPath(Vec::new())
    }
    pub fn key(&self, k: &str) -> Self {
        let mut v = self.0.clone();
        v.push(KeyStep::Key(k.to_string()));
        KeyPath(v)
    }
    pub fn index(&self, i: usize) -> Self {
        let mut v = self.0.clone();
        v.push(KeyStep::Index(i));
        KeyPath(v)
    }
    /// Builds a path from the words of a dotted key: numbers become indices
    /// (`arm.1.dose.0.start_day`).
    pub fn parse_dotted(dotted: &str) -> Self {
        KeyPath(
            dotted
                .split('.')
                .map(|w| match w.parse::<usize>() {
                    Ok(i) => KeyStep::Index(i),
                    Err(_) => KeyStep::Key(w.to_string()),
                })
                .collect(),
        )
    }
    pub fn starts_with(&self, other: &KeyPath) -> bool {
        self.0.len() >= other.0.len() && self.0[..other.0.len()] == other.0[..]
    }
}

impl fmt::Display for KeyPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut first = true;
        for s in &self.0 {
            match s {
                KeyStep::Key(k) => {
                    if !first {
                        write!(f, ".")?;
                    }
                    write!(f, "{k}")?;
                }
                KeyStep::Index(i) => write!(f, "[{i}]")?,
            }
            first = false;
        }
        Ok(())
    }
}

/// Where an error is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Location {
    /// In the scenario file, 1-based line and column.
    File {
        path: String,
        line: usize,
        column: usize,
    },
    /// In a `--set KEY=VALUE` of the command line.
    Override(String),
    /// The file as a whole (one that cannot be read).
    WholeFile(String),
}

impl Location {
    /// Where a diagnostic comes in a list: the file from top to bottom, then the overrides
    /// in the order given, then what concerns the file as a whole.
    pub fn order(&self) -> (u8, usize, usize) {
        match self {
            Location::File { line, column, .. } => (0, *line, *column),
            Location::Override(_) => (1, 0, 0),
            Location::WholeFile(_) => (2, 0, 0),
        }
    }
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Location::File { path, line, column } => write!(f, "{path}:{line}:{column}"),
            Location::Override(set) => write!(f, "--set {set}"),
            Location::WholeFile(path) => write!(f, "{path}"),
        }
    }
}

/// One thing wrong with a scenario.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    pub location: Location,
    /// The offending key, as a dotted path (empty for the file as a whole).
    pub key: String,
    pub message: String,
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.key.is_empty() {
            write!(f, "{}: {}", self.location, self.message)
        } else {
            write!(f, "{}: `{}`: {}", self.location, self.key, self.message)
        }
    }
}

/// Every error found in a scenario.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScenarioError(pub Vec<Diagnostic>);

impl fmt::Display for ScenarioError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, d) in self.0.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "error: {d}")?;
        }
        Ok(())
    }
}

impl std::error::Error for ScenarioError {}

/// 1-based line and column of a byte offset in `text`.
pub fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(text.len());
    let before = &text[..offset];
    let line = before.matches('\n').count() + 1;
    let column = before.rfind('\n').map_or(offset, |nl| offset - nl - 1) + 1;
    (line, column)
}
