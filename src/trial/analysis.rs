//! The analysis of a virtual trial, arm by arm, from `patients.csv` alone: response rates
//! with exact intervals, Kaplan–Meier medians, landmark rates and restricted means of PFS
//! and OS, log-rank tests and Cox hazard ratios against the control arm, the difference in
//! response rate, and a bootstrap ranking of the arms by the primary endpoint.
//!
//! Writes `arms.csv` (one row per arm, fixed column names), `summary.json` (the same and
//! more, nested by arm), `km_pfs.csv` and `km_os.csv`.
//!
//! The ranking: each bootstrap replicate resamples the cohort's patients with replacement
//! (the same patients in every arm: the paired design), scores every arm by the primary
//! endpoint — the restricted mean PFS or OS to the horizon (defined whatever the follow-up,
//! unlike a median), or the response rate — and counts which arm scores best (ties shared).
//! Replicate r draws from its own stream of the run's seed, so the result does not depend
//! on the thread count.

use super::binomial::{clopper_pearson, newcombe_difference};
use super::compare::{CoxFit, LogRank, Pooled, Ties, cox_pooled, log_rank_pooled};
use super::recist::Response;
use super::survival::{KaplanMeier, Observation, same_time};
use crate::report::{value, write_atomic};
use crate::scenario::trial::{Landmark, Primary, TrialSpec};
use rand::rngs::ChaCha12Rng;
use rand::{Rng, SeedableRng};
use rayon::prelude::*;
use serde_json::{Value, json};
use std::path::Path;

/// One patient's row in one arm, as the analysis needs it.
#[derive(Debug, Clone, PartialEq)]
pub struct PatientRecord {
    pub patient: u64,
    /// Left out of the analysis and counted in `failed`: its solve failed, or it was not
    /// eligible for the trial (`ineligible`).
    pub failed: bool,
    /// Not eligible for the trial (a tumour at the lethal volume, or none, at baseline).
    pub ineligible: bool,
    pub best_response: Response,
    pub best_change_pct: Option<f64>,
    /// First visit of the objective response.
    pub response_day: Option<f64>,
    pub pfs: Observation,
    pub os: Observation,
}

/// The records of one arm.
#[derive(Debug, Clone, PartialEq)]
pub struct ArmRecords {
    pub name: String,
    pub patients: Vec<PatientRecord>,
}

impl ArmRecords {
    fn analysed(&self) -> impl Iterator<Item = &PatientRecord> {
        self.patients.iter().filter(|p| !p.failed)
    }
    fn pfs(&self) -> Vec<Observation> {
        self.analysed().map(|p| p.pfs).collect()
    }
    fn os(&self) -> Vec<Observation> {
        self.analysed().map(|p| p.os).collect()
    }
}

/// A value with its 95% interval (each part absent where undefined).
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Estimate {
    pub value: Option<f64>,
    pub lower: Option<f64>,
    pub upper: Option<f64>,
}

impl Estimate {
    fn of(value: f64, lower: f64, upper: f64) -> Estimate {
        let f = |x: f64| x.is_finite().then_some(x);
        Estimate {
            value: f(value),
            lower: f(lower),
            upper: f(upper),
        }
    }
    fn json(&self) -> Value {
        json!({"value": self.value, "lower": self.lower, "upper": self.upper})
    }
}

/// Survival of one endpoint in one arm.
#[derive(Debug, Clone, PartialEq)]
pub struct SurvivalSummary {
    pub events: u64,
    pub median_day: Estimate,
    /// S at each of the trial's landmarks ([`Analysis::landmarks`]), where it is known: where
    /// follow-up reaches it, or after the curve has fallen to 0.
    pub rates: Vec<Estimate>,
    /// Restricted mean survival time to the horizon, and its standard error.
    pub rmst_day: f64,
    pub rmst_se_day: f64,
    pub curve: KaplanMeier,
}

/// One endpoint of an arm against the control.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Comparison {
    pub log_rank: Option<LogRank>,
    pub cox: Option<CoxFit>,
}

