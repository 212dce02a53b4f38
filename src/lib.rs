//! immunotrial: in-silico trials of cancer immunotherapy combinations.
//!
//! The pipeline, one module a step, data flowing one way:
//! [`scenario`] (read and validate a scenario file) → [`model`] (what is simulated) and
//! [`therapy`] (what is given: drugs, doses, exposure) → [`engine`] (one patient through one
//! arm) → [`cohort`] (virtual patients through every arm) → [`trial`] (endpoints and the
//! comparison of arms) → [`report`] (files a person or script reads).

/// The git commit this build was made from (at least 12 hex digits), followed by
/// `-modified-` and a fingerprint of the compiled sources when they differ from it, or empty
/// when it was built outside immunotrial's own git checkout: `run.json` records it, as the package version does
/// not change from commit to commit and the same seed gives the same bytes only with the same
/// code.
pub const COMMIT: &str = env!("IMMUNOTRIAL_COMMIT");

/// The version with its commit, "0.1.0 (commit 0123456789ab)", as `--version` prints it.
pub const LONG_VERSION: &str = env!("IMMUNOTRIAL_LONG_VERSION");

pub mod cohort;
pub mod engine;
pub mod lanes;
pub mod model;
pub mod report;
pub mod scenario;
pub mod therapy;
pub mod trial;
