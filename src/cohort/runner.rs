//! Runs a virtual cohort: every patient through every arm, in parallel, streaming one row per
//! patient and arm to `patients.csv` in patient order.
//!
//! Reproducibility: a patient's draws come from its own stream (see [`super::sampling`]), and
//! rows are written in patient order whatever the thread that computed them, so the file is
//! byte-identical for any thread count. Memory is bounded: groups of patients are solved at
//! most a few per thread ahead of the file being written (see [`super::ordered`]), and only
//! summaries are kept.

use super::sampling::{draw, omega_from_cv, patient_stream, standard_normal, trial_stream};
use crate::engine::{DerivedWanted, Observer, Problem, solve_all_named, solve_named};
use crate::model::TumourMeasure;
use crate::report::{csv_fields, push_value, value, write_atomic};
use crate::scenario::Scenario;
use crate::scenario::cohort::{CohortSpec, Target};
use crate::scenario::trial::TrialSpec;
use crate::therapy::dose::Patient;
use crate::therapy::exposure::Exposure;
use crate::therapy::pk::TwoCompartment;
use crate::trial::endpoints::{Endpoints, PatientTimes, course_summary, evaluate};
use crate::trial::recist::assessment_days;
use rand::RngExt;
use std::io::Write;
use std::path::Path;
use std::time::Instant;

/// Command-line choices that override the scenario's `[cohort]`.
#[derive(Debug, Clone, Default)]
pub struct RunOptions {
    pub patients: Option<u64>,
    pub seed: Option<u64>,
    pub threads: Option<usize>,
    /// Run only shard `k` of `n` (1-based): a contiguous block of patients.
    pub shard: Option<(u64, u64)>,
    /// Write trajectories.csv for the first this many patients (default: the scenario's
    /// `[output] trajectories`, else none).
    pub trajectories: Option<u64>,
    /// Recorded in run.json.
    pub command_line: String,
    /// No progress bar even on a terminal (`--quiet`).
    pub quiet: bool,
    /// Integrate one patient at a time, never in SIMD lanes (`--no-lanes`): the reference the
    /// lanes are tested against, with the same results.
    pub one_at_a_time: bool,
}

/// What a run did.
#[derive(Debug, Clone, PartialEq)]
pub struct RunSummary {
    pub patients: u64,
    pub patient_arms: u64,
    /// Patient-arms whose solve failed (they count against `max_failed_fraction`).
    pub failed: u64,
    /// Patient-arms the trial could not enrol (a tumour at the lethal volume at baseline): a
    /// screening failure, not a numerical one. Their rows say why, and the analysis leaves
    /// them out as it does failed ones.
    pub ineligible: u64,
    pub wall_seconds: f64,
    pub max_failed_fraction: f64,
}

impl RunSummary {
    pub fn failed_fraction(&self) -> f64 {
        self.failed as f64 / self.patient_arms.max(1) as f64
    }
}

/// Most consecutive patients one thread solves together, arm by arm (filling SIMD lanes).
const GROUP: u64 = 128;
/// Fewest patients in a group (one group of eight lanes).
const GROUP_MIN: u64 = 8;
/// Groups a thread may run ahead of the file being written (memory stays bounded).
const LOOKAHEAD_PER_THREAD: usize = 2;

/// The cohort `first..last` cut into consecutive groups of patients, each solved by one thread.
/// Large enough to keep the lanes full, and shrinking towards the end (a quarter of what is
/// left per thread), so that the threads finish together rather than one waiting for another's
/// last large group. Results do not depend on the grouping.
fn patient_groups(first: u64, last: u64, threads: usize) -> Vec<std::ops::Range<u64>> {
    let mut groups = Vec::new();
    let mut start = first;
    while start < last {
        let size = ((last - start) / (4 * threads.max(1) as u64))
            .clamp(GROUP_MIN, GROUP)
            .min(last - start);
        groups.push(start..start + size);
        start += size;
    }
    groups
}

