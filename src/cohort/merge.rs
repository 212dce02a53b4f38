//! Joins the shards of a cohort run (`run --shard K/N`) into exactly the files an unsharded
//! run writes: `patients.csv` byte for byte, since shards are contiguous blocks of patients
//! written in patient order.

use crate::report::write_atomic;
use std::io::BufRead;
use std::path::{Path, PathBuf};

/// Why shards cannot be merged.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MergeError(pub String);

impl std::fmt::Display for MergeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for MergeError {}

struct Shard {
    dir: PathBuf,
    k: u64,
    n: u64,
    seed: u64,
    patients_total: u64,
    scenario: Vec<u8>,
    run: serde_json::Value,
}

fn read_shard(dir: &Path) -> Result<Shard, MergeError> {
    let fail = |what: &str| MergeError(format!("{}: {what}", dir.display()));
    let run: serde_json::Value = serde_json::from_slice(
        &std::fs::read(dir.join("run.json"))
            .map_err(|e| fail(&format!("cannot read run.json: {e}")))?,
    )
    .map_err(|e| fail(&format!("run.json is not valid JSON: {e}")))?;
    let shard = run["shard"]
        .as_str()
        .ok_or_else(|| fail("not a shard (run.json has no `shard`; run with --shard K/N)"))?;
    let (k, n) = shard
        .split_once('/')
        .and_then(|(k, n)| Some((k.parse().ok()?, n.parse().ok()?)))
        .ok_or_else(|| fail("run.json's `shard` is not K/N"))?;
    let scenario = std::fs::read(dir.join("scenario.resolved.toml"))
        .map_err(|e| fail(&format!("cannot read scenario.resolved.toml: {e}")))?;
    Ok(Shard {
        dir: dir.to_path_buf(),
        k,
        n,
        seed: run["seed"]
            .as_u64()
            .ok_or_else(|| fail("run.json has no seed"))?,
        patients_total: run["patients_total"]
            .as_u64()
            .ok_or_else(|| fail("run.json has no patients_total"))?,
        scenario,
        run,
    })
}

/// The commit of the build that ran a shard (none where it was built outside git).
fn commit_of(shard: &Shard) -> Option<&str> {
    shard.run["commit"].as_str().filter(|c| !c.is_empty())
}

/// Writes the CSV files in `paths` one after the other, with the first one's header only.
fn concatenate_csv(paths: &[PathBuf], w: &mut dyn std::io::Write) -> std::io::Result<()> {
    for (i, path) in paths.iter().enumerate() {
        let file = std::fs::File::open(path)?;
        for (j, line) in std::io::BufReader::new(file).split(b'\n').enumerate() {
            let line = line?;
            if j == 0 && i > 0 {
                continue; // one header
            }
            w.write_all(&line)?;
            w.write_all(b"\n")?;
        }
    }
    Ok(())
}

