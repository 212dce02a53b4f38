//! The report of a cohort run: every figure as SVG (and PNG on request) in `DIR/figures/`,
//! and `DIR/report.html`, one self-contained page (figures inline, the font embedded, no
//! network) that opens in any browser and prints cleanly. Built from the run's files alone,
//! so `immunotrial report DIR` rebuilds it without simulating.

use super::figures::{
    AssessmentPoint, Course, DAYS_PER_MONTH, DrugCurve, FIGURES, FigureInput, Given, ModelDose,
    Quantity, TimeAxis, arm_colour, png, svg,
};
use super::{font, value, write_atomic};
use crate::engine::{Administration, Delivery};
use crate::model::InputRole;
use crate::model::ModelSpec;
use crate::scenario::schema::{ArmDrugSection, ArmSection, DoseSection, RadiationSection};
use crate::therapy::pk::concentrations;
use crate::trial::analysis::{Analysis, Estimate, RunFolder, summary_json};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// Patients shown per arm in the swimmer plot.
const SWIMMER_PATIENTS: usize = 15;

/// Why a report could not be built.
#[derive(Debug)]
pub struct ReportError(pub String);

impl std::fmt::Display for ReportError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ReportError {}

fn read_assessments(path: &Path, arms: &[String]) -> Result<Vec<AssessmentPoint>, ReportError> {
    if !path.exists() {
        return Ok(Vec::new());
    }
    let bad = |e: &dyn std::fmt::Display| ReportError(format!("{}: {e}", path.display()));
    let mut reader = csv::Reader::from_path(path).map_err(|e| bad(&e))?;
    let mut out = Vec::new();
    for (i, record) in reader.records().enumerate() {
        let r = record.map_err(|e| bad(&e))?;
        let line = i + 2;
        let field = |k: usize| r.get(k).unwrap_or("");
        let number = |k: usize| {
            field(k).parse::<f64>().map_err(|_| {
                bad(&format!(
                    "line {line}: expected a number, found `{}`",
                    field(k)
                ))
            })
        };
        let Some(arm) = arms.iter().position(|a| a == field(0)) else {
            return Err(bad(&format!("line {line}: unknown arm `{}`", field(0))));
        };
        out.push(AssessmentPoint {
            arm,
            patient: field(1)
                .parse()
                .map_err(|_| bad(&format!("line {line}: expected a patient number")))?,
            day: number(2)?,
            change_pct: number(4)?,
        });
    }
    Ok(out)
}

/// The typical patient's course per arm, from typical_patient.csv (trajectory.csv's format).
fn read_typical(path: &Path, arms: &[String]) -> Result<Vec<Course>, ReportError> {
    if !path.exists() {
        return Ok(Vec::new());
    }
    let bad = |e: &dyn std::fmt::Display| ReportError(format!("{}: {e}", path.display()));
    let mut reader = csv::Reader::from_path(path).map_err(|e| bad(&e))?;
    let header: Vec<String> = reader
        .headers()
        .map_err(|e| bad(&e))?
        .iter()
        .map(String::from)
        .collect();
    if header.len() < 3 || header[0] != "arm" || header[1] != "time_day" {
        return Err(bad(
            &"expected the columns arm, time_day and the model's states",
        ));
    }
    let mut courses: Vec<Course> = arms
        .iter()
        .map(|_| Course {
            time_day: Vec::new(),
            series: header[2..]
                .iter()
                .map(|h| (h.clone(), Vec::new()))
                .collect(),
        })
        .collect();
    for record in reader.records() {
        let r = record.map_err(|e| bad(&e))?;
        let Some(k) = arms.iter().position(|a| Some(a.as_str()) == r.get(0)) else {
            continue;
        };
        let number = |x: &str| {
            x.parse::<f64>()
                .map_err(|_| bad(&format!("not a number: `{x}`")))
        };
        courses[k].time_day.push(number(r.get(1).unwrap_or(""))?);
        for (j, (_, values)) in courses[k].series.iter_mut().enumerate() {
            values.push(number(r.get(j + 2).unwrap_or(""))?);
        }
    }
    Ok(courses)
}

