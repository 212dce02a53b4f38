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
/// The same fraction for `dop853_bounded`, which has no RODAS4 steps to match. Measured over
/// the first 200 TNBC cohort patients x 6 arms against RODAS4 at rtol 1e-11 (worst error, steps
/// of 256 patients on the pembrolizumab + nab-paclitaxel arm): 0.1 gives 7.2e-7 and 424,217
/// steps; 0.2 6.8e-7 and 396,813 (-6.5%); 0.3 8.1e-7 and 369,718; 1.0 6.7e-6, beyond the 1e-6
/// standard. 0.2 keeps the worst error of 0.1.
pub const BOUNDED_TOLERANCE: f64 = 0.2;
/// Steps in a row that must agree before the method changes (no flapping on one step).
pub const CONFIRM: u32 = 3;
/// DOP853 re-estimates rho every this many steps (and at each segment start, where a dose
/// may have changed it): rho moves slowly. Made at every step, the estimate (an analytic
/// Jacobian and the power iteration) took a third of the time of a TNBC patient; every fifth
/// step gives the same steps, switches and accuracy there. Every eighth: over the first 200
/// TNBC cohort patients x 6 arms against RODAS4 at rtol 1e-11, `dop853_bounded`'s worst error
/// is 6.82e-7 as at every fifth (99th percentile 2.92e-7 against 2.90e-7), and 10,000 x 5 arms
/// take 3.7% less time (alternating runs); every tenth gained no more beyond noise. Without an
/// analytic Jacobian the difference approximation costs 2N right-hand sides, more than a step.
const ESTIMATE_EVERY: u32 = 8;

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

impl<const N: usize> Carry<N> {
    /// At a segment start: a dose there may have changed the stiffness, so estimate afresh,
    /// and count votes for a switch from here.
    pub(crate) fn start_segment(&mut self) {
        self.since_estimate = 0;
        self.votes = 0;
    }

    /// DOP853's largest step after an accepted step ending at `y`: `EXPLICIT_H_RHO / rho`,
    /// with rho re-estimated every `ESTIMATE_EVERY` steps from the Jacobian that `jacobian`
    /// writes, by [`spectral_radius_ritz`] where `ritz` (`dop853_bounded`, which has no stiff
    /// method to fall back on), else by [`spectral_radius`]. A non-finite estimate (a Jacobian
    /// gone non-finite) sets no bound: the step's own checks report the non-finite state.
    pub(crate) fn explicit_step_bound(
        &mut self,
        y: &SVector<f64, N>,
        atol: &SVector<f64, N>,
        ritz: bool,
        jacobian: impl FnOnce(&mut SMatrix<f64, N, N>),
    ) -> f64 {
        if self.since_estimate == 0 {
            let mut jac = SMatrix::<f64, N, N>::zeros();
            jacobian(&mut jac);
            self.rho = if ritz {
                spectral_radius_ritz(&jac, y, atol, &mut self.direction)
            } else {
                spectral_radius(&jac, y, atol, &mut self.direction)
            };
            self.since_estimate = ESTIMATE_EVERY - 1;
        } else {
            self.since_estimate -= 1;
        }
        if self.rho.is_finite() {
            EXPLICIT_H_RHO / self.rho
        } else {
            f64::INFINITY
        }
    }

