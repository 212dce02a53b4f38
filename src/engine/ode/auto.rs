//! `auto`: DOP853 where the problem is not stiff, RODAS4 where it is, switching on the way
//! (the idea of LSODA, and of DifferentialEquations.jl's `AutoVern7(Rodas4())`).
//!
//! Why: the tumour–immune models are mildly stiff. On the TNBC scenario the T-cell kinetics
//! put an eigenvalue near -3/day, so between treatments an explicit method is held to steps
//! of about a day and RODAS4 is the better method. During chemotherapy the drug's effect
//! changes over hours; RODAS4, of order 4, then needs twenty steps a day at rtol 1e-8 where
//! DOP853, of order 8, needs three, and stability does not limit steps that short. Neither
//! method alone is right for a whole patient.
//!
//! The switch reads the spectral radius rho of the Jacobian, estimated by power iteration on
//! the modes the solution carries (states that are zero and fed by nothing, such as the depot
//! of a drug never given, have no bearing on stability and are left out):
//! - DOP853 steps at most `EXPLICIT_H_RHO / rho`. There its stability function equals e^z to
//!   within 2e-4 for every mode (at its stability boundary, z near -6, errors in a stiff mode
//!   are not damped and add up over hundreds of steps: on the TNBC scenario to 2e-5 relative
//!   in the effector T cells against a tolerance of 1e-8). When the step the error control
//!   wants is longer than that for `CONFIRM` steps in a row, stability limits the method:
//!   RODAS4 takes over.
//! - RODAS4 hands back when its own step is so short that DOP853 could take it with room to
//!   spare (`h * rho` below `TO_EXPLICIT * EXPLICIT_H_RHO`) for `CONFIRM` steps in a row.
//!
//! Switches happen at step ends; outputs are emitted by whichever method covers them. The
//! method in use and its step carry over from one smooth segment to the next.

use super::dop853;
use super::rosenbrock::{self, Outputs, Rodas4};
use super::step::{AnalyticJacobian, Failure, Handover, Monitor, Stats, Tolerance};
use nalgebra::{SMatrix, SVector};

/// Largest h * rho DOP853 is allowed: its stability function R(z) is within 2e-4 of e^z on
/// [-3, 0] (R(-3) = 0.04968 against e^-3 = 0.04979), against a boundary near -6.2.
pub const EXPLICIT_H_RHO: f64 = 3.0;
/// RODAS4 hands over when its step is under this fraction of DOP853's largest stable step.
pub const TO_EXPLICIT: f64 = 0.5;
/// DOP853 runs at this fraction of the tolerance asked. At the same tolerance its steps are
/// right to what is asked but RODAS4's, whose error estimate is of lower order than its
/// solution, are right to much better; a switching run then delivered up to 2.3e-6 relative
/// on the TNBC scenario at rtol 1e-8 (a tumour decaying to 1 mm3 under DOP853) where RODAS4
/// alone delivers 8e-8. At a tenth, the worst over eight spread patients is 4.9e-7
/// (`cargo run --release --example accuracy_tnbc auto 1e-8`) for 10% more steps.
pub const EXPLICIT_TOLERANCE: f64 = 0.1;
/// Steps in a row that must agree before the method changes (no flapping on one step).
pub const CONFIRM: u32 = 3;
/// DOP853 re-estimates rho every this many steps (and at each segment start, where a dose
/// may have changed it): rho moves slowly. Made at every step, the estimate (an analytic
/// Jacobian and the power iteration) took a third of the time of a TNBC patient; every fifth
/// step gives the same steps, switches and accuracy there. Without an analytic Jacobian the
/// difference approximation costs 2N right-hand sides, more than a step.
const ESTIMATE_EVERY: u32 = 5;

