//! Survival statistics against R's `survival` package (3.5-3): Kaplan–Meier with Greenwood
//! log-log bands, medians and their intervals, landmarks, RMST; the log-rank test; Cox
//! models with Efron and Breslow ties; Clopper–Pearson and Newcombe intervals.
//!
//! The expected values are in tests/fixtures/survival/reference.json, made once by
//! `Rscript tests/fixtures/survival/make_reference.R` and cross-checked against lifelines and
//! statsmodels (tests/fixtures/survival/README.md).
//!
//! Tolerances: the closed forms (KM, Greenwood, bands, log-rank, binomial intervals) are the
//! same arithmetic as R's up to summation order, so they must agree to 1e-9 relative; the Cox
//! fit is iterative (R stopped at a relative log-likelihood change of 1e-11, so its
//! coefficient is converged to well under 1e-6) and is held to the 1e-6.

use immunotrial::trial::binomial::{clopper_pearson, newcombe_difference};
use immunotrial::trial::compare::{Ties, cox, log_rank};
use immunotrial::trial::survival::{KaplanMeier, Observation};
use serde_json::Value;

fn reference() -> Value {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/survival/reference.json"
    ))
    .expect("the fixture file is committed");
    serde_json::from_str(&text).expect("valid JSON")
}

fn numbers(v: &Value) -> Vec<Option<f64>> {
    v.as_array()
        .expect("an array")
        .iter()
        .map(Value::as_f64)
        .collect()
}

/// `got` equals R's `want` to `rel` relative (absolute near zero); R's NA (null) is `None`.
fn close(what: &str, got: Option<f64>, want: Option<f64>, rel: f64) {
    match (got, want) {
        (Some(g), Some(w)) => assert!(
            (g - w).abs() <= rel * w.abs().max(1e-3),
            "{what}: {g} vs R {w} (difference {:e})",
            g - w
        ),
        (None, None) => {}
        _ => panic!("{what}: {got:?} vs R {want:?}"),
    }
}

fn observations(dataset: &Value, group: Option<u64>) -> Vec<Observation> {
    let time = numbers(&dataset["time"]);
    let event = numbers(&dataset["event"]);
    let groups = dataset.get("group").map(numbers);
    (0..time.len())
        .filter(|&i| match (group, &groups) {
            (Some(g), Some(gs)) => gs[i] == Some(g as f64),
            _ => true,
        })
        .map(|i| Observation {
            time: time[i].expect("a time"),
            event: event[i] == Some(1.0),
        })
        .collect()
}

fn two_groups(dataset: &Value) -> (Vec<Observation>, Vec<Observation>) {
    (
        observations(dataset, Some(0)),
        observations(dataset, Some(1)),
    )
}

const EXACT: f64 = 1e-9;

#[test]
fn kaplan_meier_equals_r() {
    let r = reference();
    let fits = r["kaplan_meier"].as_object().expect("kaplan_meier");
    assert_eq!(fits.len(), 6);
    for (name, fit) in fits {
        let dataset = &r["datasets"][fit["dataset"].as_str().expect("dataset name")];
        let group = fit["group"].as_u64();
        let km = KaplanMeier::fit(&observations(dataset, group));
        let want = &fit["km"];
        let times = numbers(&want["time"]);
        assert_eq!(km.steps.len(), times.len(), "{name}: number of times");
        let columns = [
            "n_risk", "n_event", "n_censor", "surv", "std_err", "lower", "upper",
        ];
        let expected: Vec<Vec<Option<f64>>> = columns.iter().map(|c| numbers(&want[*c])).collect();
        for (i, step) in km.steps.iter().enumerate() {
            let (lower, upper) = step.interval();
            let s = step.survival;
            let got = [
                Some(step.at_risk),
                Some(step.events),
                Some(step.censored),
                Some(s),
                Some(step.std_err()).filter(|x| x.is_finite()),
                // R leaves the band undefined where S is 1 or 0.
                Some(lower).filter(|_| s > 0.0 && s < 1.0),
                Some(upper).filter(|_| s > 0.0 && s < 1.0),
            ];
            close(&format!("{name} time"), Some(step.time), times[i], EXACT);
            for (c, column) in columns.iter().enumerate() {
                close(
                    &format!("{name} {column} at {}", step.time),
                    got[c],
                    expected[c][i],
                    EXACT,
                );
            }
        }
        let (median, lo, hi) = km.median();
        close(
            &format!("{name} median"),
            median,
            fit["median"].as_f64(),
            EXACT,
        );
        close(
            &format!("{name} median lower"),
            lo,
            fit["median_lower"].as_f64(),
            EXACT,
        );
        close(
            &format!("{name} median upper"),
            hi,
            fit["median_upper"].as_f64(),
            EXACT,
        );
        for rm in fit["rmst"].as_array().expect("rmst") {
            let tau = rm["tau"].as_f64().expect("tau");
            let (value, se) = km.rmst(tau);
            close(
                &format!("{name} rmst to {tau}"),
                Some(value),
                rm["rmean"].as_f64(),
                EXACT,
            );
            close(
                &format!("{name} se(rmst) to {tau}"),
                Some(se),
                rm["se_rmean"].as_f64(),
                EXACT,
            );
        }
        for lm in fit["landmarks"].as_array().expect("landmarks") {
            let t = lm["time"].as_f64().expect("time");
            let (s, lo, hi) = km.survival_with_interval_at(t);
            close(
                &format!("{name} S({t})"),
                Some(s),
                lm["surv"].as_f64(),
                EXACT,
            );
            close(
                &format!("{name} lower({t})"),
                Some(lo),
                lm["lower"].as_f64(),
                EXACT,
            );
            close(
                &format!("{name} upper({t})"),
                Some(hi),
                lm["upper"].as_f64(),
                EXACT,
            );
        }
    }
}

