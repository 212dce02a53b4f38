//! The figures of a virtual trial, drawn with plotters: Kaplan–Meier curves of PFS and OS,
//! waterfall, spider and swimmer plots, a forest plot of the comparisons with control, and the
//! typical patient's exposure and mechanism.
//!
//! Each figure is drawn by one function, generic over the plotters backend, so that the same
//! code makes the SVG (always) and the PNG (on request). Drawing is deterministic: the same
//! run gives the same bytes. Colours: the Okabe–Ito palette, safe for colour-blind readers.

use super::font;
use crate::trial::analysis::{Analysis, ArmRecords, ArmSummary, SurvivalSummary};
use crate::trial::recist::{DAYS_PER_YEAR, Response};
use crate::trial::survival::KaplanMeier;
use plotters::coord::Shift;
use plotters::coord::types::RangedCoordf64;
use plotters::prelude::*;
use std::error::Error;

/// Days per month, for time axes in months as trials report them.
pub const DAYS_PER_MONTH: f64 = DAYS_PER_YEAR / 12.0;

/// Okabe & Ito's colour-blind-safe palette (yellow last: it reads poorly on white).
pub const PALETTE: [RGBColor; 8] = [
    RGBColor(0, 114, 178),
    RGBColor(213, 94, 0),
    RGBColor(0, 158, 115),
    RGBColor(204, 121, 167),
    RGBColor(230, 159, 0),
    RGBColor(86, 180, 233),
    RGBColor(0, 0, 0),
    RGBColor(240, 228, 66),
];

/// Drug colours, apart from the arms' (Paul Tol's muted scheme, darker tones).
const DRUG_PALETTE: [RGBColor; 5] = [
    RGBColor(51, 34, 136),
    RGBColor(136, 34, 85),
    RGBColor(17, 119, 51),
    RGBColor(68, 68, 68),
    RGBColor(153, 153, 51),
];

/// The colour of radiation fractions.
const RADIATION_COLOUR: RGBColor = RGBColor(204, 102, 119);

pub fn arm_colour(arm: usize) -> RGBColor {
    PALETTE[arm % PALETTE.len()]
}

fn response_colour(r: Response) -> RGBColor {
    match r {
        Response::Cr => RGBColor(0, 114, 178),
        Response::Pr => RGBColor(86, 180, 233),
        Response::Sd => RGBColor(150, 150, 150),
        Response::Pd => RGBColor(213, 94, 0),
        Response::Ne => RGBColor(215, 215, 215),
    }
}

type Drawn = Result<(), Box<dyn Error>>;

/// One tumour assessment of a sampled patient (assessments.csv).
#[derive(Debug, Clone, PartialEq)]
pub struct AssessmentPoint {
    pub arm: usize,
    pub patient: u64,
    pub day: f64,
    pub change_pct: f64,
}

/// The typical patient's course in one arm: output times and named series.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Course {
    pub time_day: Vec<f64>,
    pub series: Vec<(String, Vec<f64>)>,
}

impl Course {
    pub fn get(&self, name: &str) -> Option<&[f64]> {
        self.series
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_slice())
    }
}

/// A drug of an arm, for the exposure figure.
#[derive(Debug, Clone, PartialEq)]
pub struct DrugCurve {
    pub name: String,
    /// Its own time grid: fine after each dose, where the concentration moves fast.
    pub time_day: Vec<f64>,
    /// Activity (occupancy or fractional effect) at a concentration in mg/L.
    pub activity: Vec<f64>,
    pub concentration_ug_ml: Vec<f64>,
    pub mechanism: String,
}

/// A dose of one of the model's own inputs (not a catalogue drug, not radiation), for the
/// exposure figure's timeline: Kosinsky's intraperitoneal antibody, de Pillis' chemotherapy.
#[derive(Debug, Clone, PartialEq)]
pub struct ModelDose {
    pub input: String,
    pub day: f64,
    /// How long it runs (an infusion at a rate); 0 for a bolus.
    pub duration_day: f64,
}

/// When a dose was given: its start and how long it ran (0 for a bolus), in days.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Given {
    pub day: f64,
    pub duration_day: f64,
}

/// What the figures draw.
pub struct FigureInput<'a> {
    pub arms: &'a [String],
    pub analysis: &'a Analysis,
    pub records: &'a [ArmRecords],
    pub assessments: &'a [AssessmentPoint],
    /// The typical patient per arm (empty if it could not be simulated).
    pub typical: &'a [Course],
    /// Per arm: its drugs' curves over the typical course, and its radiation days.
    pub drugs: &'a [Vec<DrugCurve>],
    pub radiation: &'a [Vec<Given>],
    /// Per arm: the doses of the model's own inputs.
    pub model_doses: &'a [Vec<ModelDose>],
    /// States to show in the mechanism figure.
    pub states: &'a [Quantity],
    pub horizon_day: f64,
    /// Patients shown in the swimmer plot per arm.
    pub swimmer_patients: usize,
}

/// The figures, by file stem, with their titles.
pub const FIGURES: [(&str, &str); 8] = [
    ("km_pfs", "Kaplan–Meier curves of progression-free survival"),
    ("km_os", "Kaplan–Meier curves of overall survival"),
    (
        "waterfall",
        "Best change in tumour diameter, patient by patient (a change above +100% is drawn at +100%, marked ▲)",
    ),
    (
        "spider",
        "Tumour diameter over time, sampled patients (a change above +100% is drawn at +100%, as ▲)",
    ),
    (
        "swimmer",
        "Time on study, response and progression, sampled patients",
    ),
    ("forest", "Comparisons with the control arm"),
    (
        "exposure",
        "Drug exposure of the typical patient, or an arm's doses where it gives no catalogue drug",
    ),
    (
        "mechanism",
        "The typical patient's tumour and immune states",
    ),
];

/// A state or derived output the mechanism figure draws, as the model declares it.
#[derive(Debug, Clone, PartialEq)]
pub struct Quantity {
    pub name: String,
    pub unit: String,
    pub description: String,
}

/// Pixel size of each figure for this input.
pub fn size(stem: &str, input: &FigureInput<'_>) -> (u32, u32) {
    let n = input.arms.len() as u32;
    match stem {
        "km_pfs" | "km_os" => (960, KM_CHART_HEIGHT + 60 + 2 * KM_ROW as u32 * n),
        // The waterfall's response key takes a strip of its own under the title.
        "waterfall" => (960, 60 + WATERFALL_KEY_HEIGHT + 230 * n.div_ceil(2)),
        "spider" => (960, 60 + 230 * n.div_ceil(2)),
        "swimmer" => (
            960,
            60 + n.div_ceil(2) * (80 + 14 * input.swimmer_patients as u32),
        ),
        "forest" => (960, 140 + 36 * n.saturating_sub(1)),
        "exposure" => {
            let treated = (0..n as usize)
                .filter(|&k| exposure_shows(input, k))
                .count() as u32;
            (960, 60 + 250 * treated.max(1))
        }
        // The states and a panel for the arms' legend.
        _ => (
            960,
            60 + 240 * (input.states.len() as u32 + 1).div_ceil(2).max(1),
        ),
    }
}

/// Draws figure `stem` on `root`.
pub fn draw<DB: DrawingBackend>(
    stem: &str,
    root: &DrawingArea<DB, Shift>,
    input: &FigureInput<'_>,
) -> Drawn
where
    DB::ErrorType: 'static,
{
    font::register();
    root.fill(&WHITE)?;
    match stem {
        "km_pfs" => kaplan_meier(root, input, "Progression-free survival", |a| &a.pfs),
        "km_os" => kaplan_meier(root, input, "Overall survival", |a| &a.os),
        "waterfall" => waterfall(root, input),
        "spider" => spider(root, input),
        "swimmer" => swimmer(root, input),
        "forest" => forest(root, input),
        "exposure" => exposure(root, input),
        "mechanism" => mechanism(root, input),
        other => Err(format!("no figure named {other}").into()),
    }
}

/// The figure as an SVG document (text only; embed the font for a standalone file).
pub fn svg(stem: &str, input: &FigureInput<'_>) -> Result<String, Box<dyn Error>> {
    let mut text = String::new();
    {
        let root = SVGBackend::with_string(&mut text, size(stem, input)).into_drawing_area();
        draw(stem, &root, input)?;
        root.present()?;
    }
    Ok(text)
}

/// The figure as a PNG file.
pub fn png(stem: &str, input: &FigureInput<'_>, path: &std::path::Path) -> Drawn {
    let root = BitMapBackend::new(path, size(stem, input)).into_drawing_area();
    draw(stem, &root, input)?;
    root.present()?;
    Ok(())
}

/// `text` cut to `max` characters with an ellipsis, so that long arm names do not run into
/// the next panel.
pub fn shorten(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        text.to_string()
    } else {
        let cut: String = text.chars().take(max.saturating_sub(1)).collect();
        format!("{}…", cut.trim_end())
    }
}

fn font_of(size: f64) -> TextStyle<'static> {
    (font::FAMILY, size).into_font().color(&BLACK)
}

/// The time axis of the trial figures: months, as trials report them, or days where the study
/// is too short for months to be read (the 50 days of a mouse study drawn on a 0-3 month axis
/// filled half the figure, with no tick between).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TimeAxis {
    /// Days in one unit of the axis.
    pub days_per_unit: f64,
    /// The axis runs from 0 to here (in its unit): the horizon, rounded up to a tick.
    pub max: f64,
    pub tick_every: f64,
    /// "mo" or "d", after a number.
    pub unit: &'static str,
    /// "Months" or "Days".
    pub name: &'static str,
}

impl TimeAxis {
    /// The longest study drawn in days: eight months, eight ticks of 30 days at most (a study
    /// of four to six months on a month axis had one inner tick).
    pub const MAX_DAYS_IN_DAYS: f64 = 240.0;

