//! Scenario files: read, apply `--set` overrides, validate, resolve.
//!
//! Reading happens in three passes so that every error can point at a line, and `validate`
//! can report every error found, not only the first:
//! 1. the file as written is parsed (a syntax error stops here) and checked against the
//!    schema. An unknown key or a value of the wrong type is reported at its line and column,
//!    removed from the parsed tree (which keeps the spans of the text as written) and the
//!    check repeated, up to [`MAX_SCHEMA_ERRORS`]. If every such error was an unknown key,
//!    the rest of the file goes on to the next passes; a wrong type or a missing required key
//!    stops here;
//! 2. `--set KEY=VALUE` overrides are applied to the document (without the keys removed in
//!    pass 1) and the schema checked again. If it fails, each override is tried alone on top
//!    of the file, and each that fails alone is reported, naming it and its key; the others
//!    are kept;
//! 3. the values are validated against the model (names, signs, schedules), each error
//!    located by looking its key path up in the file, or naming the `--set` that gave it.

pub mod cohort;
pub mod diagnostic;
pub mod schema;
pub mod treatments;
pub mod trial;

use crate::engine::{Administration, Delivery, Method, Schedule, SolverOptions};
use crate::model::{ModelSpec, find_spec, specs};
pub use diagnostic::{Diagnostic, KeyPath, KeyStep, Location, ScenarioError};
use schema::{AbsoluteTolerance, ScenarioFile, SolverSection};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::Path;

/// Default spacing of output times.
pub const DEFAULT_OUTPUT_EVERY_DAYS: f64 = 1.0;

/// One arm: a name and what it gives.
#[derive(Debug, Clone, PartialEq)]
pub struct Arm {
    pub name: String,
    pub description: Option<String>,
    /// Model inputs given over time, radiation fractions among them.
    pub schedule: Schedule,
    /// Drugs given, each with its exact exposure.
    pub drugs: Vec<treatments::ArmDrug>,
}

/// A validated scenario with every default filled in.
#[derive(Debug, Clone)]
pub struct Scenario {
    pub name: String,
    pub description: Option<String>,
    pub horizon_day: f64,
    pub output_every_day: f64,
    pub model: &'static ModelSpec,
    pub preset: Option<String>,
    /// In the order of the model's declared parameters.
    pub parameters: Vec<f64>,
    /// In the order of the model's declared states.
    pub initial: Vec<f64>,
    pub solver: SolverOptions,
    /// Covariates dosing depends on.
    pub patient: crate::therapy::dose::Patient,
    /// The virtual cohort, if the scenario has one.
    pub cohort: Option<cohort::CohortSpec>,
    /// A cohort run writes trajectories.csv for this many first patients (`[output]`).
    pub trajectories_first_patients: u64,
    /// A cohort run keeps every assessment of this many first patients (`[output]`).
    pub sample_patients: u64,
    /// Figures are also written as PNG (`[output] png`).
    pub png: bool,
    pub arms: Vec<Arm>,
    /// How the virtual trial assesses patients and compares arms (`[trial]`, or its defaults).
    pub trial: trial::TrialSpec,
    /// The scenario as a file again, every default and override written out: saved as
    /// `scenario.resolved.toml` so that a run can be repeated exactly.
    pub resolved: ScenarioFile,
}

impl Scenario {
    /// Reads and validates the scenario at `path`, with `--set` overrides (`KEY=VALUE`).
    pub fn load(path: &Path, overrides: &[String]) -> Result<Scenario, ScenarioError> {
        let origin = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|e| {
            ScenarioError(vec![Diagnostic {
                location: Location::WholeFile(origin.clone()),
                key: String::new(),
                message: format!("cannot read the scenario file: {e}"),
            }])
        })?;
        Scenario::parse(&text, &origin, overrides)
    }

    /// Validates scenario `text`; `origin` names it in errors (usually its path). Errors come
    /// in the order of the file, then of the overrides.
    pub fn parse(
        text: &str,
        origin: &str,
        overrides: &[String],
    ) -> Result<Scenario, ScenarioError> {
        Scenario::parse_in_passes(text, origin, overrides).map_err(|mut e| {
            e.0.sort_by_key(|d| d.location.order());
            e
        })
    }

    /// The checks of [`Scenario::parse`], pass by pass, with errors in the order found.
    fn parse_in_passes(
        text: &str,
        origin: &str,
        overrides: &[String],
    ) -> Result<Scenario, ScenarioError> {
        let at = |offset: usize| {
            let (line, column) = diagnostic::line_column(text, offset);
            Location::File {
                path: origin.to_string(),
                line,
                column,
            }
        };
        let malformed = |offset: usize, message: &str| {
            ScenarioError(vec![Diagnostic {
                location: at(offset),
                key: key_before(text, offset).unwrap_or_default(),
                message: format!("malformed TOML: {}", message.trim()),
            }])
        };
        // Syntax: nothing else can be checked in a file that is not TOML.
        let document = toml_edit::Document::parse(text.to_string())
            .map_err(|e| malformed(e.span().map_or(0, |s| s.start), e.message()))?;
        let tree = toml::de::DeTable::parse(text)
            .map_err(|e| malformed(e.span().map_or(0, |s| s.start), e.message()))?;

        // Pass 1: the file as written, against the schema.
        let mut errors = Vec::new();
        let schema = check_schema(text, tree, &at, &mut errors);

        // Pass 2: overrides, on the file without the keys pass 1 rejected.
        let mut clean: toml_edit::DocumentMut = text
            .parse()
            .map_err(|e: toml_edit::TomlError| malformed(0, e.message()))?;
        for path in &schema.removed {
            remove_path(clean.as_table_mut(), &path.0);
        }
        let mut applied: Vec<(KeyPath, String)> = Vec::new();
        let mut edited = clean.clone();
        for set in overrides {
            let mut next = edited.clone();
            match apply_override(&mut next, set) {
                Ok(path) => {
                    edited = next;
                    applied.push((path, set.clone()));
                }
                Err(message) => errors.push(Diagnostic {
                    location: Location::Override(set.clone()),
                    key: set.split('=').next().unwrap_or("").to_string(),
                    message,
                }),
            }
        }
        // A file that does not fit the schema (other than by unknown keys, which were
        // removed) cannot be validated further.
        let Some(from_file) = schema.file else {
            return Err(ScenarioError(errors));
        };
        let file = if applied.is_empty() {
            from_file
        } else {
            match overridden_file(&clean, &applied, &mut errors) {
                Some((file, kept)) => {
                    applied = kept;
                    file
                }
                None => return Err(ScenarioError(errors)),
            }
        };

        // Pass 3: values.
        let locate = |path: &KeyPath| -> Location {
            if let Some((_, set)) = applied.iter().rev().find(|(p, _)| path.starts_with(p)) {
                return Location::Override(set.clone());
            }
            at(span_of(&document, path))
        };
        match validate(file, &locate) {
            Ok(scenario) if errors.is_empty() => Ok(scenario),
            Ok(_) => Err(ScenarioError(errors)),
            Err(e) => {
                errors.extend(e.0);
                Err(ScenarioError(errors))
            }
        }
    }
}

