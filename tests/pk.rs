//! Pharmacokinetics solved in closed form equal an independent ODE integration of the same
//! compartments, and steady-state accumulation equals its analytic value.
use immunotrial::engine::{self, Delivery, Method, Problem, Schedule, Solution, SolverOptions};
use immunotrial::model::{InputRole, InputSpec, ModelSpec, OdeModel, StateSpec};
use immunotrial::therapy::catalogue::find_drug;
use immunotrial::therapy::dose::{Dose, Patient};
use immunotrial::therapy::pk::{Administration, TwoCompartment, concentrations};
use nalgebra::SVector;

/// The two compartments as an ODE, for the engine to integrate.
struct Compartments(TwoCompartment);

static SPEC: ModelSpec = ModelSpec {
    name: "two_compartment_test",
    title: "two-compartment PK as an ODE",
    citation: "",
    summary: "",
    states: &[
        StateSpec {
            name: "A_c",
            unit: "mg",
            description: "",
            initial: 0.0,
            scale: 1e-6,
        },
        StateSpec {
            name: "A_p",
            unit: "mg",
            description: "",
            initial: 0.0,
            scale: 1e-6,
        },
    ],
    parameters: &[],
    presets: &[],
    inputs: &[InputSpec {
        name: "drug",
        unit: "mg",
        description: "",
        bolus_state: Some(0),
        role: InputRole::Dose,
    }],
    derived: &[],
    tumour: "A_c",
    tumour_mm3_per_unit: 1.0,
};

impl OdeModel<2> for Compartments {
    type Params = ();
    type LaneParams = ();
    fn spec(&self) -> &'static ModelSpec {
        &SPEC
    }
    fn params(&self, _: &[f64]) {}
    fn rhs(&self, _: &(), _t: f64, y: &SVector<f64, 2>, rate: &[f64], dy: &mut SVector<f64, 2>) {
        let (k10, k12, k21) = self.0.micro_constants();
        dy[0] = rate[0] - (k10 + k12) * y[0] + k21 * y[1];
        dy[1] = k12 * y[0] - k21 * y[1];
    }
}

fn by_ode(
    pk: TwoCompartment,
    administrations: &[Administration],
    horizon: f64,
    every: f64,
) -> Solution {
    let schedule = Schedule {
        administrations: administrations
            .iter()
            .map(|a| engine::Administration {
                input: 0,
                start_day: a.start_day,
                kind: if a.duration_day > 0.0 {
                    Delivery::Rate {
                        amount_per_day: a.amount_mg / a.duration_day,
                        duration_days: a.duration_day,
                    }
                } else {
                    Delivery::Bolus {
                        amount: a.amount_mg,
                    }
                },
            })
            .collect(),
    };
    let problem = Problem {
        parameters: &[],
        initial: &[0.0, 0.0],
        schedule: &schedule,
        exposures: &[],
        horizon_day: horizon,
        output_every_day: every,
        also_at_days: &[],
    };
    let options = SolverOptions {
        method: Method::OdeSolversDop853,
        rtol: 1e-12,
        atol: Some(vec![1e-12, 1e-12]),
        ..SolverOptions::default()
    };
    let mut solution = Solution::new(2, 0);
    engine::ode::solve(&Compartments(pk), &problem, &options, &mut solution).unwrap();
    solution
}

fn compare(drug: &str, administrations: &[Administration], horizon: f64, every: f64) {
    let pk = find_drug(drug).unwrap().pk;
    let ode = by_ode(pk, administrations, horizon, every);
    let closed = concentrations(&pk, administrations, &ode.time_day);
    let peak = closed.iter().cloned().fold(0.0, f64::max);
    for (row, c) in closed.iter().enumerate() {
        let c_ode = ode.state(row)[0] / pk.vc_l;
        // Relative 1e-6, or 1e-9 of the peak where the drug has washed out to nothing.
        assert!(
            (c - c_ode).abs() <= 1e-6 * c_ode.abs() + 1e-9 * peak,
            "{drug} on day {}: closed form {c} vs ODE {c_ode}",
            ode.time_day[row]
        );
    }
}

#[test]
fn pembrolizumab_200_mg_q3w_30_minute_infusions() {
    let doses: Vec<Administration> = (0..8)
        .map(|i| Administration {
            start_day: 21.0 * i as f64,
            amount_mg: 200.0,
            duration_day: 30.0 / 1440.0,
        })
        .collect();
    compare("pembrolizumab", &doses, 200.0, 0.25);
}

#[test]
fn nab_paclitaxel_100_mg_m2_days_1_8_15_of_28() {
    let mg = Dose::parse("100 mg/m2")
        .unwrap()
        .milligrams(&Patient::default());
    let mut doses = Vec::new();
    for cycle in 0..2 {
        for day in [1.0, 8.0, 15.0] {
            doses.push(Administration {
                start_day: 28.0 * cycle as f64 + day - 1.0,
                amount_mg: mg,
                duration_day: 30.0 / 1440.0,
            });
        }
    }
    compare("nab-paclitaxel", &doses, 56.0, 1.0 / 48.0);
}

