//! The `immunotrial` command line: parse arguments, call the library, print.

use clap::{Parser, Subcommand};
use immunotrial::model::{ModelSpec, find_spec, specs};
use immunotrial::scenario::Scenario;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Parser)]
#[command(
    name = "immunotrial",
    version,
    about = "In-silico trials of cancer immunotherapy combinations on mechanistic tumour-immune models"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
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

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Simulate {
            scenario,
            out,
            overrides,
        } => {
            let scenario = match Scenario::load(&scenario, &overrides) {
                Ok(s) => s,
                Err(e) => {
                    eprintln!("{e}");
                    return ExitCode::from(2);
                }
            };
            let solutions = match immunotrial::engine::simulate(&scenario) {
                Ok(s) => s,
                Err(e) => {
                    eprintln!("error: {e}");
                    return ExitCode::FAILURE;
                }
            };
            if let Err(e) = immunotrial::report::write_simulation(&out, &scenario, &solutions) {
                eprintln!("error: cannot write to {}: {e}", out.display());
                return ExitCode::FAILURE;
            }
            println!(
                "{}: {} arm(s) of {} simulated to day {}",
                scenario.name,
                scenario.arms.len(),
                scenario.model.name,
                scenario.horizon_day
            );
            println!("wrote {}", out.join("trajectory.csv").display());
            ExitCode::SUCCESS
        }
        Command::Validate {
            scenario,
            overrides,
        } => match Scenario::load(&scenario, &overrides) {
            Ok(_) => {
                println!("OK");
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("{e}");
                ExitCode::from(2)
            }
        },
        Command::Models { name: None } => {
            for spec in specs() {
                println!("{:<16} {}", spec.name, spec.title);
                let states: Vec<&str> = spec.states.iter().map(|s| s.name).collect();
                let inputs: Vec<&str> = spec.inputs.iter().map(|i| i.name).collect();
                let presets: Vec<&str> = spec.presets.iter().map(|p| p.name).collect();
                println!("{:<16} states: {}", "", states.join(", "));
                println!(
                    "{:<16} inputs: {}",
                    "",
                    if inputs.is_empty() {
                        "(none)".into()
                    } else {
                        inputs.join(", ")
                    }
                );
                println!(
                    "{:<16} presets: {}",
                    "",
                    if presets.is_empty() {
                        "(none)".into()
                    } else {
                        presets.join(", ")
                    }
                );
            }
            println!(
                "\n`immunotrial models NAME` shows a model's parameters, units, defaults and sources."
            );
            ExitCode::SUCCESS
        }
        Command::Models { name: Some(name) } => match find_spec(&name) {
            Some(spec) => {
                print_model(spec);
                ExitCode::SUCCESS
            }
            None => {
                let all: Vec<&str> = specs().iter().map(|s| s.name).collect();
                eprintln!(
                    "error: unknown model `{name}`; built-in models: {}",
                    all.join(", ")
                );
                ExitCode::from(2)
            }
        },
    }
}

fn print_model(spec: &ModelSpec) {
    println!("{}\n{}\n", spec.name, spec.title);
    println!("{}\n", spec.summary);
    println!("Source: {}\n", spec.citation);
    println!("States (name, unit, default initial value):");
    for s in spec.states {
        println!(
            "  {:<10} {:<10} {:<12} {}",
            s.name, s.unit, s.initial, s.description
        );
    }
    println!("\nParameters (name, default, unit; source):");
    for p in spec.parameters {
        println!(
            "  {:<10} {:<12} {:<16} {}  [{}]",
            p.name, p.default, p.unit, p.description, p.source
        );
    }
    println!("\nInputs ([[arm.dose]] input = ...):");
    if spec.inputs.is_empty() {
        println!("  (none)");
    }
    for i in spec.inputs {
        println!("  {:<10} {:<10} {}", i.name, i.unit, i.description);
    }
    println!("\nPresets ([model] preset = ...):");
    if spec.presets.is_empty() {
        println!("  (none)");
    }
    for p in spec.presets {
        println!("  {:<10} {}", p.name, p.description);
    }
    println!("\nDerived outputs (columns of trajectory.csv after the states):");
    if spec.derived.is_empty() {
        println!("  (none)");
    }
    for d in spec.derived {
        println!("  {:<18} {:<6} {}", d.name, d.unit, d.description);
    }
}