/// Everything reported for one arm.
#[derive(Debug, Clone, PartialEq)]
pub struct ArmSummary {
    pub name: String,
    pub n: u64,
    pub failed: u64,
    pub responses: [u64; 5],
    pub orr: Estimate,
    pub dcr: Estimate,
    pub median_best_change_pct: Option<f64>,
    pub pfs: SurvivalSummary,
    pub os: SurvivalSummary,
    /// Against the control arm (`None` for the control itself).
    pub pfs_vs_control: Option<Comparison>,
    pub os_vs_control: Option<Comparison>,
    pub orr_difference: Option<Estimate>,
    pub p_best: f64,
}

/// The whole analysis.
#[derive(Debug, Clone, PartialEq)]
pub struct Analysis {
    pub control: usize,
    pub primary: Primary,
    pub bootstrap: u64,
    pub seed: u64,
    pub horizon_day: f64,
    /// Where the survival rates are reported.
    pub landmarks: Vec<Landmark>,
    pub arms: Vec<ArmSummary>,
}

fn proportion(x: u64, n: u64) -> Estimate {
    if n == 0 {
        return Estimate::default();
    }
    let (lo, hi) = clopper_pearson(x, n);
    Estimate::of(x as f64 / n as f64, lo, hi)
}

fn survival_summary(
    observations: &[Observation],
    horizon_day: f64,
    landmarks: &[Landmark],
) -> SurvivalSummary {
    let curve = KaplanMeier::fit(observations);
    let (median, lo, hi) = curve.median();
    let rates = landmarks
        .iter()
        .map(|landmark| {
            let day = landmark.day();
            if curve.known_at(day) {
                let (s, lo, hi) = curve.survival_with_interval_at(day);
                // Where S is 0 or 1 the log-log interval is undefined (R's NA): a band of
                // [1, 1] had read as a 95% interval of 100% to 100% in the report.
                if s > 0.0 && s < 1.0 {
                    Estimate::of(s, lo, hi)
                } else {
                    Estimate::of(s, f64::NAN, f64::NAN)
                }
            } else {
                Estimate::default()
            }
        })
        .collect();
    let (rmst, rmst_se) = if observations.is_empty() {
        (f64::NAN, f64::NAN)
    } else {
        curve.rmst(horizon_day)
    };
    SurvivalSummary {
        events: observations.iter().filter(|o| o.event).count() as u64,
        median_day: Estimate {
            value: median,
            lower: lo,
            upper: hi,
        },
        rates,
        rmst_day: rmst,
        rmst_se_day: rmst_se,
        curve,
    }
}

fn compare(control: &[Observation], arm: &[Observation]) -> Comparison {
    let pooled = Pooled::new(control, arm);
    Comparison {
        log_rank: log_rank_pooled(&pooled),
        cox: cox_pooled(&pooled, Ties::Efron),
    }
}

/// Analyses the arms (in scenario order) of a trial.
pub fn analyse(arms: &[ArmRecords], spec: &TrialSpec, horizon_day: f64, seed: u64) -> Analysis {
    let control = spec.control.min(arms.len().saturating_sub(1));
    let control_pfs = arms.get(control).map(|a| a.pfs()).unwrap_or_default();
    let control_os = arms.get(control).map(|a| a.os()).unwrap_or_default();
    let count = |a: &ArmRecords, f: fn(Response) -> bool| {
        a.analysed().filter(|p| f(p.best_response)).count() as u64
    };
    let control_responders = arms.get(control).map(|a| {
        (
            count(a, Response::is_objective),
            a.analysed().count() as u64,
        )
    });
    let p_best = rank(arms, spec.primary, spec.bootstrap, horizon_day, seed);
    let summaries = arms
        .par_iter()
        .enumerate()
        .map(|(i, a)| {
            let n = a.analysed().count() as u64;
            let mut responses = [0u64; 5];
            for p in a.analysed() {
                responses[p.best_response as usize] += 1;
            }
            let responders = count(a, Response::is_objective);
            let mut changes: Vec<f64> = a.analysed().filter_map(|p| p.best_change_pct).collect();
            changes.sort_by(f64::total_cmp);
            let median_change = (!changes.is_empty()).then(|| {
                let m = changes.len() / 2;
                if changes.len() % 2 == 1 {
                    changes[m]
                } else {
                    // Halved before adding: the same bits as 0.5 * (a + b) (halving is
                    // exact), without overflowing to inf for values near f64::MAX.
                    0.5 * changes[m - 1] + 0.5 * changes[m]
                }
            });
            let (pfs, os) = (a.pfs(), a.os());
            let versus = i != control;
            ArmSummary {
                name: a.name.clone(),
                n,
                failed: a.patients.len() as u64 - n,
                responses,
                orr: proportion(responders, n),
                dcr: proportion(count(a, Response::is_disease_control), n),
                median_best_change_pct: median_change,
                pfs_vs_control: versus.then(|| compare(&control_pfs, &pfs)),
                os_vs_control: versus.then(|| compare(&control_os, &os)),
                orr_difference: match control_responders {
                    Some((x0, n0)) if versus && n > 0 && n0 > 0 => {
                        let (d, lo, hi) = newcombe_difference(responders, n, x0, n0);
                        Some(Estimate::of(d, lo, hi))
                    }
                    _ => None,
                },
                pfs: survival_summary(&pfs, horizon_day, &spec.landmarks),
                os: survival_summary(&os, horizon_day, &spec.landmarks),
                p_best: p_best[i],
            }
        })
        .collect();
    Analysis {
        control,
        primary: spec.primary,
        bootstrap: spec.bootstrap,
        seed,
        horizon_day,
        landmarks: spec.landmarks.clone(),
        arms: summaries,
    }
}

