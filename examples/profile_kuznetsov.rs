//! Times one 1000-day Kuznetsov patient many times over (for profilers such as perf or
//! callgrind): `cargo run --release --example profile_kuznetsov`. `EVERY=10` sets the output
//! spacing in days (default 1), to separate the cost of outputs from that of integration;
//! `RUNS=200` sets the number of patients (default 20000).
use immunotrial::engine::{Problem, Schedule, Solution, SolverOptions, solve_named};
use immunotrial::model::find_spec;
use std::time::Instant;

fn main() {
    let spec = find_spec("kuznetsov1994").unwrap();
    let (parameters, initial) = spec.with_preset(None).unwrap();
    let schedule = Schedule::default();
    let problem = Problem {
        parameters: &parameters,
        initial: &initial,
        schedule: &schedule,
        exposures: &[],
        horizon_day: 1000.0,
        output_every_day: std::env::var("EVERY")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(1.0),
        also_at_days: &[],
    };
    let options = SolverOptions::default();
    // Fewer under callgrind, which runs some 50 times slower.
    let runs = std::env::var("RUNS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(20_000);
    let started = Instant::now();
    let mut stats = Default::default();
    for _ in 0..runs {
        let mut solution = Solution::new(2, 0);
        stats = solve_named("kuznetsov1994", &problem, &options, &mut solution)
            .unwrap()
            .unwrap();
        std::hint::black_box(&solution);
    }
    let per_run = started.elapsed().as_secs_f64() / runs as f64;
    println!("{:.1} µs per 1000-day patient; {stats:?}", per_run * 1e6);
}
