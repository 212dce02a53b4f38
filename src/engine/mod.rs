//! Engines turn one problem (a model, its parameters and initial state, one arm's schedule)
//! into one solution. Today: ordinary differential equations.

pub mod ode;
pub mod schedule;

use crate::model::{ModelVisitor, OdeModel, visit};
pub use ode::{
    DerivedWanted, Failure, Method, Observer, Problem, Solution, SolveError, SolverOptions, Stats,
};
pub use schedule::{Administration, Delivery, Schedule};

/// Solves `problem` with the built-in model called `model_name`, passing outputs to
/// `observer`. Returns `None` if there is no such model.
pub fn solve_named<O: Observer + ?Sized>(
    model_name: &str,
    problem: &Problem<'_>,
    options: &SolverOptions,
    observer: &mut O,
) -> Option<Result<ode::Stats, SolveError>> {
    struct Solve<'a, 'b, O: ?Sized> {
        problem: &'a Problem<'b>,
        options: &'a SolverOptions,
        observer: &'a mut O,
    }
    impl<O: Observer + ?Sized> ModelVisitor for Solve<'_, '_, O> {
        type Output = Result<ode::Stats, SolveError>;
        fn visit<const N: usize, M: OdeModel<N>>(self, model: &M) -> Self::Output {
            ode::solve(model, self.problem, self.options, self.observer)
        }
    }
    visit(
        model_name,
        Solve {
            problem,
            options,
            observer,
        },
    )
}

/// Solves every problem of `problems` with the built-in model called `model_name`, problem
/// `j`'s outputs to `observers[j]`, several patients at once in SIMD lanes where the method
/// and model allow ([`ode::lanes::solve_all`]); `None` if there is no such model.
pub fn solve_all_named<O: Observer>(
    model_name: &str,
    problems: &[Problem<'_>],
    options: &SolverOptions,
    observers: &mut [O],
) -> Option<Vec<Result<ode::Stats, SolveError>>> {
    struct SolveAll<'a, 'b, O> {
        problems: &'a [Problem<'b>],
        options: &'a SolverOptions,
        observers: &'a mut [O],
    }
    impl<O: Observer> ModelVisitor for SolveAll<'_, '_, O> {
        type Output = Vec<Result<ode::Stats, SolveError>>;
        fn visit<const N: usize, M: OdeModel<N>>(self, model: &M) -> Self::Output {
            ode::lanes::solve_all(model, self.problems, self.options, self.observers)
        }
    }
    visit(
        model_name,
        SolveAll {
            problems,
            options,
            observers,
        },
    )
}

/// How many patients the built-in model called `model_name` integrates at once with `options`
/// in a cohort: [`crate::lanes::LANES`] where [`ode::lanes::applies`], else 1 (`None` if there
/// is no such model).
pub fn patients_at_once(model_name: &str, options: &SolverOptions) -> Option<usize> {
    struct AtOnce<'a>(&'a SolverOptions);
    impl ModelVisitor for AtOnce<'_> {
        type Output = usize;
        fn visit<const N: usize, M: OdeModel<N>>(self, model: &M) -> usize {
            if ode::lanes::applies(model, self.0) {
                crate::lanes::LANES
            } else {
                1
            }
        }
    }
    visit(model_name, AtOnce(options))
}

use crate::scenario::Scenario;

/// A solve that failed, with the model and arm it failed in.
#[derive(Debug, Clone, PartialEq)]
pub struct SimulationError {
    pub model: &'static str,
    pub arm: String,
    pub error: SolveError,
}

impl std::fmt::Display for SimulationError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "model {}, arm `{}`: {}",
            self.model, self.arm, self.error
        )?;
        if self.error.failure == ode::Failure::Stiff {
            write!(
                f,
                "; set [solver] stiffness = \"continue\" to carry on with small steps"
            )?;
        }
        Ok(())
    }
}

impl std::error::Error for SimulationError {}

/// Runs the scenario's patient through every arm; solutions in the order of the arms.
pub fn simulate(scenario: &Scenario) -> Result<Vec<Solution>, SimulationError> {
    let model = scenario.model;
    scenario
        .arms
        .iter()
        .map(|arm| {
            let exposures: Vec<_> = arm.drugs.iter().map(|d| d.exposure.clone()).collect();
            let problem = Problem {
                parameters: &scenario.parameters,
                initial: &scenario.initial,
                schedule: &arm.schedule,
                exposures: &exposures,
                horizon_day: scenario.horizon_day,
                output_every_day: scenario.output_every_day,
                also_at_days: &[],
            };
            let mut solution = Solution::new(model.states.len(), model.derived.len());
            let result = solve_named(model.name, &problem, &scenario.solver, &mut solution)
                .expect("a validated scenario names a registered model");
            solution.stats = result.map_err(|error| SimulationError {
                model: model.name,
                arm: arm.name.clone(),
                error,
            })?;
            Ok(solution)
        })
        .collect()
}
