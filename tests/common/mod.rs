//! Helpers shared by the integration tests.
#![allow(dead_code)]

use immunotrial::engine::{
    Administration, Delivery, Method, Problem, Schedule, Solution, SolverOptions, solve_named,
};
use immunotrial::model::find_spec;
use immunotrial::scenario::Scenario;
use std::path::Path;

/// Runs a built-in model with its defaults (and preset), overriding parameters and initial
/// states by name.
#[allow(clippy::too_many_arguments)]
pub fn run(
    model: &str,
    preset: Option<&str>,
    parameters: &[(&str, f64)],
    initial: &[(&str, f64)],
    schedule: &Schedule,
    horizon_day: f64,
    output_every_day: f64,
    options: &SolverOptions,
) -> Solution {
    let spec = find_spec(model).expect("model exists");
    let (mut p, mut y0) = spec.with_preset(preset).expect("preset exists");
    for (k, v) in parameters {
        p[spec.parameter_index(k).expect("parameter exists")] = *v;
    }
    for (k, v) in initial {
        y0[spec.state_index(k).expect("state exists")] = *v;
    }
    let problem = Problem {
        parameters: &p,
        initial: &y0,
        schedule,
        exposures: &[],
        horizon_day,
        output_every_day,
        also_at_days: &[],
    };
    let mut solution = Solution::new(spec.states.len(), spec.derived.len());
    let stats = solve_named(model, &problem, options, &mut solution)
        .expect("model exists")
        .expect("solve succeeds");
    solution.stats = stats;
    solution
}

pub fn reference_options() -> SolverOptions {
    SolverOptions {
        method: Method::OdeSolversDop853,
        rtol: 1e-12,
        ..SolverOptions::default()
    }
}

/// `count` administrations of `input` every `every_day` from `start_day`.
pub fn repeated(
    input: usize,
    start_day: f64,
    every_day: f64,
    count: usize,
    kind: Delivery,
) -> Vec<Administration> {
    (0..count)
        .map(|i| Administration {
            input,
            start_day: start_day + i as f64 * every_day,
            kind,
        })
        .collect()
}

pub fn state_at(solution: &Solution, model: &str, state: &str, day: f64) -> f64 {
    let spec = find_spec(model).unwrap();
    let i = spec.state_index(state).unwrap();
    let row = solution
        .time_day
        .iter()
        .position(|t| (t - day).abs() < 1e-9)
        .expect("output at that day");
    solution.state(row)[i]
}

/// A shipped scenario from `models/`, with `--set` overrides.
pub fn load(file: &str, overrides: &[&str]) -> Scenario {
    let overrides: Vec<String> = overrides.iter().map(|s| s.to_string()).collect();
    Scenario::load(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("models")
            .join(file)
            .as_path(),
        &overrides,
    )
    .unwrap()
}

/// A shipped scenario, with `--set` overrides.
/// Kosinsky 2018's published protocols: RT 5 x 2 Gy on days 7-11 (acute fractions, input 0)
/// and anti-PD-L1 10 mg/kg (input 1) three times a week, Monday, Wednesday and Friday, for
/// three weeks from `ab_start`.
pub fn kosinsky_protocol(rt: bool, ab_start: Option<f64>) -> Schedule {
    let mut administrations = Vec::new();
    if rt {
        administrations.extend(repeated(0, 7.0, 1.0, 5, Delivery::Bolus { amount: 2.0 }));
    }
    if let Some(start) = ab_start {
        for offset in [0.0, 2.0, 4.0] {
            administrations.extend(repeated(
                1,
                start + offset,
                7.0,
                3,
                Delivery::Bolus { amount: 10.0 },
            ));
        }
    }
    Schedule { administrations }
}
