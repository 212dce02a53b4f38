//! How far one solver setting is from a tight reference on the shipped TNBC scenario, over
//! a spread of patients (growth r, immune kill e, initial volume): `cargo run --release
//! --example accuracy_tnbc METHOD RTOL`. Prints, per patient, the worst relative error of any
//! state or derived output above 1 (the accuracy standard of tests/accuracy.rs), the worst on
//! the tumour volume, and the work. The reference is RODAS4 at rtol 1e-11, every output a
//! step end (it agrees with DOP853 at 1e-12 to 4e-10 on this scenario).
use immunotrial::engine::{Method, Solution, simulate};
use immunotrial::scenario::Scenario;
use std::time::Instant;

fn worst(a: &Solution, b: &Solution, only: Option<usize>) -> f64 {
    let mut w: f64 = 0.0;
    let mut at = (0, 0.0, 0.0, 0.0);
    for row in 0..a.len() {
        let values: Vec<(f64, f64)> = a
            .state(row)
            .iter()
            .zip(b.state(row))
            .chain(a.derived_row(row).iter().zip(b.derived_row(row)))
            .map(|(x, y)| (*x, *y))
            .collect();
        for (k, (x, r)) in values.into_iter().enumerate() {
            if only.is_some_and(|o| o != k) {
                continue;
            }
            let e = if r.abs() > 1.0 {
                (x - r).abs() / r.abs()
            } else {
                (x - r).abs() / 1e-5 * 1e-6
            };
            if e > w {
                w = e;
                at = (k, a.time_day[row], x, r);
            }
        }
    }
    if only.is_none() && std::env::var_os("WHERE").is_some() {
        eprintln!(
            "  worst {w:.2e} at column {} day {} ({} vs {})",
            at.0, at.1, at.2, at.3
        );
    }
    w
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let base = Scenario::load(std::path::Path::new("models/tnbc_combinations.toml"), &[])
        .unwrap_or_else(|e| panic!("{e}"));
    let method = Method::from_name(&args[0]).expect("a method");
    let rtol: f64 = args[1].parse().expect("rtol");
    let spec = base.model;
    let tv_col = spec.states.len()
        + spec
            .derived
            .iter()
            .position(|d| d.name == "tumour_volume_mm3")
            .unwrap();
    let (ir, ie) = (
        spec.parameter_index("r").unwrap(),
        spec.parameter_index("e").unwrap(),
    );
    let itv = spec.state_index("TV").unwrap();
    let mut overall: f64 = 0.0;
    let mut total_steps = 0;
    let mut total_time = 0.0;
    for (r, e, tv) in [
        (0.0077, 5e-6, 14137.17),
        (0.004, 5e-6, 14137.17),
        (0.015, 5e-6, 14137.17),
        (0.0077, 5e-7, 14137.17),
        (0.0077, 5e-5, 14137.17),
        (0.0077, 2e-5, 5000.0),
        (0.012, 1.5e-5, 40000.0),
        (0.005, 1e-4, 3000.0),
    ] {
        let mut s = base.clone();
        s.solver.stop_when_stiff = false;
        s.solver.max_steps = 10_000_000;
        s.parameters[ir] = r;
        s.parameters[ie] = e;
        s.initial[itv] = tv;
        let mut reference = s.clone();
        reference.solver.method = Method::Rodas4;
        reference.solver.rtol = 1e-11;
        let reference = simulate(&reference).unwrap();
        let mut ours = s.clone();
        ours.solver.method = method;
        ours.solver.rtol = rtol;
        let started = Instant::now();
        let solutions = simulate(&ours).unwrap();
        total_time += started.elapsed().as_secs_f64();
        let mut w_all: f64 = 0.0;
        let mut w_tv: f64 = 0.0;
        let mut steps = 0;
        for (a, b) in solutions.iter().zip(&reference) {
            w_all = w_all.max(worst(a, b, None));
            w_tv = w_tv.max(worst(a, b, Some(tv_col)));
            steps += a.stats.accepted_steps + a.stats.rejected_steps;
        }
        total_steps += steps;
        overall = overall.max(w_all);
        println!(
            "r {r:<7} e {e:<7} TV0 {tv:<9} worst {w_all:.2e}  tumour volume {w_tv:.2e}  steps {steps}"
        );
    }
    println!(
        "{} rtol {rtol:e}: worst {overall:.2e}, {total_steps} steps, {:.0} µs per patient (6 arms)",
        method.name(),
        total_time / 8.0 * 1e6
    );
}