/// What carries over from one smooth segment to the next.
#[derive(Debug, Clone, Copy)]
pub struct Carry<const N: usize> {
    /// The step to try first (0: let the method choose).
    pub h: f64,
    /// Whether RODAS4 is the method in use.
    pub stiff: bool,
    /// Steps in a row that voted for a switch.
    votes: u32,
    /// The last spectral-radius estimate, and DOP853 steps until the next one.
    rho: f64,
    since_estimate: u32,
    /// The power iteration's last vector: the Jacobian changes little from step to step, so
    /// a few iterations from it suffice.
    direction: SVector<f64, N>,
}

impl<const N: usize> Default for Carry<N> {
    fn default() -> Self {
        Carry {
            h: 0.0,
            stiff: false,
            votes: 0,
            rho: 0.0,
            since_estimate: 0,
            direction: SVector::zeros(),
        }
    }
}

/// Power iterations per estimate, from the last estimate's vector (four gave the same steps
/// and switches on the TNBC scenario).
const POWER_ITERATIONS: usize = 2;
/// Weight given to a carried mode missing from the last vector, so that a mode that has just
/// become active (a depot that has received a dose) is picked up.
const RESEED: f64 = 0.1;

/// The spectral radius of `jac`, estimated over the modes `y` carries by power iteration on
/// S^-1 J S (S = diag(|y| + atol), so that states of very different magnitudes weigh alike).
/// The start vector is `direction` (the last call's vector), with a little weight on any
/// carried mode it lacks (carried: a state that is non-zero or fed by one that is). The estimate is the
/// geometric mean of the last two growths, which also settles when the dominant eigenvalues
/// are a complex pair. `direction` is updated.
pub fn spectral_radius<const N: usize>(
    jac: &SMatrix<f64, N, N>,
    y: &SVector<f64, N>,
    atol: &SVector<f64, N>,
    direction: &mut SVector<f64, N>,
) -> f64 {
    // Plain arrays: the products below are small enough for the compiler to unroll.
    let mut m = [[0.0; N]; N];
    let mut inv = [0.0; N];
    let mut scale = [0.0; N];
    for i in 0..N {
        scale[i] = y[i].abs() + atol[i];
        inv[i] = 1.0 / scale[i];
    }
    for (i, row) in m.iter_mut().enumerate() {
        for (j, v) in row.iter_mut().enumerate() {
            *v = jac[(i, j)] * scale[j] * inv[i];
        }
    }
    let product = |m: &[[f64; N]; N], v: &[f64; N]| -> [f64; N] {
        let mut w = [0.0; N];
        for (wi, row) in w.iter_mut().zip(m) {
            *wi = row.iter().zip(v).map(|(a, b)| a * b).sum();
        }
        w
    };
    let norm = |v: &[f64; N]| v.iter().map(|x| x * x).sum::<f64>().sqrt();
    // The carried modes: non-zero states, and the states they feed.
    let mut seed = [0.0_f64; N];
    for i in 0..N {
        if y[i] != 0.0 {
            seed[i] = 1.0;
        }
    }
    let mut fed = [0.0; N];
    for (i, row) in m.iter().enumerate() {
        if row.iter().zip(&seed).any(|(a, s)| *a != 0.0 && *s != 0.0) {
            fed[i] = 1.0;
        }
    }
    for (s, f) in seed.iter_mut().zip(fed) {
        *s = f64::max(*s, f);
    }
    let seed_norm = norm(&seed);
    if seed_norm == 0.0 {
        return 0.0;
    }
    // Start from the last vector; a carried mode it lacks (a depot that has just received a
    // dose) joins with a small weight, and the iterations amplify it if it dominates.
    let mut v = [0.0; N];
    let carried_norm = direction.norm();
    for i in 0..N {
        v[i] = if carried_norm > 0.0 {
            direction[i] / carried_norm
        } else {
            seed[i] / seed_norm
        };
        if v[i] == 0.0 {
            v[i] = RESEED * seed[i] / seed_norm;
        }
    }
    let n0 = norm(&v);
    v.iter_mut().for_each(|x| *x /= n0);
    let mut growth = [0.0; 2];
    for k in 0..POWER_ITERATIONS {
        let w = product(&m, &v);
        let n = norm(&w);
        if n == 0.0 || !n.is_finite() {
            *direction = SVector::zeros();
            return if n == 0.0 { 0.0 } else { f64::INFINITY };
        }
        growth[k % 2] = n;
        for (vi, wi) in v.iter_mut().zip(w) {
            *vi = wi / n;
        }
    }
    *direction = SVector::from_column_slice(&v);
    (growth[0] * growth[1]).sqrt()
}

