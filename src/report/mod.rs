//! Files a person or a script reads. Every file is written under a temporary name and
//! renamed when complete, so an interrupted run never leaves a truncated file that looks
//! complete.

pub mod figures;
pub mod font;
pub mod trial_report;

use crate::engine::ode::SAME_INSTANT_DAY;
use crate::engine::{Delivery, Solution};
use crate::scenario::{Arm, Scenario};
use crate::therapy::exposure::Exposure;
use crate::therapy::pk;
use std::io::Write;
use std::path::{Path, PathBuf};

/// Writes `contents` to `path` atomically (temporary file, then rename).
pub fn write_atomic(
    path: &Path,
    write: impl FnOnce(&mut dyn Write) -> std::io::Result<()>,
) -> std::io::Result<()> {
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(".partial");
    let tmp = PathBuf::from(tmp);
    {
        let file = std::fs::File::create(&tmp)?;
        let mut out = std::io::BufWriter::new(file);
        write(&mut out)?;
        out.flush()?;
        out.get_ref().sync_all()?;
    }
    std::fs::rename(&tmp, path)
}

/// `trajectory.csv` in long format: `arm,time_day`, one column per state (named as the model
/// names it), then the model's derived outputs, each drug's plasma concentration
/// (`pembrolizumab_ug_ml`, ...) and the cumulative radiation dose (`radiation_cumulative_gy`)
/// where the scenario gives them. Numbers are written in the shortest form that
/// reads back to the same f64, in scientific notation when very small or large
/// (`8.226551437545412e-119`, not 119 zeros).
pub fn write_trajectory(
    out: &mut dyn Write,
    scenario: &Scenario,
    solutions: &[Solution],
) -> std::io::Result<()> {
    let mut w = csv::Writer::from_writer(out);
    let drugs = drug_columns(scenario);
    let radiation = radiation_column(scenario);
    let mut header = vec!["arm".to_string(), "time_day".to_string()];
    header.extend(scenario.model.states.iter().map(|s| s.name.to_string()));
    header.extend(scenario.model.derived.iter().map(|d| d.name.to_string()));
    header.extend(drugs.iter().map(|d| format!("{d}_ug_ml")));
    if radiation.is_some() {
        header.push("radiation_cumulative_gy".to_string());
    }
    w.write_record(&header)?;
    let mut record: Vec<String> = Vec::with_capacity(header.len());
    for (arm, solution) in scenario.arms.iter().zip(solutions) {
        let exposures: Vec<&Exposure> = arm.drugs.iter().map(|d| &d.exposure).collect();
        let concentrations = concentrations_by_drug(&drugs, arm, &exposures, &solution.time_day);
        for row in 0..solution.len() {
            record.clear();
            record.push(arm.name.clone());
            record.push(value(solution.time_day[row]));
            record.extend(solution.state(row).iter().copied().map(value));
            record.extend(solution.derived_row(row).iter().copied().map(value));
            record.extend(concentrations.iter().map(|c| value(c[row])));
            if let Some(input) = radiation {
                record.push(value(cumulative(arm, input, solution.time_day[row])));
            }
            w.write_record(&record)?;
        }
    }
    w.flush()
}

/// Each drug of `names`' plasma concentration (µg/mL = mg/L) at `times_day`, summed over the
/// arm's drugs of that name: exact, from the closed-form PK (the same numbers the model's
/// exposure inputs were computed from). `exposures[i]` is `arm.drugs[i]`'s: the typical
/// patient's, or a cohort patient's own PK and dose.
pub(crate) fn concentrations_by_drug(
    names: &[String],
    arm: &Arm,
    exposures: &[&Exposure],
    times_day: &[f64],
) -> Vec<Vec<f64>> {
    names
        .iter()
        .map(|name| {
            let mut total = vec![0.0; times_day.len()];
            for (_, e) in arm
                .drugs
                .iter()
                .zip(exposures)
                .filter(|(d, _)| &d.name == name)
            {
                let c = pk::concentrations(&e.pk, &e.administrations, times_day);
                total.iter_mut().zip(c).for_each(|(t, c)| *t += c);
            }
            total
        })
        .collect()
}

