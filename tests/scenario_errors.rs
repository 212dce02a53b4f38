//! Bad scenario input gets a clear error naming the file, the line and column, and the
//! offending key, and saying what was expected; `--set` overrides are validated like the
//! file; an invalid scenario makes the command line exit non-zero and write nothing.
//!
//! Every test starts from one small valid scenario (`BASE`), injects exactly one fault (or,
//! for the collection test, two), and finds the expected line from the text itself.

use immunotrial::scenario::{Diagnostic, KeyPath, KeyStep, Location, Scenario, ScenarioError};
use std::path::{Path, PathBuf};
use std::process::Command;

/// The name the scenario text is given in errors.
const ORIGIN: &str = "tests/bad_scenario.toml";

/// A small valid scenario: de Pillis 2006, one untreated arm and one treated arm with a
/// continuous chemotherapy dose and a bolus of lymphocytes.
const BASE: &str = r#"name = "scenario error tests"
horizon_days = 100
output_every_days = 1.0

[model]
name = "depillis2006"
preset = "patient9"

[model.initial]
T = 1e7
N = 1e3

[solver]
rtol = 1e-6
stiffness = "continue"

[[arm]]
name = "untreated"

[[arm]]
name = "treated"
[[arm.dose]]
input = "v_M"
amount_per_day = 5.0
duration_days = 1.0
start_day = 10.0
[[arm.dose]]
input = "v_L"
amount = 1e9
start_day = 7.0
"#;

// ---------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------

/// `BASE` with the line that reads exactly `old` replaced by `new` (which may span lines).
fn replace_line(old: &str, new: &str) -> String {
    let count = BASE.lines().filter(|l| *l == old).count();
    assert_eq!(
        count, 1,
        "the base scenario has {count} lines reading {old:?}"
    );
    BASE.lines()
        .map(|l| if l == old { new } else { l })
        .collect::<Vec<_>>()
        .join("\n")
        + "\n"
}

/// `BASE` with `new` (which may span lines) inserted after the line that reads exactly
/// `anchor`.
fn insert_after(anchor: &str, new: &str) -> String {
    replace_line(anchor, &format!("{anchor}\n{new}"))
}

/// 1-based number of the one line of `text` that contains `marker`.
fn line_of(text: &str, marker: &str) -> usize {
    let hits: Vec<usize> = text
        .lines()
        .enumerate()
        .filter(|(_, l)| l.contains(marker))
        .map(|(i, _)| i + 1)
        .collect();
    assert_eq!(
        hits.len(),
        1,
        "marker {marker:?} should be on exactly one line of:\n{text}"
    );
    hits[0]
}

/// 1-based column of `word` on the one line of `text` that contains `marker`.
fn column_of(text: &str, marker: &str, word: &str) -> usize {
    let line = text.lines().nth(line_of(text, marker) - 1).unwrap();
    line.find(word)
        .unwrap_or_else(|| panic!("{word:?} is not on the line {line:?}"))
        + 1
}

fn parse(text: &str) -> Result<Scenario, ScenarioError> {
    Scenario::parse(text, ORIGIN, &[])
}

fn parse_with(text: &str, overrides: &[&str]) -> Result<Scenario, ScenarioError> {
    let overrides: Vec<String> = overrides.iter().map(|s| s.to_string()).collect();
    Scenario::parse(text, ORIGIN, &overrides)
}

fn must_fail(result: Result<Scenario, ScenarioError>, text: &str) -> ScenarioError {
    match result {
        Ok(_) => panic!("expected the scenario to be rejected:\n{text}"),
        Err(e) => {
            assert!(!e.0.is_empty(), "an error with no diagnostics");
            e
        }
    }
}

/// Parses `text`, which must fail with a diagnostic whose key is `key`, located in the file
/// on the line containing `marker`, at the column where the last word of `key` starts on that
/// line. Checks the printed form too, and returns the diagnostic.
fn expect_file_error(text: &str, key: &str, marker: &str) -> Diagnostic {
    let error = must_fail(parse(text), text);
    let Some(d) = error.0.iter().find(|d| d.key == key) else {
        panic!("no diagnostic names the key `{key}`; got:\n{error}");
    };
    let line = line_of(text, marker);
    let last_word = key.rsplit(['.', ']']).next().unwrap();
    let column = column_of(text, marker, last_word);
    assert_eq!(
        d.location,
        Location::File {
            path: ORIGIN.to_string(),
            line,
            column,
        },
        "`{key}` should point at line {line}, column {column} (the line containing {marker:?}); got:\n{error}"
    );
    let printed = error.to_string();
    let expected = format!("error: {ORIGIN}:{line}:{column}: `{key}`: ");
    assert!(
        printed.contains(&expected),
        "the printed error should contain {expected:?}; got:\n{printed}"
    );
    d.clone()
}

fn assert_mentions(d: &Diagnostic, words: &[&str]) {
    for w in words {
        assert!(
            d.message.contains(w),
            "the message of `{}` should mention {w:?}: {:?}",
            d.key,
            d.message
        );
    }
}

fn param(s: &Scenario, name: &str) -> f64 {
    s.parameters[s.model.parameter_index(name).expect("parameter exists")]
}

fn state(s: &Scenario, name: &str) -> f64 {
    s.initial[s.model.state_index(name).expect("state exists")]
}

// ---------------------------------------------------------------------------------------
// The base is valid
// ---------------------------------------------------------------------------------------

#[test]
fn base_scenario_is_valid() {
    let s = parse(BASE).unwrap_or_else(|e| panic!("the base scenario is valid:\n{e}"));
    assert_eq!(s.model.name, "depillis2006");
    assert_eq!(s.horizon_day, 100.0);
    assert_eq!(state(&s, "T"), 1e7);
    assert_eq!(s.arms.len(), 2);
    assert_eq!(s.arms[0].name, "untreated");
    assert!(s.arms[0].schedule.administrations.is_empty());
    assert_eq!(s.arms[1].schedule.administrations.len(), 2);
}

// ---------------------------------------------------------------------------------------
// Malformed TOML
// ---------------------------------------------------------------------------------------

#[test]
fn malformed_toml_points_at_line_and_column() {
    let text = replace_line("horizon_days = 100", "horizon_days = 100 days");
    let error = must_fail(parse(&text), &text);
    assert_eq!(error.0.len(), 1, "{error}");
    let d = &error.0[0];
    let line = line_of(&text, "100 days");
    let Location::File {
        path,
        line: got_line,
        column,
    } = &d.location
    else {
        panic!("expected a file location, got {:?}", d.location);
    };
    assert_eq!(path, ORIGIN);
    assert_eq!(*got_line, line, "{error}");
    // The error is in the value `100 days` (an unquoted string to the parser), not before it.
    let value = column_of(&text, "100 days", "100 days");
    let end = value + "100 days".len();
    assert!(
        (value..=end).contains(column),
        "column {column} should be within the value `100 days` (columns {value} to {end}): {error}"
    );
    assert!(d.message.contains("malformed TOML"), "{error}");
    assert!(d.message.contains("expected"), "{error}");
    assert!(
        error.to_string().contains(&format!("{ORIGIN}:{line}:")),
        "{error}"
    );
}

#[test]
fn malformed_toml_unclosed_table_header() {
    let text = replace_line("[solver]", "[solver");
    let error = must_fail(parse(&text), &text);
    let d = &error.0[0];
    let line = line_of(&text, "[solver");
    match &d.location {
        Location::File { path, line: l, .. } => {
            assert_eq!(path, ORIGIN);
            assert_eq!(*l, line, "{error}");
        }
        other => panic!("expected a file location, got {other:?}"),
    }
    assert!(d.message.contains("malformed TOML"), "{error}");
    assert!(d.message.contains("expected"), "{error}");
}

