//! de Pillis, Gu & Radunskaya 2006 reproduced with patient 9 (reference section 2): each
//! behaviour of the reference's table is its own test. "Cleared" means fewer than one
//! tumour cell on day 150.
mod common;
use common::*;
use immunotrial::engine::{Administration, Delivery, Method, Schedule, SolverOptions};

const M: &str = "depillis2006";
const V_L: usize = 0;
const V_M: usize = 1;
const V_I: usize = 2;
const STRONG: [(&str, f64); 3] = [("N", 1e5), ("L", 1e2), ("C", 6e10)];
const WEAK: [(&str, f64); 3] = [("N", 1e3), ("L", 10.0), ("C", 6e8)];

/// de Pillis is stiff once the tumour is large (T cells and NK cells are inactivated at
/// q*T and p*T, over 1000/day near 1e9 cells): solved with the Rosenbrock method, as the
/// shipped scenarios are.
fn stiff_solver() -> SolverOptions {
    SolverOptions {
        method: Method::Rodas4,
        ..SolverOptions::default()
    }
}

fn tumour_day_150(t0: f64, immunity: [(&str, f64); 3], schedule: &Schedule) -> f64 {
    let mut initial = immunity.to_vec();
    initial.push(("T", t0));
    let s = run(
        M,
        Some("patient9"),
        &[],
        &initial,
        schedule,
        150.0,
        0.5,
        &stiff_solver(),
    );
    state_at(&s, M, "T", 150.0)
}

fn chemo_every(days: f64) -> Vec<Administration> {
    repeated(
        V_M,
        0.0,
        days,
        (150.0 / days) as usize,
        Delivery::Rate {
            amount_per_day: 5.0,
            duration_days: 1.0,
        },
    )
}

/// TIL 1e9 cells/day on days 7-8; IL-2 5e6/day in half-day pulses from days 8, 8.7, ... 11.5.
fn immunotherapy() -> Vec<Administration> {
    let mut a = vec![Administration {
        input: V_L,
        start_day: 7.0,
        kind: Delivery::Rate {
            amount_per_day: 1e9,
            duration_days: 1.0,
        },
    }];
    a.extend(repeated(
        V_I,
        8.0,
        0.7,
        6,
        Delivery::Rate {
            amount_per_day: 5e6,
            duration_days: 0.5,
        },
    ));
    a
}

#[test]
fn untreated_strong_immunity_clears_the_tumour() {
    let t = tumour_day_150(1e6, STRONG, &Schedule::default());
    assert!(t < 1.0, "T(150) = {t:e}");
}

#[test]
fn untreated_weak_immunity_grows_to_carrying_capacity() {
    let t = tumour_day_150(1e6, WEAK, &Schedule::default());
    // 1/b = 9.8e8 cells; immune kill holds it a little below.
    assert!((t - 9.8e8).abs() / 9.8e8 < 0.02, "T(150) = {t:e}");
}

#[test]
fn chemotherapy_every_5_days_clears_weak_immunity_tumour() {
    let t = tumour_day_150(
        2e7,
        WEAK,
        &Schedule {
            administrations: chemo_every(5.0),
        },
    );
    assert!(t < 1.0, "T(150) = {t:e}");
}

#[test]
fn chemotherapy_every_10_days_leaves_a_large_tumour() {
    let t = tumour_day_150(
        2e7,
        WEAK,
        &Schedule {
            administrations: chemo_every(10.0),
        },
    );
    assert!((t - 7.4e8).abs() / 7.4e8 < 0.05, "T(150) = {t:e}");
}

#[test]
fn til_and_il2_clear_1e6_but_not_1e7() {
    let schedule = Schedule {
        administrations: immunotherapy(),
    };
    let small = tumour_day_150(1e6, WEAK, &schedule);
    let large = tumour_day_150(1e7, WEAK, &schedule);
    assert!(small < 1.0, "T0 1e6: T(150) = {small:e}");
    assert!(large > 1e8, "T0 1e7: T(150) = {large:e}");
}

#[test]
fn chemotherapy_every_10_days_with_til_and_il2_clears_1e7() {
    let mut administrations = chemo_every(10.0);
    administrations.extend(immunotherapy());
    let combined = tumour_day_150(1e7, WEAK, &Schedule { administrations });
    let chemo_only = tumour_day_150(
        1e7,
        WEAK,
        &Schedule {
            administrations: chemo_every(10.0),
        },
    );
    assert!(combined < 1.0, "combination: T(150) = {combined:e}");
    assert!(chemo_only > 1e8, "chemo alone: T(150) = {chemo_only:e}");
}