    pub fn of(horizon_day: f64) -> TimeAxis {
        // Of the steps that leave three to eight intervals up to the horizon rounded up to a
        // whole step (at most eight, where none leaves three), the one that leaves the least
        // of the axis past the horizon; on a tie, the larger step (fewer ticks).
        let fit = |span: f64, steps: &[f64]| {
            let span = if span.is_finite() && span > 0.0 {
                span
            } else {
                1.0
            };
            let end = |step: f64| ((span / step - 1e-9).ceil() * step).max(step);
            let beyond = || {
                // Past the list: the round step (1, 2 or 5 x 10^n) that gives eight intervals.
                let decade = 10f64.powf((span / 8.0).log10().floor());
                [1.0, 2.0, 5.0, 10.0]
                    .into_iter()
                    .map(|m| m * decade)
                    .find(|step| span / step <= 8.0 + 1e-9)
                    .unwrap_or(10.0 * decade)
            };
            let intervals = |step: f64| (end(step) / step).round();
            let best = |fewest: f64| {
                steps
                    .iter()
                    .copied()
                    .filter(|&step| (fewest..=8.0).contains(&intervals(step)))
                    .min_by(|a, b| {
                        (end(*a) - span)
                            .total_cmp(&(end(*b) - span))
                            .then(b.total_cmp(a))
                    })
            };
            let step = best(3.0).or_else(|| best(1.0)).unwrap_or_else(beyond);
            (step, end(step))
        };
        if horizon_day <= Self::MAX_DAYS_IN_DAYS {
            let (tick_every, max) = fit(horizon_day, &[1.0, 2.0, 5.0, 10.0, 20.0, 30.0]);
            TimeAxis {
                days_per_unit: 1.0,
                max,
                tick_every,
                unit: "d",
                name: "Days",
            }
        } else {
            let (tick_every, max) =
                fit(horizon_day / DAYS_PER_MONTH, &[3.0, 6.0, 12.0, 24.0, 60.0]);
            TimeAxis {
                days_per_unit: DAYS_PER_MONTH,
                max,
                tick_every,
                unit: "mo",
                name: "Months",
            }
        }
    }
    /// `day` on the axis.
    pub fn at(&self, day: f64) -> f64 {
        day / self.days_per_unit
    }
    pub fn ticks(&self) -> Vec<f64> {
        (0..)
            .map(|i| i as f64 * self.tick_every)
            .take_while(|t| *t <= self.max + 1e-9)
            .collect()
    }
}

/// Our own `ticks` on the x axis and their labels, under a chart whose mesh draws no x labels
/// (`x_labels(0)`), at `y_axis`, the y of the axis line, with a light grid line up to `grid_to`
/// where given: every figure over time labels the time axis's steps (plotters' own choice had
/// labelled 24 months in fives, the last 20), and a log axis its 1-2-5 steps.
fn x_ticks<DB: DrawingBackend, X: Ranged<ValueType = f64>>(
    area: &DrawingArea<DB, Shift>,
    chart: &mut ChartContext<'_, DB, Cartesian2d<X, RangedCoordf64>>,
    ticks: &[f64],
    (y_axis, grid_to): (f64, Option<f64>),
    size: f64,
) -> Drawn
where
    DB::ErrorType: 'static,
{
    use plotters::style::text_anchor::{HPos, Pos, VPos};
    if let Some(top) = grid_to {
        chart.draw_series(ticks.iter().map(|&t| {
            PathElement::new(vec![(t, y_axis), (t, top)], BLACK.mix(0.15).stroke_width(1))
        }))?;
    }
    let (bx, by) = area.get_base_pixel();
    for &t in ticks {
        let (px, py) = chart.backend_coord(&(t, y_axis));
        let (px, py) = (px - bx, py - by);
        area.draw(&PathElement::new(
            vec![(px, py), (px, py + 5)],
            BLACK.stroke_width(1),
        ))?;
        area.draw(&Text::new(
            tick_label(t),
            (px, py + 8),
            font_of(size).pos(Pos::new(HPos::Center, VPos::Top)),
        ))?;
    }
    Ok(())
}

/// Ticks of a log axis from `lo` to `hi`: 1, 2 and 5 of each decade in the range (plotters
/// labelled only the decades, 0.1 and 1, and asked for more, crowded nine into each).
fn one_two_five(lo: f64, hi: f64) -> Vec<f64> {
    (lo.log10().floor() as i32..=hi.log10().ceil() as i32)
        .flat_map(|decade| [1.0, 2.0, 5.0].map(|m| m * 10f64.powi(decade)))
        .filter(|t| (lo..=hi).contains(t))
        .collect()
}

fn fmt_estimate(value: Option<f64>, lower: Option<f64>, upper: Option<f64>, scale: f64) -> String {
    let f = |x: Option<f64>| x.map_or("NR".to_string(), |v| format!("{:.1}", v * scale));
    match value {
        None => "NR".to_string(),
        Some(_) => format!("{} ({}–{})", f(value), f(lower), f(upper)),
    }
}

/// The label of an arm in a Kaplan–Meier legend: median and hazard ratio against control.
fn km_label(
    arm: &ArmSummary,
    s: &SurvivalSummary,
    hr: Option<(f64, f64, f64)>,
    is_control: bool,
    axis: &TimeAxis,
) -> String {
    let per_unit = 1.0 / axis.days_per_unit;
    let median = match (s.median_day.value, s.median_day.lower) {
        // The interval's lower end can be reached when the median is not (it is in arms.csv).
        (None, Some(lower)) => format!(
            "not reached (95% CI from {:.1} {})",
            lower * per_unit,
            axis.unit
        ),
        (None, None) => "not reached".to_string(),
        (Some(_), _) => format!(
            "{} {}",
            fmt_estimate(
                s.median_day.value,
                s.median_day.lower,
                s.median_day.upper,
                per_unit,
            ),
            axis.unit
        ),
    };
    let versus = match (is_control, hr) {
        (true, _) => "; control".to_string(),
        (false, Some((h, lo, hi))) => format!("; HR {h:.2} ({lo:.2}–{hi:.2})"),
        (false, None) => "; HR not estimable".to_string(),
    };
    format!("{}: median {median}{versus}", shorten(&arm.name, 48))
}

fn kaplan_meier<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    input: &FigureInput<'_>,
    title: &str,
    pick: fn(&ArmSummary) -> &SurvivalSummary,
) -> Drawn
where
    DB::ErrorType: 'static,
{
    use plotters::style::text_anchor::{HPos, Pos, VPos};
    let n_arms = input.analysis.arms.len() as u32;
    let axis = TimeAxis::of(input.horizon_day);
    let x_max = axis.max;
    let ticks = axis.ticks();
    let (upper, below) = root.split_vertically(KM_CHART_HEIGHT);
    // Room on the left for the arm names of the numbers-at-risk table.
    let mut chart = ChartBuilder::on(&upper)
        .caption(title, font_of(22.0))
        .margin(16)
        .margin_left(KM_NAMES_WIDTH)
        .x_label_area_size(44)
        .y_label_area_size(64)
        .build_cartesian_2d(0.0..x_max, 0.0..1.02)?;
    // The ticks are ours, so that the table lines up with them.
    chart
        .configure_mesh()
        .x_desc(format!("{} since the start of treatment", axis.name))
        .y_desc(format!("{title} (probability)"))
        .x_labels(0)
        .y_labels(6)
        .y_label_formatter(&|y| tick_label(*y))
        .label_style(font_of(13.0))
        .axis_desc_style(font_of(15.0))
        .light_line_style(WHITE.mix(0.0))
        .draw()?;
    let control = input.analysis.control;
    let mut labels = Vec::new();
    for (k, arm) in input.analysis.arms.iter().enumerate() {
        let colour = arm_colour(k);
        let s = pick(arm);
        // Drawn at the figure's resolution: a cohort of a million patients has about a million
        // distinct death times per arm, and an SVG with every step was 163 MB.
        let column = |t: f64| chart.backend_coord(&(t, 0.0)).0;
        let outline = KmOutline::of(&s.curve, &axis, column);
        let mut band = outline.upper_band;
        band.extend(outline.lower_band.into_iter().rev());
        chart.draw_series(std::iter::once(Polygon::new(band, colour.mix(0.12))))?;
        chart.draw_series(LineSeries::new(outline.line, colour.stroke_width(2)))?;
        // Censoring ticks where someone left follow-up without the event; none where they
        // would fill more than a third of the plot's pixel columns (with 10,000 patients and
        // dropout they made each curve a band some 10 px thick), which the legend then says.
        let plot_columns =
            chart.backend_coord(&(x_max, 0.0)).0 - chart.backend_coord(&(0.0, 0.0)).0;
        let dense_censoring = 3 * outline.censoring.len() as i32 > plot_columns.max(1);
        if !dense_censoring {
            chart.draw_series(outline.censoring.into_iter().map(|(t, s)| {
                PathElement::new(vec![(t, s - 0.012), (t, s + 0.012)], colour.stroke_width(1))
            }))?;
        }
        // The median, where reached: dashed down to the axis.
        if let Some(m) = s.median_day.value {
            let m = axis.at(m);
            dashed_line(&mut chart, (m, 0.0), (m, 0.5), 4, colour.stroke_width(1))?;
        }
        let versus = if std::ptr::eq(s, &arm.pfs) {
            &arm.pfs_vs_control
        } else {
            &arm.os_vs_control
        };
        let hr = versus
            .as_ref()
            .and_then(|c| c.cox)
            .map(|c| (c.hr, c.hr_lower, c.hr_upper));
        let mut label = km_label(arm, s, hr, k == control, &axis);
        if dense_censoring {
            let censored: f64 = s.curve.steps.iter().map(|step| step.censored).sum();
            label.push_str(&format!("; {censored:.0} censored, not marked"));
        }
        labels.push(label);
    }
    dashed_line(
        &mut chart,
        (0.0, 0.5),
        (x_max, 0.5),
        4,
        BLACK.mix(0.4).stroke_width(1),
    )?;
    x_ticks(&upper, &mut chart, &ticks, (0.0, None), 13.0)?;

    // The legend under the axis: each arm's median and hazard ratio against control.
    let left = |anchor: VPos| Pos::new(HPos::Left, anchor);
    for (k, label) in labels.iter().enumerate() {
        let y = 14 + KM_ROW * k as i32;
        below.draw(&PathElement::new(
            vec![(16, y), (44, y)],
            arm_colour(k).stroke_width(3),
        ))?;
        below.draw(&Text::new(
            label.clone(),
            (52, y),
            font_of(12.0).pos(left(VPos::Center)),
        ))?;
    }
    // Numbers at risk at each tick, aligned with the axis.
    let y0 = 14 + KM_ROW * n_arms as i32 + 16;
    below.draw(&Text::new(
        "Number at risk",
        (16, y0),
        font_of(13.0).pos(left(VPos::Center)),
    ))?;
    let (below_x, _) = below.get_base_pixel();
    for (k, arm) in input.analysis.arms.iter().enumerate() {
        let curve = &pick(arm).curve;
        let y = y0 + KM_ROW * (k as i32 + 1);
        // As much of the name as fits left of the first column of numbers (the chart's left
        // margin and its y-label area), a character at a time.
        let room = (KM_NAMES_WIDTH + 64 - 16 - 24) as f64;
        let style = font_of(11.0);
        let fits = |text: &str| {
            below
                .estimate_text_size(text, &style)
                .map_or(true, |(w, _)| f64::from(w) <= room)
        };
        let mut chars = arm.name.chars().count();
        let mut name = arm.name.clone();
        while chars > 4 && !fits(&name) {
            chars -= 1;
            name = shorten(&arm.name, chars);
        }
        below.draw(&Text::new(
            name,
            (16, y),
            font_of(11.0).color(&arm_colour(k)).pos(left(VPos::Center)),
        ))?;
        // Ticks past the horizon (the axis is rounded up to a tick) have no one at risk to
        // count: left blank rather than 0. One within a hundredth of a tick step of it (12
        // months against a 365-day horizon) counts those at risk at the horizon.
        let slack = 0.01 * axis.tick_every * axis.days_per_unit;
        for &t in ticks
            .iter()
            .filter(|&&t| t * axis.days_per_unit <= input.horizon_day + slack)
        {
            let day = (t * axis.days_per_unit).min(input.horizon_day);
            let at_risk = curve
                .steps
                .iter()
                .find(|s| s.time >= day - 1e-9)
                .map_or(0.0, |s| s.at_risk);
            let (px, _) = chart.backend_coord(&(t, 0.0));
            below.draw(&Text::new(
                format!("{at_risk:.0}"),
                (px - below_x, y),
                font_of(11.0).pos(Pos::new(HPos::Center, VPos::Center)),
            ))?;
        }
    }
    Ok(())
}