/// Times at which to draw a drug's concentration: an even grid over the horizon, and after
/// each administration a geometric run of times (the distribution phase lasts hours).
fn exposure_grid(
    administrations: &[crate::therapy::pk::Administration],
    horizon_day: f64,
) -> Vec<f64> {
    let mut t: Vec<f64> = (0..=1500)
        .map(|i| horizon_day * i as f64 / 1500.0)
        .collect();
    for a in administrations {
        let end = a.start_day + a.duration_day;
        t.push(a.start_day);
        t.push(end);
        t.extend(
            [0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0, 2.0, 4.0]
                .iter()
                .map(|dt| end + dt),
        );
    }
    t.retain(|x| (0.0..=horizon_day).contains(x));
    t.sort_by(f64::total_cmp);
    t.dedup();
    t
}

/// Everything the report shows, loaded from a run folder.
struct Loaded {
    assessments: Vec<AssessmentPoint>,
    typical: Vec<Course>,
    drugs: Vec<Vec<DrugCurve>>,
    radiation_given: Vec<Vec<Given>>,
    model_doses: Vec<Vec<ModelDose>>,
    states: Vec<Quantity>,
}

/// An arm's administrations that give something (a zero dose is no dose).
fn given(arm: &crate::scenario::Arm) -> impl Iterator<Item = &Administration> {
    arm.schedule
        .administrations
        .iter()
        .filter(|a| match a.kind {
            Delivery::Bolus { amount } => amount > 0.0,
            Delivery::Rate { amount_per_day, .. } => amount_per_day > 0.0,
        })
}

/// How long an administration runs, in days (0 for a bolus).
fn duration_day(a: &Administration) -> f64 {
    match a.kind {
        Delivery::Rate { duration_days, .. } => duration_days,
        Delivery::Bolus { .. } => 0.0,
    }
}

fn load(dir: &Path, folder: &RunFolder) -> Result<Loaded, ReportError> {
    let scenario = &folder.scenario;
    let arms: Vec<String> = scenario.arms.iter().map(|a| a.name.clone()).collect();
    let assessments = read_assessments(&dir.join("assessments.csv"), &arms)?;
    let typical = read_typical(&dir.join("typical_patient.csv"), &arms)?;
    let model = scenario.model;
    let drugs: Vec<Vec<DrugCurve>> = scenario
        .arms
        .iter()
        .map(|arm| {
            let mut names: Vec<&str> = Vec::new();
            for d in &arm.drugs {
                if !names.contains(&d.name.as_str()) {
                    names.push(&d.name);
                }
            }
            names
                .into_iter()
                .filter_map(|name| {
                    let d = arm.drugs.iter().find(|d| d.name == name)?;
                    // Exact concentrations of the typical patient (closed-form PK, every
                    // administration of this drug in the arm, on a grid fine after each).
                    let administrations: Vec<_> = arm
                        .drugs
                        .iter()
                        .filter(|x| x.name == name)
                        .flat_map(|x| x.exposure.administrations.iter().copied())
                        .collect();
                    let time_day = exposure_grid(&administrations, scenario.horizon_day);
                    let c = concentrations(&d.exposure.pk, &administrations, &time_day);
                    let mechanism = match model.inputs.get(d.exposure.input).map(|i| i.role) {
                        Some(InputRole::Exposure(m)) => m.describe().to_string(),
                        _ => String::new(),
                    };
                    Some(DrugCurve {
                        name: name.to_string(),
                        activity: c.iter().map(|&x| d.exposure.activity(x)).collect(),
                        concentration_ug_ml: c,
                        time_day,
                        mechanism,
                    })
                })
                .collect()
        })
        .collect();
    let radiation = model.radiation_input();
    let radiation_given = scenario
        .arms
        .iter()
        .map(|arm| {
            given(arm)
                .filter(|a| Some(a.input) == radiation)
                .map(|a| Given {
                    day: a.start_day,
                    duration_day: duration_day(a),
                })
                .collect()
        })
        .collect();
    // Doses of the model's own inputs (not a catalogue drug, not radiation): Kosinsky's
    // antibody, de Pillis' chemotherapy and lymphocytes.
    let model_doses = scenario
        .arms
        .iter()
        .map(|arm| {
            given(arm)
                .filter(|a| Some(a.input) != radiation)
                .filter_map(|a| {
                    let input = model.inputs.get(a.input)?;
                    (!matches!(input.role, InputRole::Exposure(_))).then(|| ModelDose {
                        input: input.name.to_string(),
                        day: a.start_day,
                        duration_day: duration_day(a),
                    })
                })
                .collect()
        })
        .collect();
    // The states that move in some arm, and the tumour measure if it is derived.
    let mut states: Vec<Quantity> = model
        .states
        .iter()
        .filter(|s| {
            typical
                .iter()
                .filter_map(|c| c.get(s.name))
                .any(|v| v.iter().any(|x| *x != 0.0))
        })
        .map(|s| Quantity {
            name: s.name.to_string(),
            unit: s.unit.to_string(),
            description: s.description.to_string(),
        })
        .collect();
    if let Some(d) = model.derived.iter().find(|d| d.name == model.tumour)
        && !typical.is_empty()
    {
        states.insert(
            0,
            Quantity {
                name: d.name.to_string(),
                unit: d.unit.to_string(),
                description: d.description.to_string(),
            },
        );
    }
    Ok(Loaded {
        assessments,
        typical,
        drugs,
        radiation_given,
        model_doses,
        states,
    })
}