/// At most this many schema errors are collected from the file before giving up.
pub const MAX_SCHEMA_ERRORS: usize = 50;

/// What the schema pass leaves for the next passes.
struct SchemaCheck {
    /// The file, when it fits the schema once its unknown keys are removed.
    file: Option<ScenarioFile>,
    /// Keys removed from the file (unknown keys, and values of the wrong type).
    removed: Vec<KeyPath>,
}

/// Checks the file as written against the schema, collecting every error it can: an unknown
/// key or a value of the wrong type is reported, removed from the tree, and the check run
/// again, up to [`MAX_SCHEMA_ERRORS`]. The tree keeps the spans of the text as written, so
/// that every error points at its place in the file. Only when every error was an unknown
/// key is the rest of the file returned, to be validated further.
fn check_schema(
    text: &str,
    mut tree: toml::Spanned<toml::de::DeTable<'_>>,
    at: &dyn Fn(usize) -> Location,
    errors: &mut Vec<Diagnostic>,
) -> SchemaCheck {
    let mut removed: Vec<KeyPath> = Vec::new();
    let mut only_unknown_keys = true;
    let stop = |removed| SchemaCheck {
        file: None,
        removed,
    };
    let mut found_errors = 0;
    loop {
        let e = match ScenarioFile::deserialize(toml::de::Deserializer::from(tree.clone())) {
            Ok(file) => {
                return SchemaCheck {
                    file: only_unknown_keys.then_some(file),
                    removed,
                };
            }
            Err(e) => e,
        };
        if found_errors == MAX_SCHEMA_ERRORS {
            // The whole file's, so that it comes after the errors it counts.
            let location = match at(0) {
                Location::File { path, .. } => Location::WholeFile(path),
                other => other,
            };
            errors.push(Diagnostic {
                location,
                key: String::new(),
                message: format!(
                    "stopped after {MAX_SCHEMA_ERRORS} errors in the keys of the file; correct them and validate again"
                ),
            });
            return stop(removed);
        }
        found_errors += 1;
        let span = e.span().unwrap_or(0..0);
        let message = e.message().trim();
        if quoted_after(message, "unknown field `").is_some()
            && let Some(found) = find_span(tree.get_ref(), &KeyPath::root(), &span, true)
            && matches!(found.path.0.last(), Some(KeyStep::Key(_)))
        {
            // Reported with the key as written, where it is written, by its whole path
            // (`arm[2].drug[0].infusion_min`: the leaf alone did not say which table).
            errors.push(Diagnostic {
                location: at(span.start),
                key: found.path.to_string(),
                message: message.to_string(),
            });
            remove_tree_path(tree.get_mut(), &found.path.0);
            removed.push(found.path);
            continue;
        }
        if let Some(field) = quoted_after(message, "missing field `") {
            // The span is the table's: its header, or the whole file for the top level.
            let table = find_span(tree.get_ref(), &KeyPath::root(), &span, false)
                .map_or_else(KeyPath::root, |f| f.path);
            let path = table.key(field);
            // A required key removed for its wrong type has been reported already.
            if !removed.contains(&path) {
                errors.push(Diagnostic {
                    location: at(span.start),
                    key: path.to_string(),
                    message: format!("missing field `{field}`: expected `{path}`, a required key"),
                });
            }
            return stop(removed);
        }
        only_unknown_keys = false;
        match find_span(tree.get_ref(), &KeyPath::root(), &span, false) {
            Some(found) => {
                errors.push(Diagnostic {
                    location: at(found.key_start),
                    key: found.path.to_string(),
                    message: schema_message(message),
                });
                if !matches!(found.path.0.last(), Some(KeyStep::Key(_))) {
                    return stop(removed);
                }
                remove_tree_path(tree.get_mut(), &found.path.0);
                removed.push(found.path);
            }
            None => {
                let snippet = text.get(span.clone()).unwrap_or("").trim();
                // The key on the value's line, or for an unknown key the key itself.
                let key = key_before(text, span.start).unwrap_or_else(|| {
                    if snippet.len() <= 60 && !snippet.contains('\n') {
                        snippet.to_string()
                    } else {
                        String::new()
                    }
                });
                errors.push(Diagnostic {
                    location: at(span.start),
                    key,
                    message: schema_message(message),
                });
                return stop(removed);
            }
        }
    }
}

