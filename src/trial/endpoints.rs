//! One virtual patient's trial endpoints, from its tumour course in one arm: best response by
//! RECIST at the assessment visits, progression-free and overall survival.
//!
//! - Death: when the tumour burden first reaches `lethal_volume_ml` (the crossing found by
//!   log-linear interpolation between outputs: growth is near exponential over one output
//!   step), or at the patient's background death time, whichever is first.
//! - Follow-up ends at death, dropout or the horizon. Visits after it are not held.
//! - PFS: the first visit that finds PD, or death, whichever is first; else censored at the
//!   last assessment.
//! - OS: death; else censored at the end of follow-up (dropout or horizon).
//! - Duration of response: from the first visit of the response to progression or death
//!   (the PFS event); censored with PFS.
//!
//! The background death and dropout times are the patient's, drawn once from its own random
//! stream: the same in every arm (the paired design).

use super::recist::{DAYS_PER_YEAR, Response, Rules, assess, diameter_mm};
use crate::engine::ode::SAME_INSTANT_DAY;
use crate::scenario::trial::TrialSpec;

/// How the reason of a patient not eligible for the trial ends, in patients.csv's failure
/// column (where it is told apart from a failed solve).
pub const NOT_ELIGIBLE: &str = ": not eligible";

/// Why a patient died.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeathCause {
    Tumour,
    Background,
}

impl DeathCause {
    pub fn name(self) -> &'static str {
        match self {
            DeathCause::Tumour => "tumour",
            DeathCause::Background => "background",
        }
    }
}

/// A patient's times that do not depend on the arm (infinite when they never come).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PatientTimes {
    pub background_death_day: f64,
    pub dropout_day: f64,
}

impl PatientTimes {
    /// Exponential times with the trial's yearly hazards from two uniforms in (0, 1], both
    /// always drawn so that one rate does not shift the other's draw.
    pub fn from_uniforms(spec: &TrialSpec, u_death: f64, u_dropout: f64) -> PatientTimes {
        let time = |rate_per_year: f64, u: f64| {
            if rate_per_year > 0.0 {
                -u.ln() / (rate_per_year / DAYS_PER_YEAR)
            } else {
                f64::INFINITY
            }
        };
        PatientTimes {
            background_death_day: time(spec.background_mortality_per_year, u_death),
            dropout_day: time(spec.dropout_per_year, u_dropout),
        }
    }

    /// Whether a course whose latest output is `volume_mm3` on `day` holds all that
    /// [`evaluate`] reads: the tumour has reached the lethal volume, or the output is past
    /// background death or dropout. A course cut at the first output where this holds has the
    /// endpoints of the whole course (a test compares them), so a cohort stops its solve there.
    /// Strictly past: where death or dropout falls on an output a lethal crossing just after it
    /// can round onto that very day, and it must be seen (found in review).
    pub fn follow_up_over(&self, spec: &TrialSpec, day: f64, volume_mm3: f64) -> bool {
        spec.lethal_volume_ml
            .is_some_and(|ml| volume_mm3 >= ml * 1000.0)
            || day > self.background_death_day.min(self.dropout_day)
    }
}

/// One tumour assessment: the lesion's diameter as the visit records it (0 when it has
/// disappeared below the detection limit), and its response (none at baseline).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Assessment {
    pub day: f64,
    pub diameter_mm: f64,
    pub response: Option<Response>,
}

/// The endpoints of one patient in one arm (the columns added to patients.csv).
#[derive(Debug, Clone, PartialEq)]
pub struct Endpoints {
    pub best_response: Response,
    pub best_change_pct: Option<f64>,
    pub response_day: Option<f64>,
    pub response_duration_days: Option<f64>,
    pub pfs_day: f64,
    pub pfs_event: bool,
    pub os_day: f64,
    pub os_event: bool,
    pub death_cause: Option<DeathCause>,
    /// The assessments held, baseline first, up to progression.
    pub assessments: Vec<Assessment>,
}

/// The value of a course at `t`: exact at an output time, log-linear between two.
fn value_at(times: &[f64], values: &[f64], t: f64) -> f64 {
    let k = times.partition_point(|&x| x < t - SAME_INSTANT_DAY);
    if k >= times.len() {
        return values[values.len() - 1];
    }
    if (times[k] - t).abs() <= SAME_INSTANT_DAY || k == 0 {
        return values[k];
    }
    let (t0, t1, v0, v1) = (times[k - 1], times[k], values[k - 1], values[k]);
    let f = (t - t0) / (t1 - t0);
    if v0 > 0.0 && v1 > 0.0 {
        (v0.ln() + f * (v1.ln() - v0.ln())).exp()
    } else {
        v0 + f * (v1 - v0)
    }
}

/// A tumour course over follow-up, in the course's own units.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CourseSummary {
    pub baseline: f64,
    /// At the end of follow-up: log-linear between the outputs around it, as a lethal
    /// crossing is found (so a tumour death ends at the lethal volume).
    pub end: f64,
    /// The smallest value at an output within follow-up or at its end, and its day (the
    /// earliest, on ties).
    pub min: f64,
    pub min_day: f64,
}

