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
    /// Covariates used by dosing (defaults: a 70 kg, 170 cm adult, GFR 100 mL/min).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub patient: Option<PatientSection>,
    /// Drugs defined by the scenario, beside the catalogue's.
    #[serde(default, rename = "drug", skip_serializing_if = "Vec::is_empty")]
    pub drugs: Vec<DrugSection>,
    #[serde(default, rename = "arm")]
    pub arms: Vec<ArmSection>,
    /// A virtual cohort: how many patients and how they vary.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cohort: Option<CohortSection>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output: Option<OutputSection>,
    /// How the virtual trial assesses and compares the arms.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trial: Option<TrialSection>,
}

/// `[trial]`: assessment visits, RECIST, survival endpoints and the comparison of arms.
#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct TrialSection {
    /// Days between tumour assessments in the first year (default 42).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub assessment_every_days: Option<f64>,
    /// Days between assessments after the first year (default 84).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub assessment_every_days_after_year: Option<f64>,
    /// An end-of-study assessment at the horizon besides the schedule (default true).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub assessment_at_horizon: Option<bool>,
    /// A lesion is measurable at baseline from this longest diameter on (default 10 mm).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub measurable_min_mm: Option<f64>,
    /// Progression needs at least this increase of the diameter over its nadir besides the
    /// 20% (default 5 mm, RECIST 1.1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub progression_min_increase_mm: Option<f64>,
    /// A lesion below this longest diameter is a complete response (default 5 mm).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detection_limit_mm: Option<f64>,
    /// CR and PR count only when the next assessment confirms them (default false).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub confirm_response: Option<bool>,
    /// SD counts towards the best response only from this day after baseline (default 42).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stable_disease_min_days: Option<f64>,
    /// Tumour burden at which the patient dies (no tumour deaths without it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lethal_volume_ml: Option<f64>,
    /// Death from other causes, a constant hazard (default 0).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub background_mortality_per_year: Option<f64>,
    /// Loss to follow-up, a constant hazard (default 0).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dropout_per_year: Option<f64>,
    /// The arm the others are compared with (default the first).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub control: Option<String>,
    /// The endpoint that ranks the arms: pfs, os or orr (default pfs).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub primary: Option<String>,
    /// Bootstrap replicates for the probability that each arm is best (default 1000).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bootstrap: Option<u64>,
    /// Times at which PFS and OS rates are reported, in months (default 6, 12 and 24) ...
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub landmark_months: Option<Vec<f64>>,
    /// ... or in days (an animal study), instead.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub landmark_days: Option<Vec<f64>>,
}

/// `[output]`: what a cohort run writes besides patients.csv.
#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct OutputSection {
    /// Write trajectories.csv for the first this many patients.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trajectories: Option<u64>,
    /// Patients whose every assessment is kept (assessments.csv) for the spider and swimmer
    /// plots (default 30).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sample_patients: Option<u64>,
    /// Also write each figure as PNG (default false).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub png: Option<bool>,
}

#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct CohortSection {
    pub patients: u64,
    pub seed: u64,
    /// The run fails if more than this fraction of patient-arms fails (default 0.01).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_failed_fraction: Option<f64>,
    /// Sample the drug catalogue's inter-individual PK variability (default true).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pk_variability: Option<bool>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub parameters: BTreeMap<String, DistributionSection>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub covariates: BTreeMap<String, DistributionSection>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub initial: BTreeMap<String, DistributionSection>,
    #[serde(default, rename = "correlation", skip_serializing_if = "Vec::is_empty")]
    pub correlations: Vec<CorrelationSection>,
}

/// `{ dist = "lognormal", median = 8.89, omega = 0.696 }` and the like.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct DistributionSection {
    /// lognormal, normal, uniform, loguniform, beta, categorical or fixed.
    pub dist: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub median: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub omega: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cv: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mean: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sd: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub a: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub b: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub values: Option<Vec<f64>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub weights: Option<Vec<f64>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<f64>,
}

/// `[[cohort.correlation]]`: the correlation of two sampled quantities' underlying normals.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct CorrelationSection {
    pub between: Vec<String>,
    pub rho: f64,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct PatientSection {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub weight_kg: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub height_cm: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gfr_ml_min: Option<f64>,
}

/// `[[drug]]`: a drug the catalogue does not have. Linear PK from `cl_l_per_day` and `vc_l`
/// (with `q_l_per_day` and `vp_l` for two compartments) or from `half_life_days` and
/// `volume_l` (one compartment); potency from `kd_nm` (antibodies) or `ec50_mg_per_l`
/// with `hill` (cytotoxics).
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct DrugSection {
    pub name: String,
    /// "pd1_blockade", "pdl1_blockade", "ctla4_blockade" or "cytotoxic".
    pub mechanism: String,
    pub molecular_weight_g_per_mol: f64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cl_l_per_day: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vc_l: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub q_l_per_day: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vp_l: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub half_life_days: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub volume_l: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kd_nm: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ec50_mg_per_l: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hill: Option<f64>,
}

/// `[[arm.drug]]`: a drug given as a clinician writes it.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ArmDrugSection {
    pub name: String,
    /// "200 mg", "3 mg/kg", "100 mg/m2" or "AUC 5".
    pub dose: String,
    /// Infusion length (default 30); 0 for a bolus.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub infusion_minutes: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_day: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub every_days: Option<f64>,
    /// Number of administrations; without it, until the horizon.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub count: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cycle_days: Option<f64>,
    /// Days of each cycle the drug is given on, from 1.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub days_of_cycle: Option<Vec<f64>>,
    /// Number of cycles; without it, until the horizon.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cycles: Option<u64>,
}

/// `[[arm.radiation]]`: fractions of radiotherapy, each an acute dose.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct RadiationSection {
    pub dose_per_fraction_gy: f64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fractions: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_day: Option<f64>,
    /// Interval between fractions (default 1 day).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub every_days: Option<f64>,
    /// Days of the fractions, instead of start_day and every_days.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub days: Option<Vec<f64>>,
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
    #[serde(default, rename = "drug", skip_serializing_if = "Vec::is_empty")]
    pub drugs: Vec<ArmDrugSection>,
    #[serde(default, rename = "radiation", skip_serializing_if = "Vec::is_empty")]
    pub radiation: Vec<RadiationSection>,
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