/// Writes `DIR/figures/*.svg` (and `.png` if `png`) and `DIR/report.html`; returns the
/// report's path.
pub fn write_report(
    dir: &Path,
    folder: &RunFolder,
    analysis: &Analysis,
    png_too: bool,
) -> Result<PathBuf, ReportError> {
    let loaded = load(dir, folder)?;
    let arms: Vec<String> = folder
        .scenario
        .arms
        .iter()
        .map(|a| a.name.clone())
        .collect();
    let input = FigureInput {
        arms: &arms,
        analysis,
        records: &folder.records,
        assessments: &loaded.assessments,
        typical: &loaded.typical,
        drugs: &loaded.drugs,
        radiation: &loaded.radiation_given,
        model_doses: &loaded.model_doses,
        states: &loaded.states,
        horizon_day: folder.scenario.horizon_day,
        swimmer_patients: SWIMMER_PATIENTS,
    };
    let figures_dir = dir.join("figures");
    let io = |e: std::io::Error| ReportError(format!("{}: {e}", figures_dir.display()));
    std::fs::create_dir_all(&figures_dir).map_err(io)?;
    let mut drawn = Vec::new();
    for (stem, title) in FIGURES {
        let text = svg(stem, &input)
            .map_err(|e| ReportError(format!("drawing the {stem} figure: {e}")))?;
        write_atomic(&figures_dir.join(format!("{stem}.svg")), |w| {
            w.write_all(font::with_embedded_font(&text).as_bytes())
        })
        .map_err(io)?;
        if png_too {
            png(stem, &input, &figures_dir.join(format!("{stem}.png")))
                .map_err(|e| ReportError(format!("drawing the {stem} figure as PNG: {e}")))?;
        }
        drawn.push((stem, title, text));
    }
    let html = page(folder, analysis, &drawn);
    let path = dir.join("report.html");
    write_atomic(&path, |w| w.write_all(html.as_bytes()))
        .map_err(|e| ReportError(format!("{}: {e}", path.display())))?;
    Ok(path)
}

/// Text for HTML: `&`, `<`, `>` and quotes escaped.
fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn days(list: &[f64]) -> String {
    list.iter()
        .map(|d| value(*d))
        .collect::<Vec<_>>()
        .join(", ")
}

fn describe_drug(d: &ArmDrugSection) -> String {
    let start = d.start_day.unwrap_or(0.0);
    let infusion = d
        .infusion_minutes
        .map_or(String::new(), |m| format!(", {}-minute infusion", value(m)));
    let when = if let Some(cycle) = d.cycle_days {
        format!(
            "days {} of each {}-day cycle{}, from day {}",
            days(d.days_of_cycle.as_deref().unwrap_or(&[])),
            value(cycle),
            d.cycles
                .map_or(" until the horizon".to_string(), |c| format!(
                    " for {c} cycles"
                )),
            value(start)
        )
    } else if let Some(every) = d.every_days {
        format!(
            "every {}{}, from day {}",
            self::every(every),
            d.count
                .map_or(" until the horizon".to_string(), |c| format!(
                    " ({c} doses)"
                )),
            value(start)
        )
    } else {
        format!("once, on day {}", value(start))
    };
    format!("{} {}{infusion}: {when}", d.name, d.dose)
}

