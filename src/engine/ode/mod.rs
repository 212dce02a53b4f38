//! The ODE engine: one patient, one arm, from day 0 to the horizon.
//!
//! The schedule splits time into segments on which every input is constant (see
//! [`Schedule::segments`]). The solver is restarted at each segment start after applying that
//! instant's boluses, so a discontinuity is never stepped over and a bolus is never smeared
//! across a step. Outputs are taken on a regular grid: inside a step from that step's own
//! interpolant, at a segment boundary from the exact post-dose state (outputs are
//! right-continuous: the value at a dosing time includes the dose).
//!
//! Five methods:
//! - `dop853` (default): our Dormand–Prince 8(5,3) stepper ([`dop853`]) with 7th-order dense
//!   output; at the default rtol 1e-8 it needs about a quarter of Dopri5's steps;
//! - `dopri5`: our Dormand–Prince 5(4) stepper ([`dopri5`]) with 4th-order dense output;
//! - `rodas4`: our RODAS4 Rosenbrock method ([`rosenbrock`]) for stiff models; outputs inside a
//!   step from an error-checked quintic Hermite interpolant, or, where the check fails, as step
//!   ends;
//! - `rodas5p`: Steinebach's Rodas5P, order 5(4), on the same Rosenbrock integrator: fewer
//!   steps than RODAS4 at tight tolerances;
//! - `ode_solvers_dop853`: `ode_solvers::Dop853`, integrated exactly to each output time, an
//!   independent implementation kept as the reference in tests. ode_solvers 0.6.2's `Dense`
//!   output extrapolates a final point at `x_end` from an unfinished step, so it is not used:
//!   each output time is the exact end of an integration.
//!
//! All control the error per state with `atol[i] + rtol*|y[i]|`. ode_solvers takes a single
//! absolute tolerance, so its backend integrates the scaled state `z[i] = y[i] / atol[i]`
//! with absolute tolerance 1, which is the same error test.

pub mod auto;
pub mod dop853;
pub mod dopri5;
pub mod lanes;
pub mod rosenbrock;
pub mod step;

use crate::engine::schedule::{Schedule, Segment};
use crate::model::{ModelSpec, OdeModel};
use crate::therapy::exposure::Exposure;
use crate::therapy::exposure::StretchActivity;
use crate::therapy::pk::Amounts;
use nalgebra::{SMatrix, SVector};
pub use step::{AnalyticJacobian, DenseOutput, Failure, Monitor, Stats, Tolerance};

/// Two times closer than this (days, about 0.1 ms) are the same instant: an output time that
/// lands on a dosing time is reported after the dose.
pub const SAME_INSTANT_DAY: f64 = 1e-9;
/// The finest output spacing: a thousand of the instants output times are rounded to, so that
/// no two outputs round onto one time. Finer spacings were accepted, and 1e-12 days wrote a
/// thousand rows at two distinct times (found by an independent check of the PK).
pub const MIN_OUTPUT_EVERY_DAY: f64 = 1e-6;

/// Integration method.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Method {
    /// Our Dormand–Prince 8(5,3) with 7th-order dense output: the default.
    #[default]
    Dop853,
    /// Our Dormand–Prince 5(4) with 4th-order dense output.
    Dopri5,
    /// Our RODAS4, a Rosenbrock method for stiff problems.
    Rodas4,
    /// Rodas5P (Steinebach 2023), a Rosenbrock method of order 5(4) for stiff problems.
    Rodas5p,
    /// DOP853 where the problem is not stiff, RODAS4 where it is ([`auto`]).
    Auto,
    /// DOP853 with every step held where its stability function matches e^z for every mode
    /// (h * rho <= 3, rho the Jacobian's spectral radius): `auto` that never hands over to
    /// RODAS4. Accurate on mildly stiff models with no stiff method, and the method the
    /// cohort integrates several patients at once in SIMD lanes ([`lanes`]).
    Dop853Bounded,
    /// `ode_solvers::Dop853`, integrated exactly to every output time: an independent
    /// implementation, kept as the reference the others are tested against.
    OdeSolversDop853,
}

impl Method {
    pub const NAMES: [&'static str; 7] = [
        "dop853",
        "dopri5",
        "rodas4",
        "rodas5p",
        "auto",
        "dop853_bounded",
        "ode_solvers_dop853",
    ];

