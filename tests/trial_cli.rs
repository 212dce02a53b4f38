//! The virtual trial from the command line: the files a cohort run writes, their agreement
//! with each other, their independence from the thread count, `analyse` and `power`.
use std::path::{Path, PathBuf};
use std::process::Command;

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_immunotrial"))
}

fn fresh_dir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("immunotrial-trial-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    d
}

fn tnbc() -> PathBuf {
    model_file("tnbc_combinations.toml")
}

fn model_file(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("models")
        .join(name)
}

fn run(out: &Path, extra: &[&str]) {
    let o = bin()
        .arg("run")
        .arg(tnbc())
        .args(["--patients", "40", "--out"])
        .arg(out)
        .args(extra)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
}

const TRIAL_FILES: [&str; 4] = ["arms.csv", "summary.json", "km_pfs.csv", "km_os.csv"];

#[test]
fn a_cohort_run_writes_the_trial_and_its_files_agree() {
    let one = fresh_dir("threads1");
    let two = fresh_dir("threads2");
    run(&one, &["--threads", "1"]);
    run(&two, &["--threads", "2"]);
    // The bootstrap and everything else: the same bytes whatever the thread count.
    for f in TRIAL_FILES {
        assert_eq!(
            std::fs::read(one.join(f)).unwrap(),
            std::fs::read(two.join(f)).unwrap(),
            "{f}"
        );
    }

    // patients.csv has the trial's columns.
    let mut patients = csv::Reader::from_path(one.join("patients.csv")).unwrap();
    let header = patients.headers().unwrap().clone();
    for c in [
        "best_response",
        "best_change_pct",
        "response_day",
        "response_duration_days",
        "pfs_day",
        "pfs_event",
        "os_day",
        "os_event",
    ] {
        assert!(header.iter().any(|h| h == c), "patients.csv lacks {c}");
    }

    // arms.csv: the documented columns first, in order; one row per arm.
    let mut arms = csv::Reader::from_path(one.join("arms.csv")).unwrap();
    let head: Vec<String> = arms.headers().unwrap().iter().map(String::from).collect();
    let fixed = "arm,n,failed,orr,orr_lo,orr_hi,dcr,median_pfs_day,median_pfs_lo,median_pfs_hi,\
                 median_os_day,median_os_lo,median_os_hi,hr_pfs,hr_pfs_lo,hr_pfs_hi,\
                 logrank_pfs_chisq,logrank_pfs_p,hr_os,hr_os_lo,hr_os_hi,logrank_os_chisq,\
                 logrank_os_p,p_best";
    assert_eq!(head[..24].join(","), fixed);
    let rows: Vec<csv::StringRecord> = arms.records().map(|r| r.unwrap()).collect();
    assert_eq!(rows.len(), 6);
    let col = |name: &str| head.iter().position(|h| h == name).unwrap();
    // The control (nab-paclitaxel) has no hazard ratio against itself; the others do.
    let control = rows.iter().find(|r| &r[0] == "nab-paclitaxel").unwrap();
    assert!(control[col("hr_pfs")].is_empty() && control[col("logrank_pfs_p")].is_empty());
    let combo = rows
        .iter()
        .find(|r| &r[0] == "pembrolizumab + nab-paclitaxel")
        .unwrap();
    assert!(!combo[col("hr_pfs")].is_empty() && !combo[col("logrank_pfs_p")].is_empty());
    // Probabilities of being best sum to 1.
    let p_sum: f64 = rows
        .iter()
        .map(|r| r[col("p_best")].parse::<f64>().unwrap())
        .sum();
    assert!((p_sum - 1.0).abs() < 1e-9, "p_best sums to {p_sum}");

    // summary.json holds the same numbers, nested by arm.
    let summary: serde_json::Value =
        serde_json::from_slice(&std::fs::read(one.join("summary.json")).unwrap()).unwrap();
    assert_eq!(summary["control"], "nab-paclitaxel");
    for (row, arm) in rows.iter().zip(summary["arms"].as_array().unwrap()) {
        assert_eq!(arm["arm"].as_str().unwrap(), &row[0]);
        let same = |csv_value: &str, json: &serde_json::Value| match json.as_f64() {
            Some(x) => assert_eq!(csv_value.parse::<f64>().unwrap(), x),
            None => assert!(json.is_null() && csv_value.is_empty()),
        };
        same(&row[col("n")], &arm["n"]);
        same(&row[col("orr")], &arm["orr"]["value"]);
        same(&row[col("orr_lo")], &arm["orr"]["lower"]);
        same(
            &row[col("median_pfs_day")],
            &arm["pfs"]["median_day"]["value"],
        );
        same(&row[col("median_os_hi")], &arm["os"]["median_day"]["upper"]);
        same(&row[col("p_best")], &arm["p_best"]);
        let hr = &arm["pfs_vs_control"]["hazard_ratio"]["value"];
        same(&row[col("hr_pfs")], hr);
    }

    // Kaplan–Meier tables start every arm at S = 1 on day 0, and S never rises.
    let mut km = csv::Reader::from_path(one.join("km_pfs.csv")).unwrap();
    let mut last: Option<(String, f64)> = None;
    for r in km.records() {
        let r = r.unwrap();
        let s: f64 = r[5].parse().unwrap();
        match &last {
            Some((arm, previous)) if arm == &r[0] => assert!(s <= *previous),
            _ => assert_eq!((&r[1], s), ("0", 1.0), "first row of {}", &r[0]),
        }
        last = Some((r[0].to_string(), s));
    }

    // `analyse` rebuilds the same files from patients.csv without simulating.
    for f in TRIAL_FILES {
        std::fs::remove_file(one.join(f)).unwrap();
    }
    let o = bin().arg("analyse").arg(&one).output().unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    for f in TRIAL_FILES {
        assert_eq!(
            std::fs::read(one.join(f)).unwrap(),
            std::fs::read(two.join(f)).unwrap(),
            "{f} rebuilt"
        );
    }

    // `power` from the run: reproducible, and power grows with the trial size.
    let power = |dir: &Path| {
        let o = bin()
            .arg("power")
            .arg(dir)
            .args([
                "--arm",
                "pembrolizumab + RT 3 x 8 Gy",
                "--vs",
                "nab-paclitaxel",
                "--n",
                "5,40",
                "--reps",
                "400",
            ])
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        String::from_utf8(o.stdout).unwrap()
    };
    let text = power(&one);
    assert_eq!(text, power(&one));
    let powers: Vec<f64> = text
        .lines()
        .filter(|l| l.trim_start().starts_with(['5', '4']))
        .map(|l| l.split_whitespace().nth(1).unwrap().parse().unwrap())
        .collect();
    assert_eq!(powers.len(), 2, "{text}");
    assert!(powers[1] > powers[0], "{text}");
    assert!(text.contains("smallest n per arm for 80% power"), "{text}");
    // An arm that is not in the run is an error that says so.
    let o = bin()
        .arg("power")
        .arg(&one)
        .args(["--arm", "no such arm", "--vs", "untreated", "--n", "10"])
        .output()
        .unwrap();
    assert!(!o.status.success());
    assert!(String::from_utf8_lossy(&o.stderr).contains("no such arm"));
    // A trial size beyond any real trial is refused up front: near 2^64 it overflowed an
    // allocation (a panic), at 10^8 it asked for 4.8 GB (found by fuzzing).
    for n in ["1000001", "18446744073709551615"] {
        let o = bin()
            .arg("power")
            .arg(&one)
            .args(["--arm", "untreated", "--vs", "nab-paclitaxel", "--n", n])
            .args(["--reps", "1"])
            .output()
            .unwrap();
        assert_eq!(o.status.code(), Some(2), "--n {n}");
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(
            err.contains("--n: expected at most 1000000") && err.contains(n),
            "{err}"
        );
    }

    // A damaged patients.csv is an error naming the line, never a hang or a panic.
    let text = std::fs::read_to_string(one.join("patients.csv")).unwrap();
    let pfs_column = header.iter().position(|h| h == "pfs_day").unwrap();
    let mut lines: Vec<String> = text.lines().map(String::from).collect();
    let mut fields: Vec<String> = lines[3].split(',').map(String::from).collect();
    fields[pfs_column] = "NaN".into();
    lines[3] = fields.join(",");
    std::fs::write(one.join("patients.csv"), lines.join("\n") + "\n").unwrap();
    let o = bin().arg("analyse").arg(&one).output().unwrap();
    assert!(!o.status.success());
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("patients.csv:4:") && err.contains("NaN"),
        "{err}"
    );

    // Best changes near f64::MAX gave an infinite median (the two middle values summed
    // before halving), and a change below -100% is impossible (both found by fuzzing).
    let text = std::fs::read_to_string(two.join("patients.csv")).unwrap();
    let change_column = header.iter().position(|h| h == "best_change_pct").unwrap();
    let with_change = |value: &str, rows: &dyn Fn(usize) -> bool| -> String {
        let lines: Vec<String> = text
            .lines()
            .enumerate()
            .map(|(i, line)| {
                if i == 0 || !rows(i) {
                    return line.to_string();
                }
                let mut fields: Vec<&str> = line.split(',').collect();
                fields[change_column] = value;
                fields.join(",")
            })
            .collect();
        lines.join("\n") + "\n"
    };
    std::fs::write(two.join("patients.csv"), with_change("1e308", &|_| true)).unwrap();
    let o = bin().arg("analyse").arg(&two).output().unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let arms = std::fs::read_to_string(two.join("arms.csv")).unwrap();
    assert!(arms.contains("1e308") && !arms.contains("inf"), "{arms}");
    std::fs::write(two.join("patients.csv"), with_change("-150", &|i| i == 5)).unwrap();
    let o = bin().arg("analyse").arg(&two).output().unwrap();
    assert!(!o.status.success());
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("patients.csv:6:") && err.contains("at least -100") && err.contains("-150"),
        "{err}"
    );

    for d in [one, two] {
        let _ = std::fs::remove_dir_all(d);
    }
}

