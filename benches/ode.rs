//! One 1000-day patient of each model, daily output, rtol 1e-8, with the default method
//! (dop853) or the one named. The target: Kuznetsov in at most 30 µs on one core.
use criterion::{Criterion, criterion_group, criterion_main};
use immunotrial::engine::{Problem, Schedule, Solution, SolverOptions, solve_named};
use immunotrial::model::find_spec;
use immunotrial::scenario::Scenario;
use std::hint::black_box;
use std::path::Path;

fn one_patient(
    c: &mut Criterion,
    label: &str,
    scenario_file: &str,
    arm: usize,
    method: Option<&str>,
) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("models")
        .join(scenario_file);
    // Past day 50 the Kosinsky tumour sits at a plateau where DSB repair (50/day) limits an
    // explicit method's steps, and de Pillis is stiff whenever the tumour is large: both carry
    // on with small steps rather than stop.
    let overrides: Vec<String> = [
        "horizon_days=1000",
        "output_every_days=1",
        "solver.stiffness=continue",
        "solver.max_steps=10000000",
    ]
    .iter()
    .map(|s| s.to_string())
    .chain(method.map(|m| format!("solver.method={m}")))
    .collect();
    let scenario = Scenario::load(&path, &overrides).expect("shipped scenario is valid");
    let spec = find_spec(scenario.model.name).unwrap();
    let schedule: &Schedule = &scenario.arms[arm].schedule;
    let options: SolverOptions = scenario.solver.clone();
    c.bench_function(label, |b| {
        b.iter(|| {
            let problem = Problem {
                parameters: &scenario.parameters,
                initial: &scenario.initial,
                schedule,
                exposures: &[],
                horizon_day: 1000.0,
                output_every_day: 1.0,
            };
            let mut solution = Solution::new(spec.states.len(), spec.derived.len());
            let stats = solve_named(spec.name, black_box(&problem), &options, &mut solution)
                .unwrap()
                .unwrap();
            black_box((stats, solution))
        })
    });
}

fn models(c: &mut Criterion) {
    one_patient(
        c,
        "kuznetsov1994 1000 d, daily output",
        "kuznetsov1994_dormancy.toml",
        0,
        None,
    );
    one_patient(
        c,
        "depillis2006 1000 d, chemo q10d + TIL + IL-2, dopri5 (stiffness continue)",
        "depillis2006_patient9_mixed_therapy.toml",
        3,
        Some("dopri5"),
    );
    one_patient(
        c,
        "depillis2006 1000 d, chemo q10d + TIL + IL-2, rodas4",
        "depillis2006_patient9_mixed_therapy.toml",
        3,
        Some("rodas4"),
    );
    one_patient(
        c,
        "kosinsky2018 1000 d, RT + anti-PD-L1 day 7, dop853",
        "kosinsky2018_rt_antipdl1.toml",
        3,
        None,
    );
    one_patient(
        c,
        "kosinsky2018 1000 d, RT + anti-PD-L1 day 7, rodas4",
        "kosinsky2018_rt_antipdl1.toml",
        3,
        Some("rodas4"),
    );
}

criterion_group!(benches, models);
criterion_main!(benches);