    pub fn name(self) -> &'static str {
        match self {
            Method::Dop853 => "dop853",
            Method::Dopri5 => "dopri5",
            Method::Rodas4 => "rodas4",
            Method::Rodas5p => "rodas5p",
            Method::Auto => "auto",
            Method::Dop853Bounded => "dop853_bounded",
            Method::OdeSolversDop853 => "ode_solvers_dop853",
        }
    }

    pub fn from_name(name: &str) -> Option<Method> {
        match name {
            "dop853" => Some(Method::Dop853),
            "dopri5" => Some(Method::Dopri5),
            "rodas4" => Some(Method::Rodas4),
            "rodas5p" => Some(Method::Rodas5p),
            "auto" => Some(Method::Auto),
            "dop853_bounded" => Some(Method::Dop853Bounded),
            "ode_solvers_dop853" => Some(Method::OdeSolversDop853),
            _ => None,
        }
    }
}

/// Solver settings.
#[derive(Debug, Clone, PartialEq)]
pub struct SolverOptions {
    pub method: Method,
    pub rtol: f64,
    /// One absolute tolerance per state; `None` means `rtol * scale` of each state.
    pub atol: Option<Vec<f64>>,
    /// Most steps (accepted and rejected) allowed in one solve, over all its segments.
    pub max_steps: u64,
    /// What to do when the stiffness test fires: stop with an error (the default, so that a
    /// model that has become stiff is noticed), or carry on with small steps.
    pub stop_when_stiff: bool,
}

impl Default for SolverOptions {
    fn default() -> Self {
        SolverOptions {
            method: Method::default(),
            rtol: 1e-8,
            atol: None,
            max_steps: 100_000,
            stop_when_stiff: true,
        }
    }
}

/// One simulation to run: a model's parameter values and initial state, what is given when,
/// and where to stop.
#[derive(Debug, Clone, Copy)]
pub struct Problem<'a> {
    /// Values in the order of the model's declared parameters.
    pub parameters: &'a [f64],
    /// Values in the order of the model's declared states.
    pub initial: &'a [f64],
    pub schedule: &'a Schedule,
    /// Drugs given, each bound to the model input that receives its activity.
    pub exposures: &'a [Exposure],
    pub horizon_day: f64,
    pub output_every_day: f64,
    /// Further output times beside the regular grid (a trial's assessment visits), in any
    /// order; times after the horizon are ignored.
    pub also_at_days: &'a [f64],
}

/// Which of the model's derived outputs an observer reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DerivedWanted {
    /// Every one (a trajectory kept whole).
    All,
    /// Only the one of this index (a cohort patient's summary reads its tumour measure).
    One(usize),
    /// None: the observer reads the states only.
    Nothing,
}

/// Receives the solution at each output time, in increasing time order.
pub trait Observer {
    /// Called once before the first output with the number of outputs to come.
    fn start(&mut self, _outputs: usize) {}
    /// Which derived outputs [`Observer::observe`] reads, asked once before the first output.
    /// Only those are computed, with the inputs only if one of them reads them; the others
    /// arrive as NaN. Every derived value at every output, with the drug inputs that the
    /// immune activation rate needs, was 5.5% of a TNBC cohort run that reads one of them.
    fn derived_wanted(&self) -> DerivedWanted {
        DerivedWanted::All
    }
    fn observe(&mut self, time_day: f64, state: &[f64], derived: &[f64]);
    /// True once the observer needs no further output (a trial patient's follow-up has ended
    /// at death or dropout): the solve then stops at its next step instead of integrating to
    /// the horizon (DifferentialEquations.jl's `terminate!`). Outputs may still arrive after
    /// it turns true, until the step under way ends; the observer ignores them.
    fn done(&self) -> bool {
        false
    }
}

/// The derived outputs of one solve, those its observer wants (the rest NaN).
pub(crate) struct DerivedOutputs {
    wanted: DerivedWanted,
    /// Whether a wanted value reads the inputs: if not, an output needs no inputs computed.
    reads_inputs: bool,
    pub(crate) values: Vec<f64>,
}

impl DerivedOutputs {
    pub(crate) fn new(spec: &ModelSpec, wanted: DerivedWanted) -> Self {
        if let DerivedWanted::One(i) = wanted {
            debug_assert!(
                i < spec.derived.len(),
                "an observer wants derived output {i}"
            );
        }
        let reads_inputs = match wanted {
            DerivedWanted::All => spec.derived.iter().any(|d| d.reads_inputs),
            DerivedWanted::One(i) => spec.derived.get(i).is_some_and(|d| d.reads_inputs),
            DerivedWanted::Nothing => false,
        };
        DerivedOutputs {
            wanted,
            reads_inputs,
            values: vec![f64::NAN; spec.derived.len()],
        }
    }

