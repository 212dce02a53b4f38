//! RECIST 1.1 on one target lesion, at the visits of a trial's assessment schedule
//! (Eisenhauer et al., Eur J Cancer 45:228, 2009; ../shared/reference/models.md, section 7).
//!
//! At each visit after baseline the lesion's longest diameter is recorded as RECIST asks a
//! radiologist to: its size, or 0 mm when it has disappeared (below the detection limit;
//! RECIST 1.1, section 3.3.2: "if ... the lesion has likely disappeared, the measurement
//! should be recorded as 0 mm"). With d the recorded diameter:
//! - CR: d is 0 (the lesion has disappeared from imaging);
//! - PD: d at least 20% and at least 5 mm above the nadir, the smallest recorded diameter so
//!   far, baseline included; or the lesion reappears after a CR (a nadir of 0: with one
//!   target lesion, the reappearance RECIST counts as progression);
//! - PR: d at least 30% below baseline;
//! - SD: otherwise.
//!
//! CR is checked first: a lesion that cannot be seen cannot be seen to grow. PD is checked
//! before PR: a lesion that shrank to a small nadir and regrew is progressing even if it is
//! still below baseline. Assessment stops at the first PD. Changes from baseline are those of
//! the recorded diameter, so a CR is a change of -100%, as a trial's waterfall plot shows it.
//! (The lesion's size below the detection limit had been kept as its nadir, so a lesion that
//! reappeared after a CR was progression only 5 mm above its invisible nadir: in the TNBC
//! radiotherapy arms, months after it was visible again.)
//!
//! The best overall response is the best visit response before progression (CR > PR > SD >
//! PD); NE when there is no assessment after baseline, or the lesion was not measurable at
//! baseline (below `[trial] measurable_min_mm`, RECIST's 10 mm) and did not progress: such a
//! lesion's visits are NE, or PD where it progressed, and an earlier visit's shrinkage does not
//! hide a later progression. SD counts only once a minimum
//! time has passed since baseline (`[trial] stable_disease_min_days`, default 42 days): an
//! earlier SD followed by progression gives PD, followed by nothing, NE. With confirmation, a
//! CR counts only if the first visit at least 4 weeks later is again CR, and a PR only if that
//! visit is PR or CR; an unconfirmed response counts as SD (RECIST 1.1 table 3). (A lesion
//! seen again after a CR has progressed, so a CR is confirmed by a CR or not at all.)

use crate::scenario::trial::TrialSpec;

/// A visit's response, or the best overall response.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Response {
    /// Complete response.
    Cr,
    /// Partial response.
    Pr,
    /// Stable disease.
    Sd,
    /// Progressive disease.
    Pd,
    /// Not evaluable.
    Ne,
}

impl Response {
    pub fn name(self) -> &'static str {
        match self {
            Response::Cr => "CR",
            Response::Pr => "PR",
            Response::Sd => "SD",
            Response::Pd => "PD",
            Response::Ne => "NE",
        }
    }

    pub fn from_name(name: &str) -> Option<Response> {
        Some(match name {
            "CR" => Response::Cr,
            "PR" => Response::Pr,
            "SD" => Response::Sd,
            "PD" => Response::Pd,
            "NE" => Response::Ne,
            _ => return None,
        })
    }

    /// An objective response (CR or PR).
    pub fn is_objective(self) -> bool {
        matches!(self, Response::Cr | Response::Pr)
    }

    /// Disease control (CR, PR or SD).
    pub fn is_disease_control(self) -> bool {
        matches!(self, Response::Cr | Response::Pr | Response::Sd)
    }
}

/// Days of one year, for "the first year" of visits and for rates per year.
pub const DAYS_PER_YEAR: f64 = 365.25;

/// Assessment days: baseline (0), every `every_day` in the first year, then every
/// `every_after_year_day` from the last visit of the first year, up to the horizon.
pub fn visit_days(every_day: f64, every_after_year_day: f64, horizon_day: f64) -> Vec<f64> {
    let mut days = vec![0.0];
    let mut k = 1.0;
    while k * every_day <= DAYS_PER_YEAR.min(horizon_day) {
        days.push(k * every_day);
        k += 1.0;
    }
    let last_first_year = *days.last().unwrap_or(&0.0);
    let mut m = 1.0;
    while last_first_year + m * every_after_year_day <= horizon_day {
        days.push(last_first_year + m * every_after_year_day);
        m += 1.0;
    }
    days
}