// ---------------------------------------------------------------------------------------
// Unknown keys: nothing is silently ignored
// ---------------------------------------------------------------------------------------

/// Unknown keys are reported with the key as written (not a dotted path): check that the
/// key is named, the line and column are right, and the message lists the valid keys.
/// An unknown key is named by its whole path (`arm[1].colour`), at the line it is on.
fn expect_unknown_key(text: &str, path: &str, valid: &[&str]) {
    let bogus = path.rsplit('.').next().unwrap();
    let d = expect_file_error(text, path, &format!("{bogus} ="));
    assert_mentions(&d, &["unknown field", bogus]);
    assert_mentions(&d, valid);
}

#[test]
fn unknown_key_at_top_level() {
    let text = insert_after("horizon_days = 100", "horizon_dayz = 3");
    expect_unknown_key(&text, "horizon_dayz", &["horizon_days", "model", "arm"]);
}

#[test]
fn unknown_key_in_model() {
    let text = insert_after("preset = \"patient9\"", "presett = \"patient10\"");
    expect_unknown_key(&text, "model.presett", &["preset", "parameters", "initial"]);
}

#[test]
fn unknown_key_in_solver() {
    let text = insert_after("rtol = 1e-6", "rtoll = 1e-3");
    expect_unknown_key(&text, "solver.rtoll", &["rtol", "atol", "method"]);
}

#[test]
fn unknown_key_in_arm() {
    let text = insert_after("name = \"treated\"", "colour = \"red\"");
    expect_unknown_key(&text, "arm[1].colour", &["name", "description", "dose"]);
}

#[test]
fn unknown_key_in_dose() {
    let text = insert_after("start_day = 10.0", "stop_day = 20.0");
    expect_unknown_key(
        &text,
        "arm[1].dose[0].stop_day",
        &["start_day", "amount_per_day", "duration_days", "every_days"],
    );
}

// ---------------------------------------------------------------------------------------
// Unknown names: model, preset, parameter, state, input
// ---------------------------------------------------------------------------------------

#[test]
fn unknown_model_lists_the_built_in_models() {
    let text = replace_line("name = \"depillis2006\"", "name = \"depillis2007\"");
    let d = expect_file_error(&text, "model.name", "depillis2007");
    assert_mentions(
        &d,
        &[
            "unknown model",
            "depillis2007",
            "kuznetsov1994",
            "depillis2006",
            "kosinsky2018",
        ],
    );
}

#[test]
fn unknown_preset_lists_the_presets() {
    let text = replace_line("preset = \"patient9\"", "preset = \"patient11\"");
    let d = expect_file_error(&text, "model.preset", "patient11");
    assert_mentions(
        &d,
        &["unknown preset", "patient11", "patient9", "patient10"],
    );
}

#[test]
fn unknown_parameter_lists_the_parameters() {
    let text = insert_after("preset = \"patient9\"", "\n[model.parameters]\nzeta = 1.0");
    let d = expect_file_error(&text, "model.parameters.zeta", "zeta =");
    assert_mentions(&d, &["unknown parameter", "alpha", "mu_I", "K_T"]);
}

/// A parameter outside its model's declared domain is refused, saying what was expected: de
/// Pillis's k is the half-saturation of T-cell recruitment (0 gives 0/0 at D*T = 0), and no
/// rate is negative.
#[test]
fn a_parameter_outside_its_domain_is_refused() {
    let text = insert_after("preset = \"patient9\"", "\n[model.parameters]\nk = 0");
    let d = expect_file_error(&text, "model.parameters.k", "k = 0");
    assert_mentions(&d, &["expected a finite number above 0", "found 0"]);
    let text = insert_after("preset = \"patient9\"", "\n[model.parameters]\na = -0.1");
    let d = expect_file_error(&text, "model.parameters.a", "a = -0.1");
    assert_mentions(&d, &["expected a finite number at least 0", "-0.1"]);
    let error = must_fail(parse_with(BASE, &["model.parameters.k=-3"]), BASE);
    let d = &error.0[0];
    assert_eq!(
        d.location,
        Location::Override("model.parameters.k=-3".into())
    );
    assert_mentions(d, &["above 0"]);
    // A fraction of the immunity-cycle model, above 1.
    let text = "name = \"f\"\nhorizon_days = 10\n[model]\nname = \"immunity_cycle\"\n[model.parameters]\nf_icd = 1.5\n[[arm]]\nname = \"a\"\n";
    let e = parse(text).unwrap_err();
    let d =
        e.0.iter()
            .find(|d| d.key == "model.parameters.f_icd")
            .expect("f_icd");
    assert!(d.message.contains("from 0 to 1"), "{}", d.message);
    // At the domain's edges, accepted.
    let s = parse_with(BASE, &["model.parameters.a=0", "model.parameters.k=1e-300"]).unwrap();
    assert_eq!(param(&s, "a"), 0.0);
}

#[test]
fn unknown_state_in_initial_lists_the_states() {
    let text = insert_after("N = 1e3", "X = 5.0");
    let d = expect_file_error(&text, "model.initial.X", "X = 5.0");
    assert_mentions(&d, &["unknown state", "T, N, L, C, M, I"]);
}

#[test]
fn unknown_input_lists_the_inputs() {
    let text = replace_line("input = \"v_M\"", "input = \"v_X\"");
    let d = expect_file_error(&text, "arm[1].dose[0].input", "v_X");
    assert_mentions(&d, &["unknown input", "v_X", "v_L", "v_M", "v_I"]);
}

// ---------------------------------------------------------------------------------------
// Negative or non-finite numbers
// ---------------------------------------------------------------------------------------

#[test]
fn negative_amount_per_day() {
    let text = replace_line("amount_per_day = 5.0", "amount_per_day = -5.0");
    let d = expect_file_error(&text, "arm[1].dose[0].amount_per_day", "-5.0");
    assert_mentions(&d, &["expected a finite number of at least 0", "-5"]);
}

#[test]
fn non_finite_amount_per_day() {
    let text = replace_line("amount_per_day = 5.0", "amount_per_day = inf");
    let d = expect_file_error(&text, "arm[1].dose[0].amount_per_day", "= inf");
    assert_mentions(&d, &["expected a finite number of at least 0", "inf"]);
}

#[test]
fn negative_amount() {
    let text = replace_line("amount = 1e9", "amount = -1e9");
    let d = expect_file_error(&text, "arm[1].dose[1].amount", "-1e9");
    assert_mentions(
        &d,
        &["expected a finite number of at least 0", "-1000000000"],
    );
}

#[test]
fn non_finite_amount() {
    let text = replace_line("amount = 1e9", "amount = nan");
    let d = expect_file_error(&text, "arm[1].dose[1].amount", "= nan");
    assert_mentions(&d, &["expected a finite number of at least 0", "NaN"]);
}

#[test]
fn negative_duration() {
    let text = replace_line("duration_days = 1.0", "duration_days = -1.0");
    let d = expect_file_error(&text, "arm[1].dose[0].duration_days", "-1.0");
    assert_mentions(&d, &["expected a finite number of at least 0", "-1"]);
}

#[test]
fn non_finite_duration() {
    let text = replace_line("duration_days = 1.0", "duration_days = inf");
    let d = expect_file_error(&text, "arm[1].dose[0].duration_days", "= inf");
    assert_mentions(&d, &["expected a finite number of at least 0", "inf"]);
}