/// Merges shard folders into `out`; refuses shards of different scenarios, seeds, cohort
/// sizes or commits, and reports missing or duplicated shards.
pub fn merge(dirs: &[PathBuf], out: &Path) -> Result<(), MergeError> {
    let mut shards: Vec<Shard> = dirs
        .iter()
        .map(|d| read_shard(d))
        .collect::<Result<_, _>>()?;
    shards.sort_by_key(|s| s.k);
    let first = shards
        .first()
        .ok_or_else(|| MergeError("no shard folders given".into()))?;
    let (n, seed, total) = (first.n, first.seed, first.patients_total);
    for s in &shards {
        // Seeds and sizes first: scenario.resolved.toml records them too, and a shard of
        // another seed was reported only as "different scenarios".
        if s.seed != seed || s.n != n || s.patients_total != total {
            return Err(MergeError(format!(
                "{} is shard {}/{} of {} patients with seed {}, but {} is of {}/{} of {} with seed {}",
                s.dir.display(),
                s.k,
                s.n,
                s.patients_total,
                s.seed,
                first.dir.display(),
                first.k,
                n,
                total,
                seed
            )));
        }
        if s.scenario != first.scenario {
            return Err(MergeError(format!(
                "{} and {} ran different scenarios (scenario.resolved.toml differs)",
                first.dir.display(),
                s.dir.display()
            )));
        }
    }
    // The same seed gives the same bits only with the same code. A shard without a commit
    // (built outside git, or by an immunotrial older than the record) is unknown code: it
    // merges only with shards as unknown.
    let commits: Vec<Option<&str>> = shards.iter().map(commit_of).collect();
    if commits.iter().any(|c| *c != commits[0]) {
        let each: Vec<String> = shards
            .iter()
            .zip(&commits)
            .map(|(s, c)| {
                let commit = c.map_or("no recorded commit".to_string(), |c| format!("commit {c}"));
                format!("{}/{} ({}) at {commit}", s.k, s.n, s.dir.display())
            })
            .collect();
        return Err(MergeError(format!(
            "the shards were run by different builds: {}; shards of different builds may not \
             add up to the bits of one run: run the odd ones again with the build of the others",
            each.join(", ")
        )));
    }
    let missing: Vec<u64> = (1..=n)
        .filter(|k| !shards.iter().any(|s| s.k == *k))
        .collect();
    let duplicated: Vec<u64> = shards
        .windows(2)
        .filter(|w| w[0].k == w[1].k)
        .map(|w| w[0].k)
        .collect();
    if !missing.is_empty() || !duplicated.is_empty() {
        let list = |ks: &[u64]| {
            ks.iter()
                .map(|k| format!("{k}/{n}"))
                .collect::<Vec<_>>()
                .join(", ")
        };
        let mut problems = Vec::new();
        if !missing.is_empty() {
            problems.push(format!("missing {}", list(&missing)));
        }
        if !duplicated.is_empty() {
            problems.push(format!("given twice {}", list(&duplicated)));
        }
        return Err(MergeError(format!(
            "shards of {n}: {}",
            problems.join("; ")
        )));
    }
    std::fs::create_dir_all(out).map_err(|e| MergeError(format!("{}: {e}", out.display())))?;
    let io = |e: std::io::Error| MergeError(format!("writing {}: {e}", out.display()));
    let all: Vec<PathBuf> = shards.iter().map(|s| s.dir.join("patients.csv")).collect();
    write_atomic(&out.join("patients.csv"), |w| concatenate_csv(&all, w)).map_err(io)?;
    // Files only some shards have (the first patients' trajectories and assessments), joined
    // in shard order; the typical patient, the same in every shard, from the first.
    for name in ["trajectories.csv", "assessments.csv"] {
        let having: Vec<PathBuf> = shards
            .iter()
            .map(|s| s.dir.join(name))
            .filter(|p| p.exists())
            .collect();
        if !having.is_empty() {
            write_atomic(&out.join(name), |w| concatenate_csv(&having, w)).map_err(io)?;
        }
    }
    if first.dir.join("typical_patient.csv").exists() {
        let bytes = std::fs::read(first.dir.join("typical_patient.csv")).map_err(io)?;
        write_atomic(&out.join("typical_patient.csv"), |w| w.write_all(&bytes)).map_err(io)?;
    }
    write_atomic(&out.join("scenario.resolved.toml"), |w| {
        w.write_all(&first.scenario)
    })
    .map_err(io)?;
    let mut run = shards[0].run.clone();
    run["shard"] = serde_json::Value::Null;
    run["merged_from"] = serde_json::json!(
        shards
            .iter()
            .map(|s| s.dir.display().to_string())
            .collect::<Vec<_>>()
    );
    run["patients"] = serde_json::json!(total);
    run["first_patient"] = serde_json::json!(0);
    let sum = |key: &str| {
        shards
            .iter()
            .map(|s| s.run[key].as_f64().unwrap_or(0.0))
            .sum::<f64>()
    };
    let failed = sum("failed_patient_arms");
    let wall = sum("wall_seconds");
    run["failed_patient_arms"] = serde_json::json!(failed as u64);
    run["ineligible_patient_arms"] = serde_json::json!(sum("ineligible_patient_arms") as u64);
    run["failed_fraction"] =
        serde_json::json!(failed / (total as f64 * run["arms"].as_f64().unwrap_or(1.0)).max(1.0));
    // The shards may have run at once on many machines: the time is their sum, and the rate
    // patients per second of that summed time.
    run["wall_seconds"] = serde_json::json!(wall);
    run["patients_per_second"] = serde_json::json!(total as f64 / wall.max(1e-9));
    // `machine` stays the first shard's, an object as in an unsharded run; `machines` lists
    // each distinct one in shard order, where the time was spent.
    let mut machines: Vec<&serde_json::Value> = Vec::new();
    for machine in shards.iter().map(|s| &s.run["machine"]) {
        if !machine.is_null() && !machines.contains(&machine) {
            machines.push(machine);
        }
    }
    run["machines"] = serde_json::json!(machines);
    // The trial files are analysed by the build that merges.
    run["merged_by_commit"] =
        serde_json::json!((!crate::COMMIT.is_empty()).then_some(crate::COMMIT));
    run["command"] = serde_json::json!(
        shards
            .iter()
            .map(|s| s.run["command"].as_str().unwrap_or("").to_string())
            .collect::<Vec<_>>()
            .join(" ; ")
    );
    run["started_utc"] = shards
        .iter()
        .filter_map(|s| s.run["started_utc"].as_str())
        .min()
        .map_or(serde_json::Value::Null, |t| serde_json::json!(t));
    let text = serde_json::to_string_pretty(&run).map_err(|e| MergeError(e.to_string()))?;
    write_atomic(&out.join("run.json"), |w| w.write_all(text.as_bytes())).map_err(io)
}