#[test]
fn log_rank_equals_r() {
    let r = reference();
    let tests = r["logrank"].as_object().expect("logrank");
    assert_eq!(tests.len(), 3);
    for (name, want) in tests {
        let (control, treatment) = two_groups(&r["datasets"][name]);
        let got = log_rank(&control, &treatment).expect("events");
        close(
            &format!("{name} chisq"),
            Some(got.chisq),
            want["chisq"].as_f64(),
            EXACT,
        );
        close(&format!("{name} p"), Some(got.p), want["p"].as_f64(), EXACT);
        let expected = numbers(&want["expected"]);
        for (arm, (g, w)) in got.expected.iter().zip(&expected).enumerate() {
            close(&format!("{name} expected[{arm}]"), Some(*g), *w, EXACT);
        }
    }
    // lifelines' documented example, to the digits its documentation prints.
    let (control, treatment) = two_groups(&r["datasets"]["lifelines_logrank"]);
    let got = log_rank(&control, &treatment).expect("events");
    assert_eq!(format!("{:.4}", got.chisq), "0.0873");
    assert_eq!(format!("{:.4}", got.p), "0.7677");
}

#[test]
fn cox_equals_r_with_efron_and_breslow_ties() {
    let r = reference();
    let fits = r["cox"].as_object().expect("cox");
    assert_eq!(fits.len(), 3);
    for (name, fit) in fits {
        let (control, treatment) = two_groups(&r["datasets"][name]);
        for (ties, key) in [(Ties::Efron, "efron"), (Ties::Breslow, "breslow")] {
            let want = &fit[key];
            let got = cox(&control, &treatment, ties).expect("estimable");
            let what = |q: &str| format!("{name} {key} {q}");
            close(&what("coef"), Some(got.coef), want["coef"].as_f64(), 1e-6);
            close(&what("se"), Some(got.se), want["se"].as_f64(), 1e-6);
            close(&what("hr"), Some(got.hr), want["hr"].as_f64(), 1e-6);
            close(
                &what("hr_lower"),
                Some(got.hr_lower),
                want["hr_lower"].as_f64(),
                1e-6,
            );
            close(
                &what("hr_upper"),
                Some(got.hr_upper),
                want["hr_upper"].as_f64(),
                1e-6,
            );
            close(&what("p"), Some(got.wald_p), want["wald_p"].as_f64(), 1e-6);
            close(
                &what("loglik"),
                Some(got.log_likelihood),
                want["loglik"].as_f64(),
                1e-9,
            );
        }
    }
}

#[test]
fn binomial_intervals_equal_r() {
    let r = reference();
    let cases = r["clopper_pearson"].as_array().expect("clopper_pearson");
    assert_eq!(cases.len(), 6);
    for c in cases {
        let (x, n) = (c["x"].as_u64().expect("x"), c["n"].as_u64().expect("n"));
        let (lo, hi) = clopper_pearson(x, n);
        close(
            &format!("CP {x}/{n} lower"),
            Some(lo),
            c["lower"].as_f64(),
            EXACT,
        );
        close(
            &format!("CP {x}/{n} upper"),
            Some(hi),
            c["upper"].as_f64(),
            EXACT,
        );
    }
    let cases = r["newcombe_diff"].as_array().expect("newcombe_diff");
    assert_eq!(cases.len(), 4);
    for c in cases {
        let get = |k: &str| c[k].as_u64().expect("count");
        let (x1, n1, x2, n2) = (get("x1"), get("n1"), get("x2"), get("n2"));
        let (d, lo, hi) = newcombe_difference(x1, n1, x2, n2);
        let what = format!("Newcombe {x1}/{n1} - {x2}/{n2}");
        close(&what, Some(d), c["diff"].as_f64(), EXACT);
        close(
            &format!("{what} lower"),
            Some(lo),
            c["lower"].as_f64(),
            EXACT,
        );
        close(
            &format!("{what} upper"),
            Some(hi),
            c["upper"].as_f64(),
            EXACT,
        );
    }
}