#[test]
fn negative_horizon() {
    let text = replace_line("horizon_days = 100", "horizon_days = -100");
    let d = expect_file_error(&text, "horizon_days", "-100");
    assert_mentions(&d, &["expected a finite number above 0", "-100"]);
}

#[test]
fn non_finite_horizon() {
    let text = replace_line("horizon_days = 100", "horizon_days = inf");
    let d = expect_file_error(&text, "horizon_days", "= inf");
    assert_mentions(&d, &["expected a finite number above 0", "inf"]);
}

#[test]
fn negative_relative_tolerance() {
    let text = replace_line("rtol = 1e-6", "rtol = -1e-6");
    let d = expect_file_error(&text, "solver.rtol", "-1e-6");
    assert_mentions(&d, &["expected a relative tolerance above 0 and below 1"]);
}

#[test]
fn non_finite_relative_tolerance() {
    let text = replace_line("rtol = 1e-6", "rtol = nan");
    let d = expect_file_error(&text, "solver.rtol", "= nan");
    assert_mentions(
        &d,
        &["expected a relative tolerance above 0 and below 1", "NaN"],
    );
}

#[test]
fn negative_initial_value() {
    let text = replace_line("T = 1e7", "T = -1e7");
    let d = expect_file_error(&text, "model.initial.T", "-1e7");
    assert_mentions(&d, &["expected a finite number of at least 0", "-10000000"]);
}

#[test]
fn non_finite_initial_value() {
    let text = replace_line("N = 1e3", "N = inf");
    let d = expect_file_error(&text, "model.initial.N", "= inf");
    assert_mentions(&d, &["expected a finite number of at least 0", "inf"]);
}

// ---------------------------------------------------------------------------------------
// Schedules and arms
// ---------------------------------------------------------------------------------------

#[test]
fn dose_starting_after_the_horizon() {
    let text = replace_line("start_day = 10.0", "start_day = 150.0");
    let d = expect_file_error(&text, "arm[1].dose[0].start_day", "150.0");
    assert_mentions(&d, &["day 150", "horizon", "day 100"]);
}

#[test]
fn two_arms_with_the_same_name() {
    let text = replace_line("name = \"treated\"", "name = \"untreated\"");
    // Both arms now read `name = "untreated"`: the error is on the second one.
    let error = must_fail(parse(&text), &text);
    let Some(d) = error.0.iter().find(|d| d.key == "arm[1].name") else {
        panic!("no diagnostic names `arm[1].name`:\n{error}");
    };
    let line = text
        .lines()
        .enumerate()
        .filter(|(_, l)| *l == "name = \"untreated\"")
        .map(|(i, _)| i + 1)
        .nth(1)
        .expect("two arms named untreated");
    assert_eq!(
        d.location,
        Location::File {
            path: ORIGIN.to_string(),
            line,
            column: 1,
        },
        "{error}"
    );
    assert_mentions(d, &["two arms are named `untreated`", "unique"]);
    assert!(
        error
            .to_string()
            .contains(&format!("error: {ORIGIN}:{line}:1: `arm[1].name`: ")),
        "{error}"
    );
}

// ---------------------------------------------------------------------------------------
// Several errors at once
// ---------------------------------------------------------------------------------------

#[test]
fn validation_collects_every_error() {
    let text = replace_line("T = 1e7", "T = -1e7");
    let text = text.replace("rtol = 1e-6\n", "rtol = nan\n");
    let error = must_fail(parse(&text), &text);
    assert_eq!(error.0.len(), 2, "two faults, two diagnostics:\n{error}");
    let at = |key: &str, marker: &str| {
        let d = error
            .0
            .iter()
            .find(|d| d.key == key)
            .unwrap_or_else(|| panic!("no diagnostic for `{key}`:\n{error}"));
        match &d.location {
            Location::File { line, .. } => assert_eq!(*line, line_of(&text, marker), "{error}"),
            other => panic!("expected a file location, got {other:?}"),
        }
    };
    at("model.initial.T", "-1e7");
    at("solver.rtol", "rtol = nan");
    assert_eq!(error.to_string().lines().count(), 2, "{error}");
}

// ---------------------------------------------------------------------------------------
// --set overrides
// ---------------------------------------------------------------------------------------

#[test]
fn overrides_take_effect() {
    let s = parse_with(
        BASE,
        &[
            "model.initial.T=2e7",
            "horizon_days=300",
            "model.parameters.a=0.2",
        ],
    )
    .unwrap_or_else(|e| panic!("valid overrides:\n{e}"));
    assert_eq!(state(&s, "T"), 2e7);
    assert_eq!(state(&s, "N"), 1e3, "other initial values are kept");
    assert_eq!(s.horizon_day, 300.0);
    assert_eq!(param(&s, "a"), 0.2);
    // The resolved scenario records the overrides.
    assert_eq!(s.resolved.horizon_days, 300.0);
    assert_eq!(s.resolved.model.parameters.get("a"), Some(&0.2));
    assert_eq!(s.resolved.model.initial.get("T"), Some(&2e7));
}

#[test]
fn override_can_add_a_key_absent_from_the_file() {
    assert!(!BASE.contains("[model.parameters]"));
    assert!(!BASE.contains("L ="));
    let default = parse(BASE).unwrap();
    let s = parse_with(BASE, &["model.parameters.a=0.2", "model.initial.L=42"])
        .unwrap_or_else(|e| panic!("valid overrides:\n{e}"));
    assert_ne!(param(&default, "a"), 0.2);
    assert_eq!(param(&s, "a"), 0.2);
    assert_eq!(state(&s, "L"), 42.0);
    // Everything else is as in the file.
    for name in ["b", "c", "alpha"] {
        assert_eq!(param(&s, name), param(&default, name), "parameter {name}");
    }
}

#[test]
fn override_later_wins() {
    let s = parse_with(BASE, &["horizon_days=300", "horizon_days=200"]).unwrap();
    assert_eq!(s.horizon_day, 200.0);
}

#[test]
fn override_into_an_array_of_tables() {
    let s = parse_with(BASE, &["arm.1.dose.0.start_day=3"])
        .unwrap_or_else(|e| panic!("valid override:\n{e}"));
    let administrations = &s.arms[1].schedule.administrations;
    let chemo = s.model.input_index("v_M").unwrap();
    let given: Vec<f64> = administrations
        .iter()
        .filter(|a| a.input == chemo)
        .map(|a| a.start_day)
        .collect();
    assert_eq!(given, vec![3.0]);
}

#[test]
fn override_of_a_string_value() {
    let default = parse(BASE).unwrap();
    let s = parse_with(BASE, &["model.preset=patient10"])
        .unwrap_or_else(|e| panic!("valid override:\n{e}"));
    assert_eq!(s.preset.as_deref(), Some("patient10"));
    assert_ne!(
        s.parameters, default.parameters,
        "patient10 differs from patient9"
    );
}

#[test]
fn invalid_override_value_names_the_override() {
    let error = must_fail(parse_with(BASE, &["model.initial.T=-1"]), BASE);
    assert_eq!(error.0.len(), 1, "{error}");
    let d = &error.0[0];
    assert_eq!(d.location, Location::Override("model.initial.T=-1".into()));
    assert_eq!(d.key, "model.initial.T");
    assert_mentions(d, &["expected a finite number of at least 0", "-1"]);
    let printed = error.to_string();
    assert!(
        printed.contains("error: --set model.initial.T=-1: `model.initial.T`: expected"),
        "{printed}"
    );
    assert!(!printed.contains(ORIGIN), "{printed}");
}

