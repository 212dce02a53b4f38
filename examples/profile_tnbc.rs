//! Work and time per arm of the shipped TNBC scenario's typical patient (for profilers and
//! for choosing a method): `cargo run --release --example profile_tnbc [METHOD] [RTOL]
//! [EVERY]`. Prints, per arm, the microseconds, steps and right-hand sides of one solve.
use immunotrial::engine::{Method, simulate};
use immunotrial::scenario::Scenario;
use std::time::Instant;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut scenario = Scenario::load(std::path::Path::new("models/tnbc_combinations.toml"), &[])
        .unwrap_or_else(|e| panic!("{e}"));
    if let Some(m) = args.first() {
        scenario.solver.method =
            Method::from_name(m).unwrap_or_else(|| panic!("one of {:?}", Method::NAMES));
    }
    if let Some(r) = args.get(1) {
        scenario.solver.rtol = r.parse().expect("a relative tolerance");
    }
    if let Some(e) = args.get(2) {
        scenario.output_every_day = e.parse().expect("an output spacing in days");
    }
    let runs = 100;
    let started = Instant::now();
    let mut solutions = Vec::new();
    for _ in 0..runs {
        solutions = simulate(&scenario).unwrap_or_else(|e| panic!("{e}"));
    }
    let per_patient = started.elapsed().as_secs_f64() / runs as f64;
    println!(
        "{:.0} µs for the {} arms of one patient",
        per_patient * 1e6,
        scenario.arms.len()
    );
    for (arm, s) in scenario.arms.iter().zip(&solutions) {
        println!(
            "{:<40} {:?}  tumour at the end {:.6e}",
            arm.name,
            s.stats,
            s.last_state()[0]
        );
    }
}