    /// DOP853's last proposal (at a segment's end, or at a hand-over, where RODAS4 then starts
    /// from it) has not been through the stability bound: bound it.
    pub(crate) fn bound_carried_step(&mut self) {
        if self.rho.is_finite() && self.rho > 0.0 {
            self.h = self.h.min(EXPLICIT_H_RHO / self.rho);
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
    estimate_spectral_radius(jac, y, atol, direction, false)
}

/// As [`spectral_radius`], from the same two products, but the estimate is the largest
/// modulus of the Ritz values on span{v, Mv} (two steps of Arnoldi) rather than the growth
/// of the iterates. Once that span is near the dominant invariant subspace it is exact, for a
/// real eigenvalue and for a complex pair alike, however non-normal the scaled Jacobian. The
/// growth is not: near a complex pair it depends on where the vector is in the pair's plane,
/// and on the TNBC scenario (the T-cell pair, about -1.6 +- 0.4i/day, as the dying tumour
/// clears after chemotherapy) it read 25-30% low for several estimates in a row, so that
/// steps held to h * rho <= 3 were taken at h|lambda| up to 4.3. There DOP853's error
/// estimate misses its error in that mode, and the trajectory's error reached 2.2e-6 relative
/// against a tolerance of 1e-8. With this estimate the worst over 200 patients x 6 arms is
/// 7.2e-7, for the same steps. Used by `dop853_bounded`, which has no RODAS4 to fall back on.
pub fn spectral_radius_ritz<const N: usize>(
    jac: &SMatrix<f64, N, N>,
    y: &SVector<f64, N>,
    atol: &SVector<f64, N>,
    direction: &mut SVector<f64, N>,
) -> f64 {
    estimate_spectral_radius(jac, y, atol, direction, true)
}

fn estimate_spectral_radius<const N: usize>(
    jac: &SMatrix<f64, N, N>,
    y: &SVector<f64, N>,
    atol: &SVector<f64, N>,
    direction: &mut SVector<f64, N>,
    ritz: bool,
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
    if ritz {
        return ritz_radius(&m, &v, direction);
    }
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

/// The largest modulus of the Ritz values of `m` on span{v, mv} (`v` of unit norm): two steps
/// of Arnoldi, v = q1, m q1 = h11 q1 + h21 q2, from the products mv and m(mv), whose
/// normalised last one becomes `direction` (as two power iterations would leave it).
fn ritz_radius<const N: usize>(
    m: &[[f64; N]; N],
    v: &[f64; N],
    direction: &mut SVector<f64, N>,
) -> f64 {
    let product = |x: &[f64; N]| -> [f64; N] {
        let mut w = [0.0; N];
        for (wi, row) in w.iter_mut().zip(m) {
            *wi = row.iter().zip(x).map(|(a, b)| a * b).sum();
        }
        w
    };
    let dot = |a: &[f64; N], b: &[f64; N]| a.iter().zip(b).map(|(x, y)| x * y).sum::<f64>();
    let w1 = product(v);
    let w2 = product(&w1);
    let (n1, n2) = (dot(&w1, &w1).sqrt(), dot(&w2, &w2).sqrt());
    if !n1.is_finite() || !n2.is_finite() {
        *direction = SVector::zeros();
        return f64::INFINITY;
    }
    if n1 == 0.0 {
        *direction = SVector::zeros();
        return 0.0;
    }
    *direction = if n2 > 0.0 {
        SVector::from_column_slice(&w2) / n2
    } else {
        SVector::from_column_slice(&w1) / n1
    };
    let h11 = dot(v, &w1);
    let mut r = [0.0; N];
    for i in 0..N {
        r[i] = w1[i] - h11 * v[i];
    }
    let h21 = dot(&r, &r).sqrt();
    // v is (to rounding) an eigenvector: its Rayleigh quotient is the eigenvalue.
    if h21 <= 1e-10 * n1 {
        return h11.abs();
    }
    // q2 = r / h21 and m q2 = (m w1 - h11 w1) / h21.
    let (mut q2, mut mq2) = ([0.0; N], [0.0; N]);
    for i in 0..N {
        q2[i] = r[i] / h21;
        mq2[i] = (w2[i] - h11 * w1[i]) / h21;
    }
    let (h12, h22) = (dot(v, &mq2), dot(&q2, &mq2));
    // The eigenvalues of [[h11, h12], [h21, h22]].
    let half_trace = 0.5 * (h11 + h22);
    let det = h11 * h22 - h12 * h21;
    let discriminant = half_trace * half_trace - det;
    if discriminant < 0.0 {
        det.sqrt()
    } else {
        half_trace.abs() + discriminant.sqrt()
    }
}

/// Integrates `[t0, t1]` with whichever method suits, switching as the module describes.
///
/// Without switching (`dop853_bounded`), `engine::ode::lanes` does the same for eight patients
/// at once, operation for operation: keep the two in step (`tests/lanes.rs` checks them).
/// `outputs` are emitted on the way by the method covering each; `jacobian_at` is the model's
/// analytic Jacobian (or false, then central differences). Without `switching`, DOP853 runs
/// throughout with its steps held to `EXPLICIT_H_RHO / rho` (the `dop853_bounded` method),
/// rho from [`spectral_radius_ritz`].
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
    let fraction = if switching {
        EXPLICIT_TOLERANCE
    } else {
        BOUNDED_TOLERANCE
    };
    let explicit_tol = Tolerance {
        rtol: tol.rtol * fraction,
        atol: tol.atol * fraction,
        ..tol
    };
    carry.start_segment();
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
                    let h_stable = carry.explicit_step_bound(y, &tol.atol, !switching, |jac| {
                        if !analytic_jacobian(t, y, jac) {
                            *jac = rosenbrock::jacobian(f, t, y, &mut extra);
                        }
                    });
                    if vote(carry, h_next > h_stable) && switching {
                        Handover::Stop
                    } else {
                        Handover::Continue { h_max: h_stable }
                    }
                },
            );
            // Counted before an early stop returns its stats.
            stats.rhs_evaluations += extra.rhs_evaluations;
            reached?
        };
        t = reached.t;
        y = reached.y;
        carry.h = reached.h_next;
        if !carry.stiff {
            carry.bound_carried_step();
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

    /// The Ritz estimate is exact, to rounding, on a dominant complex pair of a non-normal
    /// matrix, where the growth of the iterates is not; and on a dominant real eigenvalue.
    #[test]
    fn ritz_estimate_is_exact_on_a_complex_pair() {
        // A pair -1.6 +- 0.4i, strongly non-normal (as the T-cell pair of the TNBC scenario),
        // and a slow mode -0.2.
        let pair = SMatrix::<f64, 3, 3>::new(-1.6, 40.0, 0.0, -0.004, -1.6, 0.0, 0.3, 0.1, -0.2);
        let real = SMatrix::<f64, 3, 3>::new(-3.0, 0.5, 0.0, 0.2, -1.0, 0.1, 0.0, 0.3, -0.2);
        let y = SVector::<f64, 3>::new(1.0, 1.0, 1.0);
        let atol = SVector::<f64, 3>::repeat(1e-8);
        for m in [pair, real] {
            let exact = m
                .complex_eigenvalues()
                .iter()
                .map(|c| c.norm())
                .fold(0.0, f64::max);
            let (mut ritz, mut power) = (SVector::zeros(), SVector::zeros());
            let (mut r, mut p) = (0.0, 0.0);
            let mut worst_power: f64 = 0.0;
            for _ in 0..6 {
                r = spectral_radius_ritz(&m, &y, &atol, &mut ritz);
                p = spectral_radius(&m, &y, &atol, &mut power);
                worst_power = worst_power.max((p - exact).abs() / exact);
            }
            assert!(
                (r - exact).abs() <= 1e-6 * exact,
                "ritz {r} vs {exact} (power {p})"
            );
            if m == pair {
                // The growth wanders by far more here.
                assert!(worst_power > 0.1, "power {p} vs {exact}");
            }
        }
    }

    /// A state that is zero and fed by nothing (the depot of a drug never given) does not
    /// count, however fast its own decay; once it holds something, or is fed, it does.
    #[test]
    fn modes_the_solution_does_not_carry_are_left_out() {
        // State 2 decays at 1000/day and feeds state 0; nothing feeds it.
        let m = SMatrix::<f64, 3, 3>::new(-1.0, 0.0, 5.0, 0.5, -2.0, 0.0, 0.0, 0.0, -1000.0);
        let atol = SVector::<f64, 3>::repeat(1e-8);
        // The power estimate (`auto`) and the Ritz estimate (`dop853_bounded`) alike.
        for estimate in [spectral_radius::<3>, spectral_radius_ritz::<3>] {
            let rho = |y: SVector<f64, 3>| {
                let mut direction = SVector::<f64, 3>::zeros();
                (0..3)
                    .map(|_| estimate(&m, &y, &atol, &mut direction))
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
            // Nothing carried: no bound.
            assert_eq!(rho(SVector::<f64, 3>::zeros()), 0.0);
        }
    }
}