/// The scenario with the `applied` overrides (each with its key path) on top of `clean`, and
/// the overrides kept. An override that makes the scenario fail the schema (a wrong type, an
/// unknown key) is found by applying each alone on top of `clean`: each that fails is an
/// error naming it, and the rest are applied. `None` when the scenario still does not fit.
fn overridden_file(
    clean: &toml_edit::DocumentMut,
    applied: &[(KeyPath, String)],
    errors: &mut Vec<Diagnostic>,
) -> Option<(ScenarioFile, Vec<(KeyPath, String)>)> {
    // The file, or the error with the text it was found in.
    let with = |sets: &[(KeyPath, String)]| {
        let mut document = clean.clone();
        for (_, set) in sets {
            // Each was applied once already, in this order.
            let _ = apply_override(&mut document, set);
        }
        let text = document.to_string();
        toml::from_str::<ScenarioFile>(&text).map_err(|e| (e, text))
    };
    if let Ok(file) = with(applied) {
        return Some((file, applied.to_vec()));
    }
    let mut kept = Vec::new();
    for (j, (path, set)) in applied.iter().enumerate() {
        // An override set again later is not to blame: the later one wins.
        let superseded = applied[j + 1..].iter().any(|(p, _)| p == path);
        if !superseded && let Err((e, text)) = with(std::slice::from_ref(&applied[j])) {
            errors.push(Diagnostic {
                location: Location::Override(set.clone()),
                key: override_error_key(path, &e, &text).to_string(),
                message: schema_message(e.message()),
            });
            continue;
        }
        kept.push((path.clone(), set.clone()));
    }
    match with(&kept) {
        Ok(file) => Some((file, kept)),
        Err((e, _)) => {
            // Each fits alone, but not together: blame the first after which it fails.
            let culprit = (1..=kept.len())
                .find(|&n| with(&kept[..n]).is_err())
                .map(|n| &kept[n - 1]);
            let (location, key) = match culprit {
                Some((path, set)) => (Location::Override(set.clone()), path.to_string()),
                None => {
                    let sets: Vec<&str> = kept.iter().map(|(_, s)| s.as_str()).collect();
                    (Location::Override(sets.join(" --set ")), String::new())
                }
            };
            errors.push(Diagnostic {
                location,
                key,
                message: schema_message(e.message()),
            });
            None
        }
    }
}

/// The key an override's schema error is at: the element or entry inside what `set` wrote
/// when the error's span points there (`arm[1].drug[0].days_of_cycle[1]` for a list given
/// with a string in it), else the key `set` named.
fn override_error_key(set: &KeyPath, error: &toml::de::Error, text: &str) -> KeyPath {
    let inside = error.span().and_then(|span| {
        let tree = toml::de::DeTable::parse(text).ok()?;
        find_span(tree.get_ref(), &KeyPath::root(), &span, false)
    });
    match inside {
        Some(found) if found.path.starts_with(set) => found.path,
        _ => set.clone(),
    }
}

/// The text between `prefix` and the next backtick in `message`.
fn quoted_after<'m>(message: &'m str, prefix: &str) -> Option<&'m str> {
    let rest = message.strip_prefix(prefix)?;
    rest.split('`').next()
}

/// A schema error's message, in the words of the scenario file.
fn schema_message(message: &str) -> String {
    let message = message.trim();
    if message.contains("untagged enum AbsoluteTolerance") {
        return "expected a number (the same absolute tolerance for every state) or a table of numbers by state name, for example atol = { T = 1e-3 }".to_string();
    }
    if let Some(found) = message.strip_suffix(", expected f64") {
        return format!("{found}, expected a number");
    }
    if let Some(found) = message.strip_suffix(", expected u64") {
        return format!("{found}, expected a whole number of at least 0");
    }
    message.to_string()
}

/// Where a span was found in the parsed tree.
struct Found {
    path: KeyPath,
    /// Byte offset of the key (or, for an entry of an array, of the entry).
    key_start: usize,
}

/// The deepest entry of `table` whose key (`by_key`) or value spans exactly `span`.
fn find_span(
    table: &toml::de::DeTable<'_>,
    here: &KeyPath,
    span: &std::ops::Range<usize>,
    by_key: bool,
) -> Option<Found> {
    for (key, value) in table.iter() {
        let path = here.key(key.get_ref());
        if let Some(found) = find_span_in(value.get_ref(), &path, span, by_key) {
            return Some(found);
        }
        let hit = if by_key { key.span() } else { value.span() };
        if hit == *span {
            return Some(Found {
                path,
                key_start: key.span().start,
            });
        }
    }
    None
}

fn find_span_in(
    value: &toml::de::DeValue<'_>,
    here: &KeyPath,
    span: &std::ops::Range<usize>,
    by_key: bool,
) -> Option<Found> {
    match value {
        toml::de::DeValue::Table(table) => find_span(table, here, span, by_key),
        toml::de::DeValue::Array(array) => array.iter().enumerate().find_map(|(i, entry)| {
            let path = here.index(i);
            find_span_in(entry.get_ref(), &path, span, by_key).or_else(|| {
                (!by_key && entry.span() == *span).then(|| Found {
                    path,
                    key_start: entry.span().start,
                })
            })
        }),
        _ => None,
    }
}