#[test]
fn trial_settings_are_validated_with_their_line() {
    let dir = fresh_dir("bad-trial");
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("bad.toml");
    std::fs::write(
        &file,
        r#"name = "bad trial"
horizon_days = 100
[model]
name = "kuznetsov1994"
[[arm]]
name = "untreated"
[trial]
control = "placebo"
primary = "dfs"
dropout_per_year = -1
"#,
    )
    .unwrap();
    let o = bin().arg("validate").arg(&file).output().unwrap();
    assert!(!o.status.success());
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains(":8:") && err.contains("trial.control") && err.contains("`untreated`"),
        "{err}"
    );
    assert!(
        err.contains(":9:") && err.contains("\"pfs\", \"os\" or \"orr\""),
        "{err}"
    );
    assert!(
        err.contains(":10:") && err.contains("trial.dropout_per_year"),
        "{err}"
    );
    let _ = std::fs::remove_dir_all(dir);
}

/// Landmarks in months or in days, in increasing order, each above 0; not both kinds.
#[test]
fn landmarks_are_validated_with_their_line() {
    let dir = fresh_dir("bad-landmarks");
    std::fs::create_dir_all(&dir).unwrap();
    let head = "name = \"bad landmarks\"\nhorizon_days = 100\n[model]\nname = \"kuznetsov1994\"\n[[arm]]\nname = \"untreated\"\n[trial]\n";
    let cases = [
        (
            "landmark_months = [1, 2]\nlandmark_days = [30]\n",
            ":9:",
            "trial.landmark_days",
            "not both",
        ),
        (
            "landmark_days = [30, 20]\n",
            ":8:",
            "trial.landmark_days[1]",
            "increasing order, found 20 after 30",
        ),
        (
            "landmark_months = [0, 2]\n",
            ":8:",
            "trial.landmark_months[0]",
            "above 0",
        ),
        (
            "landmark_days = [30, 200]\n",
            ":8:",
            "trial.landmark_days[1]",
            "a landmark at day 200 lies beyond the horizon, day 100",
        ),
        (
            "landmark_days = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13]\n",
            ":8:",
            "trial.landmark_days",
            "at most 12 landmarks, found 13",
        ),
    ];
    for (extra, line, key, words) in cases {
        let file = dir.join("bad.toml");
        std::fs::write(&file, format!("{head}{extra}")).unwrap();
        let o = bin().arg("validate").arg(&file).output().unwrap();
        assert!(!o.status.success(), "{extra}");
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(
            err.contains(line) && err.contains(&format!("`{key}`")) && err.contains(words),
            "{extra}: {err}"
        );
        // One error each: a 0 is not also out of order.
        assert_eq!(err.matches("error:").count(), 1, "{extra}: {err}");
    }
    let _ = std::fs::remove_dir_all(dir);
}