    /// The wanted values at state `y`. `inputs` writes the inputs at that instant and says
    /// how many there are; it is called only if a wanted value reads them, and the values
    /// computed without it see no inputs at all.
    pub(crate) fn fill<const N: usize, M: OdeModel<N>>(
        &mut self,
        model: &M,
        p: &M::Params,
        y: &SVector<f64, N>,
        inputs: impl FnOnce(&mut [f64; MAX_INPUTS]) -> usize,
    ) {
        let mut u = [0.0; MAX_INPUTS];
        let n = if self.reads_inputs { inputs(&mut u) } else { 0 };
        let input = &u[..n];
        match self.wanted {
            DerivedWanted::All => {
                for (index, v) in self.values.iter_mut().enumerate() {
                    *v = model.derived_value(p, y, input, index);
                }
            }
            DerivedWanted::One(index) => {
                if let Some(v) = self.values.get_mut(index) {
                    *v = model.derived_value(p, y, input, index);
                }
            }
            DerivedWanted::Nothing => {}
        }
    }
}

/// A whole trajectory kept in memory (the SciML "solution"): fine for one patient; a cohort
/// streams through its own [`Observer`] instead.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Solution {
    pub n_states: usize,
    pub n_derived: usize,
    pub time_day: Vec<f64>,
    /// Row-major: `n_states` values per output time.
    pub states: Vec<f64>,
    /// Row-major: `n_derived` values per output time.
    pub derived: Vec<f64>,
    pub stats: Stats,
}

impl Solution {
    pub fn new(n_states: usize, n_derived: usize) -> Self {
        Solution {
            n_states,
            n_derived,
            ..Default::default()
        }
    }
    pub fn len(&self) -> usize {
        self.time_day.len()
    }
    pub fn is_empty(&self) -> bool {
        self.time_day.is_empty()
    }
    pub fn state(&self, row: usize) -> &[f64] {
        &self.states[row * self.n_states..(row + 1) * self.n_states]
    }
    pub fn derived_row(&self, row: usize) -> &[f64] {
        &self.derived[row * self.n_derived..(row + 1) * self.n_derived]
    }
    /// The series of state `index` over all output times.
    pub fn series(&self, index: usize) -> Vec<f64> {
        (0..self.len()).map(|r| self.state(r)[index]).collect()
    }
    pub fn last_state(&self) -> &[f64] {
        self.state(self.len() - 1)
    }
}

impl Observer for Solution {
    fn start(&mut self, outputs: usize) {
        self.time_day.reserve(outputs);
        self.states.reserve(outputs * self.n_states);
        self.derived.reserve(outputs * self.n_derived);
    }
    #[inline]
    fn observe(&mut self, time_day: f64, state: &[f64], derived: &[f64]) {
        // The state with extend_from_slice: inlined into the solver, its length is the
        // model's and the copy is a move, behind one capacity check rather than one per
        // value. The derived values element by element: their number is known only at run
        // time, and extend_from_slice would call memcpy for a few values.
        self.time_day.push(time_day);
        self.states.extend_from_slice(state);
        for &v in derived {
            self.derived.push(v);
        }
    }
}

/// Why a solve failed, and on which simulated day.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SolveError {
    pub failure: Failure,
    pub day: f64,
}

impl std::fmt::Display for SolveError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let what = match self.failure {
            Failure::StepSizeUnderflow => {
                "the step size underflowed (the solution changes faster than f64 can resolve)"
                    .to_string()
            }
            Failure::TooManySteps(n) => format!(
                "more than {n} steps were needed (raise solver.max_steps, loosen rtol, or use rodas4 if the model is stiff)"
            ),
            Failure::InvalidProblem(why) => format!("the problem is malformed: {why}"),
            Failure::Stiff => {
                "the problem became stiff (an explicit method would need vanishing steps; \
                 [solver] method = \"auto\" switches to a stiff method where it must, \
                 or stiffness = \"continue\" goes on with small steps)"
                    .to_string()
            }
            Failure::NonFinite => "a state became NaN or infinite".to_string(),
            Failure::DrugExposure => "a drug's concentration or activity is not a finite number \
                 (a dose, PK or potency value beyond what f64 holds)"
                .to_string(),
            Failure::ObserverDone => "the observer asked the solve to stop".to_string(),
        };
        write!(f, "{what} on day {:.6}", self.day)
    }
}

impl std::error::Error for SolveError {}

