//! The virtual trial on hand-built tumour courses: RECIST 1.1 decisions, confirmation, deaths
//! and censoring, and a trial whose answer is known in advance.

use immunotrial::scenario::trial::TrialSpec;
use immunotrial::trial::analysis::{ArmRecords, PatientRecord, analyse};
use immunotrial::trial::endpoints::{DeathCause, PatientTimes, evaluate};
use immunotrial::trial::recist::{Response, Rules, assess, assessment_days, visit_days};

fn spec() -> TrialSpec {
    TrialSpec {
        bootstrap: 200,
        ..TrialSpec::default()
    }
}

const NEVER: PatientTimes = PatientTimes {
    background_death_day: f64::INFINITY,
    dropout_day: f64::INFINITY,
};

/// RECIST's rules with a 5 mm detection limit, 4-week confirmation and SD from day 42.
fn rules(confirm: bool) -> Rules {
    Rules {
        detection_limit_mm: 5.0,
        measurable_min_mm: 10.0,
        progression_min_increase_mm: 5.0,
        confirm,
        confirm_after_days: 28.0,
        stable_disease_min_days: 42.0,
    }
}

/// Progression is 20% over the nadir and, by RECIST 1.1, at least 5 mm more: a 3 mm mouse
/// tumour that doubles in diameter is still SD. `[trial] progression_min_increase_mm` sets
/// the absolute part; at 1 mm the same doubling is PD, and 20% stays required.
#[test]
fn progression_needs_the_absolute_increase_the_trial_sets() {
    let small = Rules {
        measurable_min_mm: 1.0,
        detection_limit_mm: 0.5,
        ..rules(false)
    };
    let doubling = visits(&[3.0, 6.0]);
    let o = assess(&doubling, &small);
    assert_eq!((o.best, o.progression_day), (Response::Sd, None));
    let mouse = Rules {
        progression_min_increase_mm: 1.0,
        ..small
    };
    let o = assess(&doubling, &mouse);
    assert_eq!((o.best, o.progression_day), (Response::Pd, Some(42.0)));
    let o = assess(&visits(&[3.0, 3.5]), &mouse);
    assert_eq!(
        (o.best, o.progression_day),
        (Response::Sd, None),
        "17% over the nadir is not progression, whatever the absolute increase"
    );
    // From the scenario file, with its default and its check.
    let base = "name = \"t\"\nhorizon_days = 50\n[model]\nname = \"kosinsky2018\"\n[[arm]]\nname = \"a\"\n[trial]\n";
    let parse = |extra: &str| {
        immunotrial::scenario::Scenario::parse(&format!("{base}{extra}"), "t.toml", &[])
    };
    assert_eq!(parse("").unwrap().trial.progression_min_increase_mm, 5.0);
    assert_eq!(
        parse("progression_min_increase_mm = 1\n")
            .unwrap()
            .trial
            .progression_min_increase_mm,
        1.0
    );
    let e = parse("progression_min_increase_mm = -1\n").unwrap_err();
    assert!(
        e.to_string().contains("trial.progression_min_increase_mm"),
        "{e}"
    );
}

/// Visits at days 0, 42, 84, ... with these diameters (baseline first).
fn visits(diameters: &[f64]) -> Vec<(f64, f64)> {
    diameters
        .iter()
        .enumerate()
        .map(|(i, &d)| (42.0 * i as f64, d))
        .collect()
}

#[test]
fn shrinkage_of_35_percent_is_pr_and_25_percent_is_sd() {
    let pr = assess(&visits(&[40.0, 26.0]), &rules(false));
    assert_eq!(pr.best, Response::Pr);
    assert!((pr.best_change_pct.unwrap() + 35.0).abs() < 1e-12);
    assert_eq!(pr.response_day, Some(42.0));
    let sd = assess(&visits(&[40.0, 30.0]), &rules(false));
    assert_eq!(sd.best, Response::Sd);
    assert_eq!(sd.response_day, None);
    // Exactly 30% is PR (RECIST: "at least a 30% decrease").
    assert_eq!(
        assess(&visits(&[40.0, 28.0]), &rules(false)).best,
        Response::Pr
    );
}

