//! Virtual cohorts: distributions of patient quantities, the Gaussian copula that correlates
//! them, each patient's own random stream, and the parallel runner that writes
//! `patients.csv` (with each patient's trial endpoints), the trajectories and assessments of
//! the first patients, and the typical patient's course. Shards run separately and are merged
//! back ([`merge`]).

pub mod merge;
mod ordered;
pub mod runner;
pub mod sampling;