/// The trial's assessment days up to `horizon_day`: its schedule, and an end-of-study
/// assessment at the horizon if asked and not already a visit.
pub fn assessment_days(spec: &TrialSpec, horizon_day: f64) -> Vec<f64> {
    let mut days = visit_days(
        spec.assessment_every_day,
        spec.assessment_every_day_after_year,
        horizon_day,
    );
    if spec.assessment_at_horizon && days.last().is_some_and(|&d| horizon_day - d > 1e-9) {
        days.push(horizon_day);
    }
    days
}

/// The diameter (mm) of a sphere of `volume_mm3`.
pub fn diameter_mm(volume_mm3: f64) -> f64 {
    (6.0 * volume_mm3.max(0.0) / std::f64::consts::PI).cbrt()
}

/// RECIST 1.1's absolute increase over the nadir that progression also needs: 5 mm.
pub const DEFAULT_PROGRESSION_MIN_INCREASE_MM: f64 = 5.0;

/// The diameter a visit records for a lesion of `diameter` mm: 0 when it is below the
/// detection limit (it has disappeared from imaging).
pub fn recorded_mm(diameter: f64, detection_limit: f64) -> f64 {
    if diameter < detection_limit {
        0.0
    } else {
        diameter
    }
}

/// The response at one visit, from the `recorded` diameter ([`recorded_mm`]) and the nadir of
/// the recorded diameters: progression is 20% over the nadir and at least
/// `progression_min_increase` mm, or a reappearance after a complete response.
pub fn visit_response(
    recorded: f64,
    baseline: f64,
    nadir: f64,
    progression_min_increase: f64,
) -> Response {
    if recorded == 0.0 {
        Response::Cr
    } else if nadir == 0.0
        || (recorded >= 1.2 * nadir && recorded - nadir >= progression_min_increase)
    {
        Response::Pd
    } else if recorded <= 0.7 * baseline {
        Response::Pr
    } else {
        Response::Sd
    }
}

/// What RECIST makes of one patient's visits.
#[derive(Debug, Clone, PartialEq)]
pub struct RecistOutcome {
    pub best: Response,
    /// The most negative change of the diameter from baseline at a visit up to progression.
    pub best_change_pct: Option<f64>,
    /// The first visit of the (confirmed, if asked) objective response.
    pub response_day: Option<f64>,
    /// The visit that found progression.
    pub progression_day: Option<f64>,
    /// The last visit assessed (the progression visit, if any).
    pub last_assessment_day: f64,
    /// Each assessed visit's day and response, baseline excluded.
    pub visits: Vec<(f64, Response)>,
    /// Each assessed visit's recorded diameter ([`recorded_mm`]), baseline excluded.
    pub recorded_mm: Vec<f64>,
}

/// RECIST's settings for one trial.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Rules {
    pub detection_limit_mm: f64,
    /// A baseline lesion below this is not measurable: NE unless it progresses.
    pub measurable_min_mm: f64,
    /// Progression needs at least this absolute increase over the nadir besides the 20%
    /// (RECIST 1.1: 5 mm; a protocol for millimetre-sized mouse tumours may lower it).
    pub progression_min_increase_mm: f64,
    /// CR and PR count only when confirmed by a visit at least `confirm_after_days` later.
    pub confirm: bool,
    pub confirm_after_days: f64,
    /// SD counts only from this many days after baseline (RECIST: a protocol-defined minimum,
    /// in general 6 to 8 weeks); an earlier SD followed by nothing better is NE, or PD if
    /// progression follows.
    pub stable_disease_min_days: f64,
}

/// RECIST 1.1's confirmation interval: no less than 4 weeks.
pub const CONFIRM_AFTER_DAYS: f64 = 28.0;

impl Rules {
    pub fn of(spec: &TrialSpec) -> Rules {
        Rules {
            detection_limit_mm: spec.detection_limit_mm,
            measurable_min_mm: spec.measurable_min_mm,
            progression_min_increase_mm: spec.progression_min_increase_mm,
            confirm: spec.confirm_response,
            confirm_after_days: CONFIRM_AFTER_DAYS,
            stable_disease_min_days: spec.stable_disease_min_days,
        }
    }
}