/// The drugs any arm gives, in order of first appearance: one concentration column each.
pub(crate) fn drug_columns(scenario: &Scenario) -> Vec<String> {
    let mut names: Vec<String> = Vec::new();
    for d in scenario.arms.iter().flat_map(|a| &a.drugs) {
        if !names.contains(&d.name) {
            names.push(d.name.clone());
        }
    }
    names
}

/// The model's radiation input, if any arm irradiates.
pub(crate) fn radiation_column(scenario: &Scenario) -> Option<usize> {
    let input = scenario.model.radiation_input()?;
    scenario
        .arms
        .iter()
        .any(|a| a.schedule.administrations.iter().any(|x| x.input == input))
        .then_some(input)
}

/// Dose of `input` given by day `t` (boluses at `t` included). Summed from +0: an empty
/// `f64` sum is -0, which the trajectory files wrote as `-0` for arms without radiation.
pub(crate) fn cumulative(arm: &Arm, input: usize, t: f64) -> f64 {
    arm.schedule
        .administrations
        .iter()
        .filter(|a| a.input == input)
        .map(|a| match a.kind {
            Delivery::Bolus { amount } => {
                if a.start_day <= t + SAME_INSTANT_DAY {
                    amount
                } else {
                    0.0
                }
            }
            Delivery::Rate {
                amount_per_day,
                duration_days,
            } => amount_per_day * (t - a.start_day).clamp(0.0, duration_days),
        })
        .fold(0.0, |total, dose| total + dose)
}

/// A number for a CSV file: shortest round-trip form, scientific outside 1e-5..1e16, and no
/// trailing ".0" on whole numbers.
pub fn value(v: f64) -> String {
    let mut text = String::new();
    push_value(&mut text, v);
    text
}

/// [`value`] appended to `text` (a file's worth of numbers without a string for each).
pub fn push_value(text: &mut String, v: f64) {
    use std::fmt::Write;
    let start = text.len();
    // Writing into a String cannot fail.
    let _ = write!(text, "{v:?}");
    if text[start..].ends_with(".0") {
        text.truncate(text.len() - 2);
    }
}

/// One CSV record's fields joined and quoted as the csv crate writes them, without the line's
/// end: a prefix that rows written as text share (an arm's name may need quotes).
pub fn csv_fields(fields: &[&str]) -> String {
    let mut w = csv::Writer::from_writer(Vec::new());
    // Into memory, from text: neither writing, nor taking the buffer back, nor reading it as
    // UTF-8 can fail.
    w.write_record(fields)
        .expect("a CSV record written into memory");
    let bytes = w.into_inner().expect("a CSV buffer in memory");
    let mut text = String::from_utf8(bytes).expect("CSV of UTF-8 fields is UTF-8");
    if text.ends_with('\n') {
        text.pop();
    }
    text
}

/// Writes `trajectory.csv` and `scenario.resolved.toml` into `dir` (created if needed).
pub fn write_simulation(
    dir: &Path,
    scenario: &Scenario,
    solutions: &[Solution],
) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    write_atomic(&dir.join("trajectory.csv"), |out| {
        write_trajectory(out, scenario, solutions)
    })?;
    let resolved = toml::to_string(&scenario.resolved).map_err(std::io::Error::other)?;
    write_atomic(&dir.join("scenario.resolved.toml"), |out| {
        out.write_all(resolved.as_bytes())
    })
}

/// The current time in UTC as `YYYY-MM-DDTHH:MM:SSZ` (civil date from days since the epoch,
/// after Howard Hinnant's `civil_from_days`), for the provenance of a run.
pub fn utc_now() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs()) as i64;
    format_utc(secs)
}