/// Removes the entry at `steps` (ending with a key) from the parsed tree.
fn remove_tree_path(table: &mut toml::de::DeTable<'_>, steps: &[KeyStep]) {
    match steps {
        [KeyStep::Key(k)] => {
            table.remove(k.as_str());
        }
        [KeyStep::Key(k), rest @ ..] => {
            if let Some(value) = table.get_mut(k.as_str()) {
                remove_tree_path_in(value.get_mut(), rest);
            }
        }
        _ => {}
    }
}

fn remove_tree_path_in(value: &mut toml::de::DeValue<'_>, steps: &[KeyStep]) {
    match (value, steps) {
        (toml::de::DeValue::Table(table), _) => remove_tree_path(table, steps),
        (toml::de::DeValue::Array(array), [KeyStep::Index(i), rest @ ..]) => {
            if let Some(entry) = array.get_mut(*i) {
                remove_tree_path_in(entry.get_mut(), rest);
            }
        }
        _ => {}
    }
}

/// Removes the entry at `steps` (ending with a key) from an editable document.
fn remove_path(table: &mut dyn toml_edit::TableLike, steps: &[KeyStep]) {
    match steps {
        [KeyStep::Key(k)] => {
            table.remove(k);
        }
        [KeyStep::Key(k), KeyStep::Index(i), rest @ ..] => match table.get_mut(k) {
            Some(toml_edit::Item::ArrayOfTables(array)) => {
                if let Some(entry) = array.get_mut(*i) {
                    remove_path(entry, rest);
                }
            }
            Some(toml_edit::Item::Value(toml_edit::Value::Array(array))) => {
                if let Some(toml_edit::Value::InlineTable(entry)) = array.get_mut(*i) {
                    remove_path(entry, rest);
                }
            }
            _ => {}
        },
        [KeyStep::Key(k), rest @ ..] => {
            if let Some(inner) = table.get_mut(k).and_then(|item| item.as_table_like_mut()) {
                remove_path(inner, rest);
            }
        }
        _ => {}
    }
}

/// The key written before `=` on the line of byte `offset`, when `offset` is in its value.
fn key_before(text: &str, offset: usize) -> Option<String> {
    let offset = offset.min(text.len());
    let start = text[..offset].rfind('\n').map_or(0, |i| i + 1);
    let (key, _) = text[start..offset].split_once('=')?;
    let key = key.trim();
    (!key.is_empty() && !key.starts_with('[')).then(|| key.to_string())
}

/// Byte offset of the key at `path` in the file as written, or of the nearest enclosing
/// key or table that is there.
fn span_of(document: &toml_edit::Document<String>, path: &KeyPath) -> usize {
    let mut table: &dyn toml_edit::TableLike = document.as_table();
    let mut best = 0usize;
    let mut i = 0;
    while let Some(KeyStep::Key(k)) = path.0.get(i) {
        let Some((key, value)) = table.get_key_value(k) else {
            break;
        };
        if let Some(s) = key.span().or_else(|| value.span()) {
            best = s.start;
        }
        if let toml_edit::Item::ArrayOfTables(array) = value {
            let Some(KeyStep::Index(j)) = path.0.get(i + 1) else {
                break;
            };
            let Some(entry) = array.get(*j) else { break };
            if let Some(s) = entry.span() {
                best = s.start;
            }
            table = entry;
            i += 2;
        } else {
            let Some(inner) = value.as_table_like() else {
                // An element of an array of values (`days_of_cycle = [1, 8, 15]`, a list
                // spanning lines): the element itself.
                if let (Some(array), Some(KeyStep::Index(j))) =
                    (value.as_array(), path.0.get(i + 1))
                    && let Some(s) = array.get(*j).and_then(|v| v.span())
                {
                    best = s.start;
                }
                break;
            };
            table = inner;
            i += 1;
        }
    }
    best
}

/// Sets `KEY=VALUE` in `document`; returns the key path it set.
fn apply_override(document: &mut toml_edit::DocumentMut, set: &str) -> Result<KeyPath, String> {
    let Some((key, value)) = set.split_once('=') else {
        return Err("expected KEY=VALUE, for example --set model.initial.T=1e7".into());
    };
    let (key, value_text) = (key.trim(), value.trim());
    if key.is_empty() {
        return Err("the key before `=` is empty".into());
    }
    let path = KeyPath::parse_dotted(key);
    // A value that is valid TOML keeps its type (number, boolean, quoted string); anything
    // else is taken as a bare string (`--set model.preset=patient10`).
    let value = value_text
        .parse::<toml_edit::Value>()
        .unwrap_or_else(|_| toml_edit::Value::from(value_text));
    set_path(document.as_table_mut(), &path.0, KeyPath::root(), value)?;
    Ok(path)
}

