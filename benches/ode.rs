//! One patient of each model, daily output, rtol 1e-8, with the scenario's method or the one
//! named. Targets: Kuznetsov over 1000 days in at most 30 µs on one core (issue 2); a 2-year
//! immunity_cycle patient on the TNBC scenario's richest arm in at most 3 times a 2-year
//! untreated kosinsky2018 patient (issue 3).
use criterion::{Criterion, criterion_group, criterion_main};
use immunotrial::engine::{Problem, Solution, solve_named};
use immunotrial::scenario::Scenario;
use immunotrial::therapy::exposure::Exposure;
use std::hint::black_box;
use std::path::Path;

fn one_patient(
    c: &mut Criterion,
    label: &str,
    scenario_file: &str,
    arm: &str,
    horizon_days: f64,
    method: Option<&str>,
) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("models")
        .join(scenario_file);
    // Past day 50 the Kosinsky tumour sits at a plateau where DSB repair (50/day) limits an
    // explicit method's steps, and de Pillis is stiff whenever the tumour is large: explicit
    // methods carry on with small steps rather than stop.
    let overrides: Vec<String> = [
        format!("horizon_days={horizon_days}"),
        "output_every_days=1".to_string(),
        "solver.stiffness=continue".to_string(),
        "solver.max_steps=10000000".to_string(),
    ]
    .into_iter()
    .chain(method.map(|m| format!("solver.method={m}")))
    .collect();
    let scenario = Scenario::load(&path, &overrides).expect("shipped scenario is valid");
    let arm = scenario
        .arms
        .iter()
        .find(|a| a.name == arm)
        .expect("arm exists");
    let exposures: Vec<Exposure> = arm.drugs.iter().map(|d| d.exposure.clone()).collect();
    let spec = scenario.model;
    c.bench_function(label, |b| {
        b.iter(|| {
            let problem = Problem {
                parameters: &scenario.parameters,
                initial: &scenario.initial,
                schedule: &arm.schedule,
                exposures: &exposures,
                horizon_day: horizon_days,
                output_every_day: 1.0,
                also_at_days: &[],
            };
            let mut solution = Solution::new(spec.states.len(), spec.derived.len());
            let stats = solve_named(
                spec.name,
                black_box(&problem),
                &scenario.solver,
                &mut solution,
            )
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
        "untreated",
        1000.0,
        None,
    );
    let mixed = "depillis2006_patient9_mixed_therapy.toml";
    one_patient(
        c,
        "depillis2006 1000 d, chemo q10d + TIL + IL-2, rodas4",
        mixed,
        "chemo q10d + TIL + IL-2",
        1000.0,
        None,
    );
    one_patient(
        c,
        "depillis2006 1000 d, chemo q10d + TIL + IL-2, rodas5p",
        mixed,
        "chemo q10d + TIL + IL-2",
        1000.0,
        Some("rodas5p"),
    );
    one_patient(
        c,
        "depillis2006 1000 d, chemo q10d + TIL + IL-2, dopri5",
        mixed,
        "chemo q10d + TIL + IL-2",
        1000.0,
        Some("dopri5"),
    );
    let kosinsky = "kosinsky2018_rt_antipdl1.toml";
    one_patient(
        c,
        "kosinsky2018 1000 d, RT + anti-PD-L1 day 7, dop853",
        kosinsky,
        "RT + anti-PD-L1 from day 7",
        1000.0,
        None,
    );
    one_patient(
        c,
        "kosinsky2018 1000 d, RT + anti-PD-L1 day 7, rodas4",
        kosinsky,
        "RT + anti-PD-L1 from day 7",
        1000.0,
        Some("rodas4"),
    );
    one_patient(
        c,
        "kosinsky2018 730 d, untreated, rodas4",
        kosinsky,
        "control",
        730.0,
        Some("rodas4"),
    );
    one_patient(
        c,
        "kosinsky2018 730 d, untreated, dop853",
        kosinsky,
        "control",
        730.0,
        None,
    );
    one_patient(
        c,
        "kosinsky2018 730 d, untreated, auto",
        kosinsky,
        "control",
        730.0,
        Some("auto"),
    );
    let tnbc = "tnbc_combinations.toml";
    one_patient(
        c,
        "immunity_cycle 730 d, pembrolizumab + nab-paclitaxel + RT, dop853_bounded",
        tnbc,
        "pembrolizumab + nab-paclitaxel + RT",
        730.0,
        None,
    );
    one_patient(
        c,
        "immunity_cycle 730 d, pembrolizumab + nab-paclitaxel + RT, auto",
        tnbc,
        "pembrolizumab + nab-paclitaxel + RT",
        730.0,
        Some("auto"),
    );
    one_patient(
        c,
        "immunity_cycle 730 d, pembrolizumab + nab-paclitaxel + RT, rodas4",
        tnbc,
        "pembrolizumab + nab-paclitaxel + RT",
        730.0,
        Some("rodas4"),
    );
    one_patient(
        c,
        "immunity_cycle 730 d, pembrolizumab + nab-paclitaxel + RT, rodas5p",
        tnbc,
        "pembrolizumab + nab-paclitaxel + RT",
        730.0,
        Some("rodas5p"),
    );
    one_patient(
        c,
        "immunity_cycle 730 d, pembrolizumab + nab-paclitaxel + RT, dop853",
        tnbc,
        "pembrolizumab + nab-paclitaxel + RT",
        730.0,
        Some("dop853"),
    );
}

criterion_group!(benches, models);
criterion_main!(benches);
