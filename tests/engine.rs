//! Engine behaviour a modeler relies on: failures do not depend on where unrelated doses cut a
//! run, floating-point neighbours in a schedule are one instant, and a malformed problem is an
//! error, never a panic.
use immunotrial::engine::{
    Administration, Delivery, Failure, Method, Observer, Problem, Schedule, Solution,
    SolverOptions, simulate, solve_named,
};
use immunotrial::therapy::catalogue::Potency;
use immunotrial::therapy::exposure::Exposure;
use immunotrial::therapy::pk::{Administration as DrugAdministration, TwoCompartment};
mod common;
use common::load;

/// Kosinsky's RT arm over 1000 days turns stiff on the plateau. The stiffness test and the step
/// budget run over the whole solve, so zero-amount doses that cut the run into 5-day segments
/// change nothing: it fails the same way, on the same day.
#[test]
fn stiffness_is_detected_whatever_segments_cut_the_run() {
    let base = load("kosinsky2018_rt_antipdl1.toml", &["horizon_days=1000"]);
    let arm = base
        .arms
        .iter()
        .position(|a| a.name == "RT 5x2 Gy")
        .unwrap();
    let mut only_rt = base.clone();
    only_rt.arms = vec![base.arms[arm].clone()];
    let plain = simulate(&only_rt).unwrap_err();
    let mut cut = only_rt.clone();
    cut.arms[0]
        .schedule
        .administrations
        .extend((0..199).map(|i| Administration {
            input: 1,
            start_day: 2.5 + 5.0 * i as f64,
            kind: Delivery::Bolus { amount: 0.0 },
        }));
    let cut = simulate(&cut).unwrap_err();
    assert_eq!(plain.error.failure, Failure::Stiff);
    assert_eq!(cut.error.failure, Failure::Stiff);
    assert!(
        (plain.error.day - cut.error.day).abs() < 20.0,
        "{} vs {}",
        plain.error.day,
        cut.error.day
    );
}

/// 0.1 + 0.2 is 0.30000000000000004: an infusion ending there and a bolus at 0.3 must not
/// leave a 4e-17-day segment for the solver to underflow on, whatever the method.
#[test]
fn floating_point_neighbours_in_a_schedule_solve_with_every_method() {
    for method in Method::NAMES {
        let mut s = load(
            "kosinsky2018_acute_dose_lq.toml",
            &["horizon_days=1", &format!("solver.method={method}")],
        );
        s.arms.truncate(1);
        s.arms[0].schedule.administrations = vec![
            Administration {
                input: 1,
                start_day: 0.1,
                kind: Delivery::Rate {
                    amount_per_day: 10.0,
                    duration_days: 0.2,
                },
            },
            Administration {
                input: 1,
                start_day: 0.3,
                kind: Delivery::Bolus { amount: 1.0 },
            },
        ];
        let solutions = simulate(&s).unwrap_or_else(|e| panic!("{method}: {e}"));
        // 10 mg/kg/day for 0.2 days, then 1 mg/kg: 3 mg/kg in all, 0.4 nmol, is in the body.
        let last = solutions[0].last_state();
        assert!(last[6] + last[7] > 0.0, "{method}");
    }
}

#[test]
fn a_malformed_problem_is_an_error_not_a_panic() {
    let schedule = Schedule::default();
    let problem = Problem {
        parameters: &[1.0],
        initial: &[1.0, 2.0],
        schedule: &schedule,
        exposures: &[],
        horizon_day: 10.0,
        output_every_day: 1.0,
        also_at_days: &[],
    };
    // Kuznetsov's solve must refuse `problem` as malformed.
    let refused = |problem: &Problem<'_>, options: &SolverOptions| {
        let mut solution = Solution::new(2, 0);
        let error = solve_named("kuznetsov1994", problem, options, &mut solution)
            .unwrap()
            .unwrap_err();
        assert!(
            matches!(error.failure, Failure::InvalidProblem(_)),
            "{error}"
        );
    };
    refused(&problem, &SolverOptions::default());
    let bad_input = Schedule {
        administrations: vec![Administration {
            input: 0,
            start_day: 1.0,
            kind: Delivery::Bolus { amount: 1.0 },
        }],
    };
    let (p, y0) = immunotrial::model::find_spec("kuznetsov1994")
        .unwrap()
        .with_preset(None)
        .unwrap();
    let problem = Problem {
        parameters: &p,
        initial: &y0,
        schedule: &bad_input,
        exposures: &[],
        horizon_day: 10.0,
        output_every_day: 1.0,
        also_at_days: &[],
    };
    let options = SolverOptions {
        method: Method::Rodas4,
        ..SolverOptions::default()
    };
    refused(&problem, &options);
    // A drug bound to an input the model does not have (found in review: an index past the
    // input buffer panicked, a smaller one was silently dropped).
    let pembrolizumab = Exposure {
        input: 20,
        pk: TwoCompartment {
            cl_l_per_day: 0.22,
            vc_l: 3.48,
            q_l_per_day: 0.795,
            vp_l: 4.06,
        },
        molecular_weight_g_per_mol: 149_000.0,
        potency: Potency::Occupancy { kd_nm: 0.3 },
        administrations: vec![DrugAdministration {
            start_day: 1.0,
            amount_mg: 200.0,
            duration_day: 0.0,
        }],
    };
    let no_doses = Schedule {
        administrations: vec![],
    };
    for input in [20, 2] {
        let exposures = [Exposure {
            input,
            ..pembrolizumab.clone()
        }];
        let problem = Problem {
            schedule: &no_doses,
            exposures: &exposures,
            ..problem
        };
        refused(&problem, &options);
    }
}