/// What a Kaplan–Meier figure draws of one arm, on the time axis: the step line, its 95% band (upper
/// edge and lower edge, both from time 0) and a censoring tick per pixel column.
///
/// Steps whose times fall in one pixel column (`column` maps the axis to the figure's pixel x)
/// are drawn as one: a single vertical at the first of them, from the value before them to the
/// value after the last. The survival curve does not rise, so its vertical covers every value
/// the merged steps pass through. The band's edges can rise a little (after heavy censoring),
/// but a rise inside one column had no width when every step was drawn either (all its points
/// land on the same pixel x), so nothing visible is lost. The exact steps are in `km_pfs.csv`
/// and `km_os.csv`.
#[derive(Debug, Clone, PartialEq)]
struct KmOutline {
    line: Vec<(f64, f64)>,
    upper_band: Vec<(f64, f64)>,
    lower_band: Vec<(f64, f64)>,
    /// (time on the axis, survival) of the last censoring in each pixel column that has one.
    censoring: Vec<(f64, f64)>,
}

impl KmOutline {
    fn of(curve: &KaplanMeier, axis: &TimeAxis, column: impl Fn(f64) -> i32) -> KmOutline {
        let start = vec![(0.0, 1.0)];
        let (mut line, mut upper_band, mut lower_band) = (start.clone(), start.clone(), start);
        let mut censoring: Vec<(f64, f64)> = Vec::new();
        let (mut event_column, mut censoring_column) = (None, None);
        let mut previous = (1.0, 1.0, 1.0);
        for step in &curve.steps {
            let t = axis.at(step.time);
            if step.events > 0.0 {
                let (lo, hi) = step.interval();
                let here = Some(column(t));
                if here == event_column {
                    // The same column as the last vertical: that vertical now ends here.
                    for (edge, value) in [
                        (&mut line, step.survival),
                        (&mut upper_band, hi),
                        (&mut lower_band, lo),
                    ] {
                        if let Some(last) = edge.last_mut() {
                            last.1 = value;
                        }
                    }
                } else {
                    line.extend([(t, previous.0), (t, step.survival)]);
                    upper_band.extend([(t, previous.2), (t, hi)]);
                    lower_band.extend([(t, previous.1), (t, lo)]);
                    event_column = here;
                }
                previous = (step.survival, lo, hi);
            }
            if step.censored > 0.0 {
                let here = Some(column(t));
                match censoring.last_mut() {
                    Some(last) if here == censoring_column => *last = (t, step.survival),
                    _ => censoring.push((t, step.survival)),
                }
                censoring_column = here;
            }
        }
        let t_end = curve.steps.last().map_or(0.0, |s| axis.at(s.time));
        line.push((t_end, previous.0));
        upper_band.push((t_end, previous.2));
        lower_band.push((t_end, previous.1));
        KmOutline {
            line,
            upper_band,
            lower_band,
            censoring,
        }
    }
}

/// Height of the Kaplan–Meier plot itself; the legend and the table go under it.
const KM_CHART_HEIGHT: u32 = 440;
/// Left margin of the Kaplan–Meier plot, where the table's arm names go.
const KM_NAMES_WIDTH: u32 = 190;
/// Pixels per line of the legend and the table.
const KM_ROW: i32 = 20;

/// A tick label without needless digits: 0, 0.25, 12, 1e5, 2.5e-4.
pub fn tick_label(v: f64) -> String {
    if v == 0.0 {
        return "0".to_string();
    }
    let a = v.abs();
    if !(1e-3..1e5).contains(&a) {
        let e = a.log10().floor();
        let m = v / 10f64.powf(e);
        let m = format!("{m:.2}");
        let m = m.trim_end_matches('0').trim_end_matches('.');
        return format!("{m}e{e}");
    }
    let s = format!("{v:.4}");
    s.trim_end_matches('0').trim_end_matches('.').to_string()
}

/// Panels, two a row, one per arm (or per item).
fn panels<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    title: &str,
    count: usize,
) -> Result<Vec<DrawingArea<DB, Shift>>, Box<dyn Error>>
where
    DB::ErrorType: 'static,
{
    let body = root.titled(title, font_of(22.0))?;
    let columns = if count > 1 { 2 } else { 1 };
    let rows = count.div_ceil(columns).max(1);
    Ok(body
        .split_evenly((rows, columns))
        .into_iter()
        .take(count)
        .collect())
}

/// The height of the key strip of [`panels_with_key`] (the waterfall's), in pixels.
const WATERFALL_KEY_HEIGHT: u32 = 26;

/// [`panels`] with a key of filled squares on one line under the title: a key inside a panel
/// hid what that panel drew.
fn panels_with_key<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    title: &str,
    count: usize,
    key: &[(&str, RGBColor)],
) -> Result<Vec<DrawingArea<DB, Shift>>, Box<dyn Error>>
where
    DB::ErrorType: 'static,
{
    use plotters::style::text_anchor::{HPos, Pos, VPos};
    let body = root.titled(title, font_of(22.0))?;
    let (strip, rest) = body.split_vertically(WATERFALL_KEY_HEIGHT);
    let style = font_of(12.0);
    let widths: Vec<i32> = key
        .iter()
        .map(|(name, _)| {
            strip
                .estimate_text_size(name, &style)
                .map_or(40, |(w, _)| w as i32)
        })
        .collect();
    let total: i32 = widths.iter().map(|w| w + 40).sum();
    let mut x = (strip.dim_in_pixel().0 as i32 - total) / 2;
    for ((name, colour), w) in key.iter().zip(widths) {
        strip.draw(&Rectangle::new([(x, 8), (x + 12, 20)], colour.filled()))?;
        strip.draw(&Text::new(
            name.to_string(),
            (x + 18, 14),
            style.pos(Pos::new(HPos::Left, VPos::Center)),
        ))?;
        x += w + 40;
    }
    let columns = if count > 1 { 2 } else { 1 };
    let rows = count.div_ceil(columns).max(1);
    Ok(rest
        .split_evenly((rows, columns))
        .into_iter()
        .take(count)
        .collect())
}

fn clamp_change(x: f64) -> f64 {
    x.clamp(-100.0, 100.0)
}

fn waterfall<DB: DrawingBackend>(root: &DrawingArea<DB, Shift>, input: &FigureInput<'_>) -> Drawn
where
    DB::ErrorType: 'static,
{
    /// At most this many patients an arm (the first by patient number): thinner bars say
    /// nothing more and make the file heavy.
    const SHOWN: usize = 300;
    let responses = [
        Response::Cr,
        Response::Pr,
        Response::Sd,
        Response::Pd,
        Response::Ne,
    ];
    let key: Vec<(&str, RGBColor)> = responses
        .iter()
        .map(|r| (r.name(), response_colour(*r)))
        .collect();
    let areas = panels_with_key(
        root,
        "Best change in tumour diameter from baseline (RECIST 1.1)",
        input.records.len(),
        &key,
    )?;
    for (k, (area, arm)) in areas.iter().zip(input.records).enumerate() {
        let measured: Vec<(f64, Response)> = arm
            .patients
            .iter()
            .filter(|p| !p.failed)
            .filter_map(|p| p.best_change_pct.map(|c| (c, p.best_response)))
            .collect();
        let capped = measured.len() > SHOWN;
        let mut bars: Vec<(f64, Response)> = measured.into_iter().take(SHOWN).collect();
        bars.sort_by(|a, b| b.0.total_cmp(&a.0));
        let summary = &input.analysis.arms[k];
        // One decimal, as the report's table: 298 of 299 had read "ORR 100%".
        let caption = format!(
            "{} — ORR {:.1}% (n = {}{})",
            shorten(&arm.name, 40),
            100.0 * summary.orr.value.unwrap_or(f64::NAN),
            summary.n,
            if capped {
                format!("; first {} shown", bars.len())
            } else {
                String::new()
            }
        );
        let mut chart = ChartBuilder::on(area)
            .caption(caption, font_of(13.0).color(&arm_colour(k)))
            .margin(8)
            .x_label_area_size(10)
            .y_label_area_size(52)
            .build_cartesian_2d(0.0..(bars.len().max(1) as f64), -105.0..105.0)?;
        chart
            .configure_mesh()
            .disable_x_mesh()
            .disable_x_axis()
            .y_desc("Best change (%)")
            .y_labels(9)
            .y_label_formatter(&|y| tick_label(*y))
            .label_style(font_of(11.0))
            .axis_desc_style(font_of(12.0))
            .light_line_style(WHITE.mix(0.0))
            .draw()?;
        chart.draw_series(bars.iter().enumerate().map(|(i, (c, r))| {
            let x = i as f64;
            Rectangle::new(
                [(x + 0.1, 0.0), (x + 0.9, clamp_change(*c))],
                response_colour(*r).filled(),
            )
        }))?;
        // A bar cut at +100% says so: a patient whose tumour grew 449% is not one at 100%.
        chart.draw_series(
            bars.iter()
                .enumerate()
                .filter(|(_, (c, _))| *c > 100.0)
                .map(|(i, (_, r))| {
                    TriangleMarker::new((i as f64 + 0.5, 100.0), 4, response_colour(*r).filled())
                }),
        )?;
        // Each level's label just above its line, on a white ground so that it reads over any
        // bar. The bars fall from left to right, so the PD label goes to the right, where bars
        // are lowest, and the PR one to the left, where they are highest: where bars reach
        // least often (the -30% label sat on the responders' bars).
        let width = bars.len().max(1) as f64;
        for (level, label, at_right) in [(-30.0, "−30% (PR)", false), (20.0, "+20% (PD)", true)] {
            dashed_line(
                &mut chart,
                (0.0, level),
                (width, level),
                5,
                BLACK.mix(0.6).stroke_width(1),
            )?;
            let style = font_of(10.0);
            let (w, h) = area.estimate_text_size(label, &style)?;
            let (w, h) = (w as i32 + 4, h as i32 + 2);
            let (x, dx) = if at_right {
                (width * 0.99, -w)
            } else {
                (width * 0.01, 0)
            };
            chart.draw_series(std::iter::once(
                EmptyElement::at((x, level))
                    + Rectangle::new([(dx, -h - 2), (dx + w, -2)], WHITE.mix(0.85).filled())
                    + Text::new(label, (dx + 2, -h - 1), style),
            ))?;
        }
    }
    Ok(())
}

/// A figure with nothing to draw says why, under its title.
fn nothing_to_draw<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    title: &str,
    why: &str,
) -> Drawn
where
    DB::ErrorType: 'static,
{
    let body = root.titled(title, font_of(20.0))?;
    body.draw(&Text::new(why.to_string(), (20, 30), font_of(14.0)))?;
    Ok(())
}