#[test]
fn invalid_override_of_an_unknown_preset_lists_the_presets() {
    let error = must_fail(parse_with(BASE, &["model.preset=patient11"]), BASE);
    let d = &error.0[0];
    assert_eq!(
        d.location,
        Location::Override("model.preset=patient11".into())
    );
    assert_eq!(d.key, "model.preset");
    assert_mentions(d, &["patient11", "patient9", "patient10"]);
}

#[test]
fn invalid_override_in_an_array_of_tables_names_the_override() {
    let error = must_fail(parse_with(BASE, &["arm.1.dose.0.start_day=500"]), BASE);
    let d = error
        .0
        .iter()
        .find(|d| d.key == "arm[1].dose[0].start_day")
        .unwrap_or_else(|| panic!("{error}"));
    assert_eq!(
        d.location,
        Location::Override("arm.1.dose.0.start_day=500".into())
    );
    assert_mentions(d, &["horizon"]);
}

#[test]
fn errors_in_the_file_keep_their_line_when_other_keys_are_overridden() {
    let text = replace_line("T = 1e7", "T = -1e7");
    let error = must_fail(parse_with(&text, &["horizon_days=300"]), &text);
    let d = error
        .0
        .iter()
        .find(|d| d.key == "model.initial.T")
        .unwrap_or_else(|| panic!("{error}"));
    assert_eq!(
        d.location,
        Location::File {
            path: ORIGIN.into(),
            line: line_of(&text, "-1e7"),
            column: 1,
        }
    );
}

#[test]
fn override_of_an_unknown_key_is_an_error() {
    let error = must_fail(parse_with(BASE, &["model.bogus=1"]), BASE);
    assert_eq!(error.0.len(), 1, "{error}");
    let d = &error.0[0];
    match &d.location {
        Location::Override(set) => assert!(set.contains("model.bogus=1"), "{set}"),
        other => panic!("expected an override location, got {other:?}"),
    }
    assert!(
        d.key.contains("bogus") || d.message.contains("bogus"),
        "the error should name `bogus`: {error}"
    );
    assert_mentions(d, &["unknown field", "preset", "initial"]);
}

#[test]
fn override_of_a_wrong_type_is_an_error() {
    let error = must_fail(parse_with(BASE, &["horizon_days=soon"]), BASE);
    match &error.0[0].location {
        Location::Override(set) => assert!(set.contains("horizon_days=soon"), "{set}"),
        other => panic!("expected an override location, got {other:?}"),
    }
}

#[test]
fn override_of_a_table_is_an_error() {
    let error = must_fail(parse_with(BASE, &["model=3"]), BASE);
    let d = &error.0[0];
    assert_eq!(d.location, Location::Override("model=3".into()));
    assert_eq!(d.key, "model");
    assert_mentions(d, &["table"]);
}

#[test]
fn override_of_a_missing_array_entry_is_an_error() {
    let error = must_fail(parse_with(BASE, &["arm.5.name=x"]), BASE);
    let d = &error.0[0];
    assert_eq!(d.location, Location::Override("arm.5.name=x".into()));
    assert_mentions(d, &["arm[5]", "2"]);
}

#[test]
fn malformed_override_without_equals_is_an_error() {
    let error = must_fail(parse_with(BASE, &["horizon_days"]), BASE);
    assert_eq!(error.0.len(), 1, "{error}");
    let d = &error.0[0];
    assert_eq!(d.location, Location::Override("horizon_days".into()));
    assert_mentions(d, &["KEY=VALUE"]);
    assert!(error.to_string().contains("--set horizon_days"), "{error}");
}

#[test]
fn malformed_override_with_empty_key_is_an_error() {
    let error = must_fail(parse_with(BASE, &["=3"]), BASE);
    assert_eq!(error.0[0].location, Location::Override("=3".into()));
    assert_mentions(&error.0[0], &["empty"]);
}

// ---------------------------------------------------------------------------------------
// Absurd schedules and output spacing: an error, promptly, never a hang
// ---------------------------------------------------------------------------------------

/// Parses `text` (with `overrides`) on another thread and fails the test if that takes more
/// than a few seconds: absurd input must be rejected promptly, not hang.
fn parse_promptly(text: &str, overrides: &[&str]) -> Result<Scenario, ScenarioError> {
    let text = text.to_string();
    let overrides: Vec<String> = overrides.iter().map(|s| s.to_string()).collect();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(Scenario::parse(&text, ORIGIN, &overrides));
    });
    rx.recv_timeout(std::time::Duration::from_secs(10))
        .expect("the scenario should be accepted or rejected within 10 s, not hang")
}

/// The diagnostic named `key`, which must be located in the file on the line containing
/// `marker`.
fn find_on_line<'a>(
    error: &'a ScenarioError,
    text: &str,
    key: &str,
    marker: &str,
) -> &'a Diagnostic {
    let Some(d) = error.0.iter().find(|d| d.key == key) else {
        panic!("no diagnostic names the key `{key}`; got:\n{error}");
    };
    match &d.location {
        Location::File { path, line, .. } => {
            assert_eq!(path, ORIGIN);
            assert_eq!(*line, line_of(text, marker), "`{key}`:\n{error}");
        }
        other => panic!("expected a file location for `{key}`, got {other:?}"),
    }
    d
}

/// `BASE` with the chemotherapy dose (`start_day = 10.0`, a 1-day rate) given a schedule.
fn chemo_schedule(schedule: &str) -> String {
    replace_line("start_day = 10.0", &format!("start_day = 10.0\n{schedule}"))
}

/// The start days of the chemotherapy (`v_M`) administrations of the treated arm.
fn chemo_days(s: &Scenario) -> Vec<f64> {
    let chemo = s.model.input_index("v_M").unwrap();
    s.arms[1]
        .schedule
        .administrations
        .iter()
        .filter(|a| a.input == chemo)
        .map(|a| a.start_day)
        .collect()
}

#[test]
fn absurd_repeat_is_rejected_promptly() {
    let text = chemo_schedule("every_days = 1\nrepeat = 10000000000000");
    let error = must_fail(parse_promptly(&text, &[]), &text);
    let d = find_on_line(&error, &text, "arm[1].dose[0].repeat", "repeat =");
    // Days 10, 11, ..., 99 are before the horizon (day 100): 90 administrations fit.
    assert_mentions(d, &["10000000000000", "horizon", "90"]);
}

#[test]
fn absurdly_short_interval_is_rejected_promptly() {
    // The lymphocyte bolus (no duration, so no interval is too short for it).
    let text = replace_line("start_day = 7.0", "start_day = 7.0\nevery_days = 1e-300");
    let error = must_fail(parse_promptly(&text, &[]), &text);
    let d = find_on_line(&error, &text, "arm[1].dose[1].every_days", "1e-300");
    assert_mentions(d, &["1e-300", "1,000,000 administrations"]);
}

#[test]
fn absurdly_short_interval_by_override_is_rejected_promptly() {
    let text = replace_line("start_day = 7.0", "start_day = 7.0\nevery_days = 5");
    let error = must_fail(
        parse_promptly(&text, &["arm.1.dose.1.every_days=1e-300"]),
        &text,
    );
    let d = error
        .0
        .iter()
        .find(|d| d.key == "arm[1].dose[1].every_days")
        .unwrap_or_else(|| panic!("{error}"));
    assert_eq!(
        d.location,
        Location::Override("arm.1.dose.1.every_days=1e-300".into())
    );
    assert_mentions(d, &["1,000,000 administrations"]);
}

