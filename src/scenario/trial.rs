//! The `[trial]` section: how the virtual trial assesses each patient (visits, RECIST, deaths,
//! dropout) and compares the arms (control, primary endpoint, bootstrap).

use super::schema::TrialSection;
use super::{Checker, KeyPath, num};
use crate::trial::recist::{DAYS_PER_YEAR, DEFAULT_PROGRESSION_MIN_INCREASE_MM};

/// The endpoint that ranks the arms.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Primary {
    Pfs,
    Os,
    Orr,
}

impl Primary {
    pub fn name(self) -> &'static str {
        match self {
            Primary::Pfs => "pfs",
            Primary::Os => "os",
            Primary::Orr => "orr",
        }
    }
}

pub const DEFAULT_ASSESSMENT_EVERY_DAYS: f64 = 42.0;
pub const DEFAULT_ASSESSMENT_EVERY_DAYS_AFTER_YEAR: f64 = 84.0;
pub const DEFAULT_DETECTION_LIMIT_MM: f64 = 5.0;
pub const DEFAULT_BOOTSTRAP: u64 = 1000;
/// RECIST 1.1: a measurable lesion is at least 10 mm across.
pub const DEFAULT_MEASURABLE_MIN_MM: f64 = 10.0;
/// RECIST 1.1: SD must be met at least once after a protocol-defined minimum, in general 6 to 8
/// weeks.
pub const DEFAULT_STABLE_DISEASE_MIN_DAYS: f64 = 42.0;

/// Landmarks of a scenario without `landmark_months` or `landmark_days`.
pub const DEFAULT_LANDMARK_MONTHS: [f64; 3] = [6.0, 12.0, 24.0];
/// Most landmarks a trial may report (each is two columns of arms.csv and of the report).
pub const MAX_LANDMARKS: usize = 12;

/// A time at which the survival rates are reported: months for a human trial, days for an
/// animal study (whose 50 days have no 6-month landmark).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Landmark {
    Months(f64),
    Days(f64),
}

impl Landmark {
    /// The day after baseline it stands for (a month is a twelfth of 365.25 days).
    pub fn day(self) -> f64 {
        match self {
            Landmark::Months(m) => m * DAYS_PER_YEAR / 12.0,
            Landmark::Days(d) => d,
        }
    }

    /// The same in months.
    pub fn months(self) -> f64 {
        match self {
            Landmark::Months(m) => m,
            Landmark::Days(d) => d * 12.0 / DAYS_PER_YEAR,
        }
    }

    /// The suffix of its columns in arms.csv: `6m` (pfs_6m, os_6m), `50d`.
    pub fn label(self) -> String {
        match self {
            Landmark::Months(m) => format!("{m}m"),
            Landmark::Days(d) => format!("{d}d"),
        }
    }

    /// As the report's headings name it: `6 mo`, `day 50`.
    pub fn heading(self) -> String {
        match self {
            Landmark::Months(m) => format!("{m} mo"),
            Landmark::Days(d) => format!("day {d}"),
        }
    }
}

/// A validated `[trial]` (every scenario has one: the defaults when the section is absent).
#[derive(Debug, Clone, PartialEq)]
pub struct TrialSpec {
    pub assessment_every_day: f64,
    pub assessment_every_day_after_year: f64,
    /// An end-of-study assessment at the horizon, so that PFS is followed to the end.
    pub assessment_at_horizon: bool,
    pub detection_limit_mm: f64,
    /// A lesion smaller than this at baseline is not measurable (RECIST: 10 mm).
    pub measurable_min_mm: f64,
    /// Progression's absolute increase over the nadir (RECIST: 5 mm).
    pub progression_min_increase_mm: f64,
    pub confirm_response: bool,
    /// SD counts towards the best response only from this day after baseline.
    pub stable_disease_min_days: f64,
    pub lethal_volume_ml: Option<f64>,
    pub background_mortality_per_year: f64,
    pub dropout_per_year: f64,
    /// Index of the control arm.
    pub control: usize,
    pub primary: Primary,
    pub bootstrap: u64,
    /// Where PFS and OS rates are reported, in increasing order.
    pub landmarks: Vec<Landmark>,
}

impl Default for TrialSpec {
    /// The settings of a scenario without `[trial]`.
    fn default() -> TrialSpec {
        TrialSpec {
            assessment_every_day: DEFAULT_ASSESSMENT_EVERY_DAYS,
            assessment_every_day_after_year: DEFAULT_ASSESSMENT_EVERY_DAYS_AFTER_YEAR,
            assessment_at_horizon: true,
            detection_limit_mm: DEFAULT_DETECTION_LIMIT_MM,
            measurable_min_mm: DEFAULT_MEASURABLE_MIN_MM,
            progression_min_increase_mm: DEFAULT_PROGRESSION_MIN_INCREASE_MM,
            confirm_response: false,
            stable_disease_min_days: DEFAULT_STABLE_DISEASE_MIN_DAYS,
            lethal_volume_ml: None,
            background_mortality_per_year: 0.0,
            dropout_per_year: 0.0,
            control: 0,
            primary: Primary::Pfs,
            bootstrap: DEFAULT_BOOTSTRAP,
            landmarks: DEFAULT_LANDMARK_MONTHS.map(Landmark::Months).to_vec(),
        }
    }
}