fn spider<DB: DrawingBackend>(root: &DrawingArea<DB, Shift>, input: &FigureInput<'_>) -> Drawn
where
    DB::ErrorType: 'static,
{
    if input.assessments.is_empty() {
        return nothing_to_draw(
            root,
            "Change in tumour diameter from baseline at each assessment",
            "No assessments were kept (assessments.csv is missing or empty: [output] sample_patients).",
        );
    }
    let areas = panels(
        root,
        "Change in tumour diameter from baseline at each assessment (sampled patients)",
        input.records.len(),
    )?;
    let axis = TimeAxis::of(input.horizon_day);
    let x_max = axis.max;
    for (k, (area, arm)) in areas.iter().zip(input.records).enumerate() {
        let mut chart = ChartBuilder::on(area)
            .caption(shorten(&arm.name, 60), font_of(13.0).color(&arm_colour(k)))
            .margin(8)
            .x_label_area_size(34)
            .y_label_area_size(52)
            .build_cartesian_2d(0.0..x_max, -105.0..105.0)?;
        chart
            .configure_mesh()
            .x_desc(axis.name)
            .x_labels(0)
            .y_desc("Change (%)")
            .y_labels(9)
            .y_label_formatter(&|y| tick_label(*y))
            .label_style(font_of(11.0))
            .axis_desc_style(font_of(12.0))
            .light_line_style(WHITE.mix(0.0))
            .draw()?;
        x_ticks(area, &mut chart, &axis.ticks(), (-105.0, Some(105.0)), 11.0)?;
        let mut patients: Vec<u64> = input
            .assessments
            .iter()
            .filter(|a| a.arm == k)
            .map(|a| a.patient)
            .collect();
        patients.dedup();
        for patient in patients {
            let best = arm
                .patients
                .iter()
                .find(|p| p.patient == patient)
                .map_or(Response::Ne, |p| p.best_response);
            let raw: Vec<(f64, f64)> = input
                .assessments
                .iter()
                .filter(|a| a.arm == k && a.patient == patient)
                .map(|a| (axis.at(a.day), a.change_pct))
                .collect();
            let points: Vec<(f64, f64)> = raw.iter().map(|&(t, c)| (t, clamp_change(c))).collect();
            let colour = response_colour(best);
            chart.draw_series(LineSeries::new(points.clone(), colour.stroke_width(1)))?;
            chart.draw_series(
                raw.iter()
                    .zip(&points)
                    .filter(|((_, c), _)| *c <= 100.0)
                    .map(|(_, &p)| Circle::new(p, 2, colour.filled())),
            )?;
            // A change cut at +100% is drawn as a triangle, so that it is not read as +100%.
            chart.draw_series(
                raw.iter()
                    .zip(&points)
                    .filter(|((_, c), _)| *c > 100.0)
                    .map(|(_, &p)| TriangleMarker::new(p, 4, colour.filled())),
            )?;
        }
        for level in [-30.0, 20.0] {
            dashed_line(
                &mut chart,
                (0.0, level),
                (x_max, level),
                5,
                BLACK.mix(0.6).stroke_width(1),
            )?;
        }
    }
    Ok(())
}

fn swimmer<DB: DrawingBackend>(root: &DrawingArea<DB, Shift>, input: &FigureInput<'_>) -> Drawn
where
    DB::ErrorType: 'static,
{
    let areas = panels(
        root,
        "Time on study: ▲ response, ✕ progression, ● death, | lost to follow-up, → followed to the end",
        input.records.len(),
    )?;
    let axis = TimeAxis::of(input.horizon_day);
    let x_max = axis.max;
    for (k, (area, arm)) in areas.iter().zip(input.records).enumerate() {
        let shown: Vec<_> = arm
            .patients
            .iter()
            .filter(|p| !p.failed)
            .take(input.swimmer_patients)
            .collect();
        let rows = shown.len().max(1) as f64;
        let mut chart = ChartBuilder::on(area)
            .caption(shorten(&arm.name, 60), font_of(13.0).color(&arm_colour(k)))
            .margin(8)
            .x_label_area_size(34)
            .y_label_area_size(52)
            .build_cartesian_2d(0.0..x_max * 1.04, -0.5..rows - 0.5)?;
        chart
            .configure_mesh()
            .disable_y_mesh()
            .x_desc(axis.name)
            .x_labels(0)
            .y_desc("Patient")
            .y_labels(shown.len().min(10))
            .y_label_formatter(&|y| {
                let i = y.round() as usize;
                shown
                    .get(i)
                    .map_or(String::new(), |p| p.patient.to_string())
            })
            .label_style(font_of(10.0))
            .axis_desc_style(font_of(12.0))
            .light_line_style(WHITE.mix(0.0))
            .draw()?;
        x_ticks(
            area,
            &mut chart,
            &axis.ticks(),
            (-0.5, Some(rows - 0.5)),
            10.0,
        )?;
        let colour = arm_colour(k);
        for (i, p) in shown.iter().enumerate() {
            let y = i as f64;
            let end = axis.at(p.os.time);
            chart.draw_series(std::iter::once(Rectangle::new(
                [(0.0, y - 0.3), (end, y + 0.3)],
                colour.mix(0.35).filled(),
            )))?;
            if let Some(r) = p.response_day {
                chart.draw_series(std::iter::once(TriangleMarker::new(
                    (axis.at(r), y),
                    5,
                    response_colour(Response::Cr).filled(),
                )))?;
            }
            let died_at_pfs = p.os.event && (p.os.time - p.pfs.time).abs() < 1e-9;
            if p.pfs.event && !died_at_pfs {
                chart.draw_series(std::iter::once(Cross::new(
                    (axis.at(p.pfs.time), y),
                    5,
                    response_colour(Response::Pd).stroke_width(2),
                )))?;
            }
            if p.os.event {
                chart.draw_series(std::iter::once(Circle::new((end, y), 4, BLACK.filled())))?;
            } else if p.os.time < input.horizon_day - 1e-9 {
                // Lost to follow-up before the end: a bar across the end of the line.
                chart.draw_series(std::iter::once(PathElement::new(
                    vec![(end, y - 0.35), (end, y + 0.35)],
                    BLACK.stroke_width(2),
                )))?;
            } else {
                // Followed to the end of the study: an arrow pointing on.
                let tip = (end + x_max * 0.025, y);
                chart.draw_series(std::iter::once(
                    EmptyElement::at(tip)
                        + PathElement::new(vec![(-12, 0), (0, 0)], BLACK.stroke_width(2))
                        + PathElement::new(vec![(-5, -4), (0, 0), (-5, 4)], BLACK.stroke_width(2)),
                ))?;
            }
        }
    }
    Ok(())
}

fn forest<DB: DrawingBackend>(root: &DrawingArea<DB, Shift>, input: &FigureInput<'_>) -> Drawn
where
    DB::ErrorType: 'static,
{
    let a = input.analysis;
    let control_name = a.arms.get(a.control).map_or("", |x| x.name.as_str());
    let body = root.titled(
        &format!("Against the control arm ({control_name})"),
        font_of(20.0),
    )?;
    let (left, right) = body.split_horizontally((body.dim_in_pixel().0 as f64 * 0.62) as u32);
    let others: Vec<(usize, &ArmSummary)> = a
        .arms
        .iter()
        .enumerate()
        .filter(|(i, _)| *i != a.control)
        .collect();
    if others.is_empty() {
        return nothing_to_draw(
            root,
            "Against the control arm",
            "The trial has one arm: there is nothing to compare with the control.",
        );
    }
    let rows = others.len().max(1) as f64;
    // Hazard ratios (PFS and OS) on a log axis that holds every interval and 1.
    let mut lo: f64 = 1.0;
    let mut hi: f64 = 1.0;
    for (_, arm) in &others {
        for c in [&arm.pfs_vs_control, &arm.os_vs_control]
            .into_iter()
            .flatten()
            .filter_map(|c| c.cox)
        {
            lo = lo.min(c.hr_lower);
            hi = hi.max(c.hr_upper);
        }
    }
    let (lo, hi) = ((lo / 1.3).max(1e-3), (hi * 1.3).min(1e3));
    let hr_ticks = one_two_five(lo, hi);
    let mut chart = ChartBuilder::on(&left)
        .margin(10)
        .margin_left(16)
        .x_label_area_size(40)
        .y_label_area_size(250)
        .caption("Hazard ratio (95% CI), Cox: ● PFS  ■ OS", font_of(13.0))
        .build_cartesian_2d((lo..hi).log_scale(), -0.5..rows - 0.5)?;
    let names: Vec<String> = others.iter().map(|(_, x)| shorten(&x.name, 40)).collect();
    chart
        .configure_mesh()
        .disable_y_mesh()
        .y_labels(others.len())
        .y_label_formatter(&|y| {
            let i = y.round();
            if (y - i).abs() < 1e-6 && i >= 0.0 {
                names.get(i as usize).cloned().unwrap_or_default()
            } else {
                String::new()
            }
        })
        .x_desc("Hazard ratio against control (log scale; below 1 favours the arm)")
        // A log axis keeps its decades whatever the count asked: no mesh, no labels of its own.
        .disable_x_mesh()
        .x_labels(0)
        .x_label_formatter(&|_| String::new())
        .label_style(font_of(11.0))
        .axis_desc_style(font_of(12.0))
        .light_line_style(WHITE.mix(0.0))
        .draw()?;
    x_ticks(&left, &mut chart, &hr_ticks, (-0.5, Some(rows - 0.5)), 11.0)?;
    dashed_line(
        &mut chart,
        (1.0, -0.5),
        (1.0, rows - 0.5),
        4,
        BLACK.mix(0.6).stroke_width(1),
    )?;
    for (row, (k, arm)) in others.iter().enumerate() {
        let colour = arm_colour(*k);
        for (offset, comparison, square) in [
            (0.15, &arm.pfs_vs_control, false),
            (-0.15, &arm.os_vs_control, true),
        ] {
            let Some(c) = comparison.as_ref().and_then(|c| c.cox) else {
                continue;
            };
            let y = row as f64 + offset;
            chart.draw_series(std::iter::once(PathElement::new(
                vec![(c.hr_lower.max(lo), y), (c.hr_upper.min(hi), y)],
                colour.stroke_width(2),
            )))?;
            if square {
                chart.draw_series(std::iter::once(
                    EmptyElement::at((c.hr, y))
                        + Rectangle::new([(-5, -5), (5, 5)], colour.filled()),
                ))?;
            } else {
                chart.draw_series(std::iter::once(Circle::new((c.hr, y), 5, colour.filled())))?;
            }
        }
    }
    // Differences in ORR.
    let mut chart = ChartBuilder::on(&right)
        .margin(10)
        .x_label_area_size(40)
        .y_label_area_size(10)
        .caption("ORR difference (95% CI, Newcombe)", font_of(13.0))
        .build_cartesian_2d(-100.0..100.0, -0.5..rows - 0.5)?;
    chart
        .configure_mesh()
        .disable_y_mesh()
        .disable_y_axis()
        // Percentage points, as the report's table gives the difference.
        .x_desc("Difference in ORR against control (percentage points)")
        .x_label_formatter(&|x| tick_label(*x))
        .label_style(font_of(11.0))
        .axis_desc_style(font_of(12.0))
        .light_line_style(WHITE.mix(0.0))
        .draw()?;
    dashed_line(
        &mut chart,
        (0.0, -0.5),
        (0.0, rows - 0.5),
        4,
        BLACK.mix(0.6).stroke_width(1),
    )?;
    for (row, (k, arm)) in others.iter().enumerate() {
        let Some(d) = arm.orr_difference else {
            continue;
        };
        let (Some(v), Some(l), Some(u)) = (d.value, d.lower, d.upper) else {
            continue;
        };
        let (v, l, u) = (100.0 * v, 100.0 * l, 100.0 * u);
        let colour = arm_colour(*k);
        let y = row as f64;
        chart.draw_series(std::iter::once(PathElement::new(
            vec![(l, y), (u, y)],
            colour.stroke_width(2),
        )))?;
        chart.draw_series(std::iter::once(Circle::new((v, y), 5, colour.filled())))?;
    }
    Ok(())
}

/// A log axis range holding the positive values of `series` (the lowest at most five decades
/// below the highest, where a drug has washed out).
fn log_range<'a>(series: impl Iterator<Item = &'a [f64]>) -> (f64, f64) {
    let max = series
        .flat_map(|s| s.iter().copied())
        .filter(|v| v.is_finite())
        .fold(0.0_f64, f64::max);
    let (low, high) = (max * 1e-5, max * 2.0);
    // A log axis from 0 (a subnormal maximum times 1e-5) or to inf never ended its ticks: a
    // 1e-320 mg dose hung the run (found by fuzzing). Such values are drawn as nothing.
    if !(low.is_normal() && high.is_finite()) {
        return (1e-3, 1.0);
    }
    (low, high)
}

/// Whether the exposure figure has a row for arm `k`: it gives a drug, radiation or a dose of
/// one of the model's own inputs.
fn exposure_shows(input: &FigureInput<'_>, k: usize) -> bool {
    input.drugs.get(k).is_some_and(|d| !d.is_empty())
        || input.radiation.get(k).is_some_and(|r| !r.is_empty())
        || input.model_doses.get(k).is_some_and(|d| !d.is_empty())
}

/// The model inputs dosed in any arm, in order of first appearance (one colour each in every
/// arm).
fn model_inputs<'a>(input: &FigureInput<'a>) -> Vec<&'a str> {
    let mut inputs: Vec<&str> = Vec::new();
    for d in input.model_doses.iter().flatten() {
        if !inputs.contains(&d.input.as_str()) {
            inputs.push(&d.input);
        }
    }
    inputs
}