/// The bootstrap stream of replicate `r` of a run seeded with `seed`: stream r from word
/// 2^65, beyond the patients' parameter (word 0) and trial (2^64) draws.
fn replicate_stream(seed: u64, r: u64) -> ChaCha12Rng {
    let mut rng = ChaCha12Rng::seed_from_u64(seed);
    rng.set_stream(r);
    rng.set_word_pos(1u128 << 65);
    rng
}

/// An index below `n` from 64 random bits (Lemire's multiply-shift; its bias, below n/2^64,
/// is far below anything a bootstrap resolves).
fn index_below(rng: &mut ChaCha12Rng, n: usize) -> usize {
    ((u128::from(rng.next_u64()) * n as u128) >> 64) as usize
}

/// One arm's rows prepared for fast weighted scoring: sorted by time, with dense patient
/// indices.
struct Prepared {
    time: Vec<f64>,
    event: Vec<bool>,
    patient: Vec<u32>,
}

/// Restricted mean to `tau` of a weighted Kaplan–Meier curve over sorted rows.
fn weighted_rmst(p: &Prepared, weights: &[u32], tau: f64) -> f64 {
    let mut at_risk: f64 = p
        .patient
        .iter()
        .map(|&i| f64::from(weights[i as usize]))
        .sum();
    if at_risk <= 0.0 {
        // No patient of this arm in the replicate: no score, not the best possible one.
        return f64::NAN;
    }
    let (mut s, mut area, mut previous) = (1.0, 0.0, 0.0);
    let mut k = 0;
    while k < p.time.len() && p.time[k] <= tau {
        let t = p.time[k];
        let (mut d, mut gone) = (0.0, 0.0);
        while k < p.time.len() && same_time(p.time[k], t) {
            let w = f64::from(weights[p.patient[k] as usize]);
            gone += w;
            if p.event[k] {
                d += w;
            }
            k += 1;
        }
        if d > 0.0 {
            area += s * (t - previous);
            previous = t;
            s *= 1.0 - d / at_risk;
        }
        at_risk -= gone;
    }
    area + s * (tau - previous)
}

