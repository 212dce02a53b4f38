//! Patients integrated several at once in SIMD lanes give exactly the bits they give alone:
//! [`immunotrial::engine::ode::lanes::solve_all`] against [`immunotrial::engine::ode::solve`],
//! the reference, on patients spread in growth, immune kill, size and drug clearance, through
//! every arm of the TNBC scenario (drugs, radiation boluses, infusions), with observers that
//! stop early, solves that fail, and a malformed problem among them; and the cohort run with
//! and without lanes.

use immunotrial::engine::ode::lanes::solve_all;
use immunotrial::engine::ode::{
    DerivedWanted, Observer, Problem, Solution, SolveError, Stats, solve,
};
use immunotrial::engine::{Method, SolverOptions};
use immunotrial::model::OdeModel;
use immunotrial::model::immunity_cycle::ImmunityCycle;
use immunotrial::model::kuznetsov1994::Kuznetsov1994;
use immunotrial::scenario::Scenario;
use immunotrial::therapy::catalogue::Potency;
use immunotrial::therapy::exposure::Exposure;
use std::path::Path;
use std::process::Command;

/// A kept solution whose observer is done from `stop_day` on (a patient's follow-up ending)
/// and reads the derived values `wanted`.
#[derive(Debug, Clone, PartialEq)]
struct StopAt {
    solution: Solution,
    stop_day: f64,
    wanted: DerivedWanted,
}

impl Observer for StopAt {
    fn start(&mut self, outputs: usize) {
        self.solution.start(outputs);
    }
    fn derived_wanted(&self) -> DerivedWanted {
        self.wanted
    }
    fn observe(&mut self, time_day: f64, state: &[f64], derived: &[f64]) {
        self.solution.observe(time_day, state, derived);
    }
    fn done(&self) -> bool {
        self.solution
            .time_day
            .last()
            .is_some_and(|&t| t >= self.stop_day)
    }
}

fn bits(values: &[f64]) -> Vec<u64> {
    values.iter().map(|v| v.to_bits()).collect()
}