/// The summary of a course (`times`, `values`) over follow-up, which ends on `until_day` (the
/// end of overall survival's follow-up). Outputs after it are left out: a cohort's course
/// holds the first output past the end of follow-up, which a lethal crossing is interpolated
/// up to, and the tumour there is not the patient's any more.
pub fn course_summary(times: &[f64], values: &[f64], until_day: f64) -> CourseSummary {
    let Some(&baseline) = values.first() else {
        return CourseSummary {
            baseline: f64::NAN,
            end: f64::NAN,
            min: f64::NAN,
            min_day: f64::NAN,
        };
    };
    // Outputs strictly before the end; one within the same instant is the end itself.
    let k = times.partition_point(|&t| t < until_day - SAME_INSTANT_DAY);
    let (end_day, end) = match times.get(k) {
        Some(&t) if (t - until_day).abs() <= SAME_INSTANT_DAY => (t, values[k]),
        _ => (until_day, value_at(times, values, until_day)),
    };
    let (mut min, mut min_day) = (end, end_day);
    for (&t, &v) in times[..k].iter().zip(&values[..k]).rev() {
        if v <= min {
            (min, min_day) = (v, t);
        }
    }
    CourseSummary {
        baseline,
        end,
        min,
        min_day,
    }
}

/// The first time the course reaches `level`, log-linearly between outputs.
fn first_reaching(times: &[f64], values: &[f64], level: f64) -> Option<f64> {
    let k = values.iter().position(|&v| v >= level)?;
    if k == 0 {
        return Some(times[0]);
    }
    let (t0, t1, v0, v1) = (times[k - 1], times[k], values[k - 1], values[k]);
    let f = if v0 > 0.0 {
        (level.ln() - v0.ln()) / (v1.ln() - v0.ln())
    } else {
        (level - v0) / (v1 - v0)
    };
    Some(t0 + f.clamp(0.0, 1.0) * (t1 - t0))
}

/// Evaluates one patient: `times` and `volume_mm3` are the tumour course at the outputs (the
/// assessment `visits` among them), up to `horizon_day`. A patient whose tumour is already at
/// the lethal volume at baseline cannot enter the trial, nor one without a tumour to measure
/// (RECIST's changes are relative to the baseline): those are errors saying so.
pub fn evaluate(
    times: &[f64],
    volume_mm3: &[f64],
    visits: &[f64],
    horizon_day: f64,
    spec: &TrialSpec,
    patient: PatientTimes,
) -> Result<Endpoints, String> {
    if let Some(&v0) = volume_mm3.first()
        && (v0.is_nan() || v0 <= 0.0)
    {
        return Err(format!(
            "the tumour is {} mm3 at baseline, nothing to measure a response against{NOT_ELIGIBLE}",
            v0
        ));
    }
    if let (Some(ml), Some(&v0)) = (spec.lethal_volume_ml, volume_mm3.first())
        && v0 >= ml * 1000.0
    {
        return Err(format!(
            "the tumour is {} mL at baseline, at or above [trial] lethal_volume_ml = {ml}{NOT_ELIGIBLE}",
            v0 / 1000.0
        ));
    }
    let tumour_death = spec
        .lethal_volume_ml
        .and_then(|ml| first_reaching(times, volume_mm3, ml * 1000.0));
    let (death_day, death_cause) = match tumour_death {
        Some(t) if t <= patient.background_death_day => (Some(t), Some(DeathCause::Tumour)),
        _ if patient.background_death_day <= horizon_day => (
            Some(patient.background_death_day),
            Some(DeathCause::Background),
        ),
        _ => (None, None),
    };
    // Death after dropout is not observed.
    let (death_day, death_cause) = match death_day {
        Some(t) if t <= patient.dropout_day && t <= horizon_day => (Some(t), death_cause),
        _ => (None, None),
    };
    let follow_up_end = death_day.unwrap_or(horizon_day.min(patient.dropout_day));
    // Visits held: baseline, then those strictly before death or dropout.
    let held: Vec<(f64, f64)> = visits
        .iter()
        .enumerate()
        .filter(|&(i, &day)| {
            i == 0 || day < follow_up_end || (death_day.is_none() && day <= follow_up_end)
        })
        .map(|(_, &day)| (day, diameter_mm(value_at(times, volume_mm3, day))))
        .collect();
    let recist = assess(&held, &Rules::of(spec));
    let (pfs_day, pfs_event) = match (recist.progression_day, death_day) {
        (Some(p), Some(d)) => (p.min(d), true),
        (Some(p), None) => (p, true),
        (None, Some(d)) => (d, true),
        (None, None) => (recist.last_assessment_day, false),
    };
    let (os_day, os_event) = match death_day {
        Some(d) => (d, true),
        None => (follow_up_end, false),
    };
    let assessments =
        held.first()
            .map(|&(day, diameter_mm)| Assessment {
                day,
                diameter_mm,
                response: None,
            })
            .into_iter()
            .chain(recist.visits.iter().zip(&recist.recorded_mm).map(
                |(&(day, r), &diameter_mm)| Assessment {
                    day,
                    diameter_mm,
                    response: Some(r),
                },
            ))
            .collect();
    Ok(Endpoints {
        assessments,
        best_response: recist.best,
        best_change_pct: recist.best_change_pct,
        response_day: recist.response_day,
        response_duration_days: recist.response_day.map(|r| pfs_day - r),
        pfs_day,
        pfs_event,
        os_day,
        os_event,
        death_cause,
    })
}