/// One patient's drawn values and what they make.
struct PatientDraw {
    parameters: Vec<f64>,
    initial: Vec<f64>,
    covariates: Patient,
    /// The cohort's varying quantities, then each drug's PK factors, as written in the row.
    columns: Vec<f64>,
    /// PK of each drug (scenario drug order).
    pk: Vec<TwoCompartment>,
    /// Background death and dropout, the same in every arm.
    times: PatientTimes,
}

/// A drug some arm gives: its typical PK and the variability the cohort samples.
struct CohortDrug {
    name: String,
    typical: TwoCompartment,
    variability: Vec<(String, f64)>,
}

/// The drugs the scenario's arms give, in order of first appearance, with the catalogue
/// variability of each.
fn drug_list(scenario: &Scenario) -> Vec<CohortDrug> {
    let mut list: Vec<CohortDrug> = Vec::new();
    for d in scenario.arms.iter().flat_map(|a| &a.drugs) {
        if !list.iter().any(|c| c.name == d.name) {
            list.push(CohortDrug {
                name: d.name.clone(),
                typical: d.exposure.pk,
                variability: d.variability.clone(),
            });
        }
    }
    list
}

fn draw_patient(
    scenario: &Scenario,
    spec: &CohortSpec,
    seed: u64,
    index: u64,
    drugs: &[CohortDrug],
) -> PatientDraw {
    let mut rng = patient_stream(seed, index);
    let values = draw(
        &spec
            .varying
            .iter()
            .map(|v| v.distribution.clone())
            .collect::<Vec<_>>(),
        &spec.cholesky,
        &mut rng,
    );
    let (mut parameters, mut initial, mut covariates) = (
        scenario.parameters.clone(),
        scenario.initial.clone(),
        scenario.patient,
    );
    for (v, x) in spec.varying.iter().zip(&values) {
        match v.target {
            Target::Parameter(i) => parameters[i] = *x,
            Target::Initial(i) => initial[i] = *x,
            Target::WeightKg => covariates.weight_kg = *x,
            Target::HeightCm => covariates.height_cm = *x,
            Target::GfrMlMin => covariates.gfr_ml_min = *x,
        }
    }
    let mut columns = values;
    let mut pk = Vec::with_capacity(drugs.len());
    // Drug PK variability after the copula draws, drug by drug, in a fixed order: a patient's
    // PK is the same in every arm (the paired design).
    for drug in drugs {
        let mut p = drug.typical;
        for (parameter, cv) in &drug.variability {
            let factor = if spec.pk_variability {
                (omega_from_cv(*cv) * standard_normal(&mut rng)).exp()
            } else {
                1.0
            };
            match parameter.as_str() {
                "CL" => p.cl_l_per_day *= factor,
                "Vc" => p.vc_l *= factor,
                "Q" => p.q_l_per_day *= factor,
                _ => p.vp_l *= factor,
            }
            columns.push(factor);
        }
        pk.push(p);
    }
    // The trial's draws come from a far part of the patient's stream, so that they do not
    // shift when the cohort gains a varying quantity, nor it when the trial changes.
    let mut trial_rng = trial_stream(seed, index);
    let u_death = 1.0 - trial_rng.random::<f64>();
    let u_dropout = 1.0 - trial_rng.random::<f64>();
    PatientDraw {
        parameters,
        initial,
        covariates,
        columns,
        pk,
        times: PatientTimes::from_uniforms(&scenario.trial, u_death, u_dropout),
    }
}

/// Tracks the tumour measure over a run, keeping the trajectory only when asked (the first
/// patients of `--trajectories N`).
struct TumourSummary<'a> {
    measure: TumourMeasure,
    mm3_per_unit: f64,
    /// The tumour course in the measure's units at every output up to the first past the end
    /// of follow-up, for the trial endpoints (in mm3) and the summary columns (over follow-up).
    course_days: Vec<f64>,
    course_values: Vec<f64>,
    /// The `arm,patient` prefix and the CSV lines so far, when the trajectory is kept: as text,
    /// where a string for every value took twice the memory of the file (2.1 GB for 1,024
    /// patients x 6 arms) and most of the run's time.
    trajectory: Option<(String, String)>,
    /// The output times of a kept trajectory, and where each of its rows ends in the text
    /// (before its newline), for the drug and radiation columns appended after the solve: a
    /// quoted arm name may hold newlines, so the text is not split on them.
    trajectory_days: Vec<f64>,
    trajectory_row_ends: Vec<usize>,
    /// The trial and the patient's background death and dropout, which end its follow-up.
    trial: &'a TrialSpec,
    times: PatientTimes,
    /// Set at the first output at or past the end of follow-up. That output is in the course
    /// (the endpoints interpolate a lethal crossing up to it); later ones are not.
    follow_up_over: bool,
}

