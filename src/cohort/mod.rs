//! Virtual cohorts (issue 4, in progress): distributions of patient quantities, the Gaussian
//! copula that correlates them, each patient's own random stream, and the parallel runner
//! that writes `patients.csv`. Sharding, merging, the progress bar and per-patient
//! trajectories are still to come.

pub mod runner;
pub mod sampling;