#[test]
fn growth_of_20_percent_but_under_5_mm_is_not_progression() {
    // 20 mm -> 24 mm: +20% but only +4 mm.
    let small = assess(&visits(&[20.0, 24.0]), &rules(false));
    assert_eq!(small.best, Response::Sd);
    assert_eq!(small.progression_day, None);
    // 30 mm -> 36 mm: +20% and +6 mm.
    let large = assess(&visits(&[30.0, 36.0]), &rules(false));
    assert_eq!(large.best, Response::Pd);
    assert_eq!(large.progression_day, Some(42.0));
}

#[test]
fn regrowth_from_the_nadir_is_progression_at_the_right_visit() {
    // 50 -> 30 (PR) -> 25 (nadir) -> 29 (+16%: SD... still PR vs baseline) -> 31 (+24%, +6 mm:
    // PD although still 38% below baseline).
    let o = assess(
        &visits(&[50.0, 30.0, 25.0, 29.0, 31.0, 20.0]),
        &rules(false),
    );
    assert_eq!(
        o.visits.iter().map(|v| v.1).collect::<Vec<_>>(),
        vec![Response::Pr, Response::Pr, Response::Pr, Response::Pd]
    );
    assert_eq!(o.progression_day, Some(168.0));
    assert_eq!(o.best, Response::Pr);
    // Assessment stops at progression: the later shrinkage is not seen.
    assert!((o.best_change_pct.unwrap() + 50.0).abs() < 1e-12);
    assert_eq!(o.last_assessment_day, 168.0);
}

#[test]
fn disappearance_below_the_detection_limit_is_cr() {
    let o = assess(&visits(&[30.0, 10.0, 4.0]), &rules(false));
    assert_eq!(o.best, Response::Cr);
    assert_eq!(o.response_day, Some(42.0)); // the first objective response (PR)
    // A disappeared lesion is recorded as 0 mm (RECIST 1.1, 3.3.2): a change of -100%.
    assert_eq!(o.recorded_mm, vec![10.0, 0.0]);
    assert_eq!(o.best_change_pct, Some(-100.0));
    // Regrowth from a CR is progression as soon as the lesion is seen again: at 6 mm, though
    // that is under 5 mm above its invisible size of 4 mm (which had been taken as the nadir,
    // so that progression came only at 9 mm).
    for regrown in [6.0, 9.5] {
        let r = assess(&visits(&[30.0, 4.0, 3.0, regrown]), &rules(false));
        assert_eq!(
            r.visits.iter().map(|v| v.1).collect::<Vec<_>>(),
            vec![Response::Cr, Response::Cr, Response::Pd],
            "{regrown}"
        );
        assert_eq!(r.progression_day, Some(126.0));
        assert_eq!(r.best, Response::Cr);
    }
    // Growing unseen below the detection limit stays CR.
    let unseen = assess(&visits(&[30.0, 2.0, 4.9]), &rules(false));
    assert_eq!(unseen.visits[1].1, Response::Cr);
    assert_eq!(unseen.progression_day, None);
}

