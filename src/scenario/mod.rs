//! Scenario files: read, apply `--set` overrides, validate, resolve.
//!
//! Reading happens in three passes so that every error can point at a line:
//! 1. the file as written is parsed and checked against the schema (syntax errors, unknown
//!    keys and wrong types point at their line and column);
//! 2. `--set KEY=VALUE` overrides are applied to the document and the schema checked again
//!    (an error here can only come from an override, and names it);
//! 3. the values are validated against the model (names, signs, schedules), each error
//!    located by looking its key path up in the file, or naming the `--set` that gave it.

pub mod diagnostic;
pub mod schema;

use crate::engine::{Administration, Delivery, Method, Schedule, SolverOptions};
use crate::model::{ModelSpec, find_spec, specs};
pub use diagnostic::{Diagnostic, KeyPath, Location, ScenarioError, Segment};
use schema::{AbsoluteTolerance, ScenarioFile, SolverSection};
use std::collections::BTreeMap;
use std::path::Path;

/// Default spacing of output times.
pub const DEFAULT_OUTPUT_EVERY_DAYS: f64 = 1.0;

/// One arm: a name and what it gives.
#[derive(Debug, Clone, PartialEq)]
pub struct Arm {
    pub name: String,
    pub description: Option<String>,
    pub schedule: Schedule,
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
    pub arms: Vec<Arm>,
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
                location: Location::File {
                    path: origin.clone(),
                    line: 1,
                    column: 1,
                },
                key: String::new(),
                message: format!("cannot read the scenario file: {e}"),
            }])
        })?;
        Scenario::parse(&text, &origin, overrides)
    }

    /// Validates scenario `text`; `origin` names it in errors (usually its path).
    pub fn parse(
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
        // Pass 1: the file as written.
        let document = toml_edit::Document::parse(text.to_string()).map_err(|e| {
            ScenarioError(vec![Diagnostic {
                location: at(e.span().map_or(0, |s| s.start)),
                key: key_before(text, e.span().map_or(0, |s| s.start)).unwrap_or_default(),
                message: format!("malformed TOML: {}", e.message()),
            }])
        })?;
        if let Err(e) = toml::from_str::<ScenarioFile>(text) {
            let span = e.span().unwrap_or(0..0);
            let snippet = text.get(span.clone()).unwrap_or("").trim();
            // The key on the value's line, or for an unknown key the key itself.
            let key = key_before(text, span.start).unwrap_or_else(|| {
                if snippet.len() <= 60 && !snippet.contains('\n') {
                    snippet.to_string()
                } else {
                    String::new()
                }
            });
            return Err(ScenarioError(vec![Diagnostic {
                location: at(span.start),
                key,
                message: e.message().trim().to_string(),
            }]));
        }

        // Pass 2: overrides.
        let mut edited: toml_edit::DocumentMut = text.parse().map_err(|_| {
            ScenarioError(vec![Diagnostic {
                location: at(0),
                key: String::new(),
                message: "malformed TOML".into(),
            }])
        })?;
        let mut overridden: Vec<(KeyPath, String)> = Vec::new();
        let mut errors = Vec::new();
        for set in overrides {
            match apply_override(&mut edited, set) {
                Ok(path) => overridden.push((path, set.clone())),
                Err(message) => errors.push(Diagnostic {
                    location: Location::Override(set.clone()),
                    key: set.split('=').next().unwrap_or("").to_string(),
                    message,
                }),
            }
        }
        if !errors.is_empty() {
            return Err(ScenarioError(errors));
        }
        let file: ScenarioFile = toml::from_str(&edited.to_string()).map_err(|e| {
            let sets: Vec<&str> = overrides.iter().map(String::as_str).collect();
            ScenarioError(vec![Diagnostic {
                location: Location::Override(sets.join(" --set ")),
                key: String::new(),
                message: e.message().trim().to_string(),
            }])
        })?;

        // Pass 3: values.
        let locate = |path: &KeyPath| -> Location {
            if let Some((_, set)) = overridden.iter().rev().find(|(p, _)| path.starts_with(p)) {
                return Location::Override(set.clone());
            }
            at(span_of(&document, path))
        };
        validate(file, &locate)
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
    while let Some(Segment::Key(k)) = path.0.get(i) {
        let Some((key, value)) = table.get_key_value(k) else {
            break;
        };
        if let Some(s) = key.span().or_else(|| value.span()) {
            best = s.start;
        }
        if let toml_edit::Item::ArrayOfTables(array) = value {
            let Some(Segment::Index(j)) = path.0.get(i + 1) else {
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
    segments: &[Segment],
    so_far: KeyPath,
    value: toml_edit::Value,
) -> Result<(), String> {
    match segments {
        [Segment::Key(k)] => {
            let here = so_far.key(k);
            if let Some(existing) = table.get(k)
                && (existing.is_table_like() || existing.is_array_of_tables())
            {
                return Err(format!("`{here}` is a table, not a single value"));
            }
            table.insert(k, toml_edit::Item::Value(value));
            Ok(())
        }
        [Segment::Key(k), Segment::Index(i), rest @ ..] => {
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
        [Segment::Key(k), rest @ ..] => {
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
            self.error(path, format!("expected {want}, found {value}"));
        }
        ok
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
    c.non_negative(&root.key("horizon_days"), file.horizon_days, true);
    let output_every = file.output_every_days.unwrap_or(DEFAULT_OUTPUT_EVERY_DAYS);
    c.non_negative(&root.key("output_every_days"), output_every, true);
    let horizon = file.horizon_days;

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
        match model.parameter_index(key) {
            Some(i) => {
                if value.is_finite() {
                    parameters[i] = *value;
                } else {
                    c.error(&path, format!("expected a finite number, found {value}"));
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
            resolve_dose(&mut c, &path, dose, model, horizon, &mut administrations);
        }
        arms.push(Arm {
            name: arm.name.clone(),
            description: arm.description.clone(),
            schedule: Schedule { administrations },
        });
    }

    if !c.errors.is_empty() {
        return Err(ScenarioError(c.errors));
    }

    let resolved = resolved_file(&file, model, &parameters, &initial, &solver, output_every);
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
        arms,
        resolved,
    })
}

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
                format!("expected a relative tolerance above 0 and below 1, found {rtol}"),
            );
        }
    }
    match &s.atol {
        None => {}
        Some(AbsoluteTolerance::Uniform(v)) if c.non_negative(&path.key("atol"), *v, true) => {
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
                        if c.non_negative(&p, *v, true) {
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

fn resolve_dose(
    c: &mut Checker<'_>,
    path: &KeyPath,
    dose: &schema::DoseSection,
    model: &'static ModelSpec,
    horizon: f64,
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
    let start = dose.start_day.unwrap_or(0.0);
    let duration = dose.duration_days.unwrap_or(0.0);
    let mut ok = c.non_negative(&path.key("start_day"), start, false)
        & c.non_negative(&path.key("duration_days"), duration, false);
    if ok && start >= horizon {
        c.error(&path.key("start_day"), format!("the dose starts on day {start}, at or after the horizon (day {horizon}); it would never be given"));
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
    let count = match (dose.every_days, dose.repeat) {
        (None, None) => 1,
        (None, Some(n)) => {
            if n > 1 {
                c.error(
                    &path.key("repeat"),
                    "`repeat` needs `every_days`, the interval between administrations",
                );
                ok = false;
            }
            1
        }
        (Some(every), repeat) => {
            if !c.non_negative(&path.key("every_days"), every, true) {
                return;
            }
            if duration > every {
                c.error(&path.key("every_days"), format!("each administration lasts {duration} days, longer than the {every}-day interval between them"));
                ok = false;
            }
            match repeat {
                Some(0) => {
                    c.error(&path.key("repeat"), "expected at least 1 administration");
                    ok = false;
                    0
                }
                Some(n) => n,
                None => ((horizon - start) / every).ceil().max(1.0) as u64,
            }
        }
    };
    if !ok {
        return;
    }
    let every = dose.every_days.unwrap_or(0.0);
    for i in 0..count {
        let t = start + i as f64 * every;
        if t < horizon {
            out.push(Administration {
                input,
                start_day: t,
                kind,
            });
        }
    }
}

/// The scenario with every default and override written out.
fn resolved_file(
    file: &ScenarioFile,
    model: &ModelSpec,
    parameters: &[f64],
    initial: &[f64],
    solver: &SolverOptions,
    output_every: f64,
) -> ScenarioFile {
    let mut resolved = file.clone();
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
    }
    resolved
}
