//! What the steppers share: tolerances, work counters, failures, the error norm, the initial
//! step heuristic and the budget of steps and stiffness tests that runs across all the
//! segments of one solve.

use nalgebra::{SMatrix, SVector};

/// Why an integration stopped short.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Failure {
    /// The step size fell below what f64 can resolve at this time.
    StepSizeUnderflow,
    /// More steps than allowed in one interval.
    TooManySteps(u64),
    /// The problem became stiff: an explicit method would need tiny steps.
    Stiff,
    /// A state or its derivative became NaN or infinite.
    NonFinite,
    /// A drug's concentration or activity is not a number: a dose, PK or potency value beyond
    /// what f64 holds.
    DrugExposure,
    /// The problem does not fit the model (built wrongly through the library).
    InvalidProblem(&'static str),
    /// Not a failure: the observer has every output it needs (a patient's follow-up has
    /// ended), so the integration stops at its next step. `solve` returns `Ok`.
    ObserverDone,
}

/// Counts of work done, summed over a whole solve.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Stats {
    pub rhs_evaluations: u64,
    pub accepted_steps: u64,
    pub rejected_steps: u64,
    /// Changes of method (`auto` only).
    pub switches: u64,
}

/// Where an integration that may hand over stopped: the time, the state, and the step the
/// controller proposes next.
#[derive(Debug, Clone, Copy)]
pub struct Reached<const N: usize> {
    pub t: f64,
    pub y: SVector<f64, N>,
    pub h_next: f64,
}

/// What `after_step` decides after each accepted step.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Handover {
    /// Go on, with the next step at most `h_max`.
    Continue { h_max: f64 },
    /// Stop here (the caller goes on with another method).
    Stop,
}

/// Relative tolerance and one absolute tolerance per state.
#[derive(Debug, Clone, Copy)]
pub struct Tolerance<const N: usize> {
    pub rtol: f64,
    pub atol: SVector<f64, N>,
    /// Stop with [`Failure::Stiff`] when the stiffness test confirms stiffness; otherwise
    /// carry on with the small steps stability demands.
    pub stop_when_stiff: bool,
}

/// A step's continuous extension: the solution anywhere inside the step.
pub trait DenseOutput<const N: usize> {
    fn t_end(&self) -> f64;
    fn eval(&self, t: f64) -> SVector<f64, N>;
}

/// Weighted RMS norm used for both the error estimate and the initial step.
#[inline]
pub fn rms<const N: usize>(v: &SVector<f64, N>, scale: &SVector<f64, N>) -> f64 {
    let mut sum = 0.0;
    for i in 0..N {
        let x = v[i] / scale[i];
        sum += x * x;
    }
    (sum / N as f64).sqrt()
}

/// Hairer's initial step size heuristic (`hinit` of DOPRI5 and DOP853) for a method of
/// order `order`, limited to `h_max`.
#[allow(clippy::too_many_arguments)]
pub fn initial_step<const N: usize, F>(
    order: f64,
    f: &F,
    t: f64,
    y: &SVector<f64, N>,
    f0: &SVector<f64, N>,
    tol: &Tolerance<N>,
    h_max: f64,
    stats: &mut Stats,
) -> f64
where
    F: Fn(f64, &SVector<f64, N>, &mut SVector<f64, N>),
{
    let sc = tol.atol + y.abs() * tol.rtol;
    let d0 = rms(y, &sc);
    let d1 = rms(f0, &sc);
    let mut h0 = if d0 < 1e-10 || d1 < 1e-10 {
        1e-6
    } else {
        0.01 * d0 / d1
    };
    h0 = h0.min(h_max);
    let y1 = y + f0 * h0;
    let mut f1 = SVector::<f64, N>::zeros();
    f(t + h0, &y1, &mut f1);
    stats.rhs_evaluations += 1;
    let d2 = rms(&(f1 - f0), &sc) / h0;
    let der = d1.max(d2);
    let h1 = if der <= 1e-15 {
        (h0 * 1e-3).max(1e-6)
    } else {
        (0.01 / der).powf(1.0 / order)
    };
    (100.0 * h0).min(h1).min(h_max)
}