#[test]
fn confirmation_needs_the_next_visit() {
    // PR then SD: unconfirmed, counts as SD.
    let unconfirmed = assess(&visits(&[40.0, 26.0, 30.0]), &rules(true));
    assert_eq!(unconfirmed.best, Response::Sd);
    assert_eq!(unconfirmed.response_day, None);
    // The same course without confirmation is a PR.
    assert_eq!(
        assess(&visits(&[40.0, 26.0, 30.0]), &rules(false)).best,
        Response::Pr
    );
    // PR then PR: confirmed at the first.
    let confirmed = assess(&visits(&[40.0, 26.0, 25.0]), &rules(true));
    assert_eq!(confirmed.best, Response::Pr);
    assert_eq!(confirmed.response_day, Some(42.0));
    // CR then CR is CR; PR then CR is a confirmed PR; CR then a reappearance is progression,
    // so the CR is unconfirmed (SD, six weeks in).
    assert_eq!(
        assess(&visits(&[30.0, 4.0, 3.0]), &rules(true)).best,
        Response::Cr
    );
    assert_eq!(
        assess(&visits(&[30.0, 15.0, 4.0]), &rules(true)).best,
        Response::Pr
    );
    let reappeared = assess(&visits(&[30.0, 4.0, 6.0]), &rules(true));
    assert_eq!(reappeared.best, Response::Sd);
    assert_eq!(reappeared.progression_day, Some(84.0));
    // A response at the last visit cannot be confirmed.
    assert_eq!(
        assess(&visits(&[40.0, 35.0, 20.0]), &rules(true)).best,
        Response::Sd
    );
    // PR followed by progression: unconfirmed; best SD.
    assert_eq!(
        assess(&visits(&[40.0, 20.0, 26.0]), &rules(true)).best,
        Response::Sd
    );
}

#[test]
fn confirmation_needs_four_weeks_and_stable_disease_six() {
    // PR at day 42 and again at day 56, only two weeks later, with nothing after: the
    // confirming visit must come at least 4 weeks later, so the PR is unconfirmed (SD).
    let close = [(0.0, 40.0), (42.0, 26.0), (56.0, 25.0)];
    assert_eq!(assess(&close, &rules(true)).best, Response::Sd);
    // With a visit at day 70 (28 days on) still PR, it is confirmed at day 42.
    let later = [(0.0, 40.0), (42.0, 26.0), (56.0, 25.0), (70.0, 25.0)];
    let o = assess(&later, &rules(true));
    assert_eq!((o.best, o.response_day), (Response::Pr, Some(42.0)));
    // Weekly visits: SD at days 7 to 35 and then progression is PD (SD never lasted the six
    // weeks); SD at day 7 with nothing after is NE; SD reaching day 42 is SD.
    let weekly = |d: &[f64]| -> Vec<(f64, f64)> {
        d.iter()
            .enumerate()
            .map(|(i, &x)| (7.0 * i as f64, x))
            .collect()
    };
    let early_pd = assess(
        &weekly(&[30.0, 31.0, 31.0, 32.0, 33.0, 34.0, 37.0]),
        &rules(false),
    );
    assert_eq!(early_pd.best, Response::Pd);
    assert_eq!(
        assess(&weekly(&[30.0, 31.0]), &rules(false)).best,
        Response::Ne
    );
    assert_eq!(
        assess(
            &weekly(&[30.0, 31.0, 31.0, 31.0, 31.0, 31.0, 31.0]),
            &rules(false)
        )
        .best,
        Response::Sd
    );
}

#[test]
fn no_assessment_after_baseline_is_not_evaluable() {
    assert_eq!(assess(&visits(&[30.0]), &rules(false)).best, Response::Ne);
    // A lesion below the detection limit at baseline is not measurable.
    assert_eq!(
        assess(&visits(&[4.0, 3.0]), &rules(false)).best,
        Response::Ne
    );
    // Nor is one of 8 mm (RECIST: 10 mm), though it shrinks by half; it can still progress.
    assert_eq!(
        assess(&visits(&[8.0, 4.0]), &rules(false)).best,
        Response::Ne
    );
    assert_eq!(
        assess(&visits(&[8.0, 14.0]), &rules(false)).best,
        Response::Pd
    );
    // Its progression counts though an earlier visit found it smaller or stable (it was NE,
    // found by an independent re-implementation), and its visits before are NE, not SD or PR.
    for course in [[8.0, 8.5, 14.0], [8.0, 4.0, 14.0], [8.0, 8.5, 8.5]] {
        let outcome = assess(&visits(&course), &rules(false));
        let progressed = course[2] == 14.0;
        assert_eq!(
            outcome.best,
            if progressed {
                Response::Pd
            } else {
                Response::Ne
            },
            "{course:?}"
        );
        assert_eq!(outcome.visits[0], (42.0, Response::Ne), "{course:?}");
        assert_eq!(
            outcome.visits[1].1,
            if progressed {
                Response::Pd
            } else {
                Response::Ne
            },
            "{course:?}"
        );
    }
    assert_eq!(
        assess(&visits(&[10.0, 6.0]), &rules(false)).best,
        Response::Pr
    );
}