/// Probability that each arm is best by the primary endpoint, from `replicates` bootstrap
/// resamples of the patients.
pub fn rank(
    arms: &[ArmRecords],
    primary: Primary,
    replicates: u64,
    horizon_day: f64,
    seed: u64,
) -> Vec<f64> {
    if replicates == 0 || arms.is_empty() {
        return vec![f64::NAN; arms.len()];
    }
    // Dense patient indices shared by the arms.
    let mut ids: Vec<u64> = arms
        .iter()
        .flat_map(|a| a.patients.iter().map(|p| p.patient))
        .collect();
    ids.sort_unstable();
    ids.dedup();
    let dense = |id: u64| ids.binary_search(&id).map_or(0, |i| i as u32);
    let prepared: Vec<Prepared> = arms
        .iter()
        .map(|a| {
            let mut rows: Vec<(f64, bool, u32)> = a
                .analysed()
                .map(|p| {
                    let (time, event) = match primary {
                        Primary::Os => (p.os.time, p.os.event),
                        Primary::Pfs => (p.pfs.time, p.pfs.event),
                        // For the response rate: "time" 0 if a responder.
                        Primary::Orr => (
                            if p.best_response.is_objective() {
                                0.0
                            } else {
                                1.0
                            },
                            false,
                        ),
                    };
                    (time, event, dense(p.patient))
                })
                .collect();
            rows.sort_by(|a, b| a.0.total_cmp(&b.0));
            Prepared {
                time: rows.iter().map(|r| r.0).collect(),
                event: rows.iter().map(|r| r.1).collect(),
                patient: rows.iter().map(|r| r.2).collect(),
            }
        })
        .collect();
    let n = ids.len();
    let score = |p: &Prepared, weights: &[u32]| -> f64 {
        match primary {
            Primary::Orr => {
                let total: f64 = p
                    .patient
                    .iter()
                    .map(|&i| f64::from(weights[i as usize]))
                    .sum();
                let responders: f64 = p
                    .patient
                    .iter()
                    .zip(&p.time)
                    .filter(|(_, t)| **t == 0.0)
                    .map(|(&i, _)| f64::from(weights[i as usize]))
                    .sum();
                if total > 0.0 {
                    responders / total
                } else {
                    f64::NAN
                }
            }
            _ => weighted_rmst(p, weights, horizon_day),
        }
    };
    let wins: Vec<Vec<f64>> = (0..replicates)
        .into_par_iter()
        .map(|r| {
            let mut rng = replicate_stream(seed, r);
            let mut weights = vec![0u32; n];
            for _ in 0..n {
                weights[index_below(&mut rng, n)] += 1;
            }
            let scores: Vec<f64> = prepared.iter().map(|p| score(p, &weights)).collect();
            let best = scores
                .iter()
                .copied()
                .filter(|s| s.is_finite())
                .fold(f64::NEG_INFINITY, f64::max);
            let tied = scores.iter().filter(|&&s| s == best).count() as f64;
            scores
                .iter()
                .map(|&s| if s == best { 1.0 / tied } else { 0.0 })
                .collect()
        })
        .collect();
    (0..arms.len())
        .map(|a| wins.iter().map(|w| w[a]).sum::<f64>() / replicates as f64)
        .collect()
}

/// Why an analysis could not run.
#[derive(Debug)]
pub struct AnalysisError(pub String);

impl std::fmt::Display for AnalysisError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for AnalysisError {}