/// The colour of a model input's doses: its place among `inputs` (those of every arm), counted
/// from the end of the palette so as not to take the first drugs' colours.
fn model_dose_colour(inputs: &[&str], name: &str) -> RGBColor {
    let j = inputs.iter().position(|n| *n == name).unwrap_or(0);
    DRUG_PALETTE[DRUG_PALETTE.len() - 1 - j % DRUG_PALETTE.len()]
}

/// The row of an arm without a catalogue drug: a timeline of its doses, one line per model
/// input and one for radiation. (It had two empty concentration and occupancy axes, and an
/// arm given only a model's own antibody had no row at all.)
fn dose_timeline<DB: DrawingBackend>(
    row: &DrawingArea<DB, Shift>,
    input: &FigureInput<'_>,
    k: usize,
) -> Drawn
where
    DB::ErrorType: 'static,
{
    let doses = input.model_doses.get(k).map_or(&[][..], |d| d.as_slice());
    let inputs = model_inputs(input);
    // One line per model input the arm gives, then radiation: its name, doses (start and
    // duration in days) and colour.
    let mut lines: Vec<(&str, Vec<Given>, RGBColor)> = Vec::new();
    for d in doses {
        if !lines.iter().any(|(name, ..)| *name == d.input) {
            let given = doses
                .iter()
                .filter(|x| x.input == d.input)
                .map(|x| Given {
                    day: x.day,
                    duration_day: x.duration_day,
                })
                .collect();
            lines.push((&d.input, given, model_dose_colour(&inputs, &d.input)));
        }
    }
    let radiation = &input.radiation[k];
    if !radiation.is_empty() {
        lines.push(("radiation", radiation.clone(), RADIATION_COLOUR));
    }
    let count = lines.len();
    let names: Vec<String> = lines.iter().map(|(name, ..)| name.to_string()).collect();
    let mut chart = ChartBuilder::on(row)
        .caption(
            shorten(
                &format!("{}: doses (no drug from the catalogue)", input.arms[k]),
                80,
            ),
            font_of(13.0),
        )
        .margin(8)
        .x_label_area_size(32)
        .y_label_area_size(110)
        .build_cartesian_2d(0.0..input.horizon_day, -0.5..(count as f64 - 0.5))?;
    days_mesh_labelled(&mut chart, "", count.max(1), &|y| {
        let i = y.round();
        if (y - i).abs() < 1e-6 && i >= 0.0 {
            names.get(i as usize).cloned().unwrap_or_default()
        } else {
            String::new()
        }
    })?;
    // An infusion long enough to see (a 400th of the axis, about a pixel) is a bar over the
    // days it runs; a bolus or a short infusion is a mark at its start.
    let visible_day = input.horizon_day / 400.0;
    for (line, (_, given, colour)) in lines.iter().enumerate() {
        let y = line as f64;
        let (bars, marks): (Vec<Given>, Vec<Given>) =
            given.iter().partition(|g| g.duration_day >= visible_day);
        chart.draw_series(bars.iter().map(|g| {
            Rectangle::new(
                [(g.day, y - 0.3), (g.day + g.duration_day, y + 0.3)],
                colour.filled(),
            )
        }))?;
        chart.draw_series(marks.iter().map(|g| {
            PathElement::new(
                vec![(g.day, y - 0.3), (g.day, y + 0.3)],
                colour.stroke_width(3),
            )
        }))?;
    }
    Ok(())
}