/// An exponentially growing lesion sampled daily: V(t) = V0 exp(r t).
fn exponential_course(v0: f64, r: f64, horizon: f64) -> (Vec<f64>, Vec<f64>) {
    let days: Vec<f64> = (0..=horizon as usize).map(|d| d as f64).collect();
    let v = days.iter().map(|t| v0 * (r * t).exp()).collect();
    (days, v)
}

#[test]
fn tumour_death_is_where_the_burden_reaches_the_lethal_volume() {
    let mut s = spec();
    s.lethal_volume_ml = Some(100.0);
    let (v0, r, horizon) = (14_137.0, 0.01, 730.0);
    let (days, v) = exponential_course(v0, r, horizon);
    let schedule = visit_days(42.0, 84.0, horizon);
    let e = evaluate(&days, &v, &schedule, horizon, &s, NEVER).unwrap();
    // Closed form: V0 exp(r t) = 1e5 mm3; log-linear interpolation is exact for exponential
    // growth, so only rounding separates the two.
    let exact = (1e5_f64 / v0).ln() / r;
    assert!((e.os_day - exact).abs() < 1e-9, "{} vs {exact}", e.os_day);
    assert!(e.os_event);
    assert_eq!(e.death_cause, Some(DeathCause::Tumour));
    // The diameter grows 20% (and over 5 mm) when the volume grows 1.2^3: at day 54.7, found
    // at the visit of day 84.
    assert_eq!(e.best_response, Response::Sd);
    assert!(e.pfs_event);
    assert_eq!(e.pfs_day, 84.0);
    // A tumour at the lethal volume at baseline is not eligible: an error that says so.
    s.lethal_volume_ml = Some(10.0);
    let why = evaluate(&days, &v, &schedule, horizon, &s, NEVER).unwrap_err();
    assert!(
        why.contains("baseline") && why.contains("lethal_volume_ml"),
        "{why}"
    );
    // Nor is a patient without a tumour at baseline: every RECIST change is relative to it
    // (a tumour of 0 gave NaN percent changes in assessments.csv).
    s.lethal_volume_ml = None;
    for v0 in [0.0, -1.0, f64::NAN] {
        let mut empty = v.clone();
        empty[0] = v0;
        let why = evaluate(&days, &empty, &schedule, horizon, &s, NEVER).unwrap_err();
        assert!(
            why.contains("baseline") && why.contains("not eligible"),
            "{why}"
        );
    }
}