/// Reads the arms' records from `patients.csv`, in the order of `arm_names`; rows of other
/// arms are an error, or skipped if `skip_other_arms`.
pub fn read_patients(
    path: &Path,
    arm_names: &[String],
    skip_other_arms: bool,
) -> Result<Vec<ArmRecords>, AnalysisError> {
    let file = path.display().to_string();
    let mut reader = csv::Reader::from_path(path)
        .map_err(|e| AnalysisError(format!("{file}: cannot read: {e}")))?;
    let header = reader
        .headers()
        .map_err(|e| AnalysisError(format!("{file}: cannot read the header: {e}")))?
        .clone();
    let column = |name: &str| {
        header.iter().position(|h| h == name).ok_or_else(|| {
            AnalysisError(format!(
                "{file}: no column `{name}` (a patients.csv written by this version of immunotrial has it)"
            ))
        })
    };
    let [
        arm,
        patient,
        failure,
        best,
        change,
        response,
        pfs_day,
        pfs_event,
        os_day,
        os_event,
    ] = [
        "arm",
        "patient",
        "failure",
        "best_response",
        "best_change_pct",
        "response_day",
        "pfs_day",
        "pfs_event",
        "os_day",
        "os_event",
    ]
    .map(column);
    let (arm, patient, failure, best, change, response) =
        (arm?, patient?, failure?, best?, change?, response?);
    let (pfs_day, pfs_event, os_day, os_event) = (pfs_day?, pfs_event?, os_day?, os_event?);
    let mut arms: Vec<ArmRecords> = arm_names
        .iter()
        .map(|name| ArmRecords {
            name: name.clone(),
            patients: Vec::new(),
        })
        .collect();
    let mut record = csv::StringRecord::new();
    let mut line = 1u64;
    loop {
        match reader.read_record(&mut record) {
            Ok(false) => break,
            Ok(true) => line += 1,
            Err(e) => return Err(AnalysisError(format!("{file}: {e}"))),
        }
        let at = |k: usize| record.get(k).unwrap_or("");
        let bad = |what: &str, text: &str| {
            AnalysisError(format!("{file}:{line}: expected {what}, found `{text}`"))
        };
        let Some(a) = arms.iter().position(|x| x.name == at(arm)) else {
            if skip_other_arms {
                continue;
            }
            return Err(bad("one of the scenario's arms", at(arm)));
        };
        let id: u64 = at(patient)
            .parse()
            .map_err(|_| bad("a patient number", at(patient)))?;
        let failed = !at(failure).is_empty();
        let ineligible = at(failure).ends_with(super::endpoints::NOT_ELIGIBLE);
        let number = |k: usize, what: &str| -> Result<f64, AnalysisError> {
            at(k)
                .parse::<f64>()
                .ok()
                .filter(|x| x.is_finite())
                .ok_or_else(|| bad(what, at(k)))
        };
        let day = |k: usize| -> Result<f64, AnalysisError> {
            number(k, "a day of at least 0").and_then(|d| {
                if d >= 0.0 {
                    Ok(d)
                } else {
                    Err(bad("a day of at least 0", at(k)))
                }
            })
        };
        let flag = |k: usize| -> Result<bool, AnalysisError> {
            match at(k) {
                "1" => Ok(true),
                "0" => Ok(false),
                other => Err(bad("0 or 1", other)),
            }
        };
        let rec = if failed {
            PatientRecord {
                patient: id,
                failed,
                ineligible,
                best_response: Response::Ne,
                best_change_pct: None,
                response_day: None,
                pfs: Observation {
                    time: 0.0,
                    event: false,
                },
                os: Observation {
                    time: 0.0,
                    event: false,
                },
            }
        } else {
            PatientRecord {
                patient: id,
                failed,
                ineligible,
                best_response: Response::from_name(at(best))
                    .ok_or_else(|| bad("CR, PR, SD, PD or NE", at(best)))?,
                best_change_pct: if at(change).is_empty() {
                    None
                } else {
                    // A diameter cannot shrink by more than all of it.
                    Some(
                        number(change, "a percentage of at least -100").and_then(|c| {
                            if c >= -100.0 {
                                Ok(c)
                            } else {
                                Err(bad("a percentage of at least -100", at(change)))
                            }
                        })?,
                    )
                },
                response_day: if at(response).is_empty() {
                    None
                } else {
                    Some(day(response)?)
                },
                pfs: Observation {
                    time: day(pfs_day)?,
                    event: flag(pfs_event)?,
                },
                os: Observation {
                    time: day(os_day)?,
                    event: flag(os_event)?,
                },
            }
        };
        arms[a].patients.push(rec);
    }
    Ok(arms)
}

fn opt(x: Option<f64>) -> String {
    x.map(value).unwrap_or_default()
}

/// The fixed columns of arms.csv, then the extra ones.
pub const ARMS_COLUMNS: [&str; 24] = [
    "arm",
    "n",
    "failed",
    "orr",
    "orr_lo",
    "orr_hi",
    "dcr",
    "median_pfs_day",
    "median_pfs_lo",
    "median_pfs_hi",
    "median_os_day",
    "median_os_lo",
    "median_os_hi",
    "hr_pfs",
    "hr_pfs_lo",
    "hr_pfs_hi",
    "logrank_pfs_chisq",
    "logrank_pfs_p",
    "hr_os",
    "hr_os_lo",
    "hr_os_hi",
    "logrank_os_chisq",
    "logrank_os_p",
    "p_best",
];

fn comparison_columns(c: &Option<Comparison>) -> ([String; 3], [String; 2], String) {
    let cox = c.as_ref().and_then(|c| c.cox);
    let lr = c.as_ref().and_then(|c| c.log_rank);
    (
        [
            opt(cox.map(|x| x.hr)),
            opt(cox.map(|x| x.hr_lower)),
            opt(cox.map(|x| x.hr_upper)),
        ],
        [opt(lr.map(|x| x.chisq)), opt(lr.map(|x| x.p))],
        opt(cox.map(|x| x.wald_p)),
    )
}

