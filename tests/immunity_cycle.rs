//! The immunity-cycle model: with preset ct26_mouse it is Kosinsky 2018; radiation follows the
//! linear-quadratic model for its alpha and beta; and Kosinsky's sequencing finding holds.
mod common;
use common::*;
use immunotrial::engine::{Administration, Delivery, Schedule, SolverOptions};

const RADIATION: usize = 0;

#[test]
fn ct26_mouse_equals_kosinsky2018_on_the_published_protocols() {
    // Tight tolerances on both, so that the comparison is of the models, not the solver.
    let options = SolverOptions {
        rtol: 1e-11,
        ..SolverOptions::default()
    };
    for (rt, ab) in [
        (false, None),
        (true, None),
        (false, Some(7.0)),
        (true, Some(7.0)),
        (true, Some(12.0)),
        (true, Some(19.0)),
    ] {
        let schedule = kosinsky_protocol(rt, ab);
        let k = run(
            "kosinsky2018",
            None,
            &[],
            &[],
            &schedule,
            50.0,
            0.5,
            &options,
        );
        let c = run(
            "immunity_cycle",
            Some("ct26_mouse"),
            &[],
            &[],
            &schedule,
            50.0,
            0.5,
            &options,
        );
        for row in 0..k.len() {
            for i in 0..8 {
                let (a, b) = (k.state(row)[i], c.state(row)[i]);
                let error = if a.abs() > 1.0 {
                    (a - b).abs() / a.abs()
                } else {
                    (a - b).abs()
                };
                assert!(
                    error < 1e-6,
                    "RT {rt}, antibody from {ab:?}: state {i} on day {}: {a} vs {b}",
                    k.time_day[row]
                );
            }
            // Total volume and IAR, the derived outputs both declare.
            assert!(
                (k.derived_row(row)[0] - c.derived_row(row)[0]).abs()
                    <= 1e-6 * k.derived_row(row)[0]
            );
            assert!((k.derived_row(row)[2] - c.derived_row(row)[4]).abs() <= 1e-9);
        }
    }
}

/// Growth, basal death and immunity off: an acute dose D leaves exp(-alpha D - beta D^2),
/// for alpha and beta of breast cancer (alpha/beta 2.88 Gy, Qi 2011) as well as CT26.
#[test]
fn acute_dose_survival_is_linear_quadratic_for_the_given_alpha_and_beta() {
    for (alpha, beta) in [(0.146, 0.0146), (0.08, 0.08 / 2.88)] {
        for dose in [2.0, 8.0, 10.0] {
            let off = [
                ("r", 0.0),
                ("d0", 0.0),
                ("e", 0.0),
                ("kLN", 0.0),
                ("alpha", alpha),
                ("beta", beta),
            ];
            let schedule = Schedule {
                administrations: vec![Administration {
                    input: RADIATION,
                    start_day: 0.0,
                    kind: Delivery::Bolus { amount: dose },
                }],
            };
            let s = run(
                "immunity_cycle",
                None,
                &off,
                &[("TV", 100.0)],
                &schedule,
                2.0,
                2.0,
                &SolverOptions::default(),
            );
            let survival = s.last_state()[0] / 100.0;
            let expected = (-alpha * dose - beta * dose * dose).exp();
            assert!(
                (survival - expected).abs() / expected < 1e-6,
                "alpha {alpha}, beta {beta}, D {dose}: {survival} vs {expected}"
            );
        }
    }
}

/// 5 x 2 Gy and 1 x 10 Gy: the same total dose, but the single fraction kills more, by the
/// LQ model's exp(-beta (D1^2 - n d^2)) = exp(-beta (100 - 20)).
#[test]
fn fractionation_spares_as_the_linear_quadratic_model_says() {
    let (alpha, beta): (f64, f64) = (0.146, 0.0146);
    let off = [
        ("r", 0.0),
        ("d0", 0.0),
        ("e", 0.0),
        ("kLN", 0.0),
        ("mu", 0.0),
    ];
    let single = Schedule {
        administrations: vec![Administration {
            input: RADIATION,
            start_day: 0.0,
            kind: Delivery::Bolus { amount: 10.0 },
        }],
    };
    let fractions = Schedule {
        administrations: repeated(RADIATION, 0.0, 1.0, 5, Delivery::Bolus { amount: 2.0 }),
    };
    let a = run(
        "immunity_cycle",
        None,
        &off,
        &[("TV", 100.0)],
        &single,
        6.0,
        6.0,
        &SolverOptions::default(),
    )
    .last_state()[0];
    let b = run(
        "immunity_cycle",
        None,
        &off,
        &[("TV", 100.0)],
        &fractions,
        6.0,
        6.0,
        &SolverOptions::default(),
    )
    .last_state()[0];
    let expected_ratio = (-beta * (100.0 - 5.0 * 4.0)).exp();
    assert!(
        (a / b - expected_ratio).abs() / expected_ratio < 1e-6,
        "{} vs {expected_ratio}",
        a / b
    );
    assert!(((b / 100.0) - (-5.0 * (alpha * 2.0 + beta * 4.0)).exp()).abs() < 1e-6);
}

/// Kosinsky's finding: anti-PD-L1 with RT beats the antibody started a week after RT ends.
#[test]
fn concurrent_blockade_beats_blockade_after_rt() {
    let volume = |ab: f64| {
        let s = run(
            "immunity_cycle",
            Some("ct26_mouse"),
            &[],
            &[],
            &kosinsky_protocol(true, Some(ab)),
            50.0,
            1.0,
            &SolverOptions::default(),
        );
        s.derived_row(s.len() - 1)[0]
    };
    let (concurrent, after) = (volume(7.0), volume(18.0));
    assert!(
        concurrent < 0.1 * after,
        "day-7 start {concurrent} mm3, day-18 start {after} mm3"
    );
}