fn describe_radiation(r: &RadiationSection) -> String {
    match &r.days {
        Some(list) => format!(
            "radiotherapy {} x {} Gy on days {}",
            list.len(),
            value(r.dose_per_fraction_gy),
            days(list)
        ),
        None => format!(
            "radiotherapy {} x {} Gy, every {} from day {}",
            r.fractions.unwrap_or(1),
            value(r.dose_per_fraction_gy),
            every(r.every_days.unwrap_or(1.0)),
            value(r.start_day.unwrap_or(0.0))
        ),
    }
}

/// A `[[arm.dose]]` as a reader would say it, amounts in the input's unit: `repeat` counts
/// every administration, the first included.
fn describe_dose(d: &DoseSection, model: &ModelSpec) -> String {
    let unit = model
        .input_index(&d.input)
        .map_or(String::new(), |i| format!(" {}", model.inputs[i].unit));
    let amount = match (d.amount, d.amount_per_day) {
        (Some(a), _) => format!("{}{unit} at once", value(a)),
        (None, Some(rate)) => format!(
            "{}{unit} a day for {} days",
            value(rate),
            value(d.duration_days.unwrap_or(0.0))
        ),
        _ => String::new(),
    };
    let repeat = match (d.every_days, d.repeat) {
        (Some(e), Some(n)) => format!(", every {}, {n} times in all", every(e)),
        (Some(e), None) => format!(", every {} until the horizon", every(e)),
        _ => String::new(),
    };
    format!(
        "{} {amount} from day {}{repeat}",
        d.input,
        value(d.start_day.unwrap_or(0.0))
    )
}

/// "day", "3 days", "0.5 days".
fn every(days: f64) -> String {
    if days == 1.0 {
        "day".to_string()
    } else {
        format!("{} days", value(days))
    }
}

fn treatments(arm: &ArmSection, model: &ModelSpec) -> String {
    let items: Vec<String> = arm
        .drugs
        .iter()
        .map(describe_drug)
        .chain(arm.radiation.iter().map(describe_radiation))
        .chain(arm.doses.iter().map(|d| describe_dose(d, model)))
        .collect();
    if items.is_empty() {
        "no treatment".to_string()
    } else {
        items
            .iter()
            .map(|i| escape(i))
            .collect::<Vec<_>>()
            .join("<br>")
    }
}

/// A number as the report shows it, rounded, with the exact value as summary.json holds it
/// in the cell's title.
fn cell(x: Option<f64>, scale: f64, digits: usize) -> String {
    match x {
        Some(v) => format!(
            "<span title=\"{}\">{:.*}</span>",
            value(v),
            digits,
            v * scale
        ),
        None => "—".to_string(),
    }
}

fn estimate_cell(e: &Estimate, scale: f64, digits: usize) -> String {
    let bound = |x: Option<f64>| match x {
        Some(_) => cell(x, scale, digits),
        None => "NR".to_string(),
    };
    match e.value {
        None => "not reached".to_string(),
        Some(_) => {
            // "a to b" where a bound is negative: "−31.1–−10.6" misreads.
            let joiner = if e.lower.is_some_and(|l| l < 0.0) {
                " to "
            } else {
                "–"
            };
            format!(
                "{} ({}{joiner}{})",
                cell(e.value, scale, digits),
                bound(e.lower),
                bound(e.upper)
            )
        }
    }
}

/// A p-value: four decimals, or below 0.0001.
fn p_cell(p: Option<f64>) -> String {
    match p {
        Some(v) if v < 1e-4 => format!("<span title=\"{}\">&lt;0.0001</span>", value(v)),
        other => cell(other, 1.0, 4),
    }
}

/// A restricted mean with its normal 95% interval (mean ± 1.96 SE).
fn rmst_cell(mean: f64, se: f64, scale: f64) -> String {
    if !mean.is_finite() {
        return "—".to_string();
    }
    let z = crate::trial::survival::Z_975;
    estimate_cell(
        &Estimate {
            value: Some(mean),
            lower: Some(mean - z * se).filter(|x| x.is_finite()),
            upper: Some(mean + z * se).filter(|x| x.is_finite()),
        },
        scale,
        1,
    )
}