/// The output times: every `every` days from 0, and the horizon itself. Each is rounded to
/// the nearest 1e-9 day, so that 3 x 0.1 is written 0.3 and not 0.30000000000000004 (outputs
/// are joined on time by scripts).
pub fn output_times(horizon_day: f64, every_day: f64) -> Vec<f64> {
    let n = ((horizon_day / every_day) + SAME_INSTANT_DAY).floor() as usize;
    // Whole multiples of a whole number of days, below 2^53 nanodays, are their own snap
    // (t * 1e9 is exact): daily and weekly grids skip the rounding, an out-of-line call on
    // x86-64, and the division (6% of a daily-output Kuznetsov patient).
    let whole_days = every_day as i64 as f64 == every_day && n as f64 * every_day <= 9e6;
    let mut times: Vec<f64> = if whole_days {
        (0..=n).map(|i| i as f64 * every_day).collect()
    } else {
        (0..=n)
            .map(|i| snap_to_instant(i as f64 * every_day))
            .collect()
    };
    if horizon_day - times[n] > SAME_INSTANT_DAY {
        times.push(horizon_day);
    } else {
        times[n] = horizon_day;
    }
    times
}

/// The regular `grid` with `extra` times merged in, sorted, each instant once (times within
/// [`SAME_INSTANT_DAY`] of a grid time are that time).
pub fn with_extra_times(mut grid: Vec<f64>, extra: &[f64], horizon_day: f64) -> Vec<f64> {
    if extra.is_empty() {
        return grid;
    }
    grid.extend(
        extra
            .iter()
            .map(|&t| snap_to_instant(t))
            .filter(|&t| (0.0..=horizon_day + SAME_INSTANT_DAY).contains(&t)),
    );
    grid.sort_by(f64::total_cmp);
    grid.dedup_by(|b, a| (*b - *a).abs() <= SAME_INSTANT_DAY);
    grid
}

/// `t` rounded to the nearest 1e-9 day ([`SAME_INSTANT_DAY`]): the nearest double to a
/// decimal with nine places, so that 3 x 0.1 becomes 0.3.
pub fn snap_to_instant(t: f64) -> f64 {
    const PER_DAY: f64 = 1e9; // exactly representable, unlike 1.0 / 1e-9
    (t * PER_DAY).round() / PER_DAY
}

/// Checks that `problem` fits `model` (lengths, finite numbers, horizon): a malformed problem
/// built through the library is an error, never an out-of-bounds panic.
fn check<const N: usize, M: OdeModel<N>>(
    model: &M,
    problem: &Problem<'_>,
    options: &SolverOptions,
) -> Result<(), &'static str> {
    let spec = model.spec();
    if problem.parameters.len() != spec.parameters.len() {
        return Err("the number of parameter values differs from the model's parameters");
    }
    if problem.initial.len() != N || spec.states.len() != N {
        return Err("the number of initial values differs from the model's states");
    }
    if !(problem.horizon_day.is_finite() && problem.horizon_day > 0.0) {
        return Err("the horizon must be a finite number of days above 0");
    }
    if !(problem.output_every_day.is_finite() && problem.output_every_day >= MIN_OUTPUT_EVERY_DAY) {
        return Err("the output spacing must be a finite number of days of at least 1e-6");
    }
    if problem.horizon_day / problem.output_every_day > 1e8 {
        return Err("more than 1e8 output times");
    }
    if problem
        .schedule
        .administrations
        .iter()
        .any(|a| a.input >= spec.inputs.len())
    {
        return Err("an administration names an input the model does not have");
    }
    if problem
        .exposures
        .iter()
        .any(|e| e.input >= spec.inputs.len())
    {
        return Err("a drug exposure names an input the model does not have");
    }
    if options.atol.as_ref().is_some_and(|a| a.len() != N) {
        return Err("the number of absolute tolerances differs from the model's states");
    }
    Ok(())
}

/// What a solve needs besides the model: the tolerances, the output times and the smooth
/// segments between doses.
struct Prepared<const N: usize> {
    tol: Tolerance<N>,
    grid: Vec<f64>,
    segments: Vec<Segment>,
}

/// Checks `problem` (see [`check`]) and prepares its solve.
fn prepare<const N: usize, M: OdeModel<N>>(
    model: &M,
    problem: &Problem<'_>,
    options: &SolverOptions,
) -> Result<Prepared<N>, SolveError> {
    check(model, problem, options).map_err(|why| SolveError {
        failure: Failure::InvalidProblem(why),
        day: 0.0,
    })?;
    let spec = model.spec();
    let atol = match &options.atol {
        Some(a) => SVector::<f64, N>::from_column_slice(a),
        None => SVector::<f64, N>::from_fn(|i, _| options.rtol * spec.states[i].scale),
    };
    let tol = Tolerance {
        rtol: options.rtol,
        atol,
        stop_when_stiff: options.stop_when_stiff,
    };
    let grid = with_extra_times(
        output_times(problem.horizon_day, problem.output_every_day),
        problem.also_at_days,
        problem.horizon_day,
    );
    let exposure_events: Vec<f64> = problem
        .exposures
        .iter()
        .flat_map(|e| e.event_times())
        .collect();
    let segments =
        problem
            .schedule
            .segments(spec.inputs.len(), problem.horizon_day, &exposure_events);
    Ok(Prepared {
        tol,
        grid,
        segments,
    })
}