impl Observer for TumourSummary<'_> {
    fn start(&mut self, outputs: usize) {
        self.course_days.reserve(outputs);
        self.course_values.reserve(outputs);
    }

    /// A kept trajectory writes every derived value; the summary reads the tumour measure only.
    fn derived_wanted(&self) -> DerivedWanted {
        match (&self.trajectory, self.measure) {
            (Some(_), _) => DerivedWanted::All,
            (None, TumourMeasure::Derived(i)) => DerivedWanted::One(i),
            (None, TumourMeasure::State(_)) => DerivedWanted::Nothing,
        }
    }

    fn observe(&mut self, time_day: f64, state: &[f64], derived: &[f64]) {
        // A kept trajectory runs to the horizon (it was asked for whole); the summary and the
        // course stop with follow-up either way, so patients.csv does not depend on it.
        if let Some((prefix, lines)) = &mut self.trajectory {
            lines.push_str(prefix);
            for &x in std::iter::once(&time_day).chain(state).chain(derived) {
                lines.push(',');
                push_value(lines, x);
            }
            self.trajectory_row_ends.push(lines.len());
            lines.push('\n');
            self.trajectory_days.push(time_day);
        }
        if self.follow_up_over {
            return;
        }
        let v = match self.measure {
            TumourMeasure::State(i) => state[i],
            TumourMeasure::Derived(i) => derived[i],
        };
        self.course_days.push(time_day);
        self.course_values.push(v);
        self.follow_up_over =
            self.times
                .follow_up_over(self.trial, time_day, v * self.mm3_per_unit);
    }

    /// The endpoints use the course up to death or dropout only; integrating on to the
    /// horizon after an early death was a fifth of the shipped TNBC cohort's time.
    fn done(&self) -> bool {
        self.follow_up_over && self.trajectory.is_none()
    }
}

/// What became of one patient in one arm.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Outcome {
    Evaluated,
    Failed,
    Ineligible,
}

/// A patients.csv row that has no values (a failed solve, or a patient not eligible): the
/// summary and endpoint columns empty, then the reason.
fn unevaluated(mut row: Vec<String>, why: String, outcome: Outcome) -> (Vec<String>, Outcome) {
    row.extend(std::iter::repeat_n(
        String::new(),
        4 + ENDPOINT_COLUMNS.len(),
    ));
    row.push(why);
    (row, outcome)
}

/// One patient's rows of patients.csv (with what became of each) and, if kept, of
/// trajectories.csv and assessments.csv.
struct PatientOutput {
    rows: Vec<(Vec<String>, Outcome)>,
    /// trajectories.csv lines, as text.
    trajectory: String,
    assessments: Vec<Vec<String>>,
}

/// The header of assessments.csv.
pub const ASSESSMENT_COLUMNS: [&str; 6] = [
    "arm",
    "patient",
    "day",
    "diameter_mm",
    "change_pct",
    "response",
];

fn assessment_rows(arm: &str, index: u64, e: &Endpoints) -> impl Iterator<Item = Vec<String>> {
    let baseline = e.assessments.first().map_or(f64::NAN, |a| a.diameter_mm);
    e.assessments.iter().map(move |a| {
        vec![
            arm.to_string(),
            index.to_string(),
            value(a.day),
            value(a.diameter_mm),
            value(100.0 * (a.diameter_mm / baseline - 1.0)),
            a.response
                .map(|r| r.name())
                .unwrap_or("baseline")
                .to_string(),
        ]
    })
}