#[test]
fn output_times_are_clean_decimals() {
    let s = load(
        "kosinsky2018_acute_dose_lq.toml",
        &["output_every_days=0.1", "horizon_days=1"],
    );
    let solutions = simulate(&s).unwrap();
    let times: Vec<String> = solutions[0]
        .time_day
        .iter()
        .map(|t| t.to_string())
        .collect();
    assert_eq!(
        times,
        [
            "0", "0.1", "0.2", "0.3", "0.4", "0.5", "0.6", "0.7", "0.8", "0.9", "1"
        ]
    );
}

/// Extra output times (a trial's visits) merge into the regular grid: sorted, each instant
/// once, snapped to the nanoday, none after the horizon.
#[test]
fn extra_output_times_merge_into_the_grid() {
    use immunotrial::engine::ode::{output_times, with_extra_times};
    let grid = output_times(10.0, 2.0);
    assert_eq!(grid, vec![0.0, 2.0, 4.0, 6.0, 8.0, 10.0]);
    let merged = with_extra_times(
        grid.clone(),
        &[7.0, 4.0 + 1e-12, 3.3, 10.0, 12.0, 3.3],
        10.0,
    );
    assert_eq!(merged, vec![0.0, 2.0, 3.3, 4.0, 6.0, 7.0, 8.0, 10.0]);
    assert_eq!(with_extra_times(grid.clone(), &[], 10.0), grid);
}

/// `auto` on the TNBC chemotherapy arm: DOP853 takes over while nab-paclitaxel's effect
/// changes over hours and RODAS4 between infusions, so the method changes several times and
/// the arm takes far fewer steps than with RODAS4 throughout (measured: 1470 against 4968;
/// its accuracy is checked in tests/accuracy.rs). On the Kuznetsov model, stiff nowhere at
/// this tolerance, it stays explicit.
#[test]
fn auto_switches_where_the_problem_changes_character() {
    let base = load("tnbc_combinations.toml", &[]);
    let arm = base
        .arms
        .iter()
        .position(|a| a.name == "nab-paclitaxel")
        .unwrap();
    let run = |method: &str| {
        let mut s = load(
            "tnbc_combinations.toml",
            &[&format!("solver.method=\"{method}\"")],
        );
        s.arms = vec![s.arms[arm].clone()];
        simulate(&s).unwrap().remove(0).stats
    };
    let (auto, rodas4) = (run("auto"), run("rodas4"));
    assert!(auto.switches >= 2, "{auto:?}");
    let steps = |s: immunotrial::engine::Stats| s.accepted_steps + s.rejected_steps;
    assert!(
        2 * steps(auto) < steps(rodas4),
        "{auto:?} against {rodas4:?}"
    );
    // The first step of each infusion is held to the time the drug's effect takes to switch
    // on: 83 rejected steps over the 18 infusions (183 when the step carried over from the
    // segment before was tried first).
    assert!(auto.rejected_steps < 120, "{auto:?}");

    let kuznetsov = load("kuznetsov1994_dormancy.toml", &["solver.method=\"auto\""]);
    for solution in simulate(&kuznetsov).unwrap() {
        assert_eq!(solution.stats.switches, 0, "{:?}", solution.stats);
    }
}

/// Keeps a whole solution and is done from the first output at or after `until_day`; counts
/// the outputs that still arrive after that (the step under way may emit a few).
struct UntilDay {
    solution: Solution,
    until_day: f64,
    after_done: usize,
}

impl Observer for UntilDay {
    fn observe(&mut self, time_day: f64, state: &[f64], derived: &[f64]) {
        if self.done() {
            self.after_done += 1;
            return;
        }
        self.solution.observe(time_day, state, derived);
    }
    fn done(&self) -> bool {
        self.solution
            .time_day
            .last()
            .is_some_and(|&t| t >= self.until_day)
    }
}