#[test]
fn more_than_a_million_administrations_in_one_dose_is_an_error() {
    // 2,000,000 administrations every 1e-5 day from day 10 all fall before day 100, but one
    // [[arm.dose]] may give at most 1,000,000.
    let text = replace_line("duration_days = 1.0", "duration_days = 1e-6");
    let text = text.replace(
        "start_day = 10.0\n",
        "start_day = 10.0\nevery_days = 1e-5\nrepeat = 2000000\n",
    );
    let error = must_fail(parse_promptly(&text, &[]), &text);
    let d = find_on_line(&error, &text, "arm[1].dose[0].repeat", "repeat =");
    assert_mentions(d, &["2000000", "1,000,000 administrations"]);
}

#[test]
fn absurdly_fine_output_spacing_is_an_error() {
    // More output times than allowed over the 100-day horizon.
    let text = replace_line("output_every_days = 1.0", "output_every_days = 5e-6");
    let error = must_fail(parse_promptly(&text, &[]), &text);
    let d = find_on_line(&error, &text, "output_every_days", "output_every_days =");
    assert_mentions(d, &["horizon_days / 1e7", "1e-5", "5e-6", "10,000,000"]);
    // Finer than the instants output times are rounded to, whatever the horizon: 1e-12 days
    // over a horizon of 1e-9 wrote a thousand rows at two distinct times.
    for horizon in ["100", "1e-9"] {
        let text = replace_line("output_every_days = 1.0", "output_every_days = 1e-12").replace(
            "horizon_days = 100\n",
            &format!("horizon_days = {horizon}\n"),
        );
        let error = must_fail(parse_promptly(&text, &[]), &text);
        let d = find_on_line(&error, &text, "output_every_days", "output_every_days =");
        assert_mentions(d, &["at least 1e-6 days", "1e-9 day", "1e-12"]);
    }
}

#[test]
fn output_spacing_of_horizon_over_ten_million_is_accepted() {
    let text = replace_line("output_every_days = 1.0", "output_every_days = 1e-5");
    let s = parse(&text).unwrap_or_else(|e| panic!("100 days / 1e7 is allowed:\n{e}"));
    assert_eq!(s.output_every_day, 1e-5);
}

#[test]
fn zero_output_spacing_is_an_error() {
    let text = replace_line("output_every_days = 1.0", "output_every_days = 0");
    let d = expect_file_error(&text, "output_every_days", "output_every_days = 0");
    assert_mentions(&d, &["expected a finite number above 0", "0"]);
}

#[test]
fn negative_output_spacing_is_an_error() {
    let text = replace_line("output_every_days = 1.0", "output_every_days = -1.0");
    let d = expect_file_error(&text, "output_every_days", "-1.0");
    assert_mentions(&d, &["expected a finite number above 0", "-1"]);
}

#[test]
fn zero_interval_is_an_error() {
    let text = chemo_schedule("every_days = 0\nrepeat = 3");
    let d = expect_file_error(&text, "arm[1].dose[0].every_days", "every_days = 0");
    assert_mentions(&d, &["expected a finite number above 0"]);
}

#[test]
fn negative_interval_is_an_error() {
    let text = chemo_schedule("every_days = -5.0");
    let d = expect_file_error(&text, "arm[1].dose[0].every_days", "-5.0");
    assert_mentions(&d, &["expected a finite number above 0", "-5"]);
}

// ---------------------------------------------------------------------------------------
// `repeat` and the horizon
// ---------------------------------------------------------------------------------------

#[test]
fn repeat_zero_without_an_interval_is_an_error() {
    let text = chemo_schedule("repeat = 0");
    let d = expect_file_error(&text, "arm[1].dose[0].repeat", "repeat = 0");
    assert_mentions(&d, &["expected at least 1 administration"]);
}

#[test]
fn repeat_zero_with_an_interval_is_an_error() {
    let text = chemo_schedule("every_days = 5\nrepeat = 0");
    let d = expect_file_error(&text, "arm[1].dose[0].repeat", "repeat = 0");
    assert_mentions(&d, &["expected at least 1 administration"]);
}

#[test]
fn repeat_one_without_an_interval_is_one_administration() {
    let s = parse(&chemo_schedule("repeat = 1")).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(chemo_days(&s), vec![10.0]);
}

#[test]
fn repeat_running_past_the_horizon_is_an_error() {
    // Days 10, 20, ..., 100: the tenth falls on the horizon; nine fit before it.
    let text = chemo_schedule("every_days = 10\nrepeat = 10");
    let d = expect_file_error(&text, "arm[1].dose[0].repeat", "repeat = 10");
    assert_mentions(&d, &["10 administrations", "day 100", "horizon", "9 fit"]);
}

#[test]
fn repeat_that_fits_before_the_horizon_is_given_in_full() {
    let s = parse(&chemo_schedule("every_days = 10\nrepeat = 9")).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        chemo_days(&s),
        vec![10.0, 20.0, 30.0, 40.0, 50.0, 60.0, 70.0, 80.0, 90.0]
    );
}

#[test]
fn without_repeat_a_dose_is_given_until_the_horizon() {
    let s = parse(&chemo_schedule("every_days = 10")).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        chemo_days(&s),
        vec![10.0, 20.0, 30.0, 40.0, 50.0, 60.0, 70.0, 80.0, 90.0]
    );
}

#[test]
fn repeat_past_the_horizon_by_override_names_the_override() {
    let text = chemo_schedule("every_days = 10\nrepeat = 5");
    let error = must_fail(parse_with(&text, &["horizon_days=50"]), &text);
    let d = error
        .0
        .iter()
        .find(|d| d.key == "arm[1].dose[0].repeat")
        .unwrap_or_else(|| panic!("{error}"));
    // The repeat is in the file; the horizon it collides with came from the override. The
    // error is on the key that names the count.
    assert!(matches!(d.location, Location::File { .. }), "{error}");
    assert_mentions(d, &["4 fit", "day 50"]);
}

// ---------------------------------------------------------------------------------------
// Administration times are exact to 1e-9 day
// ---------------------------------------------------------------------------------------

#[test]
fn administration_times_are_snapped_to_a_nanoday() {
    let text = replace_line(
        "start_day = 10.0",
        "start_day = 0.0\nevery_days = 0.1\nrepeat = 8",
    );
    let text = text.replace("duration_days = 1.0\n", "duration_days = 0.05\n");
    let s = parse(&text).unwrap_or_else(|e| panic!("{e}"));
    // 3 * 0.1 is 0.30000000000000004 in floating point; the schedule says 0.3.
    assert_eq!(chemo_days(&s), vec![0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7]);
}

#[test]
fn administration_within_a_nanoday_of_the_horizon_is_not_given() {
    // Day 10 + 9 * 9.99999999995 = 99.99999999955: half a nanoday before the horizon, so at
    // the horizon, and not given.
    let s = parse(&chemo_schedule("every_days = 9.99999999995")).unwrap_or_else(|e| panic!("{e}"));
    let days = chemo_days(&s);
    assert_eq!(days.len(), 9, "{days:?}");
    assert!(days.iter().all(|d| *d < 99.9), "{days:?}");
}

#[test]
fn repeat_reaching_within_a_nanoday_of_the_horizon_is_an_error() {
    let text = chemo_schedule("every_days = 9.99999999995\nrepeat = 10");
    let d = expect_file_error(&text, "arm[1].dose[0].repeat", "repeat = 10");
    assert_mentions(&d, &["9 fit"]);
}