fn exposure<DB: DrawingBackend>(root: &DrawingArea<DB, Shift>, input: &FigureInput<'_>) -> Drawn
where
    DB::ErrorType: 'static,
{
    let treated: Vec<usize> = (0..input.arms.len())
        .filter(|&k| exposure_shows(input, k))
        .collect();
    let irradiated = input.radiation.iter().any(|r| !r.is_empty());
    let with_drugs = treated.iter().any(|&k| !input.drugs[k].is_empty());
    // (A title naming both kinds of row ran past the figure's edges.)
    let title = if with_drugs {
        format!(
            "Typical patient: plasma concentration (left) and receptor occupancy or cytotoxic effect (right){}",
            if irradiated {
                "; radiation fractions in rose"
            } else {
                ""
            }
        )
    } else {
        "The doses of each arm: the model's own inputs and radiation fractions (their effects are in the mechanism figure)".to_string()
    };

    let body = root.titled(&title, font_of(15.0))?;
    if treated.is_empty() {
        body.draw(&Text::new(
            "No arm gives a drug or radiation (or the typical patient could not be simulated).",
            (20, 30),
            font_of(14.0),
        ))?;
        return Ok(());
    }
    let rows = body.split_evenly((treated.len(), 1));
    let x_max = input.horizon_day;
    let inputs = model_inputs(input);
    // One colour per drug in every arm.
    let mut drug_names: Vec<&str> = Vec::new();
    for d in input.drugs.iter().flatten() {
        if !drug_names.contains(&d.name.as_str()) {
            drug_names.push(&d.name);
        }
    }
    let drug_colour = |name: &str| {
        let j = drug_names.iter().position(|n| *n == name).unwrap_or(0);
        DRUG_PALETTE[j % DRUG_PALETTE.len()]
    };
    for (row, &k) in rows.iter().zip(&treated) {
        if input.drugs[k].is_empty() {
            dose_timeline(row, input, k)?;
            continue;
        }
        let (left, right) = row.split_horizontally((row.dim_in_pixel().0 as f64 * 0.55) as u32);
        let drugs = &input.drugs[k];
        // Room above the curves for the legend, which hid a long-lived antibody's curve: the
        // share of the plot its rows take (about 15 px each and 20 px of box), kept empty.
        let plot_px = (left.dim_in_pixel().1 as f64 - 70.0).max(40.0);
        let dosed_inputs = inputs
            .iter()
            .filter(|n| input.model_doses[k].iter().any(|d| d.input == **n))
            .count();
        let legend_rows = (drugs.len() + dosed_inputs) as f64;
        let legend_share = ((15.0 * legend_rows + 20.0) / plot_px).min(0.5);
        let (lo, hi) = log_range(drugs.iter().map(|d| d.concentration_ug_ml.as_slice()));
        // Kept finite: a log axis to inf never ends its ticks (a concentration near f64::MAX
        // hung the run; found by review).
        let hi = Some(lo * (hi / lo).powf(1.0 / (1.0 - legend_share)))
            .filter(|h| h.is_finite())
            .unwrap_or(hi);
        let mut chart = ChartBuilder::on(&left)
            .caption(shorten(&input.arms[k], 60), font_of(13.0))
            .margin(8)
            .x_label_area_size(32)
            .y_label_area_size(64)
            .build_cartesian_2d(0.0..x_max, (lo..hi).log_scale())?;
        days_mesh(&mut chart, "Concentration (µg/mL)")?;
        for d in drugs {
            let colour = drug_colour(&d.name);
            chart
                .draw_series(LineSeries::new(
                    d.time_day
                        .iter()
                        .zip(&d.concentration_ug_ml)
                        .map(|(t, c)| (*t, if c.is_finite() { c.clamp(lo, hi) } else { lo })),
                    colour.stroke_width(2),
                ))?
                .label(d.name.clone())
                .legend(move |(x, y)| {
                    PathElement::new(vec![(x, y), (x + 18, y)], colour.stroke_width(2))
                });
        }
        for &Given { day, .. } in &input.radiation[k] {
            chart.draw_series(std::iter::once(PathElement::new(
                vec![(day, lo), (day, hi)],
                RADIATION_COLOUR.stroke_width(2),
            )))?;
        }
        // Doses of the model's own inputs given with the drugs (their amounts are the model's
        // states): dashed lines at their days on both panels, named in the left one's legend.
        let model_dose_days: Vec<(&str, Vec<Given>, RGBColor)> = inputs
            .iter()
            .map(|name| {
                let given: Vec<Given> = input.model_doses[k]
                    .iter()
                    .filter(|d| d.input == *name)
                    .map(|d| Given {
                        day: d.day,
                        duration_day: d.duration_day,
                    })
                    .collect();
                (*name, given, model_dose_colour(&inputs, name))
            })
            .filter(|(_, given, _)| !given.is_empty())
            .collect();
        let visible_day = x_max / 400.0;
        for (name, given, colour) in &model_dose_days {
            let colour = *colour;
            model_dose_marks(&mut chart, given, (lo, hi), colour, visible_day)?;
            chart
                .draw_series(std::iter::empty::<PathElement<(f64, f64)>>())?
                .label(format!("{name} doses"))
                .legend(move |(x, y)| {
                    PathElement::new(vec![(x, y), (x + 18, y)], colour.stroke_width(2))
                });
        }
        if !drugs.is_empty() {
            legend_box(&mut chart, SeriesLabelPosition::UpperRight, 10.0)?;
        }
        let mut chart = ChartBuilder::on(&right)
            .margin(8)
            .caption(" ", font_of(13.0))
            .x_label_area_size(32)
            .y_label_area_size(48)
            .build_cartesian_2d(0.0..x_max, 0.0..1.02 / (1.0 - legend_share))?;
        // Ticks only from 0 to 1: above is the legend's room.
        days_mesh_labelled(&mut chart, "Occupancy or effect", 6, &|y| {
            if *y <= 1.0 + 1e-9 {
                tick_label(*y)
            } else {
                String::new()
            }
        })?;
        for d in drugs {
            let colour = drug_colour(&d.name);
            chart
                .draw_series(LineSeries::new(
                    d.time_day.iter().copied().zip(d.activity.iter().copied()),
                    colour.stroke_width(2),
                ))?
                .label(format!("{} ({})", d.name, d.mechanism))
                .legend(move |(x, y)| {
                    PathElement::new(vec![(x, y), (x + 18, y)], colour.stroke_width(2))
                });
        }
        for &Given { day, .. } in &input.radiation[k] {
            chart.draw_series(std::iter::once(PathElement::new(
                vec![(day, 0.0), (day, 1.02)],
                RADIATION_COLOUR.stroke_width(2),
            )))?;
        }
        for (_, given, colour) in &model_dose_days {
            model_dose_marks(&mut chart, given, (0.0, 1.02), *colour, visible_day)?;
        }
        if !drugs.is_empty() {
            legend_box(&mut chart, SeriesLabelPosition::UpperRight, 10.0)?;
        }
    }
    Ok(())
}

fn panel_chart<'a, 'b, DB: DrawingBackend>(
    area: &'a DrawingArea<DB, Shift>,
    caption: &str,
) -> ChartBuilder<'a, 'b, DB> {
    let mut b = ChartBuilder::on(area);
    b.caption(caption, font_of(13.0))
        .margin(8)
        .x_label_area_size(32)
        .y_label_area_size(64);
    b
}

/// The axes of a panel over days: the x axis in days, `y_desc` on the y axis, plain ticks.
fn days_mesh<'a, DB, Y>(
    chart: &mut ChartContext<'a, DB, Cartesian2d<plotters::coord::types::RangedCoordf64, Y>>,
    y_desc: &str,
) -> Drawn
where
    DB: DrawingBackend + 'a,
    DB::ErrorType: 'static,
    Y: plotters::coord::ranged1d::Ranged<ValueType = f64>
        + plotters::coord::ranged1d::ValueFormatter<f64>,
{
    days_mesh_labelled(chart, y_desc, 6, &|y| tick_label(*y))
}

/// As [`days_mesh`], with `y_labels` labels on the y axis, each written by `y_label`.
fn days_mesh_labelled<'a, DB, Y>(
    chart: &mut ChartContext<'a, DB, Cartesian2d<plotters::coord::types::RangedCoordf64, Y>>,
    y_desc: &str,
    y_labels: usize,
    y_label: &dyn Fn(&f64) -> String,
) -> Drawn
where
    DB: DrawingBackend + 'a,
    DB::ErrorType: 'static,
    Y: plotters::coord::ranged1d::Ranged<ValueType = f64>
        + plotters::coord::ranged1d::ValueFormatter<f64>,
{
    let mut mesh = chart.configure_mesh();
    mesh.x_desc("Days")
        .x_label_formatter(&|x| tick_label(*x))
        .y_labels(y_labels)
        .y_label_formatter(y_label)
        .label_style(font_of(10.0))
        .axis_desc_style(font_of(11.0))
        .light_line_style(WHITE.mix(0.0));
    // No title, no empty text element for one.
    if !y_desc.is_empty() {
        mesh.y_desc(y_desc);
    }
    mesh.draw()?;
    Ok(())
}

/// A dashed straight line from `from` to `to` (a median, a reference level): `dash` pixels
/// drawn, 3 left blank.
fn dashed_line<'a, DB, CT>(
    chart: &mut ChartContext<'a, DB, CT>,
    from: CT::From,
    to: CT::From,
    dash: u32,
    style: ShapeStyle,
) -> Drawn
where
    DB: DrawingBackend + 'a,
    DB::ErrorType: 'static,
    CT: plotters::coord::CoordTranslate,
    CT::From: Clone + 'static,
{
    chart.draw_series(DashedLineSeries::new(vec![from, to], dash, 3, style))?;
    Ok(())
}

/// A model input's doses on a drug's panel, from `y.0` to `y.1`: a dashed line at each start
/// and, under an infusion long enough to see (`visible_day`), a light band over its days.
fn model_dose_marks<'a, DB, CT>(
    chart: &mut ChartContext<'a, DB, CT>,
    given: &[Given],
    y: (f64, f64),
    colour: RGBColor,
    visible_day: f64,
) -> Drawn
where
    DB: DrawingBackend + 'a,
    DB::ErrorType: 'static,
    CT: plotters::coord::CoordTranslate<From = (f64, f64)>,
{
    chart.draw_series(
        given
            .iter()
            .filter(|g| g.duration_day >= visible_day)
            .map(|g| {
                Rectangle::new(
                    [(g.day, y.0), (g.day + g.duration_day, y.1)],
                    colour.mix(0.15).filled(),
                )
            }),
    )?;
    for g in given {
        dashed_line(chart, (g.day, y.0), (g.day, y.1), 5, colour.stroke_width(2))?;
    }
    Ok(())
}

/// The legend of a chart's labelled series, boxed, at `position`.
fn legend_box<'a, DB, CT>(
    chart: &mut ChartContext<'a, DB, CT>,
    position: SeriesLabelPosition,
    font_size: f64,
) -> Drawn
where
    DB: DrawingBackend + 'a,
    DB::ErrorType: 'static,
    CT: plotters::coord::CoordTranslate,
{
    chart
        .configure_series_labels()
        .position(position)
        .label_font(font_of(font_size))
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK.mix(0.3))
        .draw()?;
    Ok(())
}

/// One state of the typical patient in every arm, on a linear or a log axis (values below
/// `floor` drawn at it), with the arms' legend where asked.
fn state_panel<'a, DB, Y>(
    mut chart: ChartContext<'a, DB, Cartesian2d<plotters::coord::types::RangedCoordf64, Y>>,
    input: &FigureInput<'_>,
    name: &str,
    unit: &str,
    floor: f64,
) -> Drawn
where
    DB: DrawingBackend + 'a,
    DB::ErrorType: 'static,
    Y: plotters::coord::ranged1d::Ranged<ValueType = f64>
        + plotters::coord::ranged1d::ValueFormatter<f64>,
{
    days_mesh(&mut chart, unit)?;
    let log = floor > f64::NEG_INFINITY;
    for (k, course) in input.typical.iter().enumerate() {
        let Some(v) = course.get(name) else { continue };
        let colour = arm_colour(k);
        // On a log axis a value of 0, or one under the axis's floor, has no place: the line
        // goes down to the floor and breaks there, as matplotlib's leaves the axis, rather than
        // run along the floor as if that were a level (radiation's DNA damage, 0 or 1e-12
        // between fractions, looked like a lasting one). A segment is drawn when one of its
        // ends is on the axis, its points clamped to the floor: two points off the axis are
        // never joined.
        let on_axis = |i: usize| v.get(i).is_some_and(|&y| !log || y >= floor);
        let joined = |i: usize| on_axis(i) || on_axis(i + 1);
        let mut run: Vec<(f64, f64)> = Vec::new();
        for (i, (&t, &y)) in course.time_day.iter().zip(v).enumerate() {
            if i > 0 && !joined(i - 1) && !run.is_empty() {
                chart.draw_series(LineSeries::new(
                    std::mem::take(&mut run),
                    colour.stroke_width(2),
                ))?;
            }
            if on_axis(i) || joined(i) || (i > 0 && joined(i - 1)) {
                run.push((t, y.max(floor)));
            }
        }
        if !run.is_empty() {
            chart.draw_series(LineSeries::new(run, colour.stroke_width(2)))?;
        }
    }
    Ok(())
}