/// `secs` after 1970-01-01T00:00:00Z as `YYYY-MM-DDTHH:MM:SSZ`.
pub fn format_utc(secs: i64) -> String {
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// The arms of an analysis as a compact table for the terminal: response rate, median PFS and
/// OS with their intervals (in the figures' unit: months, or days for a short study), hazard
/// ratio against control of the primary endpoint (PFS unless OS is primary), probability best.
pub fn terminal_summary(a: &crate::trial::analysis::Analysis) -> String {
    use crate::trial::analysis::Estimate;
    let axis = figures::TimeAxis::of(a.horizon_day);
    // The hazard ratio of the primary endpoint when that is OS; of PFS otherwise.
    let os_primary = a.primary == crate::scenario::trial::Primary::Os;
    let hr_endpoint = if os_primary { "OS" } else { "PFS" };
    let per_day = 1.0 / axis.days_per_unit;
    let est = |e: &Estimate, scale: f64, digits: usize| match e.value {
        None => "not reached".to_string(),
        Some(v) => {
            let f = |x: Option<f64>| {
                x.map_or("NR".to_string(), |x| format!("{:.*}", digits, x * scale))
            };
            format!("{:.*} ({}–{})", digits, v * scale, f(e.lower), f(e.upper))
        }
    };
    let width = a
        .arms
        .iter()
        .map(|x| x.name.chars().count())
        .max()
        .unwrap_or(3)
        .max(3);
    let mut s = format!(
        "{:<width$}  {:>20}  {:>22}  {:>22}  {:>20}  {:>7}\n",
        "arm",
        "ORR % (95% CI)",
        format!("median PFS, {} (CI)", axis.unit),
        format!("median OS, {} (CI)", axis.unit),
        format!("HR {} vs control", hr_endpoint),
        "P(best)"
    );
    for (k, arm) in a.arms.iter().enumerate() {
        let versus = if os_primary {
            &arm.os_vs_control
        } else {
            &arm.pfs_vs_control
        };
        let hr = match versus.as_ref().and_then(|c| c.cox) {
            Some(c) => format!("{:.2} ({:.2}–{:.2})", c.hr, c.hr_lower, c.hr_upper),
            None if k == a.control => "control".to_string(),
            None => "—".to_string(),
        };
        s.push_str(&format!(
            "{:<width$}  {:>20}  {:>22}  {:>22}  {:>20}  {:>6.1}%\n",
            arm.name,
            est(&arm.orr, 100.0, 1),
            est(&arm.pfs.median_day, per_day, 1),
            est(&arm.os.median_day, per_day, 1),
            hr,
            100.0 * arm.p_best
        ));
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The numbers' text is the shortest round-trip form with a whole number's ".0" dropped,
    /// appended in place; fields are quoted as the csv crate quotes them.
    #[test]
    fn numbers_and_fields_as_csv_text() {
        let cases = [
            (0.0, "0"),
            (-0.0, "-0"),
            (1.0, "1"),
            (12699.118295894878, "12699.118295894878"),
            (1e-7, "1e-7"),
            (1e16, "1e16"),
            (2.5e-5, "2.5e-5"),
            (-3.25, "-3.25"),
            (f64::NAN, "NaN"),
            (f64::INFINITY, "inf"),
        ];
        let mut line = String::from("x");
        for (v, text) in cases {
            assert_eq!(value(v), text);
            line.push(',');
            push_value(&mut line, v);
        }
        let expected: Vec<&str> = cases.iter().map(|(_, t)| *t).collect();
        assert_eq!(line, format!("x,{}", expected.join(",")));
        assert_eq!(csv_fields(&["plain", "7"]), "plain,7");
        assert_eq!(
            csv_fields(&["a, b", r#"say "hi""#, "c"]),
            r#""a, b","say ""hi""",c"#
        );
    }

    #[test]
    fn utc_timestamps() {
        assert_eq!(super::format_utc(0), "1970-01-01T00:00:00Z");
        // `date -u -d @951782400`: the leap day of 2000, a century divisible by 400.
        assert_eq!(super::format_utc(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(super::format_utc(1_796_000_000), "2026-11-30T00:53:20Z");
    }
}