#[test]
fn dose_starting_within_a_nanoday_of_the_horizon_is_an_error() {
    let text = replace_line("start_day = 10.0", "start_day = 99.9999999999");
    let d = expect_file_error(&text, "arm[1].dose[0].start_day", "99.9999999999");
    assert_mentions(&d, &["horizon", "day 100"]);
}

// ---------------------------------------------------------------------------------------
// Schema errors: the key, and what was expected
// ---------------------------------------------------------------------------------------

#[test]
fn missing_model_name_names_the_key() {
    let text = replace_line("name = \"depillis2006\"", "");
    let error = must_fail(parse(&text), &text);
    let d = find_on_line(&error, &text, "model.name", "[model]");
    assert_mentions(d, &["missing", "name"]);
}

#[test]
fn missing_horizon_names_the_key() {
    let text = replace_line("horizon_days = 100", "");
    let error = must_fail(parse(&text), &text);
    let d = error
        .0
        .iter()
        .find(|d| d.key == "horizon_days")
        .unwrap_or_else(|| panic!("no diagnostic names `horizon_days`:\n{error}"));
    assert_mentions(d, &["missing", "horizon_days"]);
    assert!(matches!(d.location, Location::File { .. }), "{error}");
}

#[test]
fn missing_input_of_a_dose_names_the_key_and_its_table() {
    let text = replace_line("input = \"v_L\"", "");
    let error = must_fail(parse(&text), &text);
    let d = error
        .0
        .iter()
        .find(|d| d.key == "arm[1].dose[1].input")
        .unwrap_or_else(|| panic!("no diagnostic names `arm[1].dose[1].input`:\n{error}"));
    // Located at the header of the second [[arm.dose]].
    let header = text
        .lines()
        .enumerate()
        .filter(|(_, l)| *l == "[[arm.dose]]")
        .map(|(i, _)| i + 1)
        .nth(1)
        .unwrap();
    match &d.location {
        Location::File { line, .. } => assert_eq!(*line, header, "{error}"),
        other => panic!("expected a file location, got {other:?}"),
    }
    assert_mentions(d, &["missing", "input"]);
}

const ATOL_EXPECTED: &str = "expected a number (the same absolute tolerance for every state) or a table of numbers by state name, for example atol = { T = 1e-3 }";

#[test]
fn absolute_tolerance_of_the_wrong_type_says_what_was_expected() {
    let text = insert_after("rtol = 1e-6", "atol = \"tight\"");
    let d = expect_file_error(&text, "solver.atol", "atol =");
    assert_eq!(d.message, ATOL_EXPECTED);
}

#[test]
fn absolute_tolerance_table_of_strings_says_what_was_expected() {
    let text = insert_after("rtol = 1e-6", "atol = { T = \"tight\" }");
    let d = expect_file_error(&text, "solver.atol", "atol =");
    assert_eq!(d.message, ATOL_EXPECTED);
}

#[test]
fn absolute_tolerance_of_the_wrong_type_by_override() {
    let error = must_fail(parse_with(BASE, &["solver.atol=tight"]), BASE);
    assert_eq!(error.0.len(), 1, "{error}");
    let d = &error.0[0];
    assert_eq!(d.location, Location::Override("solver.atol=tight".into()));
    assert_eq!(d.key, "solver.atol");
    assert_eq!(d.message, ATOL_EXPECTED);
}

#[test]
fn negative_absolute_tolerance() {
    let text = insert_after("rtol = 1e-6", "atol = -1e-6");
    let d = expect_file_error(&text, "solver.atol", "atol =");
    assert_mentions(&d, &["expected a finite number above 0", "-1e-6"]);
}

#[test]
fn non_finite_absolute_tolerance() {
    let text = insert_after("rtol = 1e-6", "atol = nan");
    let d = expect_file_error(&text, "solver.atol", "atol =");
    assert_mentions(&d, &["expected a finite number above 0", "NaN"]);
}

#[test]
fn negative_absolute_tolerance_of_one_state() {
    let text = insert_after("rtol = 1e-6", "atol = { T = -1e-3, N = 1e-3 }");
    let d = expect_file_error(&text, "solver.atol.T", "atol =");
    assert_mentions(&d, &["expected a finite number above 0", "-0.001"]);
}

#[test]
fn negative_absolute_tolerance_of_one_state_in_its_own_table() {
    let text = insert_after(
        "stiffness = \"continue\"",
        "\n[solver.atol]\nN = 1e-3\nT = -1e-3",
    );
    let d = expect_file_error(&text, "solver.atol.T", "T = -1e-3");
    assert_mentions(&d, &["expected a finite number above 0", "-0.001"]);
}

#[test]
fn wrong_type_in_the_file_names_the_full_key_and_says_what_was_expected() {
    let text = replace_line("duration_days = 1.0", "duration_days = \"one\"");
    let d = expect_file_error(&text, "arm[1].dose[0].duration_days", "\"one\"");
    assert_mentions(&d, &["\"one\"", "expected a number"]);
}

// ---------------------------------------------------------------------------------------
// --set errors in the schema name the override that caused them
// ---------------------------------------------------------------------------------------

#[test]
fn override_of_a_wrong_type_names_that_override_alone() {
    let error = must_fail(
        parse_with(BASE, &["horizon_days=soon", "model.initial.T=5"]),
        BASE,
    );
    assert_eq!(error.0.len(), 1, "{error}");
    let d = &error.0[0];
    assert_eq!(d.location, Location::Override("horizon_days=soon".into()));
    assert_eq!(d.key, "horizon_days");
    assert_mentions(d, &["soon", "expected a number"]);
    assert!(
        error
            .to_string()
            .contains("error: --set horizon_days=soon: `horizon_days`: "),
        "{error}"
    );
}

#[test]
fn override_of_a_wrong_type_after_a_good_one_names_that_override() {
    let error = must_fail(
        parse_with(BASE, &["model.initial.T=5", "arm.1.dose.0.repeat=many"]),
        BASE,
    );
    assert_eq!(error.0.len(), 1, "{error}");
    let d = &error.0[0];
    assert_eq!(
        d.location,
        Location::Override("arm.1.dose.0.repeat=many".into())
    );
    assert_eq!(d.key, "arm[1].dose[0].repeat");
}

#[test]
fn override_of_an_unknown_key_names_the_dotted_key() {
    let error = must_fail(
        parse_with(BASE, &["horizon_days=300", "model.bogus=1"]),
        BASE,
    );
    assert_eq!(error.0.len(), 1, "{error}");
    let d = &error.0[0];
    assert_eq!(d.location, Location::Override("model.bogus=1".into()));
    assert_eq!(d.key, "model.bogus");
    assert_mentions(d, &["unknown field", "bogus"]);
}

#[test]
fn every_bad_override_is_reported_with_the_errors_of_the_file() {
    let text = replace_line("T = 1e7", "T = -1e7");
    let error = must_fail(
        parse_with(
            &text,
            &["model.bogus=1", "horizon_days=soon", "solver.rtol=2"],
        ),
        &text,
    );
    let by_key = |key: &str| {
        error
            .0
            .iter()
            .find(|d| d.key == key)
            .unwrap_or_else(|| panic!("no diagnostic for `{key}`:\n{error}"))
    };
    assert_eq!(
        by_key("model.bogus").location,
        Location::Override("model.bogus=1".into())
    );
    assert_eq!(
        by_key("horizon_days").location,
        Location::Override("horizon_days=soon".into())
    );
    assert_eq!(
        by_key("solver.rtol").location,
        Location::Override("solver.rtol=2".into())
    );
    assert!(matches!(
        by_key("model.initial.T").location,
        Location::File { .. }
    ));
    assert_eq!(error.0.len(), 4, "{error}");
}

