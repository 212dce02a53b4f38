//! Time per patient-step of the TNBC scenario's patients integrated in SIMD lanes against one
//! at a time: `cargo run --release --example profile_lanes [ARM] [PATIENTS] [REPEATS]` (ARM an
//! index into the scenario's arms, default 3, pembrolizumab + nab-paclitaxel). Patients are the
//! scenario's patient with growth, immune kill, size and drug clearance spread by up to +-10%
//! (deterministically); each is followed to the horizon (no early stop). A loop for profilers
//! too (a fourth argument `lanes` leaves out the one-at-a-time runs).
use immunotrial::engine::ode::lanes::solve_all;
use immunotrial::engine::ode::{Problem, Solution, solve};
use immunotrial::engine::{Method, SolverOptions};
use immunotrial::model::immunity_cycle::ImmunityCycle;
use immunotrial::scenario::Scenario;
use immunotrial::therapy::exposure::Exposure;
use std::time::Instant;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let arm_index: usize = args.first().map_or(3, |a| a.parse().expect("an arm index"));
    let n: usize = args
        .get(1)
        .map_or(256, |a| a.parse().expect("a number of patients"));
    let repeats: usize = args
        .get(2)
        .map_or(3, |a| a.parse().expect("a number of repeats"));
    // `lanes` as a fourth argument: lanes only (for a profiler).
    let only_lanes = args.get(3).is_some_and(|a| a == "lanes");
    let scenario = Scenario::load(std::path::Path::new("models/tnbc_combinations.toml"), &[])
        .unwrap_or_else(|e| panic!("{e}"));
    let spec = scenario.model;
    let arm = &scenario.arms[arm_index];
    let (ir, ie, itv) = (
        spec.parameter_index("r").unwrap(),
        spec.parameter_index("e").unwrap(),
        spec.state_index("TV").unwrap(),
    );
    // A deterministic spread in [0.9, 1.1].
    let factor =
        |k: usize, salt: usize| 0.9 + 0.2 * (((k * 7919 + salt * 104_729) % 1000) as f64 / 999.0);
    let patients: Vec<(Vec<f64>, Vec<f64>, Vec<Exposure>)> = (0..n)
        .map(|k| {
            let mut p = scenario.parameters.clone();
            p[ir] *= factor(k, 1);
            p[ie] *= factor(k, 2);
            let mut y0 = scenario.initial.clone();
            y0[itv] *= factor(k, 3);
            let exposures = arm
                .drugs
                .iter()
                .map(|d| {
                    let mut e = d.exposure.clone();
                    e.pk.cl_l_per_day *= factor(k, 4);
                    e
                })
                .collect();
            (p, y0, exposures)
        })
        .collect();
    let problems: Vec<Problem> = patients
        .iter()
        .map(|(p, y0, exposures)| Problem {
            parameters: p,
            initial: y0,
            schedule: &arm.schedule,
            exposures,
            horizon_day: scenario.horizon_day,
            output_every_day: scenario.output_every_day,
            also_at_days: &[],
        })
        .collect();
    let options = SolverOptions {
        method: Method::Dop853Bounded,
        ..scenario.solver.clone()
    };
    let fresh = || -> Vec<Solution> {
        (0..n)
            .map(|_| Solution::new(spec.states.len(), spec.derived.len()))
            .collect()
    };
    println!("arm `{}`, {n} patients, best of {repeats}", arm.name);
    let mut steps = 0;
    let mut best = [f64::INFINITY; 2];
    for _ in 0..repeats {
        let mut solutions = fresh();
        let started = Instant::now();
        let results = solve_all(&ImmunityCycle, &problems, &options, &mut solutions);
        best[0] = best[0].min(started.elapsed().as_secs_f64());
        steps = results
            .iter()
            .map(|r| {
                let s = r.as_ref().expect("solves");
                s.accepted_steps + s.rejected_steps
            })
            .sum::<u64>();
        if only_lanes {
            continue;
        }
        let mut alone = fresh();
        let started = Instant::now();
        for (problem, solution) in problems.iter().zip(alone.iter_mut()) {
            solve(&ImmunityCycle, problem, &options, solution).expect("solves");
        }
        best[1] = best[1].min(started.elapsed().as_secs_f64());
        assert!(solutions == alone, "lanes differ from one at a time");
    }
    for (name, seconds) in ["lanes", "one at a time"].iter().zip(best) {
        println!(
            "{name:>14}: {:8.1} ms, {:6.1} ns a patient-step ({steps} steps)",
            seconds * 1e3,
            seconds * 1e9 / steps as f64
        );
    }
}
