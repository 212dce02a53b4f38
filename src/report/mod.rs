//! Files a person or a script reads. Every file is written under a temporary name and
//! renamed when complete, so an interrupted run never leaves a truncated file that looks
//! complete.

use crate::engine::ode::SAME_INSTANT_DAY;
use crate::engine::{Delivery, Solution};
use crate::scenario::{Arm, Scenario};
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
        // Exact plasma concentrations at the output times, from the closed-form PK (the same
        // numbers the model's exposure inputs were computed from).
        let concentrations: Vec<Vec<f64>> = drugs
            .iter()
            .map(|name| {
                let mut total = vec![0.0; solution.len()];
                for d in arm.drugs.iter().filter(|d| &d.name == name) {
                    let c = pk::concentrations(
                        &d.exposure.pk,
                        &d.exposure.administrations,
                        &solution.time_day,
                    );
                    total.iter_mut().zip(c).for_each(|(t, c)| *t += c);
                }
                total
            })
            .collect();
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

/// The drugs any arm gives, in order of first appearance: one concentration column each.
fn drug_columns(scenario: &Scenario) -> Vec<String> {
    let mut names: Vec<String> = Vec::new();
    for d in scenario.arms.iter().flat_map(|a| &a.drugs) {
        if !names.contains(&d.name) {
            names.push(d.name.clone());
        }
    }
    names
}

/// The model's radiation input, if any arm irradiates.
fn radiation_column(scenario: &Scenario) -> Option<usize> {
    let input = scenario.model.radiation_input()?;
    scenario
        .arms
        .iter()
        .any(|a| a.schedule.administrations.iter().any(|x| x.input == input))
        .then_some(input)
}

/// Dose of `input` given by day `t` (boluses at `t` included).
fn cumulative(arm: &Arm, input: usize, t: f64) -> f64 {
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
        .sum()
}

/// A number for a CSV file: shortest round-trip form, scientific outside 1e-5..1e16, and no
/// trailing ".0" on whole numbers.
pub fn value(v: f64) -> String {
    let text = format!("{v:?}");
    match text.strip_suffix(".0") {
        Some(whole) => whole.to_string(),
        None => text,
    }
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