/// Writes `arms.csv`.
pub fn write_arms_csv(out: &mut dyn std::io::Write, a: &Analysis) -> std::io::Result<()> {
    let mut w = csv::Writer::from_writer(out);
    let mut header: Vec<String> = ARMS_COLUMNS.iter().map(|c| c.to_string()).collect();
    header.extend(
        [
            "dcr_lo",
            "dcr_hi",
            "hr_pfs_p",
            "hr_os_p",
            "orr_diff",
            "orr_diff_lo",
            "orr_diff_hi",
        ]
        .map(String::from),
    );
    for endpoint in ["pfs", "os"] {
        for landmark in &a.landmarks {
            header.push(format!("{endpoint}_{}", landmark.label()));
        }
        header.push(format!("rmst_{endpoint}_day"));
    }
    header.push("median_best_change_pct".to_string());
    w.write_record(&header)?;
    for arm in &a.arms {
        let (hr_pfs, lr_pfs, p_pfs) = comparison_columns(&arm.pfs_vs_control);
        let (hr_os, lr_os, p_os) = comparison_columns(&arm.os_vs_control);
        let mut row = vec![
            arm.name.clone(),
            arm.n.to_string(),
            arm.failed.to_string(),
            opt(arm.orr.value),
            opt(arm.orr.lower),
            opt(arm.orr.upper),
            opt(arm.dcr.value),
            opt(arm.pfs.median_day.value),
            opt(arm.pfs.median_day.lower),
            opt(arm.pfs.median_day.upper),
            opt(arm.os.median_day.value),
            opt(arm.os.median_day.lower),
            opt(arm.os.median_day.upper),
        ];
        row.extend(hr_pfs);
        row.extend(lr_pfs);
        row.extend(hr_os);
        row.extend(lr_os);
        row.push(opt(Some(arm.p_best).filter(|x| x.is_finite())));
        row.extend([opt(arm.dcr.lower), opt(arm.dcr.upper), p_pfs, p_os]);
        let d = arm.orr_difference.unwrap_or_default();
        row.extend([opt(d.value), opt(d.lower), opt(d.upper)]);
        for s in [&arm.pfs, &arm.os] {
            row.extend(s.rates.iter().map(|r| opt(r.value)));
            row.push(opt(Some(s.rmst_day).filter(|x| x.is_finite())));
        }
        row.push(opt(arm.median_best_change_pct));
        w.write_record(&row)?;
    }
    w.flush()
}

fn comparison_json(c: &Option<Comparison>) -> Value {
    match c {
        None => Value::Null,
        Some(c) => json!({
            "hazard_ratio": c.cox.map(|x| json!({
                "value": x.hr, "lower": x.hr_lower, "upper": x.hr_upper,
                "log_hr": x.coef, "se_log_hr": x.se, "wald_p": x.wald_p,
                "ties": "efron",
            })),
            "log_rank": c.log_rank.map(|x| json!({
                "chisq": x.chisq, "p": x.p,
                "observed_control": x.observed[0], "observed": x.observed[1],
                "expected_control": x.expected[0], "expected": x.expected[1],
            })),
        }),
    }
}

fn survival_json(s: &SurvivalSummary, landmarks: &[Landmark]) -> Value {
    json!({
        "events": s.events,
        "median_day": s.median_day.json(),
        "rates": landmarks.iter().zip(&s.rates).map(|(l, r)| json!({
            "label": l.label(), "months": l.months(), "day": l.day(),
            "survival": r.value, "lower": r.lower, "upper": r.upper,
        })).collect::<Vec<_>>(),
        "rmst_day": s.rmst_day,
        "rmst_se_day": s.rmst_se_day,
    })
}