fn set_path(
    table: &mut dyn toml_edit::TableLike,
    steps: &[KeyStep],
    so_far: KeyPath,
    value: toml_edit::Value,
) -> Result<(), String> {
    match steps {
        [KeyStep::Key(k)] => {
            let here = so_far.key(k);
            if let Some(existing) = table.get(k)
                && (existing.is_table_like() || existing.is_array_of_tables())
            {
                return Err(format!("`{here}` is a table, not a single value"));
            }
            table.insert(k, toml_edit::Item::Value(value));
            Ok(())
        }
        [KeyStep::Key(k), KeyStep::Index(i), rest @ ..] => {
            let here = so_far.key(k);
            let array = table
                .get_mut(k)
                .and_then(|item| item.as_array_of_tables_mut())
                .ok_or(format!("`{here}` is not an array of tables in the file"))?;
            let len = array.len();
            let entry = array.get_mut(*i).ok_or(format!(
                "`{here}[{i}]`: the file has {len} (numbered from 0)"
            ))?;
            if rest.is_empty() {
                return Err(format!("`{here}[{i}]` is a table; name one of its keys"));
            }
            set_path(entry, rest, here.index(*i), value)
        }
        [KeyStep::Key(k), rest @ ..] => {
            let here = so_far.key(k);
            if table.get(k).is_none() {
                table.insert(k, toml_edit::Item::Table(toml_edit::Table::new()));
            }
            let inner = table
                .get_mut(k)
                .and_then(|item| item.as_table_like_mut())
                .ok_or(format!("`{here}` is a single value, not a table"))?;
            set_path(inner, rest, here, value)
        }
        _ => Err(format!(
            "`{so_far}`: a key path names tables and keys, with a number only after an array of tables (arm.0.name)"
        )),
    }
}

/// Collects errors while validating.
struct Checker<'a> {
    locate: &'a dyn Fn(&KeyPath) -> Location,
    errors: Vec<Diagnostic>,
}

impl Checker<'_> {
    fn error(&mut self, path: &KeyPath, message: impl Into<String>) {
        self.errors.push(Diagnostic {
            location: (self.locate)(path),
            key: path.to_string(),
            message: message.into(),
        });
    }

    /// A finite number that is at least zero (or above it, if `strictly`).
    fn non_negative(&mut self, path: &KeyPath, value: f64, strictly: bool) -> bool {
        let ok = value.is_finite() && if strictly { value > 0.0 } else { value >= 0.0 };
        if !ok {
            let want = if strictly {
                "a finite number above 0"
            } else {
                "a finite number of at least 0"
            };
            self.error(path, format!("expected {want}, found {}", num(value)));
        }
        ok
    }
}

/// The largest absolute tolerance a scenario may ask for.
const MAX_ATOL: f64 = 1e100;

/// A number as a message shows it: in full, or in scientific notation when it is very small
/// or very large (`1e-300`, not three hundred zeros).
fn num(x: f64) -> String {
    if x != 0.0 && (x.abs() < 1e-4 || x.abs() >= 1e16) {
        format!("{x:e}")
    } else {
        format!("{x}")
    }
}

fn names(list: impl Iterator<Item = &'static str>) -> String {
    let v: Vec<&str> = list.collect();
    if v.is_empty() {
        "(none)".to_string()
    } else {
        v.join(", ")
    }
}