/// The rows of a group of consecutive patients, one per arm each. Each arm's patients are
/// solved together, several at once in SIMD lanes where the method and model allow
/// (`one_at_a_time` forces one by one: the reference, with the same results).
#[allow(clippy::too_many_arguments)]
fn group_rows(
    scenario: &Scenario,
    spec: &CohortSpec,
    seed: u64,
    indices: std::ops::Range<u64>,
    drugs: &[CohortDrug],
    measure: TumourMeasure,
    visits: &[f64],
    keep: u64,
    sample: u64,
    one_at_a_time: bool,
) -> Vec<PatientOutput> {
    // The trajectory's drug and radiation columns, if this group keeps any trajectory.
    let (drug_names, radiation) = if indices.start < keep {
        (
            crate::report::drug_columns(scenario),
            crate::report::radiation_column(scenario),
        )
    } else {
        (Vec::new(), None)
    };
    let draws: Vec<PatientDraw> = indices
        .clone()
        .map(|i| draw_patient(scenario, spec, seed, i, drugs))
        .collect();
    let mut outputs: Vec<PatientOutput> = indices
        .clone()
        .map(|_| PatientOutput {
            rows: Vec::new(),
            trajectory: String::new(),
            assessments: Vec::new(),
        })
        .collect();
    for arm in &scenario.arms {
        let exposures: Vec<Vec<Exposure>> = draws
            .iter()
            .map(|p| {
                arm.drugs
                    .iter()
                    .map(|d| {
                        let k = drugs.iter().position(|c| c.name == d.name).unwrap_or(0);
                        let mg = d.dose.milligrams(&p.covariates);
                        let mut e = d.exposure.clone();
                        e.pk = p.pk[k];
                        e.administrations.iter_mut().for_each(|a| a.amount_mg = mg);
                        e
                    })
                    .collect()
            })
            .collect();
        let problems: Vec<Problem> = draws
            .iter()
            .zip(&exposures)
            .map(|(p, exposures)| Problem {
                parameters: &p.parameters,
                initial: &p.initial,
                schedule: &arm.schedule,
                exposures,
                horizon_day: scenario.horizon_day,
                output_every_day: scenario.output_every_day,
                also_at_days: visits,
            })
            .collect();
        let mut summaries: Vec<TumourSummary> = draws
            .iter()
            .zip(indices.clone())
            .map(|(p, index)| TumourSummary {
                measure,
                mm3_per_unit: scenario.model.tumour_mm3_per_unit,
                course_days: Vec::new(),
                course_values: Vec::new(),
                trajectory: (index < keep)
                    .then(|| (csv_fields(&[&arm.name, &index.to_string()]), String::new())),
                trajectory_days: Vec::new(),
                trajectory_row_ends: Vec::new(),
                trial: &scenario.trial,
                times: p.times,
                follow_up_over: false,
            })
            .collect();
        let results: Option<Vec<_>> = if one_at_a_time {
            problems
                .iter()
                .zip(summaries.iter_mut())
                .map(|(problem, summary)| {
                    solve_named(scenario.model.name, problem, &scenario.solver, summary)
                })
                .collect()
        } else {
            solve_all_named(
                scenario.model.name,
                &problems,
                &scenario.solver,
                &mut summaries,
            )
        };
        for (k, (mut summary, index)) in summaries.into_iter().zip(indices.clone()).enumerate() {
            let p = &draws[k];
            let output = &mut outputs[k];
            if let Some((_, lines)) = summary.trajectory.take() {
                // The patient's own drug concentrations (its PK and dose) and the arm's
                // cumulative radiation, as the typical patient's trajectory.csv has them.
                let days = &summary.trajectory_days;
                let own: Vec<&Exposure> = exposures[k].iter().collect();
                let concentrations =
                    crate::report::concentrations_by_drug(&drug_names, arm, &own, days);
                let mut start = 0;
                for (row, &end) in summary.trajectory_row_ends.iter().enumerate() {
                    output.trajectory.push_str(&lines[start..end]);
                    start = end + 1;
                    for c in &concentrations {
                        output.trajectory.push(',');
                        push_value(&mut output.trajectory, c[row]);
                    }
                    if let Some(input) = radiation {
                        output.trajectory.push(',');
                        push_value(
                            &mut output.trajectory,
                            crate::report::cumulative(arm, input, days[row]),
                        );
                    }
                    output.trajectory.push('\n');
                }
            }
            let mut row = vec![arm.name.clone(), index.to_string()];
            row.extend(p.columns.iter().map(|v| value(*v)));
            let outcome = results.as_ref().map(|r| r[k]);
            output.rows.push(match outcome {
                Some(Ok(_)) => {
                    let course_mm3: Vec<f64> = summary
                        .course_values
                        .iter()
                        .map(|v| v * summary.mm3_per_unit)
                        .collect();
                    match evaluate(
                        &summary.course_days,
                        &course_mm3,
                        visits,
                        scenario.horizon_day,
                        &scenario.trial,
                        p.times,
                    ) {
                        Ok(endpoints) => {
                            // Over follow-up only: the course holds one output past its end.
                            let over_follow_up = course_summary(
                                &summary.course_days,
                                &summary.course_values,
                                endpoints.os_day,
                            );
                            row.extend([
                                value(over_follow_up.baseline),
                                value(over_follow_up.end),
                                value(over_follow_up.min),
                                value(over_follow_up.min_day),
                            ]);
                            row.extend(endpoint_columns(&endpoints));
                            row.push(String::new());
                            if index < sample {
                                output
                                    .assessments
                                    .extend(assessment_rows(&arm.name, index, &endpoints));
                            }
                            (row, Outcome::Evaluated)
                        }
                        // The only error of `evaluate`: not eligible for the trial.
                        Err(why) => unevaluated(row, why, Outcome::Ineligible),
                    }
                }
                Some(Err(e)) => unevaluated(row, e.to_string(), Outcome::Failed),
                None => unevaluated(row, "unknown model".to_string(), Outcome::Failed),
            });
        }
    }
    outputs
}

