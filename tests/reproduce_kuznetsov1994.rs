//! Kuznetsov et al. 1994 reproduced: equilibria, dormancy, escape (reference section 1).
mod common;
use common::*;
use immunotrial::engine::{Schedule, SolverOptions};
use immunotrial::model::{OdeModel, kuznetsov1994::Kuznetsov1994};
use nalgebra::SVector;

const M: &str = "kuznetsov1994";

#[test]
fn published_equilibria_are_zeros_of_the_right_hand_side() {
    let model = Kuznetsov1994;
    let p = model.params(&model.spec().default_parameters());
    // Equilibria as printed to 5 significant digits: the residual is judged relative to the
    // size of the terms, so rounding in the 5th digit, not the model, sets the floor. We
    // refine each printed point by Newton's method and require it to move by less than the
    // printing precision, and the refined point to zero the RHS to 1e-9 relative.
    let printed = [
        (3.1553e5, 0.0),
        (1.6081e6, 8.1864e6),
        (7.585e5, 2.6802e8),
        (1.7321e5, 4.4703e8),
    ];
    for (e0, t0) in printed {
        let mut y = SVector::<f64, 2>::new(e0, t0);
        for _ in 0..50 {
            let f = |y: &SVector<f64, 2>| {
                let mut d = SVector::<f64, 2>::zeros();
                model.rhs(&p, 0.0, y, &[], &mut d);
                d
            };
            let f0 = f(&y);
            let mut jac = nalgebra::Matrix2::<f64>::zeros();
            for j in 0..2 {
                let h = 1e-7 * y[j].abs().max(1.0);
                let mut yp = y;
                yp[j] += h;
                jac.set_column(j, &((f(&yp) - f0) / h));
            }
            y -= jac.lu().solve(&f0).unwrap();
        }
        let mut d = SVector::<f64, 2>::zeros();
        model.rhs(&p, 0.0, &y, &[], &mut d);
        // Scale of the terms in each equation.
        let scale_e = p.s + p.p * y[0] * y[1] / (p.g + y[1]) + p.m * y[0] * y[1] + p.d * y[0];
        let scale_t = (p.a * y[1]).max(1e-300) + p.n * y[0] * y[1];
        assert!(d[0].abs() / scale_e < 1e-9, "E residual at ({e0}, {t0})");
        assert!(
            y[1] == 0.0 || d[1].abs() / scale_t < 1e-9,
            "T residual at ({e0}, {t0})"
        );
        assert!(
            ((y[0] - e0) / e0).abs() < 5e-4,
            "E moved from {e0} to {}",
            y[0]
        );
        assert!(
            t0 == 0.0 && y[1].abs() < 1.0 || ((y[1] - t0) / t0).abs() < 5e-4,
            "T moved from {t0} to {}",
            y[1]
        );
    }
}

#[test]
fn curated_start_settles_at_the_dormant_state() {
    let s = run(
        M,
        None,
        &[],
        &[("E", 3.2e5), ("T", 5e6)],
        &Schedule::default(),
        2000.0,
        1.0,
        &SolverOptions::default(),
    );
    let t_end = state_at(&s, M, "T", 2000.0);
    assert!(
        ((t_end - 8.1864e6) / 8.1864e6).abs() < 1e-4,
        "T(2000) = {t_end}"
    );
    let peak = s.series(1).into_iter().fold(0.0, f64::max);
    assert!((peak - 9.8e7).abs() / 9.8e7 < 0.02, "peak {peak:e}");
}

#[test]
fn baseline_immunity_sneaking_through_threshold() {
    let e0 = 1.3e4 / 0.0412;
    let small = run(
        M,
        None,
        &[],
        &[("E", e0), ("T", 5e7)],
        &Schedule::default(),
        2000.0,
        1.0,
        &SolverOptions::default(),
    );
    let large = run(
        M,
        None,
        &[],
        &[("E", e0), ("T", 1e8)],
        &Schedule::default(),
        2000.0,
        1.0,
        &SolverOptions::default(),
    );
    let t_small = state_at(&small, M, "T", 2000.0);
    let t_large = state_at(&large, M, "T", 2000.0);
    assert!(
        ((t_small - 8.1864e6) / 8.1864e6).abs() < 1e-3,
        "T0 5e7 ends at {t_small:e}"
    );
    assert!(
        ((t_large - 4.4703e8) / 4.4703e8).abs() < 1e-3,
        "T0 1e8 ends at {t_large:e}"
    );
}