fn validate(
    file: ScenarioFile,
    locate: &dyn Fn(&KeyPath) -> Location,
) -> Result<Scenario, ScenarioError> {
    let mut c = Checker {
        locate,
        errors: Vec::new(),
    };
    let root = KeyPath::root();

    if file.name.trim().is_empty() {
        c.error(
            &root.key("name"),
            "expected a non-empty name for the scenario",
        );
    }
    let horizon_ok = c.non_negative(&root.key("horizon_days"), file.horizon_days, true);
    let output_every = file.output_every_days.unwrap_or(DEFAULT_OUTPUT_EVERY_DAYS);
    let output_ok = c.non_negative(&root.key("output_every_days"), output_every, true);
    let horizon = file.horizon_days;
    if output_ok && output_every < crate::engine::ode::MIN_OUTPUT_EVERY_DAY {
        c.error(
            &root.key("output_every_days"),
            format!(
                "expected a spacing of at least {} days (output times are rounded to the nearest \
                 1e-9 day), found {}",
                num(crate::engine::ode::MIN_OUTPUT_EVERY_DAY),
                num(output_every)
            ),
        );
    } else if horizon_ok && output_ok && output_every < horizon / MAX_OUTPUT_TIMES {
        c.error(
            &root.key("output_every_days"),
            format!(
                "expected a spacing of at least horizon_days / 1e7 = {} days (at most 10,000,000 output times), found {}",
                num(horizon / MAX_OUTPUT_TIMES),
                num(output_every)
            ),
        );
    }

    // Model.
    let model_path = root.key("model");
    let Some(model) = find_spec(&file.model.name) else {
        c.error(
            &model_path.key("name"),
            format!(
                "unknown model `{}`; built-in models: {}",
                file.model.name,
                names(specs().iter().map(|s| s.name))
            ),
        );
        return Err(ScenarioError(c.errors));
    };
    let (mut parameters, mut initial) = match &file.model.preset {
        Some(p) => match model.with_preset(Some(p)) {
            Some(v) => v,
            None => {
                c.error(
                    &model_path.key("preset"),
                    format!(
                        "unknown preset `{p}` of {}; presets: {}",
                        model.name,
                        names(model.presets.iter().map(|p| p.name))
                    ),
                );
                model.with_preset(None).unwrap_or_default()
            }
        },
        None => model.with_preset(None).unwrap_or_default(),
    };
    for (key, value) in &file.model.parameters {
        let path = model_path.key("parameters").key(key);
        // A former name and the current one both set: which one holds would be an accident
        // of their order.
        if let Some(now) = model.renamed(key)
            && file.model.parameters.contains_key(now)
        {
            c.error(
                &path,
                format!("`{key}` is the former name of `{now}`, which is set too: give one"),
            );
            continue;
        }
        match model.parameter_index(key) {
            Some(i) => {
                let domain = model.parameters[i].domain;
                if domain.contains(*value) {
                    parameters[i] = *value;
                } else {
                    c.error(
                        &path,
                        format!(
                            "expected a finite number {}, found {}",
                            domain.describe(),
                            num(*value)
                        ),
                    );
                }
            }
            None => c.error(
                &path,
                format!(
                    "unknown parameter of {}; parameters: {}",
                    model.name,
                    names(model.parameters.iter().map(|p| p.name))
                ),
            ),
        }
    }
    for (key, value) in &file.model.initial {
        let path = model_path.key("initial").key(key);
        match model.state_index(key) {
            Some(i) => {
                if c.non_negative(&path, *value, false) {
                    initial[i] = *value;
                }
            }
            None => c.error(
                &path,
                format!(
                    "unknown state of {}; states: {}",
                    model.name,
                    names(model.states.iter().map(|s| s.name))
                ),
            ),
        }
    }

    // Solver.
    let solver_file = file.solver.clone().unwrap_or_default();
    let solver = resolve_solver(&mut c, &solver_file, model);

    // Treatments in clinical units.
    let patient = treatments::resolve_patient(&mut c, file.patient.as_ref());
    let drug_definitions = treatments::resolve_drugs(&mut c, &file.drugs);

    let cohort = file
        .cohort
        .as_ref()
        .and_then(|section| cohort::resolve(&mut c, section, model));

    // Arms.
    let mut arms = Vec::new();
    if file.arms.is_empty() {
        c.error(
            &root.key("arm"),
            "expected at least one [[arm]]; an arm with only a name is an untreated arm",
        );
    }
    for (a, arm) in file.arms.iter().enumerate() {
        let arm_path = root.key("arm").index(a);
        if arm.name.trim().is_empty() {
            c.error(&arm_path.key("name"), "expected a non-empty arm name");
        }
        if let Some(first) = file.arms[..a]
            .iter()
            .position(|other| other.name == arm.name)
        {
            c.error(
                &arm_path.key("name"),
                format!(
                    "two arms are named `{}` (arm {first} and arm {a}); arm names must be unique",
                    arm.name
                ),
            );
        }
        let mut administrations = Vec::new();
        for (d, dose) in arm.doses.iter().enumerate() {
            let path = arm_path.key("dose").index(d);
            resolve_dose(
                &mut c,
                &path,
                dose,
                model,
                horizon_ok.then_some(horizon),
                &mut administrations,
            );
        }
        treatments::resolve_radiation(
            &mut c,
            &arm_path,
            &arm.radiation,
            model,
            horizon_ok.then_some(horizon),
            &mut administrations,
        );
        let drugs = treatments::resolve_arm_drugs(
            &mut c,
            &arm_path,
            &arm.drugs,
            model,
            &drug_definitions,
            &patient,
            horizon_ok.then_some(horizon),
        );
        arms.push(Arm {
            name: arm.name.clone(),
            description: arm.description.clone(),
            schedule: Schedule { administrations },
            drugs,
        });
    }

    let arm_names: Vec<&str> = file.arms.iter().map(|a| a.name.as_str()).collect();
    let trial = trial::resolve(
        &mut c,
        file.trial.as_ref(),
        &arm_names,
        horizon_ok.then_some(horizon),
    );

    if !c.errors.is_empty() {
        return Err(ScenarioError(c.errors));
    }
    // Without errors, every section resolved.
    let Some(trial) = trial else {
        unreachable!("an invalid [trial] records an error")
    };

    let mut resolved = resolved_file(
        &file,
        model,
        &parameters,
        &initial,
        &solver,
        output_every,
        &patient,
    );
    let names: Vec<String> = arms.iter().map(|a: &Arm| a.name.clone()).collect();
    resolved.trial = Some(trial.to_section(&names));
    Ok(Scenario {
        name: file.name,
        description: file.description,
        horizon_day: horizon,
        output_every_day: output_every,
        model,
        preset: file.model.preset,
        parameters,
        initial,
        solver,
        patient,
        cohort,
        trajectories_first_patients: file
            .output
            .as_ref()
            .and_then(|o| o.trajectories)
            .unwrap_or(0),
        sample_patients: file
            .output
            .as_ref()
            .and_then(|o| o.sample_patients)
            .unwrap_or(DEFAULT_SAMPLE_PATIENTS),
        png: file.output.as_ref().and_then(|o| o.png).unwrap_or(false),
        arms,
        trial,
        resolved,
    })
}

/// Patients whose assessments a cohort run keeps for the spider and swimmer plots.
pub const DEFAULT_SAMPLE_PATIENTS: u64 = 30;