/// An observer that is done stops the solve at its next step (a trial patient's follow-up
/// ends at death; integrating on to the horizon was a fifth of a cohort's time). With every
/// method, on the TNBC scenario's richest arm (drug exposures and RT boluses, so every
/// integrator's segment and output paths run): the solve returns Ok, the outputs up to the
/// stop are bit for bit those of the full solve, and it takes the steps of a solve to day 100
/// and at most two more (the step under way, and for DOP853 the one its held-back outputs
/// wait for), not those of the whole horizon.
#[test]
fn a_solve_stops_when_its_observer_is_done() {
    for method in Method::NAMES {
        // The explicit methods carry on through the stiff stretches (as `auto` does by
        // switching) rather than stop there.
        let s = load(
            "tnbc_combinations.toml",
            &[
                &format!("solver.method={method}"),
                "solver.stiffness=continue",
            ],
        );
        let arm = s.arms.last().unwrap();
        let exposures: Vec<Exposure> = arm.drugs.iter().map(|d| d.exposure.clone()).collect();
        let problem = Problem {
            parameters: &s.parameters,
            initial: &s.initial,
            schedule: &arm.schedule,
            exposures: &exposures,
            horizon_day: s.horizon_day,
            output_every_day: s.output_every_day,
            also_at_days: &[],
        };
        let new_solution = || Solution::new(s.model.states.len(), s.model.derived.len());
        let mut full = new_solution();
        let full_stats = solve_named(s.model.name, &problem, &s.solver, &mut full)
            .unwrap()
            .unwrap();
        let mut cut = UntilDay {
            solution: new_solution(),
            until_day: 100.0,
            after_done: 0,
        };
        let cut_stats = solve_named(s.model.name, &problem, &s.solver, &mut cut)
            .unwrap()
            .unwrap_or_else(|e| panic!("{method}: {e}"));
        let kept = &cut.solution;
        assert_eq!(kept.time_day.last(), Some(&100.0), "{method}");
        let rows = kept.len();
        assert_eq!(kept.time_day[..], full.time_day[..rows], "{method}");
        assert_eq!(
            kept.states[..],
            full.states[..rows * full.n_states],
            "{method}"
        );
        assert_eq!(
            kept.derived[..],
            full.derived[..rows * full.n_derived],
            "{method}"
        );
        // The step under way when the observer turned done may still emit its outputs: a
        // step is at most a few days here, never the remaining 630.
        assert!(
            cut.after_done < 10,
            "{method}: {} outputs after done",
            cut.after_done
        );
        let to_day_100 = solve_named(
            s.model.name,
            &Problem {
                horizon_day: 100.0,
                ..problem
            },
            &s.solver,
            &mut new_solution(),
        )
        .unwrap()
        .unwrap();
        assert!(
            cut_stats.accepted_steps <= to_day_100.accepted_steps + 2,
            "{method}: {} steps against {} to day 100",
            cut_stats.accepted_steps,
            to_day_100.accepted_steps
        );
        assert!(
            to_day_100.accepted_steps < full_stats.accepted_steps,
            "{method}"
        );
    }
}

/// RODAS4 with no error control to speak of (atol 1e308, which a scenario file may no longer
/// ask for, so set here through the library) on de Pillis with large doses: the states grow to
/// 1e260 while each step's ends stay finite, and the interpolant between them overflowed,
/// writing NaN outputs with no error (found by fuzzing). Every output is now finite, or the
/// solve fails.
#[test]
fn an_output_is_never_nan_where_the_step_ends_are_finite() {
    let text = "name = \"x\"\nhorizon_days = 20\n[model]\nname = \"depillis2006\"\npreset = \"patient9\"\n\
         [solver]\nmethod = \"rodas4\"\n[[arm]]\nname = \"a\"\n\
         [[arm.dose]]\ninput = \"v_L\"\namount_per_day = 1e9\nduration_days = 1.0\nstart_day = 7.0\n\
         [[arm.dose]]\ninput = \"v_I\"\namount_per_day = 5e6\nduration_days = 0.5\nstart_day = 8.0\n\
         every_days = 0.7\nrepeat = 6\n";
    let mut scenario = immunotrial::scenario::Scenario::parse(text, "loose.toml", &[])
        .unwrap_or_else(|e| panic!("{e}"));
    scenario.solver.atol = Some(vec![1e308; scenario.model.states.len()]);
    if let Ok(solutions) = immunotrial::engine::simulate(&scenario) {
        let s = &solutions[0];
        assert_eq!(s.time_day.len(), 21);
        assert!(s.states.iter().all(|v| v.is_finite()), "{:?}", s.states);
    }
}