fn mechanism<DB: DrawingBackend>(root: &DrawingArea<DB, Shift>, input: &FigureInput<'_>) -> Drawn
where
    DB::ErrorType: 'static,
{
    if input.typical.is_empty() || input.states.is_empty() {
        return nothing_to_draw(
            root,
            "Typical patient: the model's states in each arm",
            "The typical patient's course is missing (typical_patient.csv; run.json says why).",
        );
    }
    // The arms' legend in a panel of its own, after the states' (in the empty cell of an odd
    // count): drawn over the first state it hid that state's lines.
    let mut areas = panels(
        root,
        "Typical patient: the model's states in each arm",
        input.states.len() + 1,
    )?;
    if let Some(legend) = areas.pop() {
        use plotters::style::text_anchor::{HPos, Pos, VPos};
        for (k, arm) in input.arms.iter().enumerate() {
            let y = 40 + 20 * k as i32;
            legend.draw(&PathElement::new(
                vec![(24, y), (56, y)],
                arm_colour(k).stroke_width(3),
            ))?;
            legend.draw(&Text::new(
                shorten(arm, 60),
                (66, y),
                font_of(13.0).pos(Pos::new(HPos::Left, VPos::Center)),
            ))?;
        }
    }
    let x_max = input.horizon_day;
    for (
        area,
        Quantity {
            name,
            unit,
            description,
        },
    ) in areas.iter().zip(input.states)
    {
        let series: Vec<&[f64]> = input.typical.iter().filter_map(|c| c.get(name)).collect();
        let positive_min = series
            .iter()
            .flat_map(|s| s.iter().copied())
            .filter(|v| *v > 0.0 && v.is_finite())
            .fold(f64::INFINITY, f64::min);
        let max = series
            .iter()
            .flat_map(|s| s.iter().copied())
            .filter(|v| v.is_finite())
            .fold(0.0_f64, f64::max);
        // A log axis when the state spans more than two decades, between normal numbers: a log
        // axis to inf (a value above f64::MAX / 2) never ended its ticks and hung `report`
        // (found by fuzzing).
        let lo = positive_min.max(max * 1e-8);
        let log = max > 0.0
            && positive_min.is_finite()
            && max / positive_min > 100.0
            && lo.is_normal()
            && (max * 2.0).is_finite();
        // What the state is, for a reader who does not know the model's names.
        let label = shorten(&format!("{name}: {description}"), 76);
        let unit = if unit == "1" { "dimensionless" } else { unit };
        if log {
            let chart = panel_chart(area, &label)
                .build_cartesian_2d(0.0..x_max, (lo..max * 2.0).log_scale())?;
            state_panel(chart, input, name, unit, lo)?;
        } else {
            let top = if max > 0.0 {
                (max * 1.05).min(f64::MAX)
            } else {
                1.0
            };
            let chart = panel_chart(area, &label).build_cartesian_2d(0.0..x_max, 0.0..top)?;
            state_panel(chart, input, name, unit, f64::NEG_INFINITY)?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::trial::TrialSpec;
    use crate::trial::analysis::{PatientRecord, analyse};
    use crate::trial::survival::{KmStep, Observation};

    fn observation(time: f64, event: bool) -> Observation {
        Observation { time, event }
    }

    /// Patient `i`, with stable disease, whose PFS and OS both end at `end`.
    fn stable_patient(i: usize, end: Observation) -> PatientRecord {
        PatientRecord {
            patient: i as u64,
            failed: false,
            ineligible: false,
            best_response: Response::Sd,
            best_change_pct: Some(0.0),
            response_day: None,
            pfs: end,
            os: end,
        }
    }

    /// Trials in months, short studies in days: a 50-day mouse study drawn on a 0-3 month
    /// axis filled half the figure with no tick between.
    #[test]
    fn the_time_axis_is_in_days_for_a_short_study_and_months_otherwise() {
        // (horizon in days, unit, axis end, tick step). Just past a year: 15 months in threes,
        // not 18 in sixes (a third of it empty).
        for (horizon, unit, max, tick_every) in [
            (50.0, "d", 50.0, 10.0),
            (7.0, "d", 7.0, 1.0),
            (TimeAxis::MAX_DAYS_IN_DAYS, "d", 240.0, 30.0),
            (183.01, "d", 210.0, 30.0),
            (122.0, "d", 140.0, 20.0),
            (730.5, "mo", 24.0, 6.0),
            (TimeAxis::MAX_DAYS_IN_DAYS + 1.0, "mo", 9.0, 3.0),
            (365.25, "mo", 12.0, 3.0),
            (366.0, "mo", 15.0, 3.0),
        ] {
            let axis = TimeAxis::of(horizon);
            assert_eq!(
                (axis.unit, axis.max, axis.tick_every),
                (unit, max, tick_every),
                "{horizon}"
            );
        }
        let mouse = TimeAxis::of(50.0);
        assert_eq!(mouse.ticks(), [0.0, 10.0, 20.0, 30.0, 40.0, 50.0]);
        assert_eq!(mouse.at(35.0), 35.0);
        assert_eq!(TimeAxis::of(730.5).at(730.5), 24.0);
        // Beyond the listed steps, a round one.
        let long = TimeAxis::of(1e9);
        let mantissa = long.tick_every / 10f64.powf(long.tick_every.log10().floor());
        assert!(
            [1.0, 2.0, 5.0].iter().any(|m| (m - mantissa).abs() < 1e-9),
            "{long:?}"
        );
        // Every axis has two to eight intervals, reaches its horizon and ends on a tick.
        for horizon in [
            1e-9, 0.5, 1.0, 3.0, 13.0, 41.0, 99.0, 121.0, 183.0, 200.0, 365.0, 366.0, 400.0, 731.0,
            1500.0, 3000.0, 5000.0, 36525.0, 1e9,
        ] {
            let axis = TimeAxis::of(horizon);
            let ticks = axis.ticks();
            assert!((2..=9).contains(&ticks.len()), "{horizon}: {ticks:?}");
            assert!(axis.max >= axis.at(horizon) - 1e-9, "{horizon}");
            assert_eq!(ticks.last(), Some(&axis.max), "{horizon}: {ticks:?}");
        }
    }

    /// Distinct, exactly known times from a fixed sequence (the golden ratio's fractional
    /// parts), so the test needs no random generator.
    fn spread_times(n: usize, horizon_day: f64) -> Vec<f64> {
        (1..=n)
            .map(|i| (i as f64 * 0.618_033_988_749_894_9).fract() * horizon_day)
            .collect()
    }

    #[test]
    fn a_log_range_is_always_normal_numbers() {
        for values in [
            vec![],
            vec![0.0],
            vec![-1.0, f64::NAN],
            vec![1e-320],
            vec![5e-324],
            vec![1e-303],
            vec![1e308],
            vec![f64::MAX],
        ] {
            let (low, high) = log_range(std::iter::once(values.as_slice()));
            assert!(
                low.is_normal() && high.is_normal() && low < high,
                "{values:?}"
            );
        }
        assert_eq!(log_range(std::iter::once(&[3.0, 40.0][..])), (4e-4, 80.0));
    }

    /// Figure `stem` of the typical patient alone: one arm `a` without patients, with these
    /// courses, drug curves and states.
    fn draw_typical(
        stem: &str,
        typical: &[Course],
        drugs: &[Vec<DrugCurve>],
        states: &[Quantity],
    ) -> String {
        let arms = vec![ArmRecords {
            name: "a".into(),
            patients: Vec::new(),
        }];
        let analysis = analyse(&arms, &TrialSpec::default(), 10.0, 1);
        let input = FigureInput {
            arms: &["a".to_string()],
            analysis: &analysis,
            records: &arms,
            assessments: &[],
            typical,
            drugs,
            radiation: &[vec![]],
            model_doses: &[vec![]],
            states,
            horizon_day: 2.0,
            swimmer_patients: 0,
        };
        svg(stem, &input).expect("draws")
    }

    /// A typical course with a value near f64::MAX or a subnormal one: the mechanism figure is
    /// drawn (a log axis to inf hung `report`, found by fuzzing).
    #[test]
    fn the_mechanism_figure_draws_values_at_the_ends_of_f64() {
        let states = [Quantity {
            name: "TV".into(),
            unit: "mm3".into(),
            description: "viable tumour volume".into(),
        }];
        for extreme in [1e308, f64::MAX, 5e-324] {
            let typical = vec![Course {
                time_day: vec![0.0, 1.0, 2.0],
                series: vec![("TV".into(), vec![1.0, extreme, 1e-3])],
            }];
            let svg = draw_typical("mechanism", &typical, &[], &states);
            assert!(svg.contains("TV: viable tumour volume"), "{extreme}");
        }
    }

    /// On a log panel the line goes down to the floor where a value is 0 and breaks there:
    /// DNA damage that is 0 between two radiation fractions is two pieces, not one line that
    /// runs along the axis's floor in between. A linear panel keeps its zeros.
    #[test]
    fn a_log_panel_breaks_its_line_where_the_value_is_zero() {
        let state = |name: &str| Quantity {
            name: name.into(),
            unit: "1".into(),
            description: "a state".into(),
        };
        let RGBColor(r, g, b) = arm_colour(0);
        let stroke = format!("stroke=\"#{r:02X}{g:02X}{b:02X}\"");
        let lines = |values: Vec<f64>| -> Vec<usize> {
            let typical = vec![Course {
                time_day: (0..values.len()).map(|i| i as f64 * 0.25).collect(),
                series: vec![("U".into(), values)],
            }];
            let svg = draw_typical("mechanism", &typical, &[], &[state("U")]);
            // The arm's lines, by their number of points (the axes are black, the legend's
            // sample is thicker).
            svg.split("<polyline")
                .skip(1)
                .filter(|p| p.contains(&format!("{stroke} stroke-width=\"2\"")))
                .map(|p| {
                    let points = p.split("points=\"").nth(1).unwrap();
                    points[..points.find('"').unwrap()]
                        .split_whitespace()
                        .count()
                })
                .collect()
        };
        // Two fractions on a log panel (six decades): two pieces, each with the zero before and
        // after it (drawn on the floor).
        let fractions = vec![0.0, 0.0, 1e3, 10.0, 1.0, 0.0, 0.0, 0.0, 1e3, 1e-3, 0.0, 0.0];
        assert_eq!(lines(fractions), [5, 4]);
        // Under the floor (a hundred-millionth of the largest) is as 0.
        let tail = vec![1e3, 1.0, 1e-12, 1e-12, 1e-12, 1e3];
        assert_eq!(lines(tail), [3, 2]);
        // Two points off the axis in a row are not joined along the floor (found by review:
        // fractions every third day, outputs daily).
        let every_third_day = vec![1e3, 0.0, 0.0, 1e3, 1.0, 0.0, 0.0, 1e-3];
        assert_eq!(lines(every_third_day), [2, 4, 2]);
        // The same numbers over less than two decades are on a linear panel: one line.
        assert_eq!(
            lines(vec![0.0, 50.0, 1.0, 0.0, 0.0, 50.0, 1.0, 0.0, 0.0]),
            [9]
        );
    }

    /// Concentrations near f64::MAX: the exposure figure is drawn (the legend's headroom above
    /// the curves overflowed its log axis to inf, which never ended its ticks; found by review).
    /// A hang fails this test by CI's timeout, not by an assertion.
    #[test]
    fn the_exposure_figure_draws_concentrations_at_the_ends_of_f64() {
        for extreme in [2.9e307, f64::MAX, 5e-324] {
            let drugs = vec![vec![DrugCurve {
                name: "x".into(),
                time_day: vec![0.0, 1.0, 2.0],
                activity: vec![0.0, 1.0, 0.5],
                concentration_ug_ml: vec![0.0, extreme, extreme / 2.0],
                mechanism: "PD-1 blockade".into(),
            }]];
            let svg = draw_typical("exposure", &[], &drugs, &[]);
            assert!(svg.contains("Concentration"), "{extreme}");
        }
    }

    #[test]
    fn km_outline_draws_every_step_where_each_has_its_own_column() {
        let curve = KaplanMeier::fit(&[
            observation(30.0, true),
            observation(45.0, false),
            observation(60.0, true),
        ]);
        // One column per 1/100 month: every time apart.
        let axis = TimeAxis::of(730.0);
        let outline = KmOutline::of(&curve, &axis, |t| (t * 100.0) as i32);
        let (t30, t45, t60) = (axis.at(30.0), axis.at(45.0), axis.at(60.0));
        let s = curve.steps[0].survival;
        assert!((s - 2.0 / 3.0).abs() < 1e-15);
        assert_eq!(
            outline.line,
            vec![
                (0.0, 1.0),
                (t30, 1.0),
                (t30, s),
                (t60, s),
                (t60, 0.0),
                (t60, 0.0)
            ]
        );
        assert_eq!(outline.censoring, vec![(t45, s)]);
        let (lo, hi) = curve.steps[0].interval();
        assert!(lo < s && s < hi);
        // At day 60 survival reaches 0 and its interval is (0, 0); the band ends there.
        assert_eq!(curve.steps[2].interval(), (0.0, 0.0));
        assert_eq!(
            outline.upper_band,
            vec![
                (0.0, 1.0),
                (t30, 1.0),
                (t30, hi),
                (t60, hi),
                (t60, 0.0),
                (t60, 0.0)
            ]
        );
        assert_eq!(
            outline.lower_band,
            vec![
                (0.0, 1.0),
                (t30, 1.0),
                (t30, lo),
                (t60, lo),
                (t60, 0.0),
                (t60, 0.0)
            ]
        );
    }

    /// 20,000 distinct event and censoring times on a 700-pixel axis: at most two points per
    /// column, and every step's fall still drawn, by a vertical in its own column that spans
    /// the values before and after it.
    #[test]
    fn km_outline_draws_steps_that_share_a_pixel_column_as_one_vertical() {
        let times = spread_times(20_000, 730.0);
        let observations: Vec<Observation> = times
            .iter()
            .enumerate()
            .map(|(i, &t)| observation(t, i % 5 != 0))
            .collect();
        let curve = KaplanMeier::fit(&observations);
        let axis = TimeAxis::of(730.0);
        let column = |t: f64| (t / axis.at(730.0) * 700.0) as i32;
        let outline = KmOutline::of(&curve, &axis, column);
        assert!(outline.line.len() <= 2 * 701 + 2, "{}", outline.line.len());
        assert!(outline.censoring.len() <= 701);
        assert!(
            outline
                .line
                .windows(2)
                .all(|w| w[0].0 <= w[1].0 && w[0].1 >= w[1].1)
        );
        let verticals: Vec<(i32, f64, f64)> = outline
            .line
            .windows(2)
            .filter(|w| w[0].0 == w[1].0)
            .map(|w| (column(w[0].0), w[1].1, w[0].1))
            .collect();
        let mut before = 1.0;
        for step in curve.steps.iter().filter(|s| s.events > 0.0) {
            let here = column(axis.at(step.time));
            assert!(
                verticals
                    .iter()
                    .any(|&(c, low, high)| c == here && low <= step.survival && before <= high),
                "the fall at day {} to {} is not drawn",
                step.time,
                step.survival
            );
            before = step.survival;
        }
        assert_eq!(
            outline.line.last().map(|p| p.1),
            curve
                .steps
                .iter()
                .rev()
                .find(|s| s.events > 0.0)
                .map(|s| s.survival)
        );
        // Each column's vertical ends at the values after its last event step, for the line
        // and both band edges; each column's censoring tick sits at its last censoring.
        let ends = |edge: &[(f64, f64)]| -> Vec<(i32, f64)> {
            edge.windows(2)
                .filter(|w| w[0].0 == w[1].0)
                .map(|w| (column(w[1].0), w[1].1))
                .collect()
        };
        let (line_ends, upper_ends, lower_ends) = (
            ends(&outline.line),
            ends(&outline.upper_band),
            ends(&outline.lower_band),
        );
        let mut last_event_in_column: Vec<(i32, &KmStep)> = Vec::new();
        let mut last_censoring_in_column: Vec<(i32, &KmStep)> = Vec::new();
        for step in &curve.steps {
            let here = column(axis.at(step.time));
            for (wanted, list) in [
                (step.events > 0.0, &mut last_event_in_column),
                (step.censored > 0.0, &mut last_censoring_in_column),
            ] {
                if wanted {
                    match list.last_mut() {
                        Some(last) if last.0 == here => last.1 = step,
                        _ => list.push((here, step)),
                    }
                }
            }
        }
        assert!(last_event_in_column.len() > 100, "the test merges columns");
        for &(here, step) in &last_event_in_column {
            let (lo, hi) = step.interval();
            for (ends, value) in [
                (&line_ends, step.survival),
                (&upper_ends, hi),
                (&lower_ends, lo),
            ] {
                assert!(
                    ends.iter().any(|&(c, v)| c == here && v == value),
                    "column {here} does not end at {value}"
                );
            }
        }
        let ticks: Vec<(i32, f64)> = outline
            .censoring
            .iter()
            .map(|&(t, s)| (column(t), s))
            .collect();
        let wanted: Vec<(i32, f64)> = last_censoring_in_column
            .iter()
            .map(|&(c, step)| (c, step.survival))
            .collect();
        assert_eq!(ticks, wanted);
    }

    /// The figure itself: 100,000 patients in each of two arms with distinct death times. Drawn
    /// step by step this SVG was 4.6 MB (163 MB for a million patients in six arms); at the
    /// figure's resolution its size depends on the arms and the pixels, not the patients:
    /// 79 kB here, bounded at 300 kB.
    #[test]
    fn a_kaplan_meier_figure_of_a_large_cohort_stays_small() {
        let horizon_day = 730.5;
        let times = spread_times(200_000, 2.0 * horizon_day);
        let arms: Vec<ArmRecords> = times
            .chunks(100_000)
            .enumerate()
            .map(|(a, chunk)| ArmRecords {
                name: format!("arm {a}"),
                patients: chunk
                    .iter()
                    .enumerate()
                    .map(|(i, &t)| {
                        // Every third patient lost to follow-up at its time: censorings spread
                        // over the whole axis, as dropout gives them.
                        let end = observation(t.min(horizon_day), t < horizon_day && i % 3 != 0);
                        stable_patient(i, end)
                    })
                    .collect(),
            })
            .collect();
        let svg = draw_records("km_os", &arms, horizon_day);
        assert!(svg.len() < 300_000, "{} bytes", svg.len());
        // Censorings in nearly every pixel column are not marked, and the legend says so; a
        // few hundred patients' are.
        assert!(svg.contains("censored, not marked"), "dense censoring");
        let few: Vec<ArmRecords> = arms
            .iter()
            .map(|a| ArmRecords {
                name: a.name.clone(),
                patients: a.patients.iter().step_by(500).cloned().collect(),
            })
            .collect();
        let svg = draw_records("km_os", &few, horizon_day);
        assert!(!svg.contains("not marked"), "sparse censoring is marked");
        assert!(svg.contains("Overall survival"), "the figure is drawn");
    }

    #[test]
    fn a_log_axis_is_ticked_at_one_two_and_five() {
        let labels: Vec<String> = one_two_five(0.04, 2.6)
            .into_iter()
            .map(tick_label)
            .collect();
        assert_eq!(labels, ["0.05", "0.1", "0.2", "0.5", "1", "2"]);
        assert_eq!(one_two_five(0.5, 1.0), [0.5, 1.0]);
    }

    /// A median not reached whose interval's lower end is (the curve stays above 0.5, its band
    /// does not): the legend gives that end, as arms.csv does (it had said "not reached" alone;
    /// found by checking the figures against their data).
    #[test]
    fn a_median_not_reached_keeps_the_lower_end_of_its_interval() {
        let horizon_day = 730.5;
        let patients: Vec<PatientRecord> = (0..100)
            .map(|i| {
                // 48 deaths on days 10 to 480, the others followed to the horizon.
                let end = if i < 48 {
                    observation(10.0 * (i + 1) as f64, true)
                } else {
                    observation(horizon_day, false)
                };
                stable_patient(i, end)
            })
            .collect();
        let arms = vec![ArmRecords {
            name: "arm".into(),
            patients,
        }];
        let svg = draw_records("km_os", &arms, horizon_day);
        assert!(
            svg.contains("median not reached (95% CI from "),
            "the legend lacks the interval's lower end"
        );
    }

    /// Figure `stem` of these arms' patients alone (no bootstrap, no typical patient).
    fn draw_records(stem: &str, arms: &[ArmRecords], horizon_day: f64) -> String {
        let spec = TrialSpec {
            bootstrap: 0,
            ..TrialSpec::default()
        };
        let analysis = analyse(arms, &spec, horizon_day, 1);
        let names: Vec<String> = arms.iter().map(|a| a.name.clone()).collect();
        let input = FigureInput {
            arms: &names,
            analysis: &analysis,
            records: arms,
            assessments: &[],
            typical: &[],
            drugs: &[],
            radiation: &[],
            model_doses: &[],
            states: &[],
            horizon_day,
            swimmer_patients: 0,
        };
        svg(stem, &input).expect("draws")
    }

    /// A best change above +100% is drawn at +100% with a triangle on its bar, so that a
    /// tumour that grew 449% is not read as one that grew 100%; none below.
    #[test]
    fn a_waterfall_bar_cut_at_100_percent_is_marked() {
        let triangles = |changes: &[f64]| {
            let end = observation(100.0, true);
            let arms = vec![ArmRecords {
                name: "a".into(),
                patients: changes
                    .iter()
                    .enumerate()
                    .map(|(i, &c)| PatientRecord {
                        patient: i as u64,
                        failed: false,
                        ineligible: false,
                        best_response: Response::Pd,
                        best_change_pct: Some(c),
                        response_day: None,
                        pfs: end,
                        os: end,
                    })
                    .collect(),
            }];
            draw_records("waterfall", &arms, 200.0)
                .matches("<polygon")
                .count()
        };
        let plain = triangles(&[50.0, 80.0, 100.0]);
        assert_eq!(triangles(&[50.0, 449.0, 100.0]), plain + 1);
        assert_eq!(triangles(&[120.0, 449.0, 100.0]), plain + 2);
    }
}