#[test]
fn background_death_and_dropout_end_follow_up() {
    let s = spec();
    let (days, v) = exponential_course(14_137.0, -0.001, 730.0);
    let schedule = assessment_days(&s, 730.0);
    // The schedule ends 672 days in; the end-of-study visit is at the horizon.
    assert_eq!(schedule[schedule.len() - 2..], [672.0, 730.0]);
    // Death from other causes at day 100: PFS and OS events at 100.
    let dead = evaluate(
        &days,
        &v,
        &schedule,
        730.0,
        &s,
        PatientTimes {
            background_death_day: 100.0,
            dropout_day: f64::INFINITY,
        },
    )
    .unwrap();
    assert_eq!((dead.pfs_day, dead.pfs_event), (100.0, true));
    assert_eq!((dead.os_day, dead.os_event), (100.0, true));
    assert_eq!(dead.death_cause, Some(DeathCause::Background));
    // Dropout at day 200 (before a death at 300): PFS censored at the last visit before it
    // (168), OS censored at 200, the death unseen.
    let lost = evaluate(
        &days,
        &v,
        &schedule,
        730.0,
        &s,
        PatientTimes {
            background_death_day: 300.0,
            dropout_day: 200.0,
        },
    )
    .unwrap();
    assert_eq!((lost.pfs_day, lost.pfs_event), (168.0, false));
    assert_eq!((lost.os_day, lost.os_event), (200.0, false));
    assert_eq!(lost.death_cause, None);
    // Nothing happens: censored at the last visit, the end of study, and at the horizon.
    let followed = evaluate(&days, &v, &schedule, 730.0, &s, NEVER).unwrap();
    assert_eq!((followed.pfs_day, followed.pfs_event), (730.0, false));
    assert_eq!((followed.os_day, followed.os_event), (730.0, false));
    // Without the end-of-study visit, PFS is censored at the last scheduled one.
    let mut no_final = spec();
    no_final.assessment_at_horizon = false;
    let without = assessment_days(&no_final, 730.0);
    let e = evaluate(&days, &v, &without, 730.0, &no_final, NEVER).unwrap();
    assert_eq!((e.pfs_day, e.pfs_event), (672.0, false));
    // Exponential times from uniforms: -ln(u) / (rate per day).
    let mut with_rates = spec();
    with_rates.background_mortality_per_year = 0.5;
    let t = PatientTimes::from_uniforms(&with_rates, (-1.0_f64).exp(), 0.3);
    assert!((t.background_death_day - 365.25 / 0.5).abs() < 1e-9);
    assert_eq!(t.dropout_day, f64::INFINITY);
}

/// A cohort stops a patient's solve at the first output where its follow-up is over (tumour
/// death, background death or dropout). The endpoints of the course cut there are those of the
/// whole course, over courses that die, shrink, shrink and regrow, or stay, with death and
/// dropout before, between and after the outputs that matter, and a crossing of the lethal
/// volume straddling the dropout day.
#[test]
fn a_course_cut_where_follow_up_is_over_has_the_endpoints_of_the_whole_course() {
    let horizon = 730.0;
    let mut with_death = spec();
    with_death.lethal_volume_ml = Some(50.0);
    let specs = [spec(), with_death];
    // Visit days among the daily outputs, as in a cohort run.
    let mut days: Vec<f64> = (0..=730).map(f64::from).collect();
    let schedule = assessment_days(&specs[0], horizon);
    for &v in &schedule {
        if !days.contains(&v) {
            days.push(v);
        }
    }
    days.sort_by(f64::total_cmp);
    let courses: Vec<Vec<f64>> = [
        (0.008, 0.0),   // grows to death in about 160 days
        (0.002, 0.0),   // grows, dies late or not at all
        (-0.01, 0.0),   // shrinks away
        (-0.02, 0.028), // shrinks, then regrows from day ~300
        (-0.001, 0.0),  // stays about the same
    ]
    .iter()
    .map(|&(r, r_late)| {
        days.iter()
            .map(|&t| {
                let late = (t - 300.0).max(0.0);
                14_137.0 * (r * t + r_late * late).exp()
            })
            .collect()
    })
    .collect();
    // The 0.008 course crosses 50 mL between days 157 and 158.
    let crossing = (50_000.0_f64 / 14_137.0).ln() / 0.008;
    let times = [
        NEVER,
        PatientTimes {
            background_death_day: 100.5,
            dropout_day: f64::INFINITY,
        },
        PatientTimes {
            background_death_day: f64::INFINITY,
            dropout_day: 60.0,
        },
        PatientTimes {
            background_death_day: 400.0,
            dropout_day: 250.25,
        },
        PatientTimes {
            background_death_day: f64::INFINITY,
            dropout_day: crossing - 0.3,
        },
        PatientTimes {
            background_death_day: crossing + 0.3,
            dropout_day: f64::INFINITY,
        },
    ];
    let mut cut_short = 0;
    for s in &specs {
        for v in &courses {
            for &t in &times {
                let stop = (0..days.len())
                    .find(|&i| t.follow_up_over(s, days[i], v[i]))
                    .map_or(days.len(), |i| i + 1);
                if stop < days.len() {
                    cut_short += 1;
                }
                let whole = evaluate(&days, v, &schedule, horizon, s, t);
                let cut = evaluate(&days[..stop], &v[..stop], &schedule, horizon, s, t);
                assert_eq!(whole, cut, "{t:?}, lethal {:?}", s.lethal_volume_ml);
            }
        }
    }
    // Cuts did happen (the comparison would be empty if the rule never fired): 5 courses
    // with each of the 5 patients who die or drop out, and the growing course with the lethal
    // volume, for the patient followed to the end.
    assert_eq!(cut_short, 2 * 5 * 5 + 2);
}

