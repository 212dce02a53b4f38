//! The virtual trial: what a real trial would make of each patient's tumour course (RECIST
//! response at assessment visits, progression-free and overall survival), and of each arm
//! (response rates, Kaplan–Meier medians and rates, log-rank tests and Cox hazard ratios
//! against the control arm, a bootstrap ranking), and how many patients a real trial needs.
//!
//! The cohort runner calls [`endpoints::evaluate`] for every patient and arm; the analysis
//! ([`analysis`]) then reads `patients.csv` alone, so that it runs again on any run
//! directory, merged shards included.

pub mod analysis;
pub mod binomial;
pub mod compare;
pub mod endpoints;
pub mod power;
pub mod recist;
pub mod survival;