fn page(folder: &RunFolder, a: &Analysis, figures: &[(&str, &str, String)]) -> String {
    let scenario = &folder.scenario;
    let run = &folder.run;
    let mut h = String::new();
    let title = escape(&scenario.name);
    let _ = writeln!(
        h,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>{title}</title>\n<style>{}\n{}</style>\n</head>\n<body>",
        font::css(),
        STYLE
    );
    let _ = writeln!(h, "<h1>{title}</h1>");
    if let Some(why) = folder.too_many_failed() {
        let _ = writeln!(
            h,
            "<p class=\"warning\"><b>This run failed:</b> {}.</p>",
            escape(&why)
        );
    }
    if let Some(d) = &scenario.description {
        let _ = writeln!(h, "<p class=\"description\">{}</p>", escape(d));
    }
    let control = a
        .arms
        .get(a.control)
        .map_or(String::new(), |x| x.name.clone());
    let _ = writeln!(
        h,
        "<p>A virtual trial of {} patients on the <code>{}</code> model, followed for {} days ({:.1} months); {} arms, compared with <b>{}</b>.</p>",
        run["patients"].as_u64().unwrap_or(0),
        escape(scenario.model.name),
        value(scenario.horizon_day),
        scenario.horizon_day / DAYS_PER_MONTH,
        a.arms.len(),
        escape(&control)
    );

    h.push_str("<h2>Arms</h2>\n<table>\n<tr><th>Arm</th><th>Treatment</th></tr>\n");
    for (k, arm) in scenario.resolved.arms.iter().enumerate() {
        let _ = writeln!(
            h,
            "<tr><td><span class=\"swatch\" style=\"background:{}\"></span>{}</td><td>{}</td></tr>",
            hex(k),
            escape(&arm.name),
            treatments(arm, scenario.model)
        );
    }
    h.push_str("</table>\n");

    // Times in the figures' unit: months, or days for a short (mouse) study.
    let axis = TimeAxis::of(scenario.horizon_day);
    let unit = axis.name.to_lowercase();
    let _ = writeln!(
        h,
        "<h2>Results</h2>\n<table class=\"numbers\">\n<tr><th>Arm</th><th>n</th><th title=\"patients left out: failed solves and patients not eligible for the trial\">Left out</th><th>ORR % (95% CI)</th><th>DCR % (95% CI)</th><th>Median PFS, {unit} (95% CI)</th><th>Median OS, {unit} (95% CI)</th><th>HR PFS (95% CI)</th><th>Log-rank p, PFS</th><th>HR OS (95% CI)</th><th>Log-rank p, OS</th><th>ORR difference, points (95% CI)</th></tr>"
    );
    let per_day = 1.0 / axis.days_per_unit;
    for arm in &a.arms {
        let cox = |c: &Option<crate::trial::analysis::Comparison>| {
            match c.as_ref().and_then(|c| c.cox) {
                Some(x) => estimate_cell(
                    &Estimate {
                        value: Some(x.hr),
                        lower: Some(x.hr_lower),
                        upper: Some(x.hr_upper),
                    },
                    1.0,
                    2,
                ),
                // Compared, but the Cox fit has no finite estimate: an arm without events, or
                // one whose events all come after (or before) every control patient's.
                None if c.is_some() => "<span title=\"no finite Cox estimate: no events in one arm, or the arms' events do not overlap in time\">not estimable</span>".to_string(),
                None => "—".to_string(),
            }
        };
        let p = |c: &Option<crate::trial::analysis::Comparison>| {
            p_cell(c.as_ref().and_then(|c| c.log_rank).map(|l| l.p))
        };
        let _ = writeln!(
            h,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            escape(&arm.name),
            arm.n,
            arm.failed,
            estimate_cell(&arm.orr, 100.0, 1),
            estimate_cell(&arm.dcr, 100.0, 1),
            estimate_cell(&arm.pfs.median_day, per_day, 1),
            estimate_cell(&arm.os.median_day, per_day, 1),
            cox(&arm.pfs_vs_control),
            p(&arm.pfs_vs_control),
            cox(&arm.os_vs_control),
            p(&arm.os_vs_control),
            arm.orr_difference
                .map_or("—".to_string(), |d| estimate_cell(&d, 100.0, 1)),
        );
    }
    h.push_str("</table>\n<p class=\"note\">Hover over a number for its exact value as summary.json holds it (times in days, rates as fractions). \"Left out\": patients whose solve failed or who were not eligible (run.json counts each). Medians from Kaplan–Meier curves with log-log 95% intervals; progression is found at assessment visits, so a median of PFS and its limits often fall on the same visit. Hazard ratios from Cox models (Efron ties) against control; ORR intervals exact (Clopper–Pearson), differences by Newcombe's hybrid score method.</p>\n");

    // The first landmark's heading says what the cells hold.
    let mut headings = String::new();
    for endpoint in ["PFS", "OS"] {
        for (i, landmark) in a.landmarks.iter().enumerate() {
            let what = if i == 0 && endpoint == "PFS" {
                ", % (95% CI)"
            } else {
                ""
            };
            let _ = write!(headings, "<th>{endpoint} {}{what}</th>", landmark.heading());
        }
    }
    let _ = writeln!(
        h,
        "<h2>Landmarks and restricted means</h2>\n<table class=\"numbers\">\n<tr><th>Arm</th>{headings}<th>Restricted mean PFS, {unit} (95% CI)</th><th>Restricted mean OS, {unit} (95% CI)</th></tr>"
    );
    for arm in &a.arms {
        let _ = write!(h, "<tr><td>{}</td>", escape(&arm.name));
        for s in [&arm.pfs, &arm.os] {
            for r in &s.rates {
                let shown = match (r.value, r.lower, r.upper) {
                    (None, ..) => "—".to_string(),
                    // At 100% (or 0%) the log-log interval is undefined.
                    (Some(_), None, None) => cell(r.value, 100.0, 1),
                    _ => estimate_cell(r, 100.0, 1),
                };
                let _ = write!(h, "<td>{shown}</td>");
            }
        }
        let _ = writeln!(
            h,
            "<td>{}</td><td>{}</td></tr>",
            rmst_cell(arm.pfs.rmst_day, arm.pfs.rmst_se_day, per_day),
            rmst_cell(arm.os.rmst_day, arm.os.rmst_se_day, per_day)
        );
    }
    h.push_str("</table>\n<p class=\"note\">Survival in percent at each landmark with its log-log 95% interval (none at 100%, where it is undefined; a dash where follow-up ends before it with someone still at risk); restricted means up to the horizon, with mean ± 1.96 standard errors.</p>\n");

    let ranking_by = match a.primary {
        crate::scenario::trial::Primary::Pfs => "restricted mean PFS",
        crate::scenario::trial::Primary::Os => "restricted mean OS",
        crate::scenario::trial::Primary::Orr => "objective response rate",
    };
    let _ = writeln!(
        h,
        "<h2>Ranking</h2>\n<p>The probability that each arm is best by {ranking_by}, from {} bootstrap resamples of the patients (the same patients in every arm).</p>\n<table class=\"ranking\">\n<tr><th>Rank</th><th>Arm</th><th>Probability of being best</th></tr>",
        a.bootstrap
    );
    let mut order: Vec<usize> = (0..a.arms.len()).collect();
    // Ties (arms never best) by the ranking statistic itself.
    let statistic = |k: usize| match a.primary {
        crate::scenario::trial::Primary::Pfs => a.arms[k].pfs.rmst_day,
        crate::scenario::trial::Primary::Os => a.arms[k].os.rmst_day,
        crate::scenario::trial::Primary::Orr => a.arms[k].orr.value.unwrap_or(f64::NAN),
    };
    let key = |k: usize| {
        let v = statistic(k);
        if v.is_finite() { v } else { f64::NEG_INFINITY }
    };
    order.sort_by(|&x, &y| {
        a.arms[y]
            .p_best
            .total_cmp(&a.arms[x].p_best)
            .then(key(y).total_cmp(&key(x)))
            .then(x.cmp(&y))
    });
    for (rank, k) in order.iter().enumerate() {
        let _ = writeln!(
            h,
            "<tr><td>{}</td><td>{}</td><td>{}</td></tr>",
            rank + 1,
            escape(&a.arms[*k].name),
            cell(Some(a.arms[*k].p_best), 100.0, 1)
        );
    }
    h.push_str("</table>\n");

    h.push_str("<h2>Figures</h2>\n");
    for (stem, title, svg) in figures {
        let _ = writeln!(
            h,
            "<figure id=\"{stem}\">\n{}\n<figcaption>{}</figcaption>\n</figure>",
            inline_svg(svg),
            escape(title)
        );
    }

    h.push_str("<h2>Provenance</h2>\n<table>\n");
    for (label, key) in [
        ("Program", "program"),
        ("Version", "version"),
        ("Commit", "commit"),
        ("Scenario", "scenario"),
        ("Model", "model"),
        ("Seed", "seed"),
        ("Command", "command"),
        ("Started (UTC)", "started_utc"),
        ("Wall time (s)", "wall_seconds"),
        ("Threads", "threads"),
    ] {
        let text = match &run[key] {
            serde_json::Value::String(s) => s.clone(),
            serde_json::Value::Null => "—".to_string(),
            other => other.to_string(),
        };
        let _ = writeln!(
            h,
            "<tr><th>{label}</th><td><code>{}</code></td></tr>",
            escape(&text)
        );
    }
    h.push_str("</table>\n");
    // The numbers as summary.json holds them, for scripts that read the report.
    let json = serde_json::to_string(&summary_json(a, &scenario.name))
        .unwrap_or_default()
        .replace('<', "\\u003c");
    let _ = writeln!(
        h,
        "<script type=\"application/json\" id=\"summary-json\">{json}</script>\n</body>\n</html>"
    );
    h
}