#[test]
fn an_override_that_is_overridden_again_is_not_blamed() {
    let s = parse_with(BASE, &["horizon_days=soon", "horizon_days=200"])
        .unwrap_or_else(|e| panic!("the later override wins:\n{e}"));
    assert_eq!(s.horizon_day, 200.0);
}

// ---------------------------------------------------------------------------------------
// `validate` reports every error, also from the schema
// ---------------------------------------------------------------------------------------

#[test]
fn every_unknown_key_and_every_other_error_is_reported() {
    let text = insert_after("horizon_days = 100", "horizon_dayz = 3");
    let text = text.replace("start_day = 10.0\n", "start_day = 10.0\nstop_day = 20.0\n");
    let text = text.replace("name = \"treated\"\n", "name = \"untreated\"\n");
    let error = must_fail(parse(&text), &text);
    assert_eq!(error.0.len(), 3, "{error}");
    let d = find_on_line(&error, &text, "horizon_dayz", "horizon_dayz =");
    assert_mentions(d, &["unknown field", "horizon_days"]);
    let d = find_on_line(&error, &text, "arm[1].dose[0].stop_day", "stop_day =");
    assert_mentions(d, &["unknown field", "start_day"]);
    let d = error
        .0
        .iter()
        .find(|d| d.key == "arm[1].name")
        .unwrap_or_else(|| panic!("{error}"));
    assert_mentions(d, &["two arms are named `untreated`"]);
    assert_eq!(error.to_string().lines().count(), 3, "{error}");
}

#[test]
fn unknown_keys_keep_their_place_in_the_file_as_written() {
    // Unknown keys in a header table, an inline table and after the removal of an earlier
    // one are all located against the text as written.
    let text = insert_after("horizon_days = 100", "horizon_dayz = 3");
    let text = text.replace("[solver]\n", "[solver]\nextra = { a = 1 }\n");
    let text = text.replace(
        "stiffness = \"continue\"\n",
        "stiffness = \"continue\"\n\n[solver.more]\nb = 2\n",
    );
    let error = must_fail(parse(&text), &text);
    assert_eq!(error.0.len(), 3, "{error}");
    let check = |key: &str, marker: &str| {
        let d = error
            .0
            .iter()
            .find(|d| d.key == key)
            .unwrap_or_else(|| panic!("{error}"));
        let line = line_of(&text, marker);
        let column = column_of(&text, marker, key.rsplit('.').next().unwrap());
        assert_eq!(
            d.location,
            Location::File {
                path: ORIGIN.into(),
                line,
                column
            },
            "{error}"
        );
    };
    check("horizon_dayz", "horizon_dayz =");
    check("solver.extra", "extra =");
    check("solver.more", "[solver.more]");
}

#[test]
fn unknown_keys_and_wrong_types_are_all_reported() {
    let text = insert_after("rtol = 1e-6", "rtoll = 1e-3");
    let text = text.replace("horizon_days = 100\n", "horizon_days = \"long\"\n");
    let text = text.replace("amount = 1e9\n", "amount = \"lots\"\n");
    let error = must_fail(parse(&text), &text);
    find_on_line(&error, &text, "solver.rtoll", "rtoll =");
    find_on_line(&error, &text, "horizon_days", "\"long\"");
    find_on_line(&error, &text, "arm[1].dose[1].amount", "\"lots\"");
    assert_eq!(error.0.len(), 3, "{error}");
}

#[test]
fn unknown_keys_are_collected_up_to_fifty() {
    let bogus: Vec<String> = (0..60).map(|i| format!("bogus{i:02} = {i}")).collect();
    let text = insert_after("horizon_days = 100", &bogus.join("\n"));
    let error = must_fail(parse_promptly(&text, &[]), &text);
    let unknown = error
        .0
        .iter()
        .filter(|d| d.message.contains("unknown field"))
        .count();
    assert_eq!(unknown, 50, "{error}");
    assert!(error.0.len() <= 51, "{error}");
}

#[test]
fn unknown_key_in_the_file_and_a_bad_override_are_both_reported() {
    let text = insert_after("rtol = 1e-6", "rtoll = 1e-3");
    let error = must_fail(parse_with(&text, &["model.initial.T=-1"]), &text);
    find_on_line(&error, &text, "solver.rtoll", "rtoll =");
    let d = error
        .0
        .iter()
        .find(|d| d.key == "model.initial.T")
        .unwrap_or_else(|| panic!("{error}"));
    assert_eq!(d.location, Location::Override("model.initial.T=-1".into()));
    assert_eq!(error.0.len(), 2, "{error}");
}

#[test]
fn key_paths_are_made_of_key_steps() {
    let path = KeyPath::parse_dotted("arm.1.dose.0.start_day");
    assert_eq!(
        path.0,
        vec![
            KeyStep::Key("arm".into()),
            KeyStep::Index(1),
            KeyStep::Key("dose".into()),
            KeyStep::Index(0),
            KeyStep::Key("start_day".into()),
        ]
    );
    assert_eq!(path.to_string(), "arm[1].dose[0].start_day");
}

// ---------------------------------------------------------------------------------------
// The command line
// ---------------------------------------------------------------------------------------

/// A fresh directory under the system's temporary folder, removed when dropped.
struct TempDir(PathBuf);