impl TrialSpec {
    /// The section with every default written out (for `scenario.resolved.toml`), but the
    /// landmarks' (see below).
    pub fn to_section(&self, arm_names: &[String]) -> TrialSection {
        let in_days = matches!(self.landmarks.first(), Some(Landmark::Days(_)));
        let default_landmarks = self.landmarks == TrialSpec::default().landmarks;
        let given: Vec<f64> = self
            .landmarks
            .iter()
            .map(|l| match *l {
                Landmark::Months(v) | Landmark::Days(v) => v,
            })
            .collect();
        TrialSection {
            assessment_every_days: Some(self.assessment_every_day),
            assessment_every_days_after_year: Some(self.assessment_every_day_after_year),
            assessment_at_horizon: Some(self.assessment_at_horizon),
            detection_limit_mm: Some(self.detection_limit_mm),
            measurable_min_mm: Some(self.measurable_min_mm),
            progression_min_increase_mm: Some(self.progression_min_increase_mm),
            confirm_response: Some(self.confirm_response),
            stable_disease_min_days: Some(self.stable_disease_min_days),
            lethal_volume_ml: self.lethal_volume_ml,
            background_mortality_per_year: Some(self.background_mortality_per_year),
            dropout_per_year: Some(self.dropout_per_year),
            control: arm_names.get(self.control).cloned(),
            primary: Some(self.primary.name().to_string()),
            bootstrap: Some(self.bootstrap),
            // The default landmarks are left implicit: written out, they would read as asked for
            // and be refused beyond a short study's horizon when the folder is reported again.
            landmark_months: (!in_days && !default_landmarks).then(|| given.clone()),
            landmark_days: in_days.then_some(given),
        }
    }
}

/// Validates `[trial]` against the scenario's arm names.
/// Most assessments a schedule may hold (each is an output of every patient's solve).
pub const MAX_ASSESSMENTS: f64 = 100_000.0;

pub(super) fn resolve(
    c: &mut Checker<'_>,
    section: Option<&TrialSection>,
    arm_names: &[&str],
    horizon_day: Option<f64>,
) -> Option<TrialSpec> {
    let default = TrialSection::default();
    let s = section.unwrap_or(&default);
    let path = KeyPath::root().key("trial");
    let mut ok = true;
    let mut positive = |c: &mut Checker<'_>, key: &str, v: Option<f64>, default: f64| {
        let x = v.unwrap_or(default);
        ok &= c.non_negative(&path.key(key), x, true);
        x
    };
    let assessment_every_day = positive(
        c,
        "assessment_every_days",
        s.assessment_every_days,
        DEFAULT_ASSESSMENT_EVERY_DAYS,
    );
    let assessment_every_day_after_year = positive(
        c,
        "assessment_every_days_after_year",
        s.assessment_every_days_after_year,
        DEFAULT_ASSESSMENT_EVERY_DAYS_AFTER_YEAR,
    );
    let detection_limit_mm = positive(
        c,
        "detection_limit_mm",
        s.detection_limit_mm,
        DEFAULT_DETECTION_LIMIT_MM,
    );
    let measurable_min_mm = positive(
        c,
        "measurable_min_mm",
        s.measurable_min_mm,
        DEFAULT_MEASURABLE_MIN_MM,
    );
    let lethal_volume_ml = s
        .lethal_volume_ml
        .map(|v| positive(c, "lethal_volume_ml", Some(v), v));
    // A value of at least 0, or its default.
    let mut at_least_zero = |c: &mut Checker<'_>, key: &str, v: Option<f64>, default: f64| {
        let x = v.unwrap_or(default);
        ok &= c.non_negative(&path.key(key), x, false);
        x
    };
    let stable_disease_min_days = at_least_zero(
        c,
        "stable_disease_min_days",
        s.stable_disease_min_days,
        DEFAULT_STABLE_DISEASE_MIN_DAYS,
    );
    let progression_min_increase_mm = at_least_zero(
        c,
        "progression_min_increase_mm",
        s.progression_min_increase_mm,
        DEFAULT_PROGRESSION_MIN_INCREASE_MM,
    );
    let background_mortality_per_year = at_least_zero(
        c,
        "background_mortality_per_year",
        s.background_mortality_per_year,
        0.0,
    );
    let dropout_per_year = at_least_zero(c, "dropout_per_year", s.dropout_per_year, 0.0);
    let control = match &s.control {
        None => 0,
        Some(name) => match arm_names.iter().position(|a| a == name) {
            Some(i) => i,
            None => {
                c.error(
                    &path.key("control"),
                    format!(
                        "no arm is named `{name}`; the arms are: {}",
                        arm_names
                            .iter()
                            .map(|a| format!("`{a}`"))
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                );
                ok = false;
                0
            }
        },
    };
    let primary = match s.primary.as_deref() {
        None | Some("pfs") => Primary::Pfs,
        Some("os") => Primary::Os,
        Some("orr") => Primary::Orr,
        Some(other) => {
            c.error(
                &path.key("primary"),
                format!("expected \"pfs\", \"os\" or \"orr\", found \"{other}\""),
            );
            ok = false;
            Primary::Pfs
        }
    };
    if let Some(horizon) = horizon_day {
        for (key, every) in [
            ("assessment_every_days", assessment_every_day),
            (
                "assessment_every_days_after_year",
                assessment_every_day_after_year,
            ),
        ] {
            if every > 0.0 && horizon / every > MAX_ASSESSMENTS {
                c.error(
                    &path.key(key),
                    format!(
                        "{} days between assessments make more than {} assessments over the {} days of the horizon; expected at least {}",
                        num(every),
                        MAX_ASSESSMENTS,
                        num(horizon),
                        num(horizon / MAX_ASSESSMENTS)
                    ),
                );
                ok = false;
            }
        }
    }
    let bootstrap = s.bootstrap.unwrap_or(DEFAULT_BOOTSTRAP);
    if bootstrap > 1_000_000 {
        c.error(
            &path.key("bootstrap"),
            format!(
                "expected at most 1000000 replicates, found {}",
                num(bootstrap as f64)
            ),
        );
        ok = false;
    }
    let landmarks = resolve_landmarks(c, s, &path, horizon_day);
    ok &= landmarks.is_some();
    ok.then_some(TrialSpec {
        assessment_every_day,
        assessment_every_day_after_year,
        assessment_at_horizon: s.assessment_at_horizon.unwrap_or(true),
        detection_limit_mm,
        measurable_min_mm,
        progression_min_increase_mm,
        confirm_response: s.confirm_response.unwrap_or(false),
        stable_disease_min_days,
        lethal_volume_ml,
        background_mortality_per_year,
        dropout_per_year,
        control,
        primary,
        bootstrap,
        landmarks: landmarks.unwrap_or_default(),
    })
}