fn resolve_solver(
    c: &mut Checker<'_>,
    s: &SolverSection,
    model: &'static ModelSpec,
) -> SolverOptions {
    let path = KeyPath::root().key("solver");
    let mut options = SolverOptions::default();
    if let Some(m) = &s.method {
        match Method::from_name(m) {
            Some(method) => options.method = method,
            None => c.error(
                &path.key("method"),
                format!(
                    "unknown method `{m}`; methods: {}",
                    Method::NAMES.join(", ")
                ),
            ),
        }
    }
    if let Some(rtol) = s.rtol {
        if rtol.is_finite() && rtol > 0.0 && rtol < 1.0 {
            options.rtol = rtol;
        } else {
            c.error(
                &path.key("rtol"),
                format!(
                    "expected a relative tolerance above 0 and below 1, found {}",
                    num(rtol)
                ),
            );
        }
    }
    // An absolute tolerance beyond any magnitude a state can have asks for no accuracy at all:
    // at 1e300 the states grew until DOP853's interpolant overflowed between finite step ends
    // and wrote NaN (found by fuzzing).
    let atol_ok = |c: &mut Checker, p: &KeyPath, v: f64| {
        c.non_negative(p, v, true)
            && {
                let ok = v <= MAX_ATOL;
                if !ok {
                    c.error(
                    p,
                    format!(
                        "expected an absolute tolerance of at most {} (beyond any state's magnitude), found {}",
                        num(MAX_ATOL),
                        num(v)
                    ),
                );
                }
                ok
            }
    };
    match &s.atol {
        None => {}
        Some(AbsoluteTolerance::Uniform(v)) if atol_ok(c, &path.key("atol"), *v) => {
            options.atol = Some(vec![*v; model.states.len()]);
        }
        Some(AbsoluteTolerance::Uniform(_)) => {}
        Some(AbsoluteTolerance::PerState(map)) => {
            let mut atol: Vec<f64> = model
                .states
                .iter()
                .map(|st| options.rtol * st.scale)
                .collect();
            for (k, v) in map {
                let p = path.key("atol").key(k);
                match model.state_index(k) {
                    Some(i) => {
                        if atol_ok(c, &p, *v) {
                            atol[i] = *v;
                        }
                    }
                    None => c.error(
                        &p,
                        format!(
                            "unknown state of {}; states: {}",
                            model.name,
                            names(model.states.iter().map(|s| s.name))
                        ),
                    ),
                }
            }
            options.atol = Some(atol);
        }
    }
    if let Some(n) = s.max_steps {
        if n == 0 {
            c.error(&path.key("max_steps"), "expected a number of steps above 0");
        } else {
            options.max_steps = n;
        }
    }
    if let Some(st) = &s.stiffness {
        match st.as_str() {
            "stop" => options.stop_when_stiff = true,
            "continue" => options.stop_when_stiff = false,
            other => c.error(
                &path.key("stiffness"),
                format!("expected \"stop\" or \"continue\", found \"{other}\""),
            ),
        }
    }
    options
}

/// Administration times are exact to this resolution: each is rounded to a multiple of it,
/// and one within it of the horizon counts as at the horizon (not given).
pub const TIME_RESOLUTION_DAYS: f64 = 1e-9;

/// At most this many administrations in one `[[arm.dose]]`.
pub const MAX_ADMINISTRATIONS_PER_DOSE: u64 = 1_000_000;

/// At most this many output times: `output_every_days` is at least `horizon_days` / this.
pub const MAX_OUTPUT_TIMES: f64 = 1e7;

/// `t` rounded to the nearest multiple of [`TIME_RESOLUTION_DAYS`], so that administrations
/// every 0.1 day fall on 0.3, not 0.30000000000000004.
fn snap(t: f64) -> f64 {
    (t * 1e9).round() / 1e9
}

/// Whether an administration at `t` comes before the horizon (more than the time resolution
/// before it).
fn before_horizon(t: f64, horizon: f64) -> bool {
    horizon - t > TIME_RESOLUTION_DAYS
}