#[test]
fn carboplatin_auc5_bolus_and_overlapping_infusions() {
    let mg = Dose::parse("AUC 5")
        .unwrap()
        .milligrams(&Patient::default());
    let doses = [
        Administration {
            start_day: 0.0,
            amount_mg: mg,
            duration_day: 0.0,
        },
        Administration {
            start_day: 0.5,
            amount_mg: mg / 2.0,
            duration_day: 0.25,
        },
        Administration {
            start_day: 0.6,
            amount_mg: mg / 2.0,
            duration_day: 0.1,
        },
    ];
    compare("carboplatin", &doses, 3.0, 0.01);
}

/// 200 mg q3w as boluses: at steady state the trough is the first dose's trough times
/// sum over the two exponentials of 1/(1 - e^(-lambda tau)), weighted by their share of that
/// trough (the textbook accumulation of a biexponential).
#[test]
fn pembrolizumab_accumulation_matches_the_analytic_ratio() {
    let pk = find_drug("pembrolizumab").unwrap().pk;
    let (_, _, k21) = pk.micro_constants();
    let (alpha, beta) = pk.hybrid_constants();
    let tau = 21.0;
    // Bolus coefficients of C(t) = A e^(-alpha t) + B e^(-beta t), per mg.
    let a = (alpha - k21) / (alpha - beta) / pk.vc_l;
    let b = (k21 - beta) / (alpha - beta) / pk.vc_l;
    let first_trough = a * (-alpha * tau).exp() + b * (-beta * tau).exp();
    let steady_trough = a * (-alpha * tau).exp() / (1.0 - (-alpha * tau).exp())
        + b * (-beta * tau).exp() / (1.0 - (-beta * tau).exp());
    let expected_ratio = steady_trough / first_trough;

    let n = 60; // 60 doses: 3.5 years, about 50 half-lives of the terminal phase
    let doses: Vec<Administration> = (0..n)
        .map(|i| Administration {
            start_day: tau * i as f64,
            amount_mg: 200.0,
            duration_day: 0.0,
        })
        .collect();
    let troughs = concentrations(&pk, &doses, &[tau - 1e-9, n as f64 * tau - 1e-9]);
    let ratio = troughs[1] / troughs[0];
    assert!(
        (ratio - expected_ratio).abs() / expected_ratio < 1e-6,
        "accumulation {ratio} vs analytic {expected_ratio}"
    );
    // For orientation: pembrolizumab accumulates about 2.2-fold at 200 mg q3w.
    assert!(ratio > 1.5 && ratio < 3.0, "{ratio}");
}

/// Inside an infusion, on a fine grid (each output chained from the one before), against the
/// infusion's own closed form R * (a (1 - e^(-alpha t))/alpha + b (1 - e^(-beta t))/beta), a
/// and b the bolus coefficients: a sum of two positive terms, each within a few ulp, so 1e-12
/// relative leaves room for the rounding of a thousand chained steps. Amounts written as
/// offsets from the infusion's steady state (about 150 g for an antibody) had lost up to seven
/// digits here, and the first instant came out as -8e-12 mg/L (an independent check found it).
#[test]
fn concentrations_inside_an_infusion_keep_their_digits() {
    for drug in ["pembrolizumab", "nivolumab", "nab-paclitaxel"] {
        let pk = find_drug(drug).unwrap().pk;
        let (_, _, k21) = pk.micro_constants();
        let (alpha, beta) = pk.hybrid_constants();
        let a = (alpha - k21) / (alpha - beta) / pk.vc_l;
        let b = (k21 - beta) / (alpha - beta) / pk.vc_l;
        let (amount_mg, duration_day) = (200.0, 30.0 / 1440.0);
        let rate = amount_mg / duration_day;
        let doses = [Administration {
            start_day: 5.0,
            amount_mg,
            duration_day,
        }];
        let times: Vec<f64> = (0..=1000).map(|i| 5.0 + i as f64 * 1e-6).collect();
        let closed = concentrations(&pk, &doses, &times);
        assert_eq!(closed[0], 0.0, "{drug} at the infusion's first instant");
        for (t, c) in times.iter().zip(&closed).skip(1) {
            let dt = t - 5.0;
            let expected =
                rate * (a * -(-alpha * dt).exp_m1() / alpha + b * -(-beta * dt).exp_m1() / beta);
            assert!(
                (c / expected - 1.0).abs() < 1e-12,
                "{drug} {dt} days into the infusion: {c} vs {expected}"
            );
        }
    }
}