/// The landmarks of `[trial]`: months or days, not both, at most [`MAX_LANDMARKS`],
/// increasing, each above 0 and, where asked for, within the horizon; the defaults otherwise.
/// `None` (with the errors reported) if any is refused.
fn resolve_landmarks(
    c: &mut Checker<'_>,
    s: &TrialSection,
    path: &KeyPath,
    horizon_day: Option<f64>,
) -> Option<Vec<Landmark>> {
    let mut ok = true;
    let landmarks = match (&s.landmark_months, &s.landmark_days) {
        (Some(_), Some(_)) => {
            c.error(
                &path.key("landmark_days"),
                "landmarks are given in months or in days, not both: drop `landmark_months` or `landmark_days`".to_string(),
            );
            ok = false;
            Vec::new()
        }
        (months, days) => {
            let (key, values, make): (&str, Vec<f64>, fn(f64) -> Landmark) = match (months, days) {
                (_, Some(d)) => ("landmark_days", d.clone(), Landmark::Days),
                (Some(m), _) => ("landmark_months", m.clone(), Landmark::Months),
                _ => (
                    "landmark_months",
                    DEFAULT_LANDMARK_MONTHS.to_vec(),
                    Landmark::Months,
                ),
            };
            // The defaults stand whatever the horizon (a 50-day study shows none of them);
            // landmarks asked for must lie within it.
            let asked = months.is_some() || days.is_some();
            let at = path.key(key);
            if values.len() > MAX_LANDMARKS {
                c.error(
                    &at,
                    format!(
                        "expected at most {MAX_LANDMARKS} landmarks, found {}",
                        values.len()
                    ),
                );
                ok = false;
            }
            let valid = |v: f64| v.is_finite() && v > 0.0;
            for (i, v) in values.iter().enumerate() {
                ok &= c.non_negative(&at.index(i), *v, true);
                let day = make(*v).day();
                if let Some(horizon) = horizon_day
                    && asked
                    && valid(*v)
                    && day > horizon
                {
                    c.error(
                        &at.index(i),
                        format!(
                            "a landmark at day {} lies beyond the horizon, day {}: follow-up never reaches it",
                            num(day),
                            num(horizon)
                        ),
                    );
                    ok = false;
                }
                if i > 0 && valid(*v) && valid(values[i - 1]) && *v <= values[i - 1] {
                    c.error(
                        &at.index(i),
                        format!(
                            "expected landmarks in increasing order, found {} after {}",
                            num(*v),
                            num(values[i - 1])
                        ),
                    );
                    ok = false;
                }
            }
            values.into_iter().map(make).collect()
        }
    };
    ok.then_some(landmarks)
}