/// Solves `problem` for `model`, passing each output to `observer`. With `dop853_bounded`,
/// [`lanes::solve_all`] repeats this segment loop for eight patients at once: keep the two in
/// step.
pub fn solve<const N: usize, M: OdeModel<N>, O: Observer + ?Sized>(
    model: &M,
    problem: &Problem<'_>,
    options: &SolverOptions,
    observer: &mut O,
) -> Result<Stats, SolveError> {
    let Prepared {
        tol,
        grid,
        segments,
    } = prepare(model, problem, options)?;
    let spec = model.spec();
    let p = model.params(problem.parameters);
    let mut y = SVector::<f64, N>::from_column_slice(problem.initial);
    observer.start(grid.len());
    let mut derived = DerivedOutputs::new(spec, observer.derived_wanted());
    let mut next = 0usize;
    let mut stats = Stats::default();
    let observer_done = std::cell::Cell::new(false);
    let mut monitor = Monitor::stopping_when(options.max_steps, &observer_done);
    // The step (and for `auto` the method) carried from one segment to the next.
    let mut carried = auto::Carry::<N>::default();
    // Each drug's compartment amounts at the start of the current segment (exact PK).
    let mut amounts = vec![Amounts::default(); problem.exposures.len()];
    let n_inputs = spec.inputs.len();

    for seg in &segments {
        for &(input, amount) in &seg.boluses {
            model.bolus(&p, input, amount, &mut y);
        }
        if !y.iter().all(|v| v.is_finite()) {
            return Err(SolveError {
                failure: Failure::NonFinite,
                day: seg.start_day,
            });
        }
        let (t0, t1) = (seg.start_day, seg.end_day);
        let rates = seg.rates.as_slice();
        let result = if problem.exposures.is_empty() {
            let f = |t: f64, y: &SVector<f64, N>, dy: &mut SVector<f64, N>| {
                model.rhs(&p, t, y, rates, dy)
            };
            let mut emit = |t: f64, y: &SVector<f64, N>| {
                derived.fill(model, &p, y, |u| {
                    u[..rates.len()].copy_from_slice(rates);
                    rates.len()
                });
                observer.observe(t, y.as_slice(), &derived.values);
                observer_done.set(observer.done());
            };
            let jac = |t: f64, y: &SVector<f64, N>, m: &mut SMatrix<f64, N, N>| {
                model.jacobian(&p, t, y, rates, m)
            };
            run_segment(
                options.method,
                &f,
                &jac,
                t0,
                t1,
                y,
                &tol,
                &mut monitor,
                &mut stats,
                &grid,
                &mut next,
                &mut emit,
                &mut carried,
            )
        } else {
            for (e, a) in problem.exposures.iter().zip(amounts.iter_mut()) {
                a.central_mg += e.bolus_at(t0, SAME_INSTANT_DAY);
            }
            let infusion: Vec<f64> = problem
                .exposures
                .iter()
                .map(|e| e.rate_on(t0, t1, SAME_INSTANT_DAY))
                .collect();
            // Each drug's activity on this segment, from its exact concentration as a fixed
            // sum of exponentials (not evaluated where too weak to change any input's bits).
            let inputs = StretchInputs {
                t0,
                rates,
                drugs: problem
                    .exposures
                    .iter()
                    .zip(&amounts)
                    .zip(&infusion)
                    .map(|((e, a), r)| e.stretch(*a, *r))
                    .collect(),
                cache: std::cell::RefCell::new((f64::NAN, [0.0; MAX_INPUTS])),
            };
            if !inputs.drugs.iter().all(|d| d.is_finite()) {
                return Err(SolveError {
                    failure: Failure::DrugExposure,
                    day: t0,
                });
            }
            let exposures = problem.exposures;
            let f = |t: f64, y: &SVector<f64, N>, dy: &mut SVector<f64, N>| {
                model.rhs(&p, t, y, &inputs.at(t), dy)
            };
            let mut emit = |t: f64, y: &SVector<f64, N>| {
                derived.fill(model, &p, y, |u| {
                    let at = inputs.at(t);
                    u[..at.len()].copy_from_slice(&at);
                    at.len()
                });
                observer.observe(t, y.as_slice(), &derived.values);
                observer_done.set(observer.done());
            };
            let jac = |t: f64, y: &SVector<f64, N>, m: &mut SMatrix<f64, N, N>| {
                model.jacobian(&p, t, y, &inputs.at(t), m)
            };
            hold_to_drug_onset(&mut carried.h, rates, &inputs.drugs, exposures, t0);
            let result = run_segment(
                options.method,
                &f,
                &jac,
                t0,
                t1,
                y,
                &tol,
                &mut monitor,
                &mut stats,
                &grid,
                &mut next,
                &mut emit,
                &mut carried,
            );
            for ((e, a), rate) in exposures.iter().zip(amounts.iter_mut()).zip(&infusion) {
                *a = e.pk.advance(*a, *rate, t1 - t0);
            }
            result
        };
        y = match result {
            Ok(y) => y,
            Err((Failure::ObserverDone, _)) => return Ok(stats),
            Err((failure, day)) => return Err(SolveError { failure, day }),
        };
    }
    // The horizon's output (and any left at it), with the inputs of the last instant.
    if next < grid.len() && !observer_done.get() {
        let u = horizon_inputs(&segments, problem.exposures, &amounts, n_inputs);
        while next < grid.len() {
            derived.fill(model, &p, &y, |v| {
                *v = u;
                n_inputs
            });
            observer.observe(grid[next], y.as_slice(), &derived.values);
            next += 1;
        }
    }
    Ok(stats)
}

