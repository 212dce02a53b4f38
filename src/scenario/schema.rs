//! The scenario file as written: the TOML schema, key for key.
//!
//! Every table rejects keys it does not know (`deny_unknown_fields`): a misspelt key is an
//! error, never silently ignored. Optional keys are `Option`s here; the validator fills in the
//! defaults and writes them back into `scenario.resolved.toml`.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ScenarioFile {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    pub horizon_days: f64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output_every_days: Option<f64>,
    pub model: ModelSection,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub solver: Option<SolverSection>,
    #[serde(default, rename = "arm")]
    pub arms: Vec<ArmSection>,
}

#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ModelSection {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub preset: Option<String>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub parameters: BTreeMap<String, f64>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub initial: BTreeMap<String, f64>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct SolverSection {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub method: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rtol: Option<f64>,
    /// One value for every state, or a table of values by state name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub atol: Option<AbsoluteTolerance>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_steps: Option<u64>,
    /// `"stop"` (default) or `"continue"` when the problem becomes stiff.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stiffness: Option<String>,
}

#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(untagged)]
pub enum AbsoluteTolerance {
    Uniform(f64),
    PerState(BTreeMap<String, f64>),
}

#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ArmSection {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default, rename = "dose", skip_serializing_if = "Vec::is_empty")]
    pub doses: Vec<DoseSection>,
}

/// `[[arm.dose]]`: a model input given over time.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct DoseSection {
    pub input: String,
    /// Rate while it runs (the input's unit per day); with `duration_days > 0`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub amount_per_day: Option<f64>,
    /// An instantaneous bolus; with `duration_days = 0` or no duration.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub amount: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration_days: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_day: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub every_days: Option<f64>,
    /// Number of administrations; without it, every `every_days` until the horizon.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub repeat: Option<u64>,
}