/// Steps taken and stiffness seen over a whole solve, carried from one segment to the next,
/// so that whether a run fails does not depend on where unrelated doses cut it; and whether
/// the observer has asked the solve to stop.
#[derive(Debug, Clone, Copy)]
pub struct Monitor<'a> {
    /// Most steps (accepted or rejected) allowed in the whole solve.
    pub max_steps: u64,
    pub steps: u64,
    pub accepted: u64,
    stiff_count: u32,
    non_stiff_count: u32,
    /// Set by the solve's output callback when its observer is done.
    observer_done: Option<&'a std::cell::Cell<bool>>,
}

impl<'a> Monitor<'a> {
    /// Hairer's test: every `TEST_EVERY` accepted steps, and at every step once it has fired,
    /// estimate h*|lambda|; `CONFIRMATIONS` firings in a row mean the problem is stiff.
    const TEST_EVERY: u64 = 1000;
    const CONFIRMATIONS: u32 = 15;
    const RESET_AFTER: u32 = 6;

    pub fn new(max_steps: u64) -> Self {
        Monitor {
            max_steps,
            steps: 0,
            accepted: 0,
            stiff_count: 0,
            non_stiff_count: 0,
            observer_done: None,
        }
    }

    /// As [`Monitor::new`], stopping every step from the moment `observer_done` is set.
    pub fn stopping_when(max_steps: u64, observer_done: &'a std::cell::Cell<bool>) -> Self {
        Monitor {
            observer_done: Some(observer_done),
            ..Monitor::new(max_steps)
        }
    }

    /// Whether the observer has asked the solve to stop.
    pub fn observer_done(&self) -> bool {
        self.observer_done.is_some_and(|done| done.get())
    }

    /// Counts an attempted step of size `h` at `t`; `Err` once the observer is done, once the
    /// budget is spent, or when `h` is too small for f64 to tell `t + h` from `t` (then the
    /// cause is named: a right-hand side that kept returning non-finite values, or a step-size
    /// underflow).
    pub fn step(&mut self, t: f64, h: f64, non_finite_seen: bool) -> Result<(), (Failure, f64)> {
        if self.observer_done() {
            return Err((Failure::ObserverDone, t));
        }
        if self.steps >= self.max_steps {
            return Err((Failure::TooManySteps(self.max_steps), t));
        }
        if 0.1 * h.abs() <= f64::EPSILON * t.abs() {
            let why = if non_finite_seen {
                Failure::NonFinite
            } else {
                Failure::StepSizeUnderflow
            };
            return Err((why, t));
        }
        self.steps += 1;
        Ok(())
    }

    /// Counts an accepted step and says whether the stiffness test is due on it.
    pub fn accept(&mut self) -> bool {
        self.accepted += 1;
        self.accepted.is_multiple_of(Self::TEST_EVERY) || self.stiff_count > 0
    }

    /// Records a stiffness test (`h_lambda` against the method's stability `threshold`);
    /// returns true when stiffness is confirmed.
    pub fn stiffness(&mut self, h_lambda: f64, threshold: f64) -> bool {
        if h_lambda > threshold {
            self.non_stiff_count = 0;
            self.stiff_count += 1;
            self.stiff_count >= Self::CONFIRMATIONS
        } else {
            self.non_stiff_count += 1;
            if self.non_stiff_count == Self::RESET_AFTER {
                self.stiff_count = 0;
            }
            false
        }
    }
}

/// A span too short to step over: zero in all but floating-point noise.
pub fn negligible(t0: f64, t1: f64) -> bool {
    t1 - t0 <= 8.0 * f64::EPSILON * t0.abs().max(t1.abs()).max(1.0)
}

/// A model's analytic Jacobian at (t, y): writes df/dy and returns true, or returns false
/// where the model has none (the stiff solver then differentiates numerically).
pub type AnalyticJacobian<'a, const N: usize> =
    &'a dyn Fn(f64, &SVector<f64, N>, &mut SMatrix<f64, N, N>) -> bool;
