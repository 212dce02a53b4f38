//! The command line end to end: simulate writes what the README promises, and the resolved
//! scenario repeats the run exactly.
use std::path::{Path, PathBuf};
use std::process::Command;

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_immunotrial"))
}

fn fresh_dir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("immunotrial-cli-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    d
}

fn model_file(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("models")
        .join(name)
}

#[test]
fn simulate_writes_trajectory_and_resolved_scenario_that_repeats_the_run() {
    let out = fresh_dir("first");
    let status = bin()
        .args(["simulate"])
        .arg(model_file("kosinsky2018_rt_antipdl1.toml"))
        .arg("--out")
        .arg(&out)
        .status()
        .unwrap();
    assert!(status.success());
    let trajectory = std::fs::read_to_string(out.join("trajectory.csv")).unwrap();
    let header = trajectory.lines().next().unwrap();
    assert_eq!(
        header,
        "arm,time_day,TV,U,TVd,nTeff,dTeff,PDL1,A_depot,A_central,tumour_volume_mm3,mAb_nM,IAR,radiation_cumulative_gy"
    );
    // 6 arms x 101 output times (every 0.5 days to day 50) + header.
    assert_eq!(trajectory.lines().count(), 6 * 101 + 1);
    assert!(!trajectory.contains("NaN") && !trajectory.contains("inf"));
    // The cumulative dose of an arm without radiation is 0, not -0 (an empty f64 sum).
    assert!(
        trajectory
            .lines()
            .flat_map(|l| l.split(','))
            .all(|field| field != "-0"),
        "a -0 in trajectory.csv"
    );

    let again = fresh_dir("again");
    let status = bin()
        .args(["simulate"])
        .arg(out.join("scenario.resolved.toml"))
        .arg("--out")
        .arg(&again)
        .status()
        .unwrap();
    assert!(status.success());
    assert_eq!(
        std::fs::read(again.join("trajectory.csv")).unwrap(),
        trajectory.as_bytes(),
        "the resolved scenario repeats the run byte for byte"
    );
    let _ = std::fs::remove_dir_all(&out);
    let _ = std::fs::remove_dir_all(&again);
}

#[test]
fn every_shipped_scenario_runs_as_it_is() {
    for entry in std::fs::read_dir(Path::new(env!("CARGO_MANIFEST_DIR")).join("models")).unwrap() {
        let path = entry.unwrap().path();
        let out = fresh_dir(path.file_stem().unwrap().to_str().unwrap());
        let o = bin()
            .arg("simulate")
            .arg(&path)
            .arg("--out")
            .arg(&out)
            .output()
            .unwrap();
        assert!(
            o.status.success(),
            "{}: {}",
            path.display(),
            String::from_utf8_lossy(&o.stderr)
        );
        assert!(out.join("trajectory.csv").exists());
        let _ = std::fs::remove_dir_all(&out);
    }
}

#[test]
fn a_failed_integration_names_model_arm_and_day_and_writes_nothing() {
    let out = fresh_dir("stiff");
    let o = bin()
        .arg("simulate")
        .arg(model_file("kosinsky2018_rt_antipdl1.toml"))
        .args(["--set", "horizon_days=1000", "--out"])
        .arg(&out)
        .output()
        .unwrap();
    assert!(!o.status.success());
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(
        stderr.contains("kosinsky2018")
            && stderr.contains("arm `")
            && stderr.contains("stiff")
            && stderr.contains("on day"),
        "{stderr}"
    );
    assert!(!out.exists());
}

#[test]
fn models_lists_the_catalogue_and_shows_one_model() {
    let o = bin().arg("models").output().unwrap();
    let text = String::from_utf8(o.stdout).unwrap();
    for name in ["kuznetsov1994", "depillis2006", "kosinsky2018"] {
        assert!(text.contains(name), "{text}");
    }
    let o = bin().args(["models", "kosinsky2018"]).output().unwrap();
    let text = String::from_utf8(o.stdout).unwrap();
    assert!(
        text.contains("BIOMD0000000863")
            && text.contains("DSB repair time")
            && text.contains("anti_pdl1"),
        "{text}"
    );
    // What a trial reads of it and which treatments act on it (a new developer missed both).
    assert!(
        text.contains("Tumour measure (what the trial reads): tumour_volume_mm3")
            && text.contains("responds to ([[arm.drug]], [[arm.radiation]]): PD-1 blockade, PD-L1 blockade, radiation\n"),
        "{text}"
    );
    let o = bin().args(["models", "nosuch"]).output().unwrap();
    assert!(!o.status.success());
    assert!(String::from_utf8_lossy(&o.stderr).contains("kuznetsov1994"));
}

/// `--version` and run.json name the commit the binary was built from, as git reports it for
/// the checkout the tests run in (nothing where git or the checkout is missing).
#[test]
fn the_version_names_the_commit_built() {
    // What the build recorded (tests/provenance.rs checks it against git, modified sources
    // included); here, that `--version` says it.
    let o = bin().arg("--version").output().unwrap();
    let version = String::from_utf8(o.stdout).unwrap();
    if immunotrial::COMMIT.is_empty() {
        assert_eq!(
            version.trim(),
            format!("immunotrial {}", env!("CARGO_PKG_VERSION"))
        );
    } else {
        assert_eq!(
            version.trim(),
            format!(
                "immunotrial {} (commit {})",
                env!("CARGO_PKG_VERSION"),
                immunotrial::COMMIT
            )
        );
    }
}