/// The inputs at the horizon, after the last segment: its dose rates, with each drug's activity
/// from its amounts there.
fn horizon_inputs(
    segments: &[Segment],
    exposures: &[Exposure],
    amounts: &[Amounts],
    n_inputs: usize,
) -> [f64; MAX_INPUTS] {
    let mut u = [0.0; MAX_INPUTS];
    if let Some(last) = segments.last() {
        u[..n_inputs].copy_from_slice(&last.rates);
    }
    for (e, a) in exposures.iter().zip(amounts) {
        u[e.input] = 1.0 - (1.0 - u[e.input]) * (1.0 - e.activity(e.pk.concentration_mg_per_l(*a)));
    }
    u
}

/// Most inputs a model may declare (the input vector lives on the stack).
pub const MAX_INPUTS: usize = 16;

/// A model's inputs on one segment: the schedule's constant dose rates, plus each drug's
/// activity at the time asked (drugs of one mechanism act independently: 1 - (1 - a1)(1 - a2)).
/// The inputs depend on time only, so they are kept for the last instant asked: the
/// Jacobian, the stages that share a time and the outputs reuse them rather than re-evaluate
/// every drug's exponentials.
struct StretchInputs<'a> {
    t0: f64,
    rates: &'a [f64],
    drugs: Vec<StretchActivity>,
    cache: std::cell::RefCell<(f64, [f64; MAX_INPUTS])>,
}

impl StretchInputs<'_> {
    #[inline]
    fn at(&self, t: f64) -> std::cell::Ref<'_, [f64]> {
        let n = self.rates.len();
        {
            let mut cache = self.cache.borrow_mut();
            let (at, u) = &mut *cache;
            if *at != t {
                inputs_at(u, self.rates, &self.drugs, self.t0, t);
                *at = t;
            }
        }
        std::cell::Ref::map(self.cache.borrow(), |(_, u)| &u[..n])
    }
}

/// The inputs at `t` of a segment starting at `t0` with dose `rates` and `drugs` acting,
/// into `u[..rates.len()]`.
#[inline]
fn inputs_at(u: &mut [f64; MAX_INPUTS], rates: &[f64], drugs: &[StretchActivity], t0: f64, t: f64) {
    u[..rates.len()].copy_from_slice(rates);
    for d in drugs {
        u[d.input] = 1.0 - (1.0 - u[d.input]) * (1.0 - d.at(t - t0));
    }
}

/// A step carried over from the last segment knows nothing of a drug that starts at `t0`: an
/// infusion switches a cytotoxic effect on within seconds, and the carried step was rejected
/// about seven times in a row at each infusion start. The first step is held to the time the
/// drugs' activities (0 to 1) take to change by their whole range at their rate at the start.
fn hold_to_drug_onset(
    h: &mut f64,
    rates: &[f64],
    drugs: &[StretchActivity],
    exposures: &[Exposure],
    t0: f64,
) {
    if *h > 0.0 {
        const PROBE_DAY: f64 = 1e-7;
        let (mut at_start, mut probed) = ([0.0; MAX_INPUTS], [0.0; MAX_INPUTS]);
        inputs_at(&mut at_start, rates, drugs, t0, t0);
        inputs_at(&mut probed, rates, drugs, t0, t0 + PROBE_DAY);
        let mut rate: f64 = 0.0;
        for e in exposures {
            rate = rate.max((probed[e.input] - at_start[e.input]).abs() / PROBE_DAY);
        }
        if rate > 0.0 {
            *h = h.min(1.0 / rate);
        }
    }
}