impl TempDir {
    fn new(label: &str) -> TempDir {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos();
        let dir = std::env::temp_dir().join(format!(
            "immunotrial-scenario-errors-{label}-{}-{nanos}",
            std::process::id()
        ));
        std::fs::create_dir_all(&dir).unwrap();
        TempDir(dir)
    }
    fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn immunotrial() -> Command {
    Command::new(env!("CARGO_BIN_EXE_immunotrial"))
}

#[test]
fn simulate_on_an_invalid_scenario_fails_and_writes_nothing() {
    let tmp = TempDir::new("simulate");
    let text = replace_line("amount_per_day = 5.0", "amount_per_day = -5.0");
    let file = tmp.path().join("bad.toml");
    std::fs::write(&file, &text).unwrap();
    let out = tmp.path().join("out");

    let run = immunotrial()
        .arg("simulate")
        .arg(&file)
        .arg("--out")
        .arg(&out)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert!(!run.status.success(), "status {:?}: {stderr}", run.status);
    let line = line_of(&text, "-5.0");
    let located = format!("{}:{line}:", file.display());
    assert!(
        stderr.contains(&located),
        "stderr should contain {located:?}: {stderr}"
    );
    assert!(stderr.contains("arm[1].dose[0].amount_per_day"), "{stderr}");
    assert!(!out.exists(), "the output folder should not be created");
}

#[test]
fn simulate_with_an_invalid_override_fails_and_writes_nothing() {
    let tmp = TempDir::new("simulate-set");
    let file = tmp.path().join("good.toml");
    std::fs::write(&file, BASE).unwrap();
    let out = tmp.path().join("out");

    let run = immunotrial()
        .arg("simulate")
        .arg(&file)
        .arg("--out")
        .arg(&out)
        .args(["--set", "model.initial.T=-1"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert!(!run.status.success(), "status {:?}: {stderr}", run.status);
    assert!(stderr.contains("--set model.initial.T=-1"), "{stderr}");
    assert!(!out.exists(), "the output folder should not be created");
}

#[test]
fn validate_on_an_invalid_scenario_exits_non_zero() {
    let tmp = TempDir::new("validate");
    let text = replace_line("preset = \"patient9\"", "preset = \"patient11\"");
    let file = tmp.path().join("bad.toml");
    std::fs::write(&file, &text).unwrap();

    let run = immunotrial().arg("validate").arg(&file).output().unwrap();
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert!(!run.status.success(), "{stderr}");
    let line = line_of(&text, "patient11");
    assert!(
        stderr.contains(&format!("{}:{line}:1: `model.preset`", file.display())),
        "{stderr}"
    );
    assert!(stderr.contains("patient9"), "{stderr}");
    assert!(!String::from_utf8_lossy(&run.stdout).contains("OK"));
}

#[test]
fn validate_on_a_shipped_scenario_prints_ok() {
    let file = Path::new(env!("CARGO_MANIFEST_DIR")).join("models/kosinsky2018_rt_antipdl1.toml");
    let run = immunotrial().arg("validate").arg(&file).output().unwrap();
    let stdout = String::from_utf8_lossy(&run.stdout);
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert!(run.status.success(), "status {:?}: {stderr}", run.status);
    assert_eq!(stdout.trim(), "OK", "stderr: {stderr}");
}

/// An absolute tolerance beyond any state's magnitude asks for no accuracy at all; at 1e300
/// NaN reached the output (found by fuzzing).
#[test]
fn an_absolute_tolerance_beyond_any_magnitude_is_refused() {
    for atol in ["atol = 1e101", "atol = { T = 1e300 }"] {
        let text = insert_after("rtol = 1e-6", atol);
        let error = must_fail(parse(&text), &text);
        let d = error
            .0
            .iter()
            .find(|d| d.key.starts_with("solver.atol"))
            .unwrap_or_else(|| panic!("{error}"));
        assert_mentions(d, &["expected an absolute tolerance of at most 1e100"]);
    }
    let text = insert_after("rtol = 1e-6", "atol = 1e100");
    parse(&text).unwrap_or_else(|e| panic!("{e}"));
}

/// Errors come in the order of the file, whichever check found them (an unknown key is found
/// before any value is checked), and a file that cannot be read is named without a line.
#[test]
fn errors_come_in_the_order_of_the_file() {
    let text = replace_line("horizon_days = 100", "horizon_days = -5");
    let text = text.replace("start_day = 10.0\n", "start_day = 10.0\nstop_day = 20.0\n");
    let error = must_fail(parse(&text), &text);
    let lines: Vec<usize> = error
        .0
        .iter()
        .map(|d| match d.location {
            Location::File { line, .. } => line,
            ref other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(
        lines,
        [
            line_of(&text, "horizon_days = -5"),
            line_of(&text, "stop_day =")
        ],
        "{error}"
    );
    let missing = Path::new("tests/no_such_scenario.toml");
    let error = Scenario::load(missing, &[]).unwrap_err();
    assert_eq!(
        error.0[0].location,
        Location::WholeFile(missing.display().to_string())
    );
    assert!(
        error.to_string().starts_with(&format!(
            "error: {}: cannot read the scenario file",
            missing.display()
        )),
        "{error}"
    );
}

/// A renamed parameter is still read under its former name, so that the
/// `scenario.resolved.toml` of a run made before the rename can be analysed again: Kosinsky's
/// mouse weight was `weight_kg` until it became `mouse_weight_kg`.
#[test]
fn a_renamed_parameter_is_read_under_its_former_name() {
    let text = "name = \"k\"\nhorizon_days = 10\n[model]\nname = \"kosinsky2018\"\n[model.parameters]\nweight_kg = 0.025\n[[arm]]\nname = \"a\"\n\
                [cohort]\npatients = 2\nseed = 1\n[cohort.parameters]\nweight_kg = { dist = \"uniform\", min = 0.02, max = 0.03 }\n";
    let s = parse(text).unwrap();
    assert_eq!(param(&s, "mouse_weight_kg"), 0.025);
    let cohort = s.cohort.expect("a cohort");
    assert_eq!(cohort.varying[0].name, "mouse_weight_kg");
    let resolved = toml::to_string(&s.resolved).unwrap();
    assert!(resolved.contains("mouse_weight_kg = 0.025"), "{resolved}");
    // And the resolved file reads back to the same parameters.
    let again = parse(&resolved).unwrap();
    assert_eq!(again.parameters, s.parameters);
    // A correlation may name it by its former name too (the cohort vanished without a word).
    let correlated = format!(
        "{text}S_L = {{ dist = \"lognormal\", median = 8.89, omega = 0.696 }}\n[[cohort.correlation]]\nbetween = [\"weight_kg\", \"S_L\"]\nrho = 0.5\n"
    );
    let s = parse(&correlated).unwrap();
    let cohort = s.cohort.expect("the cohort is kept");
    assert!(cohort.cholesky[(1, 0)].abs() > 0.4, "{}", cohort.cholesky);
    // Both names at once is an error, in the file, by --set and in a cohort alike.
    let both = text.replace(
        "weight_kg = 0.025\n",
        "weight_kg = 0.025\nmouse_weight_kg = 0.03\n",
    );
    let e = parse(&both).unwrap_err();
    assert!(
        e.0.iter().any(|d| d.key == "model.parameters.weight_kg"
            && d.message.contains("former name of `mouse_weight_kg`")),
        "{e}"
    );
    let e = parse_with(text, &["model.parameters.mouse_weight_kg=0.03"]).unwrap_err();
    assert!(e.to_string().contains("former name"), "{e}");
    let sampled_twice = text.replace(
        "[cohort.parameters]\n",
        "[cohort.parameters]\nmouse_weight_kg = { dist = \"uniform\", min = 0.02, max = 0.03 }\n",
    );
    let e =
        parse(&sampled_twice.replace("[model.parameters]\nweight_kg = 0.025\n", "")).unwrap_err();
    assert!(
        e.0.iter()
            .any(|d| d.key == "cohort.parameters.weight_kg" && d.message.contains("sampled too")),
        "{e}"
    );
}

/// An error in one element of a list that spans lines points at that element, not at the
/// list's key (the key's line had been given, however far above).
#[test]
fn an_element_of_a_list_over_lines_is_located_where_it_is_written() {
    let text = insert_after(
        "start_day = 10.0",
        "\n[trial]\nlandmark_days = [\n    10,\n    5,\n]",
    );
    let error = must_fail(parse(&text), &text);
    let d = error
        .0
        .iter()
        .find(|d| d.key == "trial.landmark_days[1]")
        .unwrap_or_else(|| panic!("{error}"));
    let line = line_of(&text, "    5,");
    assert_eq!(
        d.location,
        Location::File {
            path: ORIGIN.to_string(),
            line,
            column: 5,
        },
        "{error}"
    );
    assert_mentions(d, &["increasing order", "found 5 after 10"]);
}

#[test]
fn override_of_a_list_with_a_wrong_element_names_the_element() {
    let error = must_fail(
        parse_with(BASE, &["trial.landmark_days=[10, \"x\", 30]"]),
        BASE,
    );
    assert_eq!(error.0.len(), 1, "{error}");
    let d = &error.0[0];
    assert_eq!(
        d.location,
        Location::Override("trial.landmark_days=[10, \"x\", 30]".into())
    );
    assert_eq!(d.key, "trial.landmark_days[1]");
    assert_mentions(d, &["\"x\"", "expected a number"]);
    // A value of the wrong kind for the whole key is still the key's.
    let error = must_fail(parse_with(BASE, &["trial.landmark_days=\"x\""]), BASE);
    assert_eq!(error.0[0].key, "trial.landmark_days", "{error}");
}