/// Files a run folder may hold from an earlier run, removed when a run starts.
const STALE_OUTPUTS: [&str; 26] = [
    "trajectories.csv",
    "assessments.csv",
    "typical_patient.csv",
    "arms.csv",
    "summary.json",
    "km_pfs.csv",
    "km_os.csv",
    "report.html",
    "figures/km_pfs.svg",
    "figures/km_os.svg",
    "figures/waterfall.svg",
    "figures/spider.svg",
    "figures/swimmer.svg",
    "figures/forest.svg",
    "figures/exposure.svg",
    "figures/mechanism.svg",
    "figures/km_pfs.png",
    "figures/km_os.png",
    "figures/waterfall.png",
    "figures/spider.png",
    "figures/swimmer.png",
    "figures/forest.png",
    "figures/exposure.png",
    "figures/mechanism.png",
    "run.json",
    "scenario.resolved.toml",
];

/// The trial's columns of patients.csv, after the tumour summary.
pub const ENDPOINT_COLUMNS: [&str; 9] = [
    "best_response",
    "best_change_pct",
    "response_day",
    "response_duration_days",
    "pfs_day",
    "pfs_event",
    "os_day",
    "os_event",
    "death_cause",
];

fn endpoint_columns(e: &Endpoints) -> [String; 9] {
    let optional = |x: Option<f64>| x.map(value).unwrap_or_default();
    [
        e.best_response.name().to_string(),
        optional(e.best_change_pct),
        optional(e.response_day),
        optional(e.response_duration_days),
        value(e.pfs_day),
        u8::from(e.pfs_event).to_string(),
        value(e.os_day),
        u8::from(e.os_event).to_string(),
        e.death_cause
            .map(|c| c.name().to_string())
            .unwrap_or_default(),
    ]
}

/// A progress bar on standard error when it is a terminal (patients done, rate, time left);
/// nothing when it is piped or redirected, so no file ever holds one.
fn progress_bar(total: u64) -> Option<indicatif::ProgressBar> {
    use std::io::IsTerminal;
    if !std::io::stderr().is_terminal() {
        return None;
    }
    let bar = indicatif::ProgressBar::new(total);
    let style = indicatif::ProgressStyle::with_template(
        "{bar:40} {pos}/{len} patients, {per_sec}, {eta} left",
    )
    .ok()?;
    bar.set_style(style);
    Some(bar)
}