/// The edge of the rule above, found in review: death or dropout exactly on an output day,
/// with the tumour a rounding error below the lethal volume there and above it the next day.
/// The whole course's crossing rounds onto that very day (a tumour death, observed); a course
/// cut at that output would have missed it.
#[test]
fn a_crossing_that_rounds_onto_the_day_of_death_or_dropout_is_kept() {
    let mut s = spec();
    s.lethal_volume_ml = Some(50.0);
    let just_below = f64::from_bits(50_000.0_f64.to_bits() - 1);
    let (days, volume) = ([0.0, 100.0, 101.0], [10_000.0, just_below, 60_000.0]);
    for t in [
        PatientTimes {
            background_death_day: 100.0,
            dropout_day: f64::INFINITY,
        },
        PatientTimes {
            background_death_day: f64::INFINITY,
            dropout_day: 100.0,
        },
    ] {
        let stop = (0..days.len())
            .find(|&i| t.follow_up_over(&s, days[i], volume[i]))
            .map_or(days.len(), |i| i + 1);
        let whole = evaluate(&days, &volume, &[0.0], 730.0, &s, t).unwrap();
        assert_eq!(whole.death_cause, Some(DeathCause::Tumour), "{t:?}");
        let cut = evaluate(&days[..stop], &volume[..stop], &[0.0], 730.0, &s, t).unwrap();
        assert_eq!(cut, whole, "{t:?}");
    }
}