/// Integrates `[t0, t1]` with whichever method suits, switching as the module describes.
/// `outputs` are emitted on the way by the method covering each; `jacobian_at` is the model's
/// analytic Jacobian (or false, then central differences). Without `switching`, DOP853 runs
/// throughout with its steps held to `EXPLICIT_H_RHO / rho` (the `dop853_bounded` method).
#[allow(clippy::too_many_arguments)]
pub fn integrate<const N: usize, F>(
    f: &F,
    analytic_jacobian: AnalyticJacobian<'_, N>,
    t0: f64,
    t1: f64,
    y0: SVector<f64, N>,
    tol: &Tolerance<N>,
    monitor: &mut Monitor,
    stats: &mut Stats,
    carry: &mut Carry<N>,
    outputs: &mut Outputs<'_, N>,
    switching: bool,
) -> Result<SVector<f64, N>, (Failure, f64)>
where
    F: Fn(f64, &SVector<f64, N>, &mut SVector<f64, N>),
{
    // Stiffness is handled by switching, never reported as a failure.
    let tol = Tolerance {
        stop_when_stiff: false,
        ..*tol
    };
    let explicit_tol = Tolerance {
        rtol: tol.rtol * EXPLICIT_TOLERANCE,
        atol: tol.atol * EXPLICIT_TOLERANCE,
        ..tol
    };
    // A dose at the segment start may have changed the stiffness: estimate afresh, and count
    // votes for a switch from here.
    carry.since_estimate = 0;
    carry.votes = 0;
    let (mut t, mut y) = (t0, y0);
    loop {
        let reached = if carry.stiff {
            rosenbrock::integrate_until(
                Rodas4,
                f,
                analytic_jacobian,
                t,
                t1,
                y,
                &tol,
                monitor,
                stats,
                carry.h,
                Some(&mut *outputs),
                |_, y, h_next, jac| {
                    let rho = spectral_radius(jac, y, &tol.atol, &mut carry.direction);
                    carry.rho = rho;
                    vote(carry, h_next * rho < TO_EXPLICIT * EXPLICIT_H_RHO)
                },
            )?
        } else {
            // Evaluations of a difference Jacobian, added to `stats` after the integration.
            let mut extra = Stats::default();
            let reached = dop853::integrate_with_outputs(
                f,
                t,
                t1,
                y,
                carry.h,
                &explicit_tol,
                monitor,
                stats,
                (outputs.times, &mut *outputs.next, outputs.before),
                &mut *outputs.emit,
                |t, y, h_next| {
                    if carry.since_estimate == 0 {
                        let mut jac = SMatrix::<f64, N, N>::zeros();
                        if !analytic_jacobian(t, y, &mut jac) {
                            jac = rosenbrock::jacobian(f, t, y, &mut extra);
                        }
                        carry.rho = spectral_radius(&jac, y, &tol.atol, &mut carry.direction);
                        carry.since_estimate = ESTIMATE_EVERY - 1;
                    } else {
                        carry.since_estimate -= 1;
                    }
                    // A non-finite estimate (a Jacobian gone non-finite) sets no bound: the
                    // step's own checks report the non-finite state.
                    let h_stable = if carry.rho.is_finite() {
                        EXPLICIT_H_RHO / carry.rho
                    } else {
                        f64::INFINITY
                    };
                    if vote(carry, h_next > h_stable) && switching {
                        Handover::Stop
                    } else {
                        Handover::Continue { h_max: h_stable }
                    }
                },
            )?;
            stats.rhs_evaluations += extra.rhs_evaluations;
            reached
        };
        t = reached.t;
        y = reached.y;
        carry.h = reached.h_next;
        if !carry.stiff && carry.rho.is_finite() && carry.rho > 0.0 {
            // DOP853's last proposal (at a segment's end, or at a hand-over, where RODAS4 then
            // starts from it) has not been through the stability bound.
            carry.h = carry.h.min(EXPLICIT_H_RHO / carry.rho);
        }
        if t >= t1 {
            return Ok(y);
        }
        // Told to stop: the other method takes over from here.
        carry.stiff = !carry.stiff;
        carry.votes = 0;
        stats.switches += 1;
    }
}