/// Landmarks in days (a mouse study has no 6-month landmark): arms.csv gains one PFS and one
/// OS column per landmark, each the Kaplan–Meier estimate that km_pfs.csv and km_os.csv
/// tabulate at that day (the last step at or before it), and summary.json and the report
/// name them; the resolved scenario keeps them, so that `analyse` writes the same arms.csv.
#[test]
fn landmarks_in_days_are_reported_from_the_kaplan_meier_tables() {
    let out = fresh_dir("landmark-days");
    let o = bin()
        .arg("run")
        .arg(model_file("kosinsky2018_virtual_study.toml"))
        .args([
            "--patients",
            "200",
            "--quiet",
            "--set",
            "trial.landmark_days=[10, 40.5]",
        ])
        .arg("--out")
        .arg(&out)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let mut reader = csv::Reader::from_path(out.join("arms.csv")).unwrap();
    let header = reader.headers().unwrap().clone();
    let arms: Vec<csv::StringRecord> = reader.records().map(|r| r.unwrap()).collect();
    let column = |name: &str| header.iter().position(|h| h == name).unwrap();
    assert!(!header.iter().any(|h| h.ends_with("_6m")), "{header:?}");
    let (mut compared, mut ended_at_zero) = (0, 0);
    for endpoint in ["pfs", "os"] {
        let km: Vec<csv::StringRecord> =
            csv::Reader::from_path(out.join(format!("km_{endpoint}.csv")))
                .unwrap()
                .records()
                .map(|r| r.unwrap())
                .collect();
        for (day, label) in [(10.0, "10d"), (40.5, "40.5d")] {
            for arm in &arms {
                let reported = &arm[column(&format!("{endpoint}_{label}"))];
                // The step of the arm's curve at the landmark: the last row at or before it.
                let step = km
                    .iter()
                    .rfind(|r| r[0] == arm[0] && r[1].parse::<f64>().unwrap() <= day)
                    .expect("every curve starts at day 0");
                // Follow-up ends before the landmark: S is still known where the curve has
                // fallen to 0 (its last row), and unknown (empty) otherwise.
                let last = km.iter().rfind(|r| r[0] == arm[0]).unwrap();
                let expected: f64 = step[5].parse().unwrap();
                if last[1].parse::<f64>().unwrap() < day && expected > 0.0 {
                    assert_eq!(reported, "", "{endpoint} at day {day} in {}", &arm[0]);
                    continue;
                }
                if expected == 0.0 {
                    ended_at_zero += 1;
                }
                let got: f64 = reported
                    .parse()
                    .unwrap_or_else(|_| panic!("{endpoint} {label} {arm:?}"));
                assert_eq!(got, expected, "{endpoint} at day {day} in {}", &arm[0]);
                compared += 1;
            }
        }
    }
    assert!(compared >= 8, "only {compared} landmark values compared");
    // The control animals have all died by day 40.5: that rate is 0, not unknown.
    assert!(ended_at_zero >= 1, "no curve had fallen to 0 by a landmark");
    let summary: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("summary.json")).unwrap()).unwrap();
    let rates = &summary["arms"][0]["pfs"]["rates"];
    assert_eq!(
        (rates[0]["day"].as_f64(), rates[1]["day"].as_f64()),
        (Some(10.0), Some(40.5))
    );
    let report = std::fs::read_to_string(out.join("report.html")).unwrap();
    assert!(report.contains("<th>PFS day 10, % (95% CI)</th><th>PFS day 40.5</th>"));
    let resolved = std::fs::read_to_string(out.join("scenario.resolved.toml")).unwrap();
    assert!(
        resolved.contains("landmark_days = [10.0, 40.5]"),
        "{resolved}"
    );
    let before = std::fs::read(out.join("arms.csv")).unwrap();
    let o = bin().arg("analyse").arg(&out).output().unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert_eq!(std::fs::read(out.join("arms.csv")).unwrap(), before);
    // Landmarks edited into disorder after the run: the folder is still a run's, and the
    // error says what is wrong in its scenario, where.
    let path = out.join("scenario.resolved.toml");
    std::fs::write(
        &path,
        resolved.replace(
            "landmark_days = [10.0, 40.5]",
            "landmark_days = [40.5, 10.0]",
        ),
    )
    .unwrap();
    let o = bin().arg("analyse").arg(&out).output().unwrap();
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(!o.status.success());
    assert!(
        stderr.contains("scenario.resolved.toml is not a valid scenario")
            && stderr.contains("`trial.landmark_days[1]`: expected landmarks in increasing order")
            && stderr.contains("Was it edited since the run?")
            && !stderr.contains("not a run folder"),
        "{stderr}"
    );
    // Written by a build of another commit, or by one that recorded none (older than the
    // record), the folder's scenario may be of another format: the error says so.
    let run_json = out.join("run.json");
    let original = std::fs::read(&run_json).unwrap();
    let mut run: serde_json::Value = serde_json::from_slice(&original).unwrap();
    assert_eq!(run["commit"].as_str().unwrap_or(""), immunotrial::COMMIT);
    let ours = if immunotrial::COMMIT.is_empty() {
        "this build records no commit".to_string()
    } else {
        format!("this is commit {}", immunotrial::COMMIT)
    };
    for (theirs, expected) in [
        (
            serde_json::json!("0123456789ab"),
            format!("made by immunotrial at commit 0123456789ab and {ours}"),
        ),
        (
            serde_json::json!(null),
            format!(
                "made by a build that recorded no commit (an immunotrial older than the record, or one built outside git) and {ours}"
            ),
        ),
    ] {
        run["commit"] = theirs;
        std::fs::write(&run_json, serde_json::to_string_pretty(&run).unwrap()).unwrap();
        let o = bin().arg("analyse").arg(&out).output().unwrap();
        let stderr = String::from_utf8_lossy(&o.stderr);
        assert!(
            !o.status.success()
                && stderr.contains(&expected)
                && stderr.contains("scenario format may have changed")
                && stderr.contains("`trial.landmark_days[1]`")
                && !stderr.contains("Was it edited since the run?"),
            "{stderr}"
        );
    }
    std::fs::write(&run_json, original).unwrap();
    std::fs::remove_file(&path).unwrap();
    let o = bin().arg("analyse").arg(&out).output().unwrap();
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(
        stderr.contains("not a run folder: it has no scenario.resolved.toml"),
        "{stderr}"
    );
    let _ = std::fs::remove_dir_all(&out);
    let o = bin().arg("analyse").arg(&out).output().unwrap();
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(!o.status.success());
    assert!(stderr.contains("no such folder"), "{stderr}");
}