/// Halving every patient's growth rate doubles its time to progression. With times to
/// progression exponential in the control arm (rate 1/200 per day), the halved arm's are
/// exponential with rate 1/400: a hazard ratio of exactly 0.5 and a median twice as long.
/// Assessments are daily so that visit rounding (at most a day on medians of 139 and 277
/// days) stays below the statistical error.
#[test]
fn halving_the_growth_rate_halves_the_hazard_and_doubles_the_median() {
    use rand::{RngExt, SeedableRng};
    let mut s = spec();
    s.assessment_every_day = 1.0;
    s.assessment_every_day_after_year = 1.0;
    let horizon = 3000.0;
    let schedule = visit_days(1.0, 1.0, horizon);
    let n = 2000;
    let mut rng = rand::rngs::ChaCha12Rng::seed_from_u64(20261129);
    // The diameter reaches 1.2x baseline (3 cm: +6 mm) when r t = 3 ln 1.2.
    let threshold = 3.0 * 1.2_f64.ln();
    let mut arms = vec![
        ArmRecords {
            name: "control".into(),
            patients: Vec::new(),
        },
        ArmRecords {
            name: "halved".into(),
            patients: Vec::new(),
        },
    ];
    let volume_3cm = std::f64::consts::PI / 6.0 * 27_000.0;
    for patient in 0..n {
        let t_progression = -200.0 * (1.0 - rng.random::<f64>()).ln();
        let r = threshold / t_progression;
        for (arm, rate) in [(0, r), (1, r / 2.0)] {
            let (days, v) = exponential_course(volume_3cm, rate, horizon);
            let e = evaluate(&days, &v, &schedule, horizon, &s, NEVER).unwrap();
            arms[arm].patients.push(PatientRecord {
                patient,
                failed: false,
                ineligible: false,
                best_response: e.best_response,
                best_change_pct: e.best_change_pct,
                response_day: e.response_day,
                pfs: immunotrial::trial::survival::Observation {
                    time: e.pfs_day,
                    event: e.pfs_event,
                },
                os: immunotrial::trial::survival::Observation {
                    time: e.os_day,
                    event: e.os_event,
                },
            });
        }
    }
    let a = analyse(&arms, &s, horizon, 7);
    let fit = a.arms[1]
        .pfs_vs_control
        .and_then(|c| c.cox)
        .expect("a hazard ratio");
    // Within 3 standard errors of log 0.5 (the fit's own SE, ~0.032 for 2 x 2000 events).
    assert!(
        (fit.coef - 0.5_f64.ln()).abs() < 3.0 * fit.se,
        "HR {} (log {}, se {})",
        fit.hr,
        fit.coef,
        fit.se
    );
    // Medians: in continuous time exactly 2x (the same patients, each time doubled); daily
    // visits round each up by under a day.
    let m0 = a.arms[0].pfs.median_day.value.expect("median reached");
    let m1 = a.arms[1].pfs.median_day.value.expect("median reached");
    println!(
        "HR {:.4} ({:.4} to {:.4}); medians {m0} and {m1} days",
        fit.hr, fit.hr_lower, fit.hr_upper
    );
    assert!(
        (m1 / m0 - 2.0).abs() < 2.0 / m0,
        "medians {m0} and {m1}: ratio {}",
        m1 / m0
    );
    // The exponential median is 200 ln 2 = 138.6 days; the sample's within 3 SE (SE of a
    // median of n exponentials: median / sqrt(n ln(2)^2) ~ 0.032 x median).
    assert!((m0 / (200.0 * 2.0_f64.ln()) - 1.0).abs() < 3.0 * 0.033);
    // Every patient progresses; nobody responds.
    assert_eq!(a.arms[0].pfs.events, n);
    assert_eq!(a.arms[0].orr.value, Some(0.0));
    // The halved arm is best in (nearly) every bootstrap replicate; the probabilities sum to 1.
    assert!(a.arms[1].p_best > 0.99);
    assert!((a.arms[0].p_best + a.arms[1].p_best - 1.0).abs() < 1e-12);
}

fn record(patient: u64, pfs: (f64, bool), failed: bool) -> PatientRecord {
    let o = immunotrial::trial::survival::Observation {
        time: pfs.0,
        event: pfs.1,
    };
    PatientRecord {
        patient,
        failed,
        ineligible: false,
        best_response: if failed { Response::Ne } else { Response::Sd },
        best_change_pct: (!failed).then_some(0.0),
        response_day: None,
        pfs: o,
        os: o,
    }
}