/// The analysis as JSON (summary.json).
pub fn summary_json(a: &Analysis, scenario_name: &str) -> Value {
    json!({
        "scenario": scenario_name,
        "control": a.arms.get(a.control).map(|x| x.name.clone()),
        "primary": a.primary.name(),
        "ranking_statistic": match a.primary {
            Primary::Pfs => "restricted mean PFS to the horizon",
            Primary::Os => "restricted mean OS to the horizon",
            Primary::Orr => "objective response rate",
        },
        "bootstrap_replicates": a.bootstrap,
        "seed": a.seed,
        "horizon_day": a.horizon_day,
        "arms": a.arms.iter().map(|arm| json!({
            "arm": arm.name,
            "n": arm.n,
            "failed": arm.failed,
            "best_response": {
                "CR": arm.responses[0], "PR": arm.responses[1], "SD": arm.responses[2],
                "PD": arm.responses[3], "NE": arm.responses[4],
            },
            "orr": arm.orr.json(),
            "dcr": arm.dcr.json(),
            "median_best_change_pct": arm.median_best_change_pct,
            "orr_difference_vs_control": arm.orr_difference.map(|d| d.json()),
            "pfs": survival_json(&arm.pfs, &a.landmarks),
            "os": survival_json(&arm.os, &a.landmarks),
            "pfs_vs_control": comparison_json(&arm.pfs_vs_control),
            "os_vs_control": comparison_json(&arm.os_vs_control),
            "p_best": arm.p_best,
        })).collect::<Vec<_>>(),
    })
}

/// Writes a Kaplan–Meier table: `arm,time_day,at_risk,events,censored,survival,lower,upper`,
/// each arm starting at day 0 with S = 1.
pub fn write_km_csv(
    out: &mut dyn std::io::Write,
    a: &Analysis,
    pick: fn(&ArmSummary) -> &SurvivalSummary,
) -> std::io::Result<()> {
    let mut w = csv::Writer::from_writer(out);
    w.write_record([
        "arm", "time_day", "at_risk", "events", "censored", "survival", "lower", "upper",
    ])?;
    for arm in &a.arms {
        let curve = &pick(arm).curve;
        let starts_later = curve.steps.first().is_none_or(|s| s.time > 0.0);
        if starts_later {
            w.write_record([
                arm.name.as_str(),
                "0",
                &value(curve.n),
                "0",
                "0",
                "1",
                "1",
                "1",
            ])?;
        }
        for s in &curve.steps {
            let (lo, hi) = s.interval();
            w.write_record([
                arm.name.clone(),
                value(s.time),
                value(s.at_risk),
                value(s.events),
                value(s.censored),
                value(s.survival),
                value(lo),
                value(hi),
            ])?;
        }
    }
    w.flush()
}

/// Writes arms.csv, summary.json, km_pfs.csv and km_os.csv into `dir`.
pub fn write_analysis(
    dir: &Path,
    scenario_name: &str,
    analysis: &Analysis,
) -> Result<(), AnalysisError> {
    let io = |e: std::io::Error| AnalysisError(format!("{}: {e}", dir.display()));
    write_atomic(&dir.join("arms.csv"), |w| write_arms_csv(w, analysis)).map_err(io)?;
    let text = serde_json::to_string_pretty(&summary_json(analysis, scenario_name))
        .map_err(|e| AnalysisError(e.to_string()))?;
    write_atomic(&dir.join("summary.json"), |w| w.write_all(text.as_bytes())).map_err(io)?;
    write_atomic(&dir.join("km_pfs.csv"), |w| {
        write_km_csv(w, analysis, |a| &a.pfs)
    })
    .map_err(io)?;
    write_atomic(&dir.join("km_os.csv"), |w| {
        write_km_csv(w, analysis, |a| &a.os)
    })
    .map_err(io)?;
    Ok(())
}

/// A run folder as the analysis and the report read it.
#[derive(Debug, Clone)]
pub struct RunFolder {
    pub scenario: crate::scenario::Scenario,
    /// run.json as written.
    pub run: Value,
    pub seed: u64,
    pub records: Vec<ArmRecords>,
}

impl RunFolder {
    /// Why this run's results are not to be trusted as a trial's, if they are not: more
    /// patient-arms failed than `[cohort] max_failed_fraction` allows. Failures are seldom
    /// at random (they cluster in patients with extreme courses, often the responders), so
    /// endpoints computed without them are biased.
    pub fn too_many_failed(&self) -> Option<String> {
        failed_beyond_allowance(&self.run, &self.scenario)
    }
}

/// [`RunFolder::too_many_failed`] of the run in `dir`, from its run.json and
/// scenario.resolved.toml alone (`merge` asks before it analyses); `None` where either cannot
/// be read, which the analysis then reports.
pub fn too_many_failed_in(dir: &Path) -> Option<String> {
    let scenario =
        crate::scenario::Scenario::load(&dir.join("scenario.resolved.toml"), &[]).ok()?;
    let run: Value = serde_json::from_slice(&std::fs::read(dir.join("run.json")).ok()?).ok()?;
    failed_beyond_allowance(&run, &scenario)
}

