//! Virtual cohorts (issue 4, in progress): distributions of patient quantities, the Gaussian
//! copula that correlates them, each patient's own random stream, and the parallel runner
//! that writes `patients.csv`. Shards run separately and are merged back
//! ([`merge`]). Per-patient trajectories are still to come.

pub mod merge;
pub mod runner;
pub mod sampling;