/// Runs the scenario's cohort into `out` (created if needed): `patients.csv`,
/// `scenario.resolved.toml` and `run.json`, each written atomically.
pub fn run(scenario: &Scenario, options: &RunOptions, out: &Path) -> std::io::Result<RunSummary> {
    let spec = scenario
        .cohort
        .clone()
        .ok_or_else(|| std::io::Error::other("the scenario has no [cohort] section"))?;
    let patients = options.patients.unwrap_or(spec.patients);
    let (first, last) = match options.shard {
        Some((k, n)) if (1..=n).contains(&k) => ((k - 1) * patients / n, k * patients / n),
        Some((k, n)) => {
            return Err(std::io::Error::other(format!(
                "shard {k}/{n}: expected 1 <= K <= N"
            )));
        }
        None => (0, patients),
    };
    let seed = options.seed.unwrap_or(spec.seed);
    let measure = scenario
        .model
        .tumour_measure()
        .ok_or_else(|| {
            std::io::Error::other(format!(
                "model {}: its tumour measure `{}` is neither one of its states nor one of its derived outputs",
                scenario.model.name, scenario.model.tumour
            ))
        })?;
    let drugs = drug_list(scenario);
    let measure_name = scenario.model.tumour;

    let mut header = vec!["arm".to_string(), "patient".to_string()];
    header.extend(spec.varying.iter().map(|v| v.name.clone()));
    for drug in &drugs {
        header.extend(
            drug.variability
                .iter()
                .map(|(p, _)| format!("{}.{p}_factor", drug.name)),
        );
    }
    header.extend([
        format!("{measure_name}_baseline"),
        format!("{measure_name}_end"),
        format!("{measure_name}_min"),
        "tumour_min_day".to_string(),
    ]);
    header.extend(ENDPOINT_COLUMNS.iter().map(|c| c.to_string()));
    header.push("failure".to_string());
    let visits = assessment_days(&scenario.trial, scenario.horizon_day);

    std::fs::create_dir_all(out).map_err(|e| {
        std::io::Error::new(
            e.kind(),
            format!("cannot create the output folder {}: {e}", out.display()),
        )
    })?;
    // Outputs of an earlier run in this folder that this run might not write (a shard writes
    // no trial files, a later shard no sampled assessments): removed, so that nothing stale
    // is read back as this run's.
    for stale in STALE_OUTPUTS {
        let path = out.join(stale);
        if path.exists() {
            std::fs::remove_file(&path)?;
        }
    }
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(options.threads.unwrap_or(0))
        .build()
        .map_err(std::io::Error::other)?;
    let started = Instant::now();
    let started_utc = crate::report::utc_now();
    let (mut failed, mut ineligible) = (0u64, 0u64);
    let keep = options
        .trajectories
        .unwrap_or(scenario.trajectories_first_patients);
    // Trajectories of the first `keep` patients go to their own file, written alongside
    // (atomically too: under a temporary name until complete).
    let trajectories_path = out.join("trajectories.csv");
    let trajectories_partial = out.join("trajectories.csv.partial");
    let mut trajectories = if keep > first {
        let mut w = std::io::BufWriter::new(std::fs::File::create(&trajectories_partial)?);
        let mut head: Vec<String> = vec!["arm".into(), "patient".into(), "time_day".into()];
        head.extend(scenario.model.states.iter().map(|s| s.name.to_string()));
        head.extend(scenario.model.derived.iter().map(|d| d.name.to_string()));
        head.extend(
            crate::report::drug_columns(scenario)
                .iter()
                .map(|d| format!("{d}_ug_ml")),
        );
        if crate::report::radiation_column(scenario).is_some() {
            head.push("radiation_cumulative_gy".into());
        }
        let head: Vec<&str> = head.iter().map(String::as_str).collect();
        writeln!(w, "{}", csv_fields(&head))?;
        Some(w)
    } else {
        None
    };
    // Every assessment of the first `sample` patients (spider and swimmer plots).
    let sample = scenario.sample_patients;
    let assessments_path = out.join("assessments.csv");
    let assessments_partial = out.join("assessments.csv.partial");
    let mut assessments = if sample > first {
        let mut w = csv::Writer::from_writer(std::io::BufWriter::new(std::fs::File::create(
            &assessments_partial,
        )?));
        w.write_record(ASSESSMENT_COLUMNS)?;
        Some(w)
    } else {
        None
    };
    write_atomic(&out.join("patients.csv"), |w| {
        let mut csv = csv::Writer::from_writer(w);
        csv.write_record(&header)?;
        let progress = if options.quiet {
            None
        } else {
            progress_bar(last - first)
        };
        let groups = patient_groups(first, last, pool.current_num_threads());
        super::ordered::for_each_in_order(
            &pool,
            groups.len(),
            LOOKAHEAD_PER_THREAD * pool.current_num_threads(),
            |g| {
                group_rows(
                    scenario,
                    &spec,
                    seed,
                    groups[g].clone(),
                    &drugs,
                    measure,
                    &visits,
                    keep,
                    sample,
                    options.one_at_a_time,
                )
            },
            |g, outputs| -> std::io::Result<()> {
                for output in outputs {
                    for (row, outcome) in output.rows {
                        failed += u64::from(outcome == Outcome::Failed);
                        ineligible += u64::from(outcome == Outcome::Ineligible);
                        csv.write_record(&row)?;
                    }
                    if let Some(t) = &mut trajectories {
                        t.write_all(output.trajectory.as_bytes())?;
                    }
                    if let Some(a) = &mut assessments {
                        for row in output.assessments {
                            a.write_record(&row)?;
                        }
                    }
                }
                if let Some(bar) = &progress {
                    bar.inc(groups[g].end - groups[g].start);
                }
                Ok(())
            },
        )?;
        if let Some(bar) = progress {
            bar.finish_and_clear();
        }
        csv.flush()
    })?;
    if let Some(mut t) = trajectories {
        t.flush()?;
        drop(t);
        std::fs::rename(&trajectories_partial, &trajectories_path)?;
    }
    if let Some(mut a) = assessments {
        a.flush()?;
        drop(a);
        std::fs::rename(&assessments_partial, &assessments_path)?;
    }
    // The typical patient (the scenario's own values) through every arm, for the exposure and
    // mechanism figures: the same file `simulate` writes.
    let typical_error = match crate::engine::simulate(scenario) {
        Ok(solutions) => {
            write_atomic(&out.join("typical_patient.csv"), |w| {
                crate::report::write_trajectory(w, scenario, &solutions)
            })?;
            None
        }
        Err(e) => Some(e.to_string()),
    };
    let wall_seconds = started.elapsed().as_secs_f64();
    // The cohort as it ran: `--patients` and `--seed` given on the command line, and the
    // defaults, so that the file alone repeats the run.
    let mut resolved = scenario.resolved.clone();
    if let Some(section) = &mut resolved.cohort {
        section.patients = patients;
        section.seed = seed;
        section.max_failed_fraction = Some(spec.max_failed_fraction);
        section.pk_variability = Some(spec.pk_variability);
    }
    let resolved = toml::to_string(&resolved).map_err(std::io::Error::other)?;
    write_atomic(&out.join("scenario.resolved.toml"), |w| {
        w.write_all(resolved.as_bytes())
    })?;
    let summary = RunSummary {
        patients: last - first,
        patient_arms: (last - first) * scenario.arms.len() as u64,
        failed,
        ineligible,
        wall_seconds,
        max_failed_fraction: spec.max_failed_fraction,
    };
    let run_json = serde_json::json!({
        "program": "immunotrial",
        "version": env!("CARGO_PKG_VERSION"),
        "commit": (!crate::COMMIT.is_empty()).then_some(crate::COMMIT),
        "command": options.command_line,
        "started_utc": started_utc,
        "scenario": scenario.name,
        "model": scenario.model.name,
        "seed": seed,
        "patients": last - first,
        "patients_total": patients,
        "first_patient": first,
        "shard": options.shard.map(|(k, n)| format!("{k}/{n}")),
        "arms": scenario.arms.len(),
        "threads": pool.current_num_threads(),
        // Patients integrated at once in SIMD lanes (1: one at a time); results are the same.
        "patients_at_once": if options.one_at_a_time {
            1
        } else {
            crate::engine::patients_at_once(scenario.model.name, &scenario.solver).unwrap_or(1)
        },
        "failed_patient_arms": failed,
        "failed_fraction": summary.failed_fraction(),
        "ineligible_patient_arms": ineligible,
        "wall_seconds": wall_seconds,
        "patients_per_second": (last - first) as f64 / wall_seconds.max(1e-9),
        "tumour_measure": measure_name,
        "typical_patient_error": typical_error,
        "machine": machine(),
    });
    let text = serde_json::to_string_pretty(&run_json).map_err(std::io::Error::other)?;
    write_atomic(&out.join("run.json"), |w| {
        std::io::Write::write_all(w, text.as_bytes())
    })?;
    Ok(summary)
}