/// Counts a step's vote for a switch; true when `CONFIRM` in a row have voted for it.
fn vote<const N: usize>(carry: &mut Carry<N>, for_switch: bool) -> bool {
    carry.votes = if for_switch { carry.votes + 1 } else { 0 };
    carry.votes >= CONFIRM
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Power iteration against nalgebra's eigenvalues: a dominant real eigenvalue, and a
    /// dominant complex pair (where plain ratios of norms oscillate).
    #[test]
    fn spectral_radius_matches_eigenvalues() {
        let real = SMatrix::<f64, 3, 3>::new(-3.0, 0.5, 0.0, 0.2, -1.0, 0.1, 0.0, 0.3, -0.2);
        let pair = SMatrix::<f64, 3, 3>::new(-1.0, 4.0, 0.0, -4.0, -1.0, 0.0, 0.5, 0.0, -0.5);
        let y = SVector::<f64, 3>::new(1.0, 2.0, 3.0);
        let atol = SVector::<f64, 3>::repeat(1e-8);
        // A dominant real eigenvalue: power iteration converges (here to 2%). A complex pair
        // makes the growth per iteration oscillate and the mean is off by up to about 10%;
        // that is tolerated by design: the cap h*rho <= 3 sits well inside DOP853's boundary
        // (6.2), and at h*|lambda| = 3.5 its damping is still 0.03.
        for (m, within) in [(real, 0.02), (pair, 0.15)] {
            let exact = m
                .complex_eigenvalues()
                .iter()
                .map(|c| c.norm())
                .fold(0.0, f64::max);
            // As along a solution: each estimate starts from the last one's vector.
            let mut direction = SVector::<f64, 3>::zeros();
            let mut estimate = 0.0;
            for _ in 0..3 {
                estimate = spectral_radius(&m, &y, &atol, &mut direction);
            }
            assert!(
                (estimate - exact).abs() <= within * exact,
                "{estimate} vs {exact}"
            );
        }
    }

    /// A state that is zero and fed by nothing (the depot of a drug never given) does not
    /// count, however fast its own decay; once it holds something, or is fed, it does.
    #[test]
    fn modes_the_solution_does_not_carry_are_left_out() {
        // State 2 decays at 1000/day and feeds state 0; nothing feeds it.
        let m = SMatrix::<f64, 3, 3>::new(-1.0, 0.0, 5.0, 0.5, -2.0, 0.0, 0.0, 0.0, -1000.0);
        let atol = SVector::<f64, 3>::repeat(1e-8);
        let rho = |y: SVector<f64, 3>| {
            let mut direction = SVector::<f64, 3>::zeros();
            (0..3)
                .map(|_| spectral_radius(&m, &y, &atol, &mut direction))
                .last()
                .unwrap_or_default()
        };
        let idle = rho(SVector::<f64, 3>::new(1.0, 1.0, 0.0));
        assert!((idle - 2.0).abs() < 0.1, "{idle}");
        let dosed = rho(SVector::<f64, 3>::new(1.0, 1.0, 1e-3));
        assert!((dosed - 1000.0).abs() < 10.0, "{dosed}");
        // Zero states fed by a carried one count: here state 1 (fed by state 0) sets rho.
        let fed = rho(SVector::<f64, 3>::new(1.0, 0.0, 0.0));
        assert!((fed - 2.0).abs() < 0.1, "{fed}");
    }
}