/// Checks one `[[arm.dose]]` and appends its administrations to `out`. `horizon` is `None`
/// when it is invalid itself (and reported), so that nothing depending on it is checked.
fn resolve_dose(
    c: &mut Checker<'_>,
    path: &KeyPath,
    dose: &schema::DoseSection,
    model: &'static ModelSpec,
    horizon: Option<f64>,
    out: &mut Vec<Administration>,
) {
    let Some(input) = model.input_index(&dose.input) else {
        c.error(
            &path.key("input"),
            format!(
                "unknown input `{}` of {}; inputs: {}",
                dose.input,
                model.name,
                names(model.inputs.iter().map(|i| i.name))
            ),
        );
        return;
    };
    if let crate::model::InputRole::Exposure(mechanism) = model.inputs[input].role {
        c.error(&path.key("input"), format!("`{}` is filled in by the engine from the drugs of [[arm.drug]] that act by {}; give such a drug instead", dose.input, mechanism.describe()));
        return;
    }
    let start = dose.start_day.unwrap_or(0.0);
    let duration = dose.duration_days.unwrap_or(0.0);
    let mut ok = c.non_negative(&path.key("start_day"), start, false)
        & c.non_negative(&path.key("duration_days"), duration, false);
    if ok
        && let Some(horizon) = horizon
        && !before_horizon(snap(start), horizon)
    {
        c.error(&path.key("start_day"), format!("the dose starts on day {}, at or after the horizon (day {}); it would never be given", num(start), num(horizon)));
        ok = false;
    }
    let kind = match (dose.amount_per_day, dose.amount) {
        (Some(_), Some(_)) => {
            c.error(&path.key("amount"), "give either `amount_per_day` (a rate while it runs) or `amount` (an instantaneous bolus), not both");
            return;
        }
        (Some(rate), None) => {
            ok &= c.non_negative(&path.key("amount_per_day"), rate, false);
            if duration <= 0.0 {
                c.error(&path.key("duration_days"), "a rate (`amount_per_day`) needs `duration_days` above 0; for an instantaneous dose give `amount` instead");
                ok = false;
            }
            Delivery::Rate {
                amount_per_day: rate,
                duration_days: duration,
            }
        }
        (None, Some(amount)) => {
            ok &= c.non_negative(&path.key("amount"), amount, false);
            if duration > 0.0 {
                c.error(&path.key("amount"), "`amount` is an instantaneous bolus: leave `duration_days` out or 0, or give `amount_per_day` for a dose that runs over time");
                ok = false;
            }
            Delivery::Bolus { amount }
        }
        (None, None) => {
            c.error(
                &path.key("input"),
                "expected `amount_per_day` (with `duration_days`) or `amount` (a bolus)",
            );
            return;
        }
    };
    if dose.repeat == Some(0) {
        c.error(&path.key("repeat"), "expected at least 1 administration");
        ok = false;
    }
    let every = match dose.every_days {
        None => {
            if dose.repeat.is_some_and(|n| n > 1) {
                c.error(
                    &path.key("repeat"),
                    "`repeat` needs `every_days`, the interval between administrations",
                );
                ok = false;
            }
            None
        }
        Some(every) => {
            if !c.non_negative(&path.key("every_days"), every, true) {
                return;
            }
            if duration > every {
                c.error(&path.key("every_days"), format!("each administration lasts {} days, longer than the {}-day interval between them", num(duration), num(every)));
                ok = false;
            }
            Some(every)
        }
    };
    let Some(horizon) = horizon else { return };
    if !ok {
        return;
    }
    // The administrations before the horizon, up to the count asked for (one without
    // `every_days`, `repeat` with it, or as many as fit without `repeat`), and never more
    // than one over the limit: absurd input is rejected without generating it.
    let asked = match every {
        None => Some(1),
        Some(_) => dose.repeat,
    };
    let step = every.unwrap_or(0.0);
    let bound = asked
        .unwrap_or(u64::MAX)
        .min(MAX_ADMINISTRATIONS_PER_DOSE + 1);
    let mut times = Vec::new();
    let mut reached_horizon = false;
    for i in 0..bound {
        let t = snap(start + i as f64 * step);
        if !before_horizon(t, horizon) {
            reached_horizon = true;
            break;
        }
        times.push(t);
    }
    let fit = times.len() as u64;
    let limit = MAX_ADMINISTRATIONS_PER_DOSE;
    match (every, dose.repeat) {
        (Some(every), Some(n)) if reached_horizon => {
            let last = snap(start + (n - 1) as f64 * every);
            c.error(
                &path.key("repeat"),
                format!(
                    "{n} administrations every {} days from day {} run to day {}, at or after the horizon (day {}); only {fit} fit before the horizon: expected `repeat` of at most {fit}, or no `repeat` to give the dose until the horizon",
                    num(every),
                    num(start),
                    num(last),
                    num(horizon)
                ),
            );
            return;
        }
        (Some(_), Some(n)) if n > limit => {
            c.error(
                &path.key("repeat"),
                format!(
                    "{n} administrations is more than 1,000,000 administrations in one [[arm.dose]]; expected `repeat` of at most 1000000"
                ),
            );
            return;
        }
        (Some(every), None) if fit > limit => {
            c.error(
                &path.key("every_days"),
                format!(
                    "an administration every {} days from day {} to the horizon (day {}) would be more than 1,000,000 administrations in one [[arm.dose]]; expected a longer interval",
                    num(every),
                    num(start),
                    num(horizon)
                ),
            );
            return;
        }
        _ => {}
    }
    if let Some(every) = every
        && every < TIME_RESOLUTION_DAYS
        && fit > 1
    {
        c.error(
            &path.key("every_days"),
            format!(
                "expected an interval of at least 1e-9 day (the resolution of administration times), found {}",
                num(every)
            ),
        );
        return;
    }
    out.extend(times.into_iter().map(|start_day| Administration {
        input,
        start_day,
        kind,
    }));
}

/// The scenario with every default and override written out.
fn resolved_file(
    file: &ScenarioFile,
    model: &ModelSpec,
    parameters: &[f64],
    initial: &[f64],
    solver: &SolverOptions,
    output_every: f64,
    patient: &crate::therapy::dose::Patient,
) -> ScenarioFile {
    let mut resolved = file.clone();
    resolved.patient = Some(schema::PatientSection {
        weight_kg: Some(patient.weight_kg),
        height_cm: Some(patient.height_cm),
        gfr_ml_min: Some(patient.gfr_ml_min),
    });
    resolved.output_every_days = Some(output_every);
    resolved.model.parameters = model
        .parameters
        .iter()
        .zip(parameters)
        .map(|(p, v)| (p.name.to_string(), *v))
        .collect();
    resolved.model.initial = model
        .states
        .iter()
        .zip(initial)
        .map(|(s, v)| (s.name.to_string(), *v))
        .collect();
    let atol: BTreeMap<String, f64> = model
        .states
        .iter()
        .enumerate()
        .map(|(i, s)| {
            (
                s.name.to_string(),
                solver.atol.as_ref().map_or(solver.rtol * s.scale, |a| a[i]),
            )
        })
        .collect();
    resolved.solver = Some(SolverSection {
        method: Some(solver.method.name().to_string()),
        rtol: Some(solver.rtol),
        atol: Some(AbsoluteTolerance::PerState(atol)),
        max_steps: Some(solver.max_steps),
        stiffness: Some(
            if solver.stop_when_stiff {
                "stop"
            } else {
                "continue"
            }
            .to_string(),
        ),
    });
    for arm in &mut resolved.arms {
        for dose in &mut arm.doses {
            dose.start_day = Some(dose.start_day.unwrap_or(0.0));
            dose.duration_days = Some(dose.duration_days.unwrap_or(0.0));
        }
        for drug in &mut arm.drugs {
            drug.start_day = Some(drug.start_day.unwrap_or(0.0));
            drug.infusion_minutes = Some(
                drug.infusion_minutes
                    .unwrap_or(treatments::DEFAULT_INFUSION_MINUTES),
            );
        }
        for fraction in &mut arm.radiation {
            if fraction.days.is_none() {
                fraction.start_day = Some(fraction.start_day.unwrap_or(0.0));
                fraction.every_days = Some(fraction.every_days.unwrap_or(1.0));
            }
        }
    }
    resolved
}
