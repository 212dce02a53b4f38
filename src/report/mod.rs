//! Files a person or a script reads. Every file is written under a temporary name and
//! renamed when complete, so an interrupted run never leaves a truncated file that looks
//! complete.

use crate::engine::Solution;
use crate::scenario::Scenario;
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
/// names it), then the model's derived outputs. Numbers are written in the shortest form that
/// reads back to the same f64, in scientific notation when very small or large
/// (`8.226551437545412e-119`, not 119 zeros).
pub fn write_trajectory(
    out: &mut dyn Write,
    scenario: &Scenario,
    solutions: &[Solution],
) -> std::io::Result<()> {
    let mut w = csv::Writer::from_writer(out);
    let mut header = vec!["arm".to_string(), "time_day".to_string()];
    header.extend(scenario.model.states.iter().map(|s| s.name.to_string()));
    header.extend(scenario.model.derived.iter().map(|d| d.name.to_string()));
    w.write_record(&header)?;
    let mut record: Vec<String> = Vec::with_capacity(header.len());
    for (arm, solution) in scenario.arms.iter().zip(solutions) {
        for row in 0..solution.len() {
            record.clear();
            record.push(arm.name.clone());
            record.push(value(solution.time_day[row]));
            record.extend(solution.state(row).iter().copied().map(value));
            record.extend(solution.derived_row(row).iter().copied().map(value));
            w.write_record(&record)?;
        }
    }
    w.flush()
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