/// The machine a run's wall time was measured on. The same code ran a cohort up to twice as
/// slow on a 2-core Zen 3 with AVX2 as on a 2-core machine with AVX-512 (README, "Speed and
/// accuracy"), so a rate means little without it. `simd` is what this binary's lanes were
/// compiled for (`-C target-cpu=native` builds for the building machine).
fn machine() -> serde_json::Value {
    // Linux's first processor: its model name, with the family and model numbers, which
    // tell generations apart where a hypervisor shortens the name ("AMD EPYC").
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let field = |name: &str| {
        cpuinfo.lines().find_map(|line| {
            let (key, value) = line.split_once(':')?;
            (key.trim() == name).then(|| value.trim().to_string())
        })
    };
    let cpu = field("model name").map(|name| match (field("cpu family"), field("model")) {
        (Some(family), Some(model)) => format!("{name} (family {family}, model {model})"),
        _ => name,
    });
    let simd = if cfg!(target_feature = "avx512f") {
        "avx512f"
    } else if cfg!(target_feature = "avx2") {
        "avx2"
    } else if cfg!(target_feature = "sse2") {
        "sse2"
    } else if cfg!(target_feature = "neon") {
        "neon"
    } else {
        "none"
    };
    serde_json::json!({
        "os": std::env::consts::OS,
        "arch": std::env::consts::ARCH,
        "cpu": cpu,
        // The CPUs this process may use (a batch system's allocation, say), not the machine's.
        "available_cpus": std::thread::available_parallelism().map_or(1, |n| n.get()),
        "simd": simd,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patient_groups_cover_the_cohort_once_and_shrink_towards_its_end() {
        for (first, last, threads) in [(0, 10_000, 2), (0, 10_000, 1), (333, 3_000, 3), (5, 12, 2)]
        {
            let groups = patient_groups(first, last, threads);
            // Consecutive, without gap or overlap, from first to last.
            assert_eq!(groups.first().map(|g| g.start), Some(first));
            assert_eq!(groups.last().map(|g| g.end), Some(last));
            assert!(groups.windows(2).all(|w| w[0].end == w[1].start));
            // Every group but the cohort's remainder fills the lanes; none is over the cap.
            for g in &groups {
                let size = g.end - g.start;
                assert!(
                    size <= GROUP && (size >= GROUP_MIN || g.end == last),
                    "{g:?}"
                );
            }
            // Sizes never grow, so the last groups are the small ones.
            assert!(
                groups
                    .windows(2)
                    .all(|w| w[1].end - w[1].start <= w[0].end - w[0].start)
            );
        }
        let groups = patient_groups(0, 10_000, 2);
        assert_eq!(groups[0], 0..GROUP);
        assert!(groups.last().is_some_and(|g| g.end - g.start <= GROUP_MIN));
        assert!(patient_groups(7, 7, 2).is_empty());
    }
}