fn failed_beyond_allowance(run: &Value, scenario: &crate::scenario::Scenario) -> Option<String> {
    let failed = run["failed_patient_arms"].as_u64()?;
    let fraction = run["failed_fraction"].as_f64()?;
    let allowed = scenario.cohort.as_ref()?.max_failed_fraction;
    (fraction > allowed).then(|| {
        format!(
            "{failed} patient-arms ({:.1}%) failed, more than [cohort] max_failed_fraction = {allowed} allows; \
             the results leave them out and are likely biased (see the failure column of patients.csv)",
            100.0 * fraction
        )
    })
}

/// Reads a run folder: the trial settings, arms and horizon from its
/// `scenario.resolved.toml`, the seed from its `run.json`, the patients from `patients.csv`.
pub fn read_run(dir: &Path) -> Result<RunFolder, AnalysisError> {
    let resolved = dir.join("scenario.resolved.toml");
    if !dir.is_dir() {
        return Err(AnalysisError(format!(
            "{}: no such folder (expected the output folder of immunotrial run)",
            dir.display()
        )));
    }
    if !resolved.is_file() {
        return Err(AnalysisError(format!(
            "{}: not a run folder: it has no scenario.resolved.toml (immunotrial run writes one)",
            dir.display()
        )));
    }
    let run_json = dir.join("run.json");
    let run: Option<Value> = std::fs::read(&run_json)
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok());
    let scenario = crate::scenario::Scenario::load(&resolved, &[]).map_err(|e| {
        // The diagnostics without their own "error: ", which the caller prints once. The
        // file is there, so the folder is a run's whose scenario was edited since, or one
        // written by another build whose scenario format differs.
        let why: Vec<String> = e.0.iter().map(|d| d.to_string()).collect();
        let ours = if crate::COMMIT.is_empty() {
            "this build records no commit".to_string()
        } else {
            format!("this is commit {}", crate::COMMIT)
        };
        let cause = match run.as_ref().map(|r| r["commit"].as_str()) {
            Some(Some(theirs)) if theirs != crate::COMMIT => format!(
                "The run was made by immunotrial at commit {theirs} and {ours}: the scenario \
                 format may have changed between them (analyse the folder with that build, or \
                 run the scenario again), or the file was edited since the run."
            ),
            Some(None) => format!(
                "The run was made by a build that recorded no commit (an immunotrial older \
                 than the record, or one built outside git) and {ours}: the scenario format \
                 may have changed between them, or the file was edited since the run."
            ),
            _ => "Was it edited since the run?".to_string(),
        };
        AnalysisError(format!(
            "{}: the run's scenario.resolved.toml is not a valid scenario: {}. {cause}",
            dir.display(),
            why.join("; ")
        ))
    })?;
    let run = run
        .ok_or_else(|| AnalysisError(format!("{}: cannot read it as JSON", run_json.display())))?;
    if run.get("shard").is_some_and(|s| !s.is_null()) {
        return Err(AnalysisError(format!(
            "{}: a shard holds only part of the cohort; merge the shards (immunotrial merge) and analyse the result",
            dir.display()
        )));
    }
    let seed = run["seed"]
        .as_u64()
        .ok_or_else(|| AnalysisError(format!("{}: no `seed`", run_json.display())))?;
    let arm_names: Vec<String> = scenario.arms.iter().map(|a| a.name.clone()).collect();
    let records = read_patients(&dir.join("patients.csv"), &arm_names, false)?;
    Ok(RunFolder {
        scenario,
        run,
        seed,
        records,
    })
}

/// Analyses a run folder as it stands and writes arms.csv, summary.json, km_pfs.csv and
/// km_os.csv into it.
pub fn analyse_dir(dir: &Path) -> Result<(RunFolder, Analysis), AnalysisError> {
    let folder = read_run(dir)?;
    let analysis = analyse(
        &folder.records,
        &folder.scenario.trial,
        folder.scenario.horizon_day,
        folder.seed,
    );
    write_analysis(dir, &folder.scenario.name, &analysis)?;
    Ok((folder, analysis))
}