/// The runner's endpoints agree with RECIST applied by hand to the model's own course: the
/// tumour diameter the model derives (`tumour_diameter_mm` in trajectories.csv), read at the
/// assessment days, and the day the volume crosses the lethal burden. Death from other causes
/// and dropout are switched off so that the tumour alone decides.
#[test]
fn endpoints_follow_from_the_trajectory() {
    use immunotrial::scenario::Scenario;
    use immunotrial::trial::recist::{Response, Rules, assess, assessment_days};
    let out = fresh_dir("from-trajectory");
    let overrides = [
        "trial.background_mortality_per_year=0",
        "trial.dropout_per_year=0",
    ];
    let mut args = vec!["--trajectories", "8"];
    for o in &overrides {
        args.extend(["--set", o]);
    }
    let o = bin()
        .arg("run")
        .arg(tnbc())
        .args(["--patients", "8", "--out"])
        .arg(&out)
        .args(&args)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let overrides: Vec<String> = overrides.iter().map(|s| s.to_string()).collect();
    let scenario = Scenario::load(&tnbc(), &overrides).unwrap();
    let visits = assessment_days(&scenario.trial, scenario.horizon_day);
    let lethal_mm3 = scenario.trial.lethal_volume_ml.unwrap() * 1000.0;

    let mut trajectories = csv::Reader::from_path(out.join("trajectories.csv")).unwrap();
    let head: Vec<String> = trajectories
        .headers()
        .unwrap()
        .iter()
        .map(String::from)
        .collect();
    let at = |name: &str| head.iter().position(|h| h == name).unwrap();
    let (t_col, v_col, d_col) = (
        at("time_day"),
        at("tumour_volume_mm3"),
        at("tumour_diameter_mm"),
    );
    let rows: Vec<csv::StringRecord> = trajectories.records().map(|r| r.unwrap()).collect();
    let mut patients = csv::Reader::from_path(out.join("patients.csv")).unwrap();
    let ph: Vec<String> = patients
        .headers()
        .unwrap()
        .iter()
        .map(String::from)
        .collect();
    let pc = |name: &str| ph.iter().position(|h| h == name).unwrap();
    let mut checked = 0;
    let mut responses = std::collections::BTreeSet::new();
    for p in patients.records().map(|r| r.unwrap()) {
        let course: Vec<(f64, f64, f64)> = rows
            .iter()
            .filter(|r| r[0] == p[0] && r[1] == p[1])
            .map(|r| {
                (
                    r[t_col].parse().unwrap(),
                    r[v_col].parse().unwrap(),
                    r[d_col].parse().unwrap(),
                )
            })
            .collect();
        // Death where the volume first reaches the lethal burden, log-linearly between outputs.
        let death = course.windows(2).find(|w| w[1].1 >= lethal_mm3).map(|w| {
            let f = (lethal_mm3.ln() - w[0].1.ln()) / (w[1].1.ln() - w[0].1.ln());
            w[0].0 + f * (w[1].0 - w[0].0)
        });
        // Every visit before death is an output row (the runner adds them to the grid).
        let held: Vec<(f64, f64)> = visits
            .iter()
            .filter(|&&d| death.is_none_or(|t| d < t) || d == 0.0)
            .map(|&d| {
                let row = course
                    .iter()
                    .find(|c| (c.0 - d).abs() < 1e-9)
                    .expect("a visit row");
                (d, row.2)
            })
            .collect();
        let recist = assess(&held, &Rules::of(&scenario.trial));
        assert_eq!(
            Response::from_name(&p[pc("best_response")]),
            Some(recist.best),
            "patient {} in {}",
            &p[1],
            &p[0]
        );
        responses.insert(recist.best.name());
        let change: f64 = p[pc("best_change_pct")].parse().unwrap();
        let expected = recist.best_change_pct.unwrap();
        assert!(
            (change - expected).abs() <= 1e-9 * expected.abs().max(1.0),
            "{change} vs {expected}"
        );
        let (pfs_day, pfs_event) = match (recist.progression_day, death) {
            (Some(pd), Some(d)) => (pd.min(d), true),
            (Some(pd), None) => (pd, true),
            (None, Some(d)) => (d, true),
            (None, None) => (recist.last_assessment_day, false),
        };
        let got_pfs: f64 = p[pc("pfs_day")].parse().unwrap();
        assert!(
            (got_pfs - pfs_day).abs() < 1e-6,
            "PFS {got_pfs} vs {pfs_day}"
        );
        assert_eq!(&p[pc("pfs_event")], if pfs_event { "1" } else { "0" });
        let got_os: f64 = p[pc("os_day")].parse().unwrap();
        let os = death.unwrap_or(scenario.horizon_day);
        assert!((got_os - os).abs() < 1e-6, "OS {got_os} vs {os}");
        checked += 1;
    }
    assert_eq!(checked, 8 * 6);
    // The patients span several responses, so the comparison is not of one trivial case.
    assert!(responses.len() >= 3, "{responses:?}");
    let _ = std::fs::remove_dir_all(out);
}
