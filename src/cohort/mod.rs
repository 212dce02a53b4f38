//! Virtual cohorts (issue 4, in progress): distributions of patient quantities, the Gaussian
//! copula that correlates them, and each patient's own random stream. The parallel runner,
//! the `[cohort]` scenario section and the outputs are still to come.

pub mod sampling;
