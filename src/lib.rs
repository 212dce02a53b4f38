//! immunotrial: in-silico trials of cancer immunotherapy combinations.
//!
//! The pipeline, one module a step, data flowing one way:
//! [`scenario`] (read and validate a scenario file) → [`model`] (what is simulated) and
//! [`therapy`] (what is given: drugs, doses, exposure) → [`engine`] (one patient through one
//! arm) → [`cohort`] (virtual patients through every arm) → [`trial`] (endpoints and the
//! comparison of arms) → [`report`] (files a person or script reads).

pub mod cohort;
pub mod engine;
pub mod lanes;
pub mod model;
pub mod report;
pub mod scenario;
pub mod therapy;
pub mod trial;
