//! Kosinsky et al. 2018 reproduced (reference section 3).
mod common;
use common::*;
use immunotrial::engine::{Administration, Delivery, Schedule, SolverOptions};

const M: &str = "kosinsky2018";
const RADIATION: usize = 0;

#[test]
fn untreated_tumour_grows_logistically_toward_tvmax() {
    // Without immunity the model is the logistic equation with rate r - d0 and capacity
    // TVmax*(1 - d0/r): compare to its closed form.
    let (r, d0, tv_max, tv0) = (0.4, 0.01, 2500.0, 15.0);
    let s = run(
        M,
        None,
        &[("kLN", 0.0)],
        &[],
        &Schedule::default(),
        200.0,
        1.0,
        &SolverOptions::default(),
    );
    let (rate, capacity) = (r - d0, tv_max * (1.0 - d0 / r));
    for (row, &t) in s.time_day.iter().enumerate() {
        let exact = capacity / (1.0 + (capacity / tv0 - 1.0) * (-rate * t).exp());
        let tv = s.state(row)[0];
        assert!(
            (tv - exact).abs() / exact < 1e-6,
            "day {t}: {tv} vs {exact}"
        );
    }
    // With immunity, the untreated tumour still grows monotonically to a plateau below TVmax
    // (effector kill lowers the carrying capacity but does not reject the tumour).
    let s = run(
        M,
        None,
        &[],
        &[],
        &Schedule::default(),
        200.0,
        1.0,
        &SolverOptions::default(),
    );
    let tv = s.series(0);
    assert!(
        tv[..60].windows(2).all(|w| w[1] > w[0]),
        "monotone growth to day 60"
    );
    let end = tv[tv.len() - 1];
    assert!(end > 0.5 * tv_max && end < capacity, "TV(200) = {end}");
}

/// Growth, basal death and immunity off: only radiation acts on TV.
fn radiation_only(schedule: &Schedule, horizon: f64) -> f64 {
    let off = [("r", 0.0), ("d0", 0.0), ("e", 0.0), ("kLN", 0.0)];
    let s = run(
        M,
        None,
        &off,
        &[("TV", 100.0)],
        schedule,
        horizon,
        horizon,
        &SolverOptions::default(),
    );
    s.last_state()[0] / 100.0
}

#[test]
fn acute_dose_survival_is_linear_quadratic_with_alpha_beta_10() {
    let alpha = 0.146;
    for dose in [1.0, 2.0, 5.0, 8.0, 10.0] {
        let acute = Schedule {
            administrations: vec![Administration {
                input: RADIATION,
                start_day: 0.0,
                kind: Delivery::Bolus { amount: dose },
            }],
        };
        let expected = (-alpha * dose - 0.1 * alpha * dose * dose).exp();
        // After 2 days U has been repaired for 100 repair times: the kill is complete.
        let sf = radiation_only(&acute, 2.0);
        assert!(
            (sf - expected).abs() / expected < 0.005,
            "D {dose}: SF {sf} vs LQ {expected}"
        );
        // The same dose as a 2.5-minute fraction (0.8 Gy/min, the paper's dose rate).
        let minutes = dose / 0.8;
        let fraction = Schedule {
            administrations: vec![Administration {
                input: RADIATION,
                start_day: 0.0,
                kind: Delivery::Rate {
                    amount_per_day: 0.8 * 1440.0,
                    duration_days: minutes / 1440.0,
                },
            }],
        };
        // Repair during the fraction lowers the quadratic term by the Lea-Catcheside factor
        // G = 2(x - 1 + exp(-x))/x^2, x = duration/tau.
        let x = minutes / 1440.0 / 0.02;
        let g = 2.0 * (x - 1.0 + (-x).exp()) / (x * x);
        let expected = (-alpha * dose - 0.1 * alpha * g * dose * dose).exp();
        let sf = radiation_only(&fraction, 2.0);
        assert!(
            (sf - expected).abs() / expected < 1e-6,
            "D {dose} as fraction: SF {sf} vs LQ-G {expected}"
        );
    }
}

fn volume_day_50(schedule: &Schedule) -> f64 {
    let s = run(
        M,
        None,
        &[],
        &[],
        schedule,
        50.0,
        1.0,
        &SolverOptions::default(),
    );
    s.derived_row(s.len() - 1)[0]
}

#[test]
fn concurrent_antibody_beats_late_antibody_beats_rt_alone() {
    let concurrent = volume_day_50(&kosinsky_protocol(true, Some(7.0)));
    let late = volume_day_50(&kosinsky_protocol(true, Some(19.0)));
    let rt_alone = volume_day_50(&kosinsky_protocol(true, None));
    let untreated = volume_day_50(&kosinsky_protocol(false, None));
    eprintln!(
        "day 50 volumes: concurrent {concurrent}, late {late}, RT {rt_alone}, untreated {untreated}"
    );
    assert!(
        concurrent < 0.1 * late,
        "concurrent {concurrent} vs day-19 start {late}"
    );
    assert!(
        late < rt_alone,
        "day-19 start {late} vs RT alone {rt_alone}"
    );
    assert!(rt_alone < untreated);
}