/// Applies RECIST to `visits` (day, diameter mm), the first of which is the baseline.
pub fn assess(visits: &[(f64, f64)], rules: &Rules) -> RecistOutcome {
    let detection_limit_mm = rules.detection_limit_mm;
    let Some(&(baseline_day, baseline)) = visits.first() else {
        return RecistOutcome {
            best: Response::Ne,
            best_change_pct: None,
            response_day: None,
            progression_day: None,
            last_assessment_day: 0.0,
            visits: Vec::new(),
            recorded_mm: Vec::new(),
        };
    };
    let measurable = baseline >= rules.measurable_min_mm;
    let mut nadir = baseline;
    let mut assessed: Vec<(f64, Response)> = Vec::new();
    let mut recorded: Vec<f64> = Vec::new();
    let mut best_change: Option<f64> = None;
    let mut progression_day = None;
    for &(day, diameter) in &visits[1..] {
        let d = recorded_mm(diameter, detection_limit_mm);
        let response = visit_response(d, baseline, nadir, rules.progression_min_increase_mm);
        // A lesion not measurable at baseline has no response to measure, only progression.
        let response = if measurable || response == Response::Pd {
            response
        } else {
            Response::Ne
        };
        let change = if baseline > 0.0 {
            100.0 * (d / baseline - 1.0)
        } else {
            0.0
        };
        best_change = Some(best_change.map_or(change, |b: f64| b.min(change)));
        assessed.push((day, response));
        recorded.push(d);
        nadir = nadir.min(d);
        if response == Response::Pd {
            progression_day = Some(day);
            break;
        }
    }
    // Each visit's response as it counts towards the best: confirmed or not, and SD only
    // once its minimum duration has passed.
    let counted: Vec<Response> = (0..assessed.len())
        .map(|i| {
            let (day, r) = assessed[i];
            let r = if rules.confirm && r.is_objective() {
                // The first later visit at least the confirmation interval after this one
                // (assessment stopped at progression, so none in between progressed).
                let confirming = assessed[i + 1..]
                    .iter()
                    .find(|v| v.0 - day >= rules.confirm_after_days - 1e-9)
                    .map(|v| v.1);
                match (r, confirming) {
                    (Response::Cr, Some(Response::Cr)) => Response::Cr,
                    (Response::Cr | Response::Pr, Some(Response::Cr | Response::Pr)) => {
                        Response::Pr
                    }
                    // Unconfirmed: it counts as stable disease.
                    _ => Response::Sd,
                }
            } else {
                r
            };
            if r == Response::Sd && day - baseline_day < rules.stable_disease_min_days - 1e-9 {
                Response::Ne
            } else {
                r
            }
        })
        .collect();
    // A non-measurable lesion's visits are NE or PD, so its best is PD if it progressed.
    let best = counted.iter().copied().min().unwrap_or(Response::Ne);
    let response_day = if best.is_objective() {
        counted
            .iter()
            .position(|r| r.is_objective())
            .map(|i| assessed[i].0)
    } else {
        None
    };
    RecistOutcome {
        best,
        best_change_pct: best_change,
        response_day,
        progression_day,
        last_assessment_day: assessed.last().map_or(baseline_day, |v| v.0),
        visits: assessed,
        recorded_mm: recorded,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schedule_switches_after_the_first_year() {
        let days = visit_days(42.0, 84.0, 730.0);
        assert_eq!(
            days,
            vec![
                0.0, 42.0, 84.0, 126.0, 168.0, 210.0, 252.0, 294.0, 336.0, 420.0, 504.0, 588.0,
                672.0
            ]
        );
        assert_eq!(visit_days(42.0, 84.0, 41.0), vec![0.0]);
    }

    #[test]
    fn sphere_diameter() {
        // A 3 cm sphere holds pi/6 * 30^3 mm3.
        let v = std::f64::consts::PI / 6.0 * 27000.0;
        assert!((diameter_mm(v) - 30.0).abs() < 1e-12);
    }
}
