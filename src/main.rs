//! The `immunotrial` command line: parse arguments, call the library, print.

use clap::{Parser, Subcommand};
use immunotrial::model::{ModelSpec, find_spec, specs};
use immunotrial::scenario::Scenario;
use std::io::{self, Write};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Parser)]
#[command(
    name = "immunotrial",
    version = immunotrial::LONG_VERSION,
    about = "In-silico trials of cancer immunotherapy combinations on mechanistic tumour-immune models"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

/// What a cohort run, a merge or a report prints on standard output.
#[derive(clap::Args, Clone, Copy, Debug, Default)]
struct Printing {
    /// Print nothing but errors.
    #[arg(long, conflicts_with_all = ["verbose", "json"])]
    quiet: bool,
    /// Also print every file written and the run's figures.
    #[arg(long)]
    verbose: bool,
    /// Print the trial summary as JSON (summary.json's content), for scripts.
    #[arg(long, conflicts_with = "verbose")]
    json: bool,
    /// Also write every figure as PNG (as `[output] png = true`).
    #[arg(long)]
    png: bool,
}

#[derive(Subcommand)]
enum Command {
    /// Simulate a scenario's patient through every arm; writes trajectory.csv and
    /// scenario.resolved.toml into the output folder.
    Simulate {
        /// The scenario file (TOML).
        scenario: PathBuf,
        /// Output folder (created if needed).
        #[arg(long)]
        out: PathBuf,
        /// Override a value of the file by its dotted path, e.g. --set model.initial.T=1e7
        #[arg(long = "set", value_name = "KEY=VALUE")]
        overrides: Vec<String>,
    },
    /// Run the scenario's virtual cohort: every patient through every arm, in parallel;
    /// writes patients.csv, assessments.csv, typical_patient.csv, scenario.resolved.toml,
    /// run.json (and trajectories.csv when asked) into the output folder, then the trial
    /// analysis (arms.csv, summary.json, km_pfs.csv, km_os.csv) and the report (figures/,
    /// report.html), unless more patients failed than [cohort] max_failed_fraction allows.
    Run {
        /// The scenario file (TOML), with a [cohort] section.
        scenario: PathBuf,
        /// Output folder (created if needed).
        #[arg(long)]
        out: PathBuf,
        /// Number of patients, at least 1 (default: the scenario's [cohort] patients).
        #[arg(long, value_parser = clap::value_parser!(u64).range(1..))]
        patients: Option<u64>,
        /// Random seed (default: the scenario's [cohort] seed).
        #[arg(long)]
        seed: Option<u64>,
        /// Worker threads, 1 to 1024 (default: one per core).
        #[arg(long)]
        threads: Option<usize>,
        /// Also write trajectories.csv for the first N patients.
        #[arg(long, value_name = "N")]
        trajectories: Option<u64>,
        /// Run only shard K of N (contiguous blocks of patients), e.g. --shard 2/8.
        #[arg(long, value_name = "K/N", value_parser = parse_shard)]
        shard: Option<(u64, u64)>,
        /// Integrate one patient at a time rather than several at once in SIMD lanes (the
        /// reference the lanes are tested against: the same results, more slowly).
        #[arg(long)]
        no_lanes: bool,
        /// Override a value of the file by its dotted path, e.g. --set cohort.patients=500
        #[arg(long = "set", value_name = "KEY=VALUE")]
        overrides: Vec<String>,
        #[command(flatten)]
        printing: Printing,
    },
    /// Rebuild a run's trial analysis (arms.csv, summary.json, km_*.csv) and its report
    /// (figures and report.html) from its patients.csv, without simulating.
    Report {
        /// The folder of `immunotrial run` or of `immunotrial merge`.
        dir: PathBuf,
        #[command(flatten)]
        printing: Printing,
    },
    /// Analyse a run folder again (arms.csv, summary.json, km_pfs.csv, km_os.csv) from its
    /// patients.csv and scenario.resolved.toml, without simulating.
    Analyse {
        /// The folder of `immunotrial run` or of `immunotrial merge`.
        dir: PathBuf,
    },
    /// Size a real trial: draw many trials of n patients per arm from the virtual cohort and
    /// report the power of the log-rank test and of the response-rate difference.
    Power {
        /// A scenario file (its cohort is run for the two arms) or the folder of a run.
        source: PathBuf,
        /// The experimental arm.
        #[arg(long)]
        arm: String,
        /// The comparator arm.
        #[arg(long)]
        vs: String,
        /// Patients per arm to try, e.g. --n 50,100,200 (at most 1,000,000).
        #[arg(long, value_delimiter = ',', required = true)]
        n: Vec<u64>,
        /// Two-sided significance level.
        #[arg(long, default_value_t = 0.05)]
        alpha: f64,
        /// Simulated trials per size.
        #[arg(long, default_value_t = 2000)]
        reps: u64,
        /// The survival endpoint of the log-rank test: pfs or os.
        #[arg(long, default_value = "pfs")]
        endpoint: String,
        /// Cohort size when running a scenario, at least 1 (default: its [cohort] patients).
        #[arg(long, value_parser = clap::value_parser!(u64).range(1..))]
        patients: Option<u64>,
        /// Random seed (default: the cohort's).
        #[arg(long)]
        seed: Option<u64>,
        /// Keep the cohort run of a scenario in this folder.
        #[arg(long)]
        out: Option<PathBuf>,
        /// Override a value of the scenario file by its dotted path (with a scenario only)
        #[arg(long = "set", value_name = "KEY=VALUE")]
        overrides: Vec<String>,
    },
    /// Join the folders of `run --shard K/N` into the files an unsharded run writes.
    Merge {
        /// The shard folders.
        #[arg(required = true)]
        dirs: Vec<PathBuf>,
        /// Output folder for the merged run (created if needed).
        #[arg(long)]
        out: PathBuf,
        #[command(flatten)]
        printing: Printing,
    },
    /// Check a scenario: prints OK, or every error found.
    Validate {
        scenario: PathBuf,
        #[arg(long = "set", value_name = "KEY=VALUE")]
        overrides: Vec<String>,
    },
    /// List the built-in models, or show one in full.
    Models {
        /// A model's name.
        name: Option<String>,
    },
}

