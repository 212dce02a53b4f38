//! Treatments as a clinician writes them: a drug catalogue with population pharmacokinetics
//! solved exactly, and dose units.

pub mod catalogue;
pub mod dose;
pub mod exposure;
pub mod pk;