/// An SVG document ready to sit inside HTML: no XML declaration, no namespace (HTML parsers
/// put an inline `<svg>` in the SVG namespace themselves).
fn inline_svg(svg: &str) -> String {
    let start = svg.find("<svg").unwrap_or(0);
    svg[start..].replacen(" xmlns=\"http://www.w3.org/2000/svg\"", "", 1)
}

fn hex(k: usize) -> String {
    let c = arm_colour(k);
    format!("#{:02x}{:02x}{:02x}", c.0, c.1, c.2)
}

const STYLE: &str = "body{max-width:1000px;margin:2em auto;padding:0 1em;color:#111;line-height:1.4}
h1{font-size:1.6em}h2{font-size:1.25em;margin-top:1.6em;border-bottom:1px solid #ccc}
table{border-collapse:collapse;margin:0.6em 0;font-size:0.85em}
th,td{border:1px solid #ccc;padding:3px 6px;text-align:left;vertical-align:top}
table.numbers td{text-align:right}table.numbers td:first-child{text-align:left}
table.ranking td:last-child{text-align:right}
.swatch{display:inline-block;width:0.9em;height:0.9em;margin-right:0.4em;vertical-align:middle;-webkit-print-color-adjust:exact;print-color-adjust:exact}
.note{font-size:0.8em;color:#444}.description{white-space:pre-line}
.warning{border:2px solid #b00;background:#fee;padding:0.5em 0.8em}
figure{margin:1em 0;page-break-inside:avoid;break-inside:avoid}
figure svg{max-width:100%;height:auto}figcaption{font-size:0.85em;color:#333}
@media print{body{margin:0;max-width:none}h2{page-break-after:avoid}table{page-break-inside:avoid}figure svg{max-height:8.5in;width:auto}}";

#[cfg(test)]
mod tests {
    use super::*;

    /// `repeat` counts every administration (the engine gives `repeat = 5` five fractions),
    /// and amounts carry the input's unit.
    #[test]
    fn a_dose_is_described_as_the_engine_gives_it() {
        let model = &crate::model::kosinsky2018::SPEC;
        let dose = DoseSection {
            input: "radiation".into(),
            amount_per_day: None,
            amount: Some(2.0),
            duration_days: None,
            start_day: Some(7.0),
            every_days: Some(1.0),
            repeat: Some(5),
        };
        assert_eq!(
            describe_dose(&dose, model),
            "radiation 2 Gy at once from day 7, every day, 5 times in all"
        );
        let weekly = DoseSection {
            every_days: Some(7.0),
            repeat: None,
            ..dose
        };
        assert_eq!(
            describe_dose(&weekly, model),
            "radiation 2 Gy at once from day 7, every 7 days until the horizon"
        );
    }
}