/// An arm whose every patient failed, an arm without events and arms that separate perfectly
/// give empty estimates, never a best rank or a spurious hazard ratio.
#[test]
fn degenerate_arms_give_empty_estimates_not_false_ones() {
    let arm = |name: &str, patients: Vec<PatientRecord>| ArmRecords {
        name: name.into(),
        patients,
    };
    let arms = vec![
        // Control: progression on days 1 to 20.
        arm(
            "control",
            (0..20)
                .map(|i| record(i, (1.0 + i as f64, true), false))
                .collect(),
        ),
        // Every patient failed.
        arm(
            "failed",
            (0..20).map(|i| record(i, (0.0, false), true)).collect(),
        ),
        // No event: everyone censored at day 100.
        arm(
            "no events",
            (0..20).map(|i| record(i, (100.0, false), false)).collect(),
        ),
        // Perfectly separated from control: progression on days 30 to 49, after every control
        // patient has progressed; the Cox estimate runs off to 0.
        arm(
            "separated",
            (0..20)
                .map(|i| record(i, (30.0 + i as f64, true), false))
                .collect(),
        ),
    ];
    let a = analyse(&arms, &spec(), 100.0, 11);
    let failed = &a.arms[1];
    assert_eq!((failed.n, failed.failed), (0, 20));
    assert_eq!(failed.p_best, 0.0);
    assert!(failed.pfs.rmst_day.is_nan());
    assert_eq!(failed.orr.value, None);
    assert!(failed.pfs_vs_control.and_then(|c| c.cox).is_none());
    assert!(a.arms[2].pfs_vs_control.and_then(|c| c.cox).is_none());
    assert!(a.arms[2].pfs_vs_control.and_then(|c| c.log_rank).is_some());
    assert!(
        a.arms[3].pfs_vs_control.and_then(|c| c.cox).is_none(),
        "{:?}",
        a.arms[3].pfs_vs_control
    );
    // Without events the median is not reached, and the arm that never progresses is best.
    assert_eq!(a.arms[2].pfs.median_day.value, None);
    assert_eq!(a.arms[2].p_best, 1.0);
    let total: f64 = a.arms.iter().map(|x| x.p_best).sum();
    assert!((total - 1.0).abs() < 1e-12);
    // Followed past six months without an event: the 6-month rate is 100% with no interval
    // (undefined where S is 1, R's NA), not an interval from 100% to 100%.
    let followed = vec![
        arm(
            "control",
            (0..20)
                .map(|i| record(i, (10.0 * (1.0 + i as f64), true), false))
                .collect(),
        ),
        arm(
            "no events",
            (0..20).map(|i| record(i, (400.0, false), false)).collect(),
        ),
    ];
    let a = analyse(&followed, &spec(), 400.0, 11);
    let six_months = &a.arms[1].pfs.rates[0];
    assert_eq!(
        (six_months.value, six_months.lower, six_months.upper),
        (Some(1.0), None, None)
    );
    // Where S is between 0 and 1 the interval is there.
    let control = &a.arms[0].pfs.rates[0];
    assert!(
        control.lower.is_some() && control.upper.is_some(),
        "{control:?}"
    );
}

/// `power` counts rejections in favour of the experimental arm, at a two-sided alpha: between
/// two identical arms that is alpha/2 of the replicates, for the log-rank test and for the
/// ORR test alike (the README says so; a user audit measured 0.025 and took it for a bug).
/// Both arms are the same pool of 3,000 patients, so the null holds exactly. Tolerance: 4
/// Monte Carlo standard errors of a share of 0.025 over 4,000 replicates (0.0099).
#[test]
fn power_between_identical_arms_is_half_alpha() {
    use immunotrial::trial::power::{SurvivalEndpoint, power};
    use immunotrial::trial::survival::Observation;
    use rand::{RngExt, SeedableRng};
    let mut rng = rand::rngs::ChaCha12Rng::seed_from_u64(11);
    let patients: Vec<PatientRecord> = (0..3000)
        .map(|patient| {
            let t: f64 = -200.0 * (1.0 - rng.random::<f64>()).ln();
            let o = Observation {
                time: t.min(730.0),
                event: t < 730.0,
            };
            let responds = rng.random::<f64>() < 0.3;
            PatientRecord {
                patient,
                failed: false,
                ineligible: false,
                best_response: if responds { Response::Pr } else { Response::Sd },
                best_change_pct: Some(if responds { -40.0 } else { 0.0 }),
                response_day: responds.then_some(42.0),
                pfs: o,
                os: o,
            }
        })
        .collect();
    let arm = |name: &str| ArmRecords {
        name: name.into(),
        patients: patients.clone(),
    };
    let reps = 4000;
    let curve = power(
        &arm("a"),
        &arm("b"),
        &[100],
        0.05,
        reps,
        SurvivalEndpoint::Pfs,
        5,
    );
    let p = curve.points[0];
    println!(
        "log-rank {} (se {}), ORR {} (se {})",
        p.log_rank, p.log_rank_se, p.orr, p.orr_se
    );
    let se = (0.025_f64 * 0.975 / reps as f64).sqrt();
    for (test, share) in [("log-rank", p.log_rank), ("ORR", p.orr)] {
        assert!(
            (share - 0.025).abs() < 4.0 * se,
            "{test}: {share} against 0.025 +- {}",
            4.0 * se
        );
    }
}