/// Every problem through `solve_all` and through `solve` one by one: the same results (stats
/// and errors) and the same outputs, bit for bit.
fn assert_lanes_equal_scalar<const N: usize, M: OdeModel<N>>(
    model: &M,
    problems: &[Problem<'_>],
    stop_days: &[f64],
    options: &SolverOptions,
) -> Vec<Result<Stats, SolveError>> {
    let spec = model.spec();
    let observer = |stop_day: f64| StopAt {
        solution: Solution::new(spec.states.len(), spec.derived.len()),
        stop_day,
        wanted: DerivedWanted::All,
    };
    let mut in_lanes: Vec<StopAt> = stop_days.iter().map(|&d| observer(d)).collect();
    let results = solve_all(model, problems, options, &mut in_lanes);
    for (j, problem) in problems.iter().enumerate() {
        let mut alone = observer(stop_days[j]);
        let reference = solve(model, problem, options, &mut alone);
        assert_eq!(results[j], reference, "problem {j}: result");
        let (a, b) = (&in_lanes[j].solution, &alone.solution);
        assert_eq!(bits(&a.time_day), bits(&b.time_day), "problem {j}: times");
        assert_eq!(bits(&a.states), bits(&b.states), "problem {j}: states");
        assert_eq!(bits(&a.derived), bits(&b.derived), "problem {j}: derived");
    }
    results
}

#[test]
fn patients_in_lanes_are_the_bits_of_patients_alone() {
    let scenario = Scenario::load(Path::new("models/tnbc_combinations.toml"), &[])
        .unwrap_or_else(|e| panic!("{e}"));
    let spec = scenario.model;
    let (ir, ie) = (
        spec.parameter_index("r").unwrap(),
        spec.parameter_index("e").unwrap(),
    );
    let itv = spec.state_index("TV").unwrap();
    // 21 patients: not a multiple of the lanes, so lanes run partly empty at the end.
    let patients: Vec<(Vec<f64>, Vec<f64>, f64)> = (0..21)
        .map(|k| {
            let x = k as f64 / 20.0;
            let mut p = scenario.parameters.clone();
            p[ir] *= 0.5 + 1.5 * x;
            p[ie] *= 4f64.powf(1.0 - 2.0 * ((k * 7) % 21) as f64 / 20.0);
            let mut y0 = scenario.initial.clone();
            y0[itv] *= 0.3 + 2.0 * (((k * 5) % 21) as f64 / 20.0);
            (p, y0, 0.7 + 0.6 * ((k * 11) % 21) as f64 / 20.0)
        })
        .collect();
    let model = ImmunityCycle;
    let base = SolverOptions {
        method: Method::Dop853Bounded,
        ..scenario.solver.clone()
    };
    let mut failures = 0;
    let mut stopped = 0;
    for arm in &scenario.arms {
        // Every fourth patient's cytotoxic acts with a Hill coefficient of 1.5: a form lanes
        // evaluate one lane at a time, beside lanes evaluated together.
        let exposures: Vec<Vec<Exposure>> = patients
            .iter()
            .enumerate()
            .map(|(k, (_, _, clearance))| {
                let mut drugs: Vec<Exposure> = arm
                    .drugs
                    .iter()
                    .map(|d| {
                        let mut e = d.exposure.clone();
                        e.pk.cl_l_per_day *= clearance;
                        if let Potency::Emax { ec50_mg_per_l, .. } = e.potency
                            && k % 4 == 0
                        {
                            e.potency = Potency::Emax {
                                ec50_mg_per_l,
                                hill: 1.5,
                            };
                        }
                        e
                    })
                    .collect();
                // A second course of the first drug, 10.5 days later: two drugs on one input.
                if let Some(first) = drugs.first().cloned() {
                    let mut second = first;
                    second
                        .administrations
                        .iter_mut()
                        .for_each(|a| a.start_day += 10.5);
                    drugs.push(second);
                }
                drugs
            })
            .collect();
        let mut problems: Vec<Problem> = patients
            .iter()
            .zip(&exposures)
            .map(|((p, y0, _), exposures)| Problem {
                parameters: p,
                initial: y0,
                schedule: &arm.schedule,
                exposures,
                horizon_day: scenario.horizon_day,
                output_every_day: scenario.output_every_day,
                also_at_days: &[45.5, 100.25, 300.0],
            })
            .collect();
        // A malformed problem among them (solved alone, an error either way), and one without
        // the arm's drugs (another drug structure: solved alone).
        let short = vec![1.0; 3];
        problems.insert(
            5,
            Problem {
                parameters: &short,
                ..problems[0]
            },
        );
        problems.insert(
            9,
            Problem {
                exposures: &[],
                ..problems[1]
            },
        );
        // Some observers are done early, as a patient's follow-up ends at death or dropout.
        let stop_days: Vec<f64> = (0..problems.len())
            .map(|j| {
                if j % 3 == 1 {
                    40.0 + 37.0 * j as f64
                } else {
                    f64::INFINITY
                }
            })
            .collect();
        let results = assert_lanes_equal_scalar(&model, &problems, &stop_days, &base);
        assert!(results[5].is_err());
        stopped += stop_days.iter().filter(|d| d.is_finite()).count();
        // A step budget that some patients exhaust: they fail at the same step alone.
        let tight = SolverOptions {
            max_steps: 700,
            ..base.clone()
        };
        let results = assert_lanes_equal_scalar(&model, &problems, &stop_days, &tight);
        failures += results.iter().filter(|r| r.is_err()).count() - 1;
    }
    assert!(
        failures > 10,
        "the step budget must fail some patients: {failures}"
    );
    assert!(stopped > 30);
}

/// An observer that wants some derived values gets exactly those, the bits a whole solution
/// holds, and NaN for the others; in lanes and alone, with drugs whose inputs one of them
/// (the immune activation rate) reads and the others do not.
#[test]
fn an_observer_gets_the_derived_values_it_wants_and_no_others() {
    let scenario = Scenario::load(Path::new("models/tnbc_combinations.toml"), &[])
        .unwrap_or_else(|e| panic!("{e}"));
    let spec = scenario.model;
    let n_derived = spec.derived.len();
    let (ir, iar) = (
        spec.parameter_index("r").unwrap(),
        spec.derived.iter().position(|d| d.name == "IAR").unwrap(),
    );
    assert!(spec.derived[iar].reads_inputs && !spec.derived[0].reads_inputs);
    // The richest arm: pembrolizumab, nab-paclitaxel and radiotherapy.
    let arm = scenario.arms.last().unwrap();
    let exposures: Vec<Exposure> = arm.drugs.iter().map(|d| d.exposure.clone()).collect();
    let parameters: Vec<Vec<f64>> = (0..9)
        .map(|k| {
            let mut p = scenario.parameters.clone();
            p[ir] *= 0.6 + 0.1 * k as f64;
            p
        })
        .collect();
    let problems: Vec<Problem> = parameters
        .iter()
        .map(|p| Problem {
            parameters: p,
            initial: &scenario.initial,
            schedule: &arm.schedule,
            exposures: &exposures,
            horizon_day: 200.0,
            output_every_day: 1.0,
            also_at_days: &[45.5],
        })
        .collect();
    let options = SolverOptions {
        method: Method::Dop853Bounded,
        ..scenario.solver.clone()
    };
    let model = ImmunityCycle;
    let whole: Vec<Solution> = problems
        .iter()
        .map(|problem| {
            let mut s = Solution::new(spec.states.len(), n_derived);
            solve(&model, problem, &options, &mut s).unwrap();
            s
        })
        .collect();
    let observer = |wanted| StopAt {
        solution: Solution::new(spec.states.len(), n_derived),
        stop_day: f64::INFINITY,
        wanted,
    };
    for wanted in [
        DerivedWanted::One(0),
        DerivedWanted::One(iar),
        DerivedWanted::Nothing,
        DerivedWanted::All,
    ] {
        let mut in_lanes: Vec<StopAt> = problems.iter().map(|_| observer(wanted)).collect();
        for r in solve_all(&model, &problems, &options, &mut in_lanes) {
            r.unwrap();
        }
        for (j, problem) in problems.iter().enumerate() {
            let mut alone = observer(wanted);
            solve(&model, problem, &options, &mut alone).unwrap();
            for got in [&in_lanes[j].solution, &alone.solution] {
                let full = &whole[j];
                assert_eq!(bits(&got.time_day), bits(&full.time_day));
                assert_eq!(bits(&got.states), bits(&full.states));
                for row in 0..full.len() {
                    for (k, (g, f)) in got
                        .derived_row(row)
                        .iter()
                        .zip(full.derived_row(row))
                        .enumerate()
                    {
                        let is_wanted = match wanted {
                            DerivedWanted::All => true,
                            DerivedWanted::One(i) => i == k,
                            DerivedWanted::Nothing => false,
                        };
                        if is_wanted {
                            assert_eq!(
                                g.to_bits(),
                                f.to_bits(),
                                "{wanted:?}: row {row}, derived {k}"
                            );
                        } else {
                            assert!(g.is_nan(), "{wanted:?}: row {row}, derived {k} is {g}");
                        }
                    }
                }
            }
        }
    }
}

/// A model without lanes, and a method other than `dop853_bounded`, are solved one by one by
/// `solve_all`, with the results of `solve`.
#[test]
fn what_lanes_do_not_cover_is_solved_one_at_a_time() {
    let spec = Kuznetsov1994.spec();
    let (p, y0) = spec.with_preset(None).unwrap();
    let schedule = immunotrial::engine::Schedule::default();
    let problem = Problem {
        parameters: &p,
        initial: &y0,
        schedule: &schedule,
        exposures: &[],
        horizon_day: 200.0,
        output_every_day: 1.0,
        also_at_days: &[],
    };
    let problems = vec![problem; 3];
    let stops = [f64::INFINITY, 50.0, f64::INFINITY];
    for method in [Method::Dop853Bounded, Method::Dop853] {
        let options = SolverOptions {
            method,
            ..SolverOptions::default()
        };
        let results = assert_lanes_equal_scalar(&Kuznetsov1994, &problems, &stops, &options);
        assert!(results.iter().all(Result::is_ok));
    }
    let scenario = Scenario::load(Path::new("models/tnbc_combinations.toml"), &[]).unwrap();
    let exposures: Vec<Exposure> = scenario.arms[3]
        .drugs
        .iter()
        .map(|d| d.exposure.clone())
        .collect();
    let problem = Problem {
        parameters: &scenario.parameters,
        initial: &scenario.initial,
        schedule: &scenario.arms[3].schedule,
        exposures: &exposures,
        horizon_day: 120.0,
        output_every_day: 1.0,
        also_at_days: &[],
    };
    let options = SolverOptions {
        method: Method::Auto,
        ..scenario.solver.clone()
    };
    assert_lanes_equal_scalar(&ImmunityCycle, &[problem; 2], &[f64::INFINITY; 2], &options);
}

/// The cohort run writes the same files with lanes and one patient at a time (`--no-lanes`):
/// the TNBC cohort (catalogue drugs, radiation boluses, infusions) and Kosinsky's virtual
/// study (the model's own antibody dosed into its depot state, radiation), the two models
/// that have lanes.
#[test]
fn a_cohort_in_lanes_writes_the_files_of_one_at_a_time() {
    let out = std::env::temp_dir().join(format!("immunotrial_lanes_{}", std::process::id()));
    for (scenario, patients) in [
        ("models/tnbc_combinations.toml", "40"),
        ("models/kosinsky2018_virtual_study.toml", "300"),
    ] {
        let run = |dir: &str, extra: &[&str]| {
            let status = Command::new(env!("CARGO_BIN_EXE_immunotrial"))
                .args(["run", scenario, "--patients", patients])
                .args(["--trajectories", "40", "--quiet", "--out"])
                .arg(out.join(dir))
                .args(["--set", "solver.method=dop853_bounded"])
                .args(extra)
                .status()
                .expect("the binary runs");
            assert!(status.success(), "{scenario}");
        };
        run("lanes", &[]);
        run("alone", &["--no-lanes"]);
        // run.json says how patients were integrated.
        for (dir, at_once) in [("lanes", 8), ("alone", 1)] {
            let text = std::fs::read_to_string(out.join(dir).join("run.json")).unwrap();
            let json: serde_json::Value = serde_json::from_str(&text).unwrap();
            assert_eq!(json["patients_at_once"], at_once, "{scenario}: {dir}");
        }
        for file in ["patients.csv", "trajectories.csv", "assessments.csv"] {
            let a = std::fs::read(out.join("lanes").join(file)).unwrap();
            let b = std::fs::read(out.join("alone").join(file)).unwrap();
            assert!(a.len() > 1000, "{scenario}: {file} holds rows");
            assert!(
                a == b,
                "{scenario}: {file} differs between lanes and one at a time"
            );
        }
        std::fs::remove_dir_all(&out).ok();
    }
}
