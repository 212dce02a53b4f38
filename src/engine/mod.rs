//! Engines turn one problem (a model, its parameters and initial state, one arm's schedule)
//! into one solution. Today: ordinary differential equations.

pub mod ode;
pub mod schedule;

use crate::model::{ModelVisitor, OdeModel, visit};
pub use ode::{Method, Observer, Problem, Solution, SolveError, SolverOptions};
pub use schedule::{Administration, Delivery, Schedule};

/// Solves `problem` with the built-in model called `model_name`, passing outputs to
/// `observer`. Returns `None` if there is no such model.
pub fn solve_named(
    model_name: &str,
    problem: &Problem<'_>,
    options: &SolverOptions,
    observer: &mut dyn Observer,
) -> Option<Result<ode::dopri5::Stats, SolveError>> {
    struct Solve<'a, 'b> {
        problem: &'a Problem<'b>,
        options: &'a SolverOptions,
        observer: &'a mut dyn Observer,
    }
    impl ModelVisitor for Solve<'_, '_> {
        type Output = Result<ode::dopri5::Stats, SolveError>;
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