/// One smooth segment `[t0, t1]` with the chosen method, emitting the outputs that fall in it:
/// at its start (after that instant's doses), and inside it.
#[allow(clippy::too_many_arguments)]
fn run_segment<const N: usize, F>(
    method: Method,
    f: &F,
    jac: AnalyticJacobian<'_, N>,
    t0: f64,
    t1: f64,
    y: SVector<f64, N>,
    tol: &Tolerance<N>,
    monitor: &mut Monitor,
    stats: &mut Stats,
    grid: &[f64],
    next: &mut usize,
    emit: &mut impl FnMut(f64, &SVector<f64, N>),
    carried: &mut auto::Carry<N>,
) -> Result<SVector<f64, N>, (Failure, f64)>
where
    F: Fn(f64, &SVector<f64, N>, &mut SVector<f64, N>),
{
    while *next < grid.len() && grid[*next] <= t0 + SAME_INSTANT_DAY {
        emit(grid[*next], &y);
        *next += 1;
    }
    let last_inside = t1 - SAME_INSTANT_DAY;
    match method {
        Method::Dopri5 => dopri5::integrate(f, t0, t1, y, tol, monitor, stats, |step| {
            emit_inside(step, grid, next, last_inside, emit)
        }),
        Method::Dop853 => dop853::integrate_with_outputs(
            f,
            t0,
            t1,
            y,
            0.0,
            tol,
            monitor,
            stats,
            (grid, next, last_inside),
            emit,
            |_, _, _| step::Handover::Continue {
                h_max: f64::INFINITY,
            },
        )
        .map(|reached| reached.y),
        Method::Rodas4 | Method::Rodas5p | Method::Auto | Method::Dop853Bounded => {
            let mut outputs = rosenbrock::Outputs {
                times: grid,
                next,
                before: last_inside,
                emit,
            };
            if matches!(method, Method::Auto | Method::Dop853Bounded) {
                return auto::integrate(
                    f,
                    jac,
                    t0,
                    t1,
                    y,
                    tol,
                    monitor,
                    stats,
                    carried,
                    &mut outputs,
                    method == Method::Auto,
                );
            }
            // The step size carries over from the last segment: a Rosenbrock method restarted
            // from a tiny step after every infusion start and stop spent most of its steps
            // growing it back (the TNBC chemotherapy arms: 110 segments).
            // One call, with the tableau (a type) chosen by the method.
            macro_rules! with_tableau {
                ($tableau:expr) => {
                    rosenbrock::integrate_with_outputs(
                        $tableau,
                        f,
                        jac,
                        t0,
                        t1,
                        y,
                        tol,
                        monitor,
                        stats,
                        &mut carried.h,
                        Some(&mut outputs),
                    )
                };
            }
            match method {
                Method::Rodas5p => with_tableau!(rosenbrock::Rodas5p),
                _ => with_tableau!(rosenbrock::Rodas4),
            }
        }
        Method::OdeSolversDop853 => {
            let mut h = 0.0;
            through_outputs(t0, t1, y, grid, next, emit, |a, b, y_a| {
                dop853_to(f, a, b, y_a, tol, monitor, &mut h, stats)
            })
        }
    }
}

/// Integrates a segment `[t0, t1]` output by output with `advance(a, b, y_a)`, which must land
/// exactly on `b`: for methods without a trustworthy interpolant, every output is a step end.
fn through_outputs<const N: usize>(
    t0: f64,
    t1: f64,
    y0: SVector<f64, N>,
    grid: &[f64],
    next: &mut usize,
    emit: &mut impl FnMut(f64, &SVector<f64, N>),
    mut advance: impl FnMut(f64, f64, SVector<f64, N>) -> Result<SVector<f64, N>, (Failure, f64)>,
) -> Result<SVector<f64, N>, (Failure, f64)> {
    let last_inside = t1 - SAME_INSTANT_DAY;
    let (mut t, mut y) = (t0, y0);
    while *next < grid.len() && grid[*next] < last_inside {
        let stop = grid[*next];
        y = advance(t, stop, y)?;
        emit(stop, &y);
        *next += 1;
        t = stop;
    }
    advance(t, t1, y)
}

/// Emits every output time inside `step` (strictly before the segment's end, whose output
/// comes after that instant's doses).
fn emit_inside<const N: usize, D: DenseOutput<N>>(
    step: &D,
    grid: &[f64],
    next: &mut usize,
    last_inside: f64,
    emit: &mut (impl FnMut(f64, &SVector<f64, N>) + ?Sized),
) {
    let t_end = step.t_end();
    while *next < grid.len() && grid[*next] < last_inside && grid[*next] <= t_end {
        emit(grid[*next], &step.eval(grid[*next]));
        *next += 1;
    }
}

