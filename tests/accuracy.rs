//! Every model's trajectory from each of our solvers (Dop853, the default, and Dopri5, at
//! rtol 1e-8 with outputs interpolated inside steps) agrees with an independent integration:
//! ode_solvers' Dop853 at rtol 1e-12, integrated exactly to each output time.
//!
//! The standard is the issue's: 1e-6 relative wherever the state is above 1. Below 1 a state
//! is a fraction of a cell or a trace of DNA damage, where the issue sets no bound; we still
//! ask for an absolute error below 1e-5 so that a gross error cannot hide there. (Measured:
//! Dop853 is off by up to 1.6e-6 on Kosinsky's U just after it has been repaired to ~0, a
//! component decaying at 50/day whose steps are limited by stability, not accuracy.)
use immunotrial::engine::{Method, Solution, simulate};
mod common;
use common::load;
use immunotrial::scenario::Scenario;

/// Both of our methods against the reference, to relative `bound` where a state is above 1.
fn compare(scenario: &Scenario, methods: &[(Method, f64)]) -> f64 {
    let mut worst: f64 = 0.0;
    for &(method, bound) in methods {
        let mut ours = scenario.clone();
        ours.solver.method = method;
        let w = compare_with_reference(&ours, bound);
        eprintln!(
            "{} with {}: worst relative error {w:e} (bound {bound:e})",
            scenario.name,
            method.name()
        );
        worst = worst.max(w);
    }
    worst
}

const ALL: [(Method, f64); 6] = [
    (Method::Dop853, 1e-6),
    (Method::Dopri5, 1e-6),
    (Method::Rodas4, 1e-6),
    (Method::Rodas5p, 1e-6),
    (Method::Auto, 1e-6),
    (Method::Dop853Bounded, 1e-6),
];

fn compare_with_reference(scenario: &Scenario, bound_above_1: f64) -> f64 {
    let default = simulate(scenario).unwrap();
    let mut reference_scenario = scenario.clone();
    reference_scenario.solver.method = Method::OdeSolversDop853;
    reference_scenario.solver.rtol = 1e-12;
    reference_scenario.solver.atol = Some(
        scenario
            .model
            .states
            .iter()
            .map(|s| 1e-12 * s.scale)
            .collect(),
    );
    let reference = simulate(&reference_scenario).unwrap();
    let mut worst: f64 = 0.0;
    for (arm, (a, b)) in scenario.arms.iter().zip(default.iter().zip(&reference)) {
        assert_eq!(a.time_day, b.time_day);
        worst = worst.max(worst_difference(scenario, &arm.name, a, b, bound_above_1));
    }
    worst
}

fn worst_difference(
    scenario: &Scenario,
    arm: &str,
    a: &Solution,
    b: &Solution,
    bound_above_1: f64,
) -> f64 {
    let mut worst: f64 = 0.0;
    let spec = scenario.model;
    for row in 0..a.len() {
        // States, then the derived outputs (tumour volume, concentrations) computed from them.
        let values = a
            .state(row)
            .iter()
            .zip(b.state(row))
            .chain(a.derived_row(row).iter().zip(b.derived_row(row)));
        let names = spec
            .states
            .iter()
            .map(|s| s.name)
            .chain(spec.derived.iter().map(|d| d.name));
        for ((&x, &r), name) in values.zip(names) {
            let (error, bound) = if r.abs() > 1.0 {
                ((x - r).abs() / r.abs(), bound_above_1)
            } else {
                ((x - r).abs(), 1e-5)
            };
            assert!(
                error < bound,
                "{} ({}): arm `{arm}`, {name} on day {}: {x} vs reference {r} (error {error:e})",
                spec.name,
                scenario.solver.method.name(),
                a.time_day[row]
            );
            if r.abs() > 1.0 {
                worst = worst.max(error);
            }
        }
    }
    worst
}