/// Exit codes: 0 success, 1 a simulation or output failure, 2 invalid input.
const INVALID_INPUT: u8 = 2;
/// Most worker threads `run --threads` takes: far more than any machine's cores.
const MAX_THREADS: usize = 1024;
/// Most patients per arm of a simulated trial in `power --n`: beyond any real trial.
const MAX_TRIAL_PATIENTS_PER_ARM: u64 = 1_000_000;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let mut out = io::stdout().lock();
    match run(cli.command, &mut out) {
        Ok(code) => code,
        // A reader that stopped reading (`immunotrial models | head`) is not an error.
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: cannot write to standard output: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run(command: Command, out: &mut impl Write) -> io::Result<ExitCode> {
    match command {
        Command::Simulate {
            scenario,
            out: dir,
            overrides,
        } => {
            // A run folder's scenario.resolved.toml is what its analysis reads: simulate's
            // own would replace it.
            if dir.join("run.json").exists() {
                eprintln!(
                    "error: --out {}: a cohort run's folder (it has run.json), whose scenario.resolved.toml simulate would replace; simulate into another folder",
                    dir.display()
                );
                return Ok(ExitCode::from(INVALID_INPUT));
            }
            let scenario = match Scenario::load(&scenario, &overrides) {
                Ok(s) => s,
                Err(e) => {
                    eprintln!("{e}");
                    return Ok(ExitCode::from(INVALID_INPUT));
                }
            };
            let solutions = match immunotrial::engine::simulate(&scenario) {
                Ok(s) => s,
                Err(e) => {
                    eprintln!("error: {e}");
                    return Ok(ExitCode::FAILURE);
                }
            };
            if let Err(e) = immunotrial::report::write_simulation(&dir, &scenario, &solutions) {
                eprintln!("error: cannot write to {}: {e}", dir.display());
                return Ok(ExitCode::FAILURE);
            }
            writeln!(
                out,
                "{}: {} arm(s) of {} simulated to day {}",
                scenario.name,
                scenario.arms.len(),
                scenario.model.name,
                scenario.horizon_day
            )?;
            writeln!(out, "wrote {}", dir.join("trajectory.csv").display())?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Run {
            scenario,
            out: dir,
            patients,
            seed,
            threads,
            trajectories,
            shard,
            no_lanes,
            overrides,
            printing,
        } => {
            let scenario = match Scenario::load(&scenario, &overrides) {
                Ok(s) => s,
                Err(e) => {
                    eprintln!("{e}");
                    return Ok(ExitCode::from(INVALID_INPUT));
                }
            };
            if scenario.cohort.is_none() {
                eprintln!(
                    "error: the scenario has no [cohort] section; `immunotrial simulate` runs its one patient"
                );
                return Ok(ExitCode::from(INVALID_INPUT));
            }
            // A thread pool of a million threads never finished starting (found by fuzzing).
            if let Some(t) = threads.filter(|t| !(1..=MAX_THREADS).contains(t)) {
                eprintln!("error: --threads: expected 1 to {MAX_THREADS}, found {t}");
                return Ok(ExitCode::from(INVALID_INPUT));
            }
            let options = immunotrial::cohort::runner::RunOptions {
                patients,
                seed,
                threads,
                shard,
                trajectories,
                command_line: std::env::args().collect::<Vec<_>>().join(" "),
                quiet: printing.quiet || printing.json,
                one_at_a_time: no_lanes,
            };
            let summary = match immunotrial::cohort::runner::run(&scenario, &options, &dir) {
                Ok(s) => s,
                Err(e) => {
                    eprintln!("error: {e}");
                    return Ok(ExitCode::FAILURE);
                }
            };
            if printing.verbose || (shard.is_some() && !printing.quiet && !printing.json) {
                writeln!(
                    out,
                    "{}: {} patients x {} arms in {:.2} s ({} failed, {} not eligible)",
                    scenario.name,
                    summary.patients,
                    scenario.arms.len(),
                    summary.wall_seconds,
                    summary.failed,
                    summary.ineligible
                )?;
                // What the run itself wrote (stale copies of the optional ones were removed).
                for file in [
                    "patients.csv",
                    "trajectories.csv",
                    "assessments.csv",
                    "typical_patient.csv",
                    "scenario.resolved.toml",
                    "run.json",
                ] {
                    let path = dir.join(file);
                    if path.exists() {
                        writeln!(out, "wrote {}", path.display())?;
                    }
                }
            }
            // A shard is part of a cohort: `merge` judges the failures of the whole (a shard
            // over the allowance on its own had failed its job, so a merge waiting on every
            // shard's success never ran, though the whole cohort was within it).
            if shard.is_some() {
                if let Some(why) = immunotrial::trial::analysis::too_many_failed_in(&dir) {
                    eprintln!(
                        "note: {}: in this shard alone, {why}; `immunotrial merge` judges the whole cohort",
                        dir.display()
                    );
                }
            } else if failed_beyond_allowance(&dir) {
                return Ok(ExitCode::FAILURE);
            }
            if shard.is_none() && !finish(&dir, printing, out)? {
                return Ok(ExitCode::FAILURE);
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Report { dir, printing } => Ok(if finish(&dir, printing, out)? {
            ExitCode::SUCCESS
        } else {
            ExitCode::FAILURE
        }),
        Command::Analyse { dir } => Ok(if analyse(&dir, out)? {
            ExitCode::SUCCESS
        } else {
            ExitCode::FAILURE
        }),
        Command::Power {
            source,
            arm,
            vs,
            n,
            alpha,
            reps,
            endpoint,
            patients,
            seed,
            out: keep,
            overrides,
        } => power(
            PowerArgs {
                source,
                arm,
                vs,
                sizes: n,
                alpha,
                reps,
                endpoint,
                patients,
                seed,
                keep,
                overrides,
            },
            out,
        ),
        Command::Merge {
            dirs,
            out: dir,
            printing,
        } => match immunotrial::cohort::merge::merge(&dirs, &dir) {
            Ok(()) => {
                if printing.verbose {
                    writeln!(out, "merged {} shards into {}", dirs.len(), dir.display())?;
                }
                if failed_beyond_allowance(&dir) {
                    return Ok(ExitCode::FAILURE);
                }
                Ok(if finish(&dir, printing, out)? {
                    ExitCode::SUCCESS
                } else {
                    ExitCode::FAILURE
                })
            }
            Err(e) => {
                eprintln!("error: {e}");
                Ok(ExitCode::from(INVALID_INPUT))
            }
        },
        Command::Validate {
            scenario,
            overrides,
        } => match Scenario::load(&scenario, &overrides) {
            Ok(_) => {
                writeln!(out, "OK")?;
                Ok(ExitCode::SUCCESS)
            }
            Err(e) => {
                eprintln!("{e}");
                Ok(ExitCode::from(INVALID_INPUT))
            }
        },
        Command::Models { name: None } => {
            for spec in specs() {
                write_summary(out, spec)?;
                writeln!(out)?;
            }
            writeln!(
                out,
                "`immunotrial models NAME` shows one model in full: units, descriptions and sources."
            )?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Models { name: Some(name) } => match find_spec(&name) {
            Some(spec) => {
                write_model(out, spec)?;
                Ok(ExitCode::SUCCESS)
            }
            None => {
                let all: Vec<&str> = specs().iter().map(|s| s.name).collect();
                eprintln!(
                    "error: unknown model `{name}`; built-in models: {}",
                    all.join(", ")
                );
                Ok(ExitCode::from(INVALID_INPUT))
            }
        },
    }
}

/// The arguments of `immunotrial power`.
struct PowerArgs {
    source: PathBuf,
    arm: String,
    vs: String,
    sizes: Vec<u64>,
    alpha: f64,
    reps: u64,
    endpoint: String,
    patients: Option<u64>,
    seed: Option<u64>,
    keep: Option<PathBuf>,
    overrides: Vec<String>,
}

/// `immunotrial power`: the cohort's records of the two arms (from a run folder, or by
/// running the scenario's cohort for those arms), then the power at each size.
fn power(a: PowerArgs, out: &mut impl Write) -> io::Result<ExitCode> {
    use immunotrial::trial::analysis::read_patients;
    use immunotrial::trial::power::{SurvivalEndpoint, power};
    let endpoint = match a.endpoint.as_str() {
        "pfs" => SurvivalEndpoint::Pfs,
        "os" => SurvivalEndpoint::Os,
        other => {
            eprintln!("error: --endpoint: expected pfs or os, found `{other}`");
            return Ok(ExitCode::from(INVALID_INPUT));
        }
    };
    if !(a.alpha > 0.0 && a.alpha < 1.0) {
        eprintln!(
            "error: --alpha: expected a level between 0 and 1, found {}",
            a.alpha
        );
        return Ok(ExitCode::from(INVALID_INPUT));
    }
    if a.reps == 0 || a.sizes.contains(&0) {
        eprintln!("error: --reps and every --n must be at least 1");
        return Ok(ExitCode::from(INVALID_INPUT));
    }
    // Each simulated trial holds its patients: a size near 2^64 overflowed the allocation
    // (a panic), and 10^8 asked for 4.8 GB (found by fuzzing).
    if let Some(n) = a.sizes.iter().find(|&&n| n > MAX_TRIAL_PATIENTS_PER_ARM) {
        eprintln!(
            "error: --n: expected at most {MAX_TRIAL_PATIENTS_PER_ARM} patients per arm, found {n}"
        );
        return Ok(ExitCode::from(INVALID_INPUT));
    }
    if a.arm == a.vs {
        eprintln!("error: --arm and --vs name the same arm `{}`", a.arm);
        return Ok(ExitCode::from(INVALID_INPUT));
    }
    let from_run = a.source.is_dir();
    if from_run && (a.patients.is_some() || a.keep.is_some() || !a.overrides.is_empty()) {
        eprintln!(
            "error: {} is a run folder: --patients, --out and --set apply to a scenario file, whose cohort power runs",
            a.source.display()
        );
        return Ok(ExitCode::from(INVALID_INPUT));
    }
    let (dir, temporary) = if from_run {
        (a.source.clone(), false)
    } else {
        let mut scenario = match Scenario::load(&a.source, &a.overrides) {
            Ok(s) => s,
            Err(e) => {
                eprintln!("{e}");
                return Ok(ExitCode::from(INVALID_INPUT));
            }
        };
        let names: Vec<&str> = scenario.arms.iter().map(|x| x.name.as_str()).collect();
        for wanted in [&a.arm, &a.vs] {
            if !names.contains(&wanted.as_str()) {
                eprintln!(
                    "error: {}: no arm is named `{wanted}`; the arms are: {}",
                    a.source.display(),
                    names.join(", ")
                );
                return Ok(ExitCode::from(INVALID_INPUT));
            }
        }
        if scenario.cohort.is_none() {
            eprintln!(
                "error: {}: the scenario has no [cohort] section",
                a.source.display()
            );
            return Ok(ExitCode::from(INVALID_INPUT));
        }
        // Only the two arms are simulated.
        let keep_arm = |name: &str| name == a.arm || name == a.vs;
        scenario.arms.retain(|x| keep_arm(&x.name));
        scenario.resolved.arms.retain(|x| keep_arm(&x.name));
        scenario.trial.control = scenario
            .arms
            .iter()
            .position(|x| x.name == a.vs)
            .unwrap_or(0);
        if let Some(t) = &mut scenario.resolved.trial {
            t.control = Some(a.vs.clone());
        }
        let dir = a.keep.clone().unwrap_or_else(|| {
            std::env::temp_dir().join(format!("immunotrial-power-{}", std::process::id()))
        });
        let options = immunotrial::cohort::runner::RunOptions {
            patients: a.patients,
            seed: a.seed,
            command_line: std::env::args().collect::<Vec<_>>().join(" "),
            ..Default::default()
        };
        if let Err(e) = immunotrial::cohort::runner::run(&scenario, &options, &dir) {
            eprintln!("error: {e}");
            if a.keep.is_none() {
                let _ = std::fs::remove_dir_all(&dir);
            }
            return Ok(ExitCode::FAILURE);
        }
        (dir, a.keep.is_none())
    };
    let names = [a.arm.clone(), a.vs.clone()];
    let records = read_patients(&dir.join("patients.csv"), &names, true);
    let seed = a.seed.or_else(|| {
        std::fs::read(dir.join("run.json"))
            .ok()
            .and_then(|b| serde_json::from_slice::<serde_json::Value>(&b).ok())
            .and_then(|v| v["seed"].as_u64())
    });
    if temporary {
        let _ = std::fs::remove_dir_all(&dir);
    }
    let records = match records {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: {e}");
            return Ok(ExitCode::FAILURE);
        }
    };
    if let Some(empty) = records.iter().find(|r| r.patients.iter().all(|p| p.failed)) {
        eprintln!(
            "error: {}: arm `{}` has no analysed patients (is it one of the run's arms?)",
            dir.display(),
            empty.name
        );
        return Ok(ExitCode::FAILURE);
    }
    // Failed patients are left out of the resampling; say so, as they are seldom at random.
    // (Patients not eligible are left out as a trial leaves them out: no bias to warn of.)
    let (failed, total) = records
        .iter()
        .flat_map(|r| &r.patients)
        .fold((0, 0), |(f, t), p| {
            (f + usize::from(p.failed && !p.ineligible), t + 1)
        });
    if failed > 0 {
        eprintln!(
            "warning: {failed} of {total} patient-arms of `{}` and `{}` failed; power is estimated from the others, which may bias it (see the failure column of patients.csv)",
            a.arm, a.vs
        );
    }
    let curve = power(
        &records[0],
        &records[1],
        &a.sizes,
        a.alpha,
        a.reps,
        endpoint,
        seed.unwrap_or(0),
    );
    writeln!(
        out,
        "power of `{}` against `{}` (rejections in favour of `{}`): {} simulated trials per size, two-sided alpha {}",
        a.arm, a.vs, a.arm, a.reps, a.alpha
    )?;
    writeln!(
        out,
        "{:>10}  {:>22}  {:>22}",
        "n per arm",
        format!("log-rank {}", a.endpoint.to_uppercase()),
        "ORR difference"
    )?;
    for p in &curve.points {
        writeln!(
            out,
            "{:>10}  {:>22}  {:>22}",
            p.n_per_arm,
            format!("{:.3} ± {:.3}", p.log_rank, p.log_rank_se),
            format!("{:.3} ± {:.3}", p.orr, p.orr_se)
        )?;
    }
    let largest = a.sizes.iter().max().copied().unwrap_or(0);
    let say = |n: Option<u64>| match n {
        Some(n) => n.to_string(),
        None => format!("not reached up to {largest}"),
    };
    writeln!(
        out,
        "smallest n per arm for {:.0}% power: log-rank {}; ORR difference {}",
        curve.target * 100.0,
        say(curve.smallest_n_log_rank),
        say(curve.smallest_n_orr)
    )?;
    Ok(ExitCode::SUCCESS)
}

/// After a run or a merge, or for `report`: the trial analysis, the figures and the report,
/// then what `printing` asks for; false (after saying why) when something could not be built.
fn finish(dir: &std::path::Path, printing: Printing, out: &mut impl Write) -> io::Result<bool> {
    let (folder, analysis) = match immunotrial::trial::analysis::analyse_dir(dir) {
        Ok(x) => x,
        Err(e) => {
            eprintln!("error: {e}");
            return Ok(false);
        }
    };
    if let Some(why) = folder.too_many_failed() {
        eprintln!("warning: {}: {why}", dir.display());
    }
    let png = printing.png || folder.scenario.png;
    let report = match immunotrial::report::trial_report::write_report(dir, &folder, &analysis, png)
    {
        Ok(path) => path,
        Err(e) => {
            eprintln!("error: {e}");
            return Ok(false);
        }
    };
    // Most patients not evaluable usually means lesions too small to measure (a mouse, or a
    // model that counts cells, with 1e9 cells per cm3) or a horizon before the first visit.
    if !printing.quiet {
        for arm in analysis.arms.iter().filter(|a| a.n > 0) {
            let ne = arm.responses[4] as f64 / arm.n as f64;
            if ne > 0.5 {
                eprintln!(
                    "warning: {:.0}% of the patients of arm `{}` are not evaluable by RECIST (a lesion below [trial] measurable_min_mm = {} mm at baseline, or no assessment before the end of follow-up)",
                    100.0 * ne,
                    arm.name,
                    folder.scenario.trial.measurable_min_mm
                );
            }
        }
    }
    if printing.quiet {
        return Ok(true);
    }
    if printing.json {
        let json = immunotrial::trial::analysis::summary_json(&analysis, &folder.scenario.name);
        writeln!(
            out,
            "{}",
            serde_json::to_string_pretty(&json).map_err(io::Error::other)?
        )?;
        return Ok(true);
    }
    if printing.verbose {
        let mut files: Vec<PathBuf> = ["arms.csv", "summary.json", "km_pfs.csv", "km_os.csv"]
            .iter()
            .map(|f| dir.join(f))
            .collect();
        for (stem, _) in immunotrial::report::figures::FIGURES {
            files.push(dir.join("figures").join(format!("{stem}.svg")));
            if png {
                files.push(dir.join("figures").join(format!("{stem}.png")));
            }
        }
        files.push(report.clone());
        for f in files {
            writeln!(out, "wrote {}", f.display())?;
        }
    }
    write!(out, "{}", immunotrial::report::terminal_summary(&analysis))?;
    writeln!(out, "report: {}", report.display())?;
    Ok(true)
}

/// Whether the run in `dir` had more failed patient-arms than `[cohort] max_failed_fraction`
/// allows, saying so: then `run` and `merge` write no trial analysis or report, whose
/// endpoints would silently leave out patients who seldom fail at random (found by a user
/// audit: the responders of a Kosinsky arm failed, and its response rate fell from 58% to 1%).
fn failed_beyond_allowance(dir: &std::path::Path) -> bool {
    match immunotrial::trial::analysis::too_many_failed_in(dir) {
        Some(why) => {
            eprintln!(
                "error: {}: {why}. The trial analysis and report are not written; `immunotrial report {}` writes them anyway, marked as from a failed run",
                dir.display(),
                dir.display()
            );
            true
        }
        None => false,
    }
}

/// Runs the trial analysis of a run folder and names the files it wrote; false (after saying
/// why) when it could not.
fn analyse(dir: &std::path::Path, out: &mut impl Write) -> io::Result<bool> {
    match immunotrial::trial::analysis::analyse_dir(dir) {
        Ok((folder, _)) => {
            if let Some(why) = folder.too_many_failed() {
                eprintln!("warning: {}: {why}", dir.display());
            }
            for file in ["arms.csv", "summary.json", "km_pfs.csv", "km_os.csv"] {
                writeln!(out, "wrote {}", dir.join(file).display())?;
            }
            Ok(true)
        }
        Err(e) => {
            eprintln!("error: {e}");
            Ok(false)
        }
    }
}

/// `K/N` with 1 <= K <= N.
fn parse_shard(text: &str) -> Result<(u64, u64), String> {
    let parsed = text
        .split_once('/')
        .and_then(|(k, n)| Some((k.trim().parse::<u64>().ok()?, n.trim().parse::<u64>().ok()?)));
    match parsed {
        Some((k, n)) if k >= 1 && k <= n => Ok((k, n)),
        _ => Err(format!(
            "expected K/N with 1 <= K <= N, for example 2/8; found `{text}`"
        )),
    }
}

/// A number as a modeler writes it: plain where that is short, scientific otherwise.
fn number(v: f64) -> String {
    if v == 0.0 || (1e-3..1e6).contains(&v.abs()) {
        format!("{v}")
    } else {
        format!("{v:e}")
    }
}

fn names<'a>(items: impl Iterator<Item = &'a str>) -> String {
    let v: Vec<&str> = items.collect();
    if v.is_empty() {
        "(none)".to_string()
    } else {
        v.join(", ")
    }
}

fn write_summary(out: &mut impl Write, spec: &ModelSpec) -> io::Result<()> {
    writeln!(out, "{}: {}", spec.name, spec.title)?;
    writeln!(out, "  source: {}", spec.citation)?;
    writeln!(
        out,
        "  states: {}",
        names(spec.states.iter().map(|s| s.name))
    )?;
    writeln!(
        out,
        "  inputs: {}",
        names(spec.inputs.iter().map(|i| i.name))
    )?;
    writeln!(
        out,
        "  presets: {}",
        names(spec.presets.iter().map(|p| p.name))
    )?;
    let parameters: Vec<String> = spec
        .parameters
        .iter()
        .map(|p| format!("{} = {} {}", p.name, number(p.default), p.unit))
        .collect();
    writeln!(out, "  parameters: {}", parameters.join("; "))
}

fn write_model(out: &mut impl Write, spec: &ModelSpec) -> io::Result<()> {
    writeln!(out, "{}\n{}\n", spec.name, spec.title)?;
    writeln!(out, "{}\n", spec.summary)?;
    writeln!(out, "Source: {}\n", spec.citation)?;
    writeln!(out, "States (name, unit, default initial value):")?;
    for s in spec.states {
        writeln!(
            out,
            "  {:<10} {:<10} {:<12} {}",
            s.name,
            s.unit,
            number(s.initial),
            s.description
        )?;
    }
    writeln!(
        out,
        "\nParameters (name, default, unit; source; every value at least 0 unless said):"
    )?;
    let name_width = spec
        .parameters
        .iter()
        .map(|p| p.name.len())
        .max()
        .unwrap_or(0);
    for p in spec.parameters {
        let domain = match p.domain {
            immunotrial::model::Domain::NonNegative => String::new(),
            other => format!(" ({})", other.describe()),
        };
        writeln!(
            out,
            "  {:<name_width$} {:<12} {:<16} {}{domain}  [{}]",
            p.name,
            number(p.default),
            p.unit,
            p.description,
            p.source
        )?;
    }
    writeln!(
        out,
        "\nInputs ([[arm.dose]] input = ...; an occupancy or effect comes from [[arm.drug]]):"
    )?;
    if spec.inputs.is_empty() {
        writeln!(out, "  (none)")?;
    }
    // Columns as wide as the longest name (pd1_occupancy overflowed a fixed width).
    let name_width = spec.inputs.iter().map(|i| i.name.len()).max().unwrap_or(0);
    for i in spec.inputs {
        writeln!(
            out,
            "  {:<name_width$} {:<10} {}",
            i.name, i.unit, i.description
        )?;
    }
    writeln!(out, "\nPresets ([model] preset = ...):")?;
    if spec.presets.is_empty() {
        writeln!(out, "  (none)")?;
    }
    for p in spec.presets {
        writeln!(out, "  {:<10} {}", p.name, p.description)?;
        for (name, value) in p.parameters.iter().chain(p.initial) {
            let source = p
                .sources
                .iter()
                .find(|(n, _)| n == name)
                .map_or("", |(_, s)| *s);
            writeln!(out, "      {name} = {}  [{source}]", number(*value))?;
        }
    }
    writeln!(
        out,
        "\nDerived outputs (columns of trajectory.csv after the states):"
    )?;
    if spec.derived.is_empty() {
        writeln!(out, "  (none)")?;
    }
    let name_width = spec.derived.iter().map(|d| d.name.len()).max().unwrap_or(0);
    for d in spec.derived {
        writeln!(
            out,
            "  {:<name_width$} {:<6} {}",
            d.name, d.unit, d.description
        )?;
    }
    // What a trial designer needs besides: what RECIST measures, and which treatments act.
    writeln!(
        out,
        "\nTumour measure (what the trial reads): {}",
        spec.tumour
    )?;
    let mechanisms: Vec<&str> = immunotrial::model::Mechanism::ALL
        .into_iter()
        .filter(|m| spec.has_mechanism(*m))
        .map(|m| m.describe())
        .collect();
    writeln!(
        out,
        "Treatments it responds to ([[arm.drug]], [[arm.radiation]]): {}",
        if mechanisms.is_empty() {
            "none (only its own inputs)".to_string()
        } else {
            mechanisms.join(", ")
        }
    )?;
    Ok(())
}