/// `ode_solvers::Dop853` on the atol-scaled state, from `t0` to exactly `t1`. `h` carries the
/// last step size from one output interval to the next within a smooth segment.
#[allow(clippy::too_many_arguments)]
fn dop853_to<const N: usize, F>(
    f: &F,
    t0: f64,
    t1: f64,
    y0: SVector<f64, N>,
    tol: &Tolerance<N>,
    monitor: &mut Monitor,
    h: &mut f64,
    stats: &mut Stats,
) -> Result<SVector<f64, N>, (Failure, f64)>
where
    F: Fn(f64, &SVector<f64, N>, &mut SVector<f64, N>),
{
    struct Scaled<'a, F, const N: usize> {
        f: &'a F,
        atol: SVector<f64, N>,
    }
    impl<F: Fn(f64, &SVector<f64, N>, &mut SVector<f64, N>), const N: usize>
        ode_solvers::System<f64, SVector<f64, N>> for Scaled<'_, F, N>
    {
        fn system(&self, t: f64, z: &SVector<f64, N>, dz: &mut SVector<f64, N>) {
            (self.f)(t, &z.component_mul(&self.atol), dz);
            dz.component_div_assign(&self.atol);
        }
    }
    if monitor.observer_done() {
        return Err((Failure::ObserverDone, t0));
    }
    if step::negligible(t0, t1) {
        return Ok(y0);
    }
    let system = Scaled { f, atol: tol.atol };
    let z0 = y0.component_div(&tol.atol);
    // Whatever is left of the solve's budget (the crate counts its own steps per call).
    let n_max = u32::try_from(monitor.max_steps.saturating_sub(monitor.steps)).unwrap_or(u32::MAX);
    let h_start = if *h > 0.0 { h.min(t1 - t0) } else { 0.0 };
    // Hairer's DOP853 defaults: safety 0.9, beta 0, step factor within [1/3, 6].
    let mut solver = ode_solvers::Dop853::from_param(
        system,
        t0,
        t1,
        t1 - t0,
        z0,
        tol.rtol,
        1.0,
        0.9,
        0.0,
        0.333,
        6.0,
        t1 - t0,
        h_start,
        n_max,
        if tol.stop_when_stiff { 1000 } else { u32::MAX },
        ode_solvers::OutputType::Sparse,
    );
    match solver.integrate() {
        Ok(s) => {
            stats.rhs_evaluations += u64::from(s.num_eval);
            stats.accepted_steps += u64::from(s.accepted_steps);
            stats.rejected_steps += u64::from(s.rejected_steps);
            monitor.steps += u64::from(s.accepted_steps) + u64::from(s.rejected_steps);
            let (ts, zs) = (solver.x_out(), solver.y_out());
            // Each accepted step's length; the last is cut to land on t1, so take the one
            // before it as the best guess for the next interval.
            if ts.len() >= 3 {
                *h = ts[ts.len() - 2] - ts[ts.len() - 3];
            }
            let z = zs.last().copied().unwrap_or(z0);
            let y = z.component_mul(&tol.atol);
            if y.iter().all(|v| v.is_finite()) {
                Ok(y)
            } else {
                Err((Failure::NonFinite, t1))
            }
        }
        Err(ode_solvers::dop_shared::IntegrationError::MaxNumStepReached { x, .. }) => {
            Err((Failure::TooManySteps(monitor.max_steps), x))
        }
        Err(ode_solvers::dop_shared::IntegrationError::StepSizeUnderflow { x }) => {
            Err((Failure::StepSizeUnderflow, x))
        }
        Err(ode_solvers::dop_shared::IntegrationError::StiffnessDetected { x }) => {
            Err((Failure::Stiff, x))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{output_times, snap_to_instant};

    /// The grid of whole-day spacings, taken without rounding, is the rounded one.
    #[test]
    fn whole_day_grid_is_the_snapped_grid() {
        for (horizon, every) in [
            (1000.0, 1.0),
            (730.5, 7.0),
            (3.0, 2.0),
            (9e6, 1e3),
            (4e5, 1.0),
        ] {
            let grid = output_times(horizon, every);
            for (i, &t) in grid.iter().enumerate().take(grid.len() - 1) {
                assert_eq!(t.to_bits(), snap_to_instant(i as f64 * every).to_bits());
            }
            assert_eq!(*grid.last().unwrap(), horizon);
        }
    }
}