#[test]
fn kuznetsov1994_matches_dop853_reference() {
    let worst = compare(&load("kuznetsov1994_dormancy.toml", &[]), &ALL);
    eprintln!("kuznetsov1994 worst relative error {worst:e}");
    let worst = compare(&load("kuznetsov1994_sneaking_through.toml", &[]), &ALL);
    eprintln!("kuznetsov1994 (escape) worst relative error {worst:e}");
}

#[test]
fn depillis2006_matches_dop853_reference() {
    // de Pillis is stiff; its shipped scenarios use RODAS4. The explicit methods need
    // `stiffness = "continue"` and integrate at stability-limited steps, where Dop853's global
    // error reaches 1.4e-6 relative (NK cells near one cell): bounded here at 1e-5 so that a
    // regression still shows.
    let shipped = load("depillis2006_patient9_mixed_therapy.toml", &[]);
    assert_eq!(shipped.solver.method, Method::Rodas4);
    let scenario = load(
        "depillis2006_patient9_mixed_therapy.toml",
        &["solver.stiffness=\"continue\"", "solver.max_steps=2000000"],
    );
    let worst = compare(
        &scenario,
        &[
            (Method::Rodas4, 1e-6),
            (Method::Rodas5p, 1e-6),
            (Method::Auto, 1e-6),
            (Method::Dopri5, 1e-6),
            (Method::Dop853, 1e-5),
        ],
    );
    eprintln!("depillis2006 worst relative error {worst:e}");
}

/// Rodas5P alone misses the 1e-6 standard here at rtol 1e-8 (measured 1.44e-6, on the tumour
/// volume of the arm with anti-PD-L1 from day 12 around day 40): its error estimate is of order
/// 4 and close to its true error, where RODAS4's, of order 3, overstates its 4th-order
/// solution's and keeps it at 6.5e-8. Each RT fraction's DNA-damage transient (decaying at
/// 50/day) then leaves about 6e-9 relative on the tumour, which the regrowth after the
/// fractions amplifies some 40-fold by day 40. Its error is proportional to the tolerance
/// (1.6e-7 at rtol 1e-9, 1.7e-8 at 1e-10). So the standard is asked of it at rtol 1e-9, where
/// it still takes fewer steps than RODAS4 at 1e-8 (1,302 against 2,196 on that arm); at the
/// scenario's 1e-8 it is bounded at 2e-6 (as DOP853 is on stiff de Pillis, a method not meant
/// for this model at this tolerance), so that a regression still shows.
#[test]
fn kosinsky2018_matches_dop853_reference() {
    let methods = ALL.map(|(method, bound)| match method {
        Method::Rodas5p => (method, 2e-6),
        _ => (method, bound),
    });
    let worst = compare(&load("kosinsky2018_rt_antipdl1.toml", &[]), &methods);
    eprintln!("kosinsky2018 worst relative error {worst:e}");
    let tighter = load("kosinsky2018_rt_antipdl1.toml", &["solver.rtol=1e-9"]);
    let worst = compare(&tighter, &[(Method::Rodas5p, 1e-6)]);
    eprintln!("kosinsky2018 with rodas5p at rtol 1e-9: worst relative error {worst:e}");
}

/// ode_solvers 0.6.2's `Dense` output extrapolates a "final" point when the output step
/// equals the horizon. Ours must give the true end state whatever the output spacing.
#[test]
fn output_every_horizon_gives_the_true_final_state() {
    let fine = load("kuznetsov1994_dormancy.toml", &[]);
    let coarse = load("kuznetsov1994_dormancy.toml", &["output_every_days=2000"]);
    let a = simulate(&fine).unwrap();
    let b = simulate(&coarse).unwrap();
    assert_eq!(b[0].time_day, vec![0.0, 2000.0]);
    let (x, y) = (a[0].last_state(), b[0].last_state());
    for i in 0..2 {
        assert!((x[i] - y[i]).abs() / x[i] < 1e-7, "{} vs {}", x[i], y[i]);
    }
    // Output spacing that does not divide the horizon still ends at the horizon.
    let odd = simulate(&load(
        "kuznetsov1994_dormancy.toml",
        &["output_every_days=7"],
    ))
    .unwrap();
    assert_eq!(*odd[0].time_day.last().unwrap(), 2000.0);
    assert_eq!(odd[0].time_day[1], 7.0);
}

/// A bolus is applied at its instant: the output at a dosing time includes it, and the
/// state just before does not (right-continuous outputs).
#[test]
fn bolus_lands_at_its_instant() {
    let s = load("kosinsky2018_rt_antipdl1.toml", &["output_every_days=0.25"]);
    let solutions = simulate(&s).unwrap();
    let arm = s
        .arms
        .iter()
        .position(|a| a.name == "anti-PD-L1 from day 7")
        .unwrap();
    let sol = &solutions[arm];
    let depot = s.model.state_index("A_depot").unwrap();
    let at = |day: f64| sol.state(sol.time_day.iter().position(|t| *t == day).unwrap())[depot];
    assert_eq!(at(6.75), 0.0);
    // 10 mg/kg x 0.02 kg / 150 kDa = 1.3333 nmol.
    assert!(
        (at(7.0) - 0.2 / 0.15).abs() < 1e-12,
        "depot on day 7: {}",
        at(7.0)
    );
}

/// The TNBC scenario (drugs as exposures at every instant, DNA damage repaired in 0.02
/// days). ode_solvers' DOP853 at rtol 1e-12 needs over a million steps in the first weeks of
/// the chemotherapy arms here, so each of our methods is checked against the other one at a
/// tight tolerance: independent methods, Rosenbrock against explicit Runge-Kutta (which agree
/// with each other to 4e-10). `auto`, the shipped method, and RODAS4 meet the 1e-6 standard
/// (measured 4e-8 and 1.3e-8). DOP853 alone does not: its step ends are right (2.5e-7), but
/// at its step sizes the T-cell kinetics are near its stability limit and its interpolated
/// daily outputs are off by up to 2.7e-6: held to 1e-5 here so that a regression still shows.
#[test]
fn immunity_cycle_tnbc_methods_agree_with_each_other_at_tight_tolerance() {
    let scenario = load(
        "tnbc_combinations.toml",
        &["solver.stiffness=\"continue\"", "solver.max_steps=1000000"],
    );
    assert_eq!(scenario.solver.method, Method::Dop853Bounded);
    let tight = |method: Method, rtol: f64| {
        let mut s = scenario.clone();
        s.solver.method = method;
        s.solver.rtol = rtol;
        s.solver.atol = Some(
            scenario
                .model
                .states
                .iter()
                .map(|st| rtol * st.scale)
                .collect(),
        );
        simulate(&s).unwrap()
    };
    for (method, bound, reference) in [
        (Method::Rodas4, 1e-6, tight(Method::Dop853, 1e-12)),
        (Method::Rodas5p, 1e-6, tight(Method::Dop853, 1e-12)),
        (Method::Auto, 1e-6, tight(Method::Dop853, 1e-12)),
        (Method::Dop853Bounded, 1e-6, tight(Method::Dop853, 1e-12)),
        (Method::Dop853, 1e-5, tight(Method::Rodas4, 1e-11)),
    ] {
        let mut ours = scenario.clone();
        ours.solver.method = method;
        let solutions = simulate(&ours).unwrap();
        let mut worst: f64 = 0.0;
        for (arm, (a, b)) in scenario.arms.iter().zip(solutions.iter().zip(&reference)) {
            worst = worst.max(worst_difference(&ours, &arm.name, a, b, bound));
        }
        eprintln!(
            "immunity_cycle (tnbc) with {}: worst relative error {worst:e}",
            method.name()
        );
    }
}
