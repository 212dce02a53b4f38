//! The trial analysis of 1,000,000 patient rows (200,000 patients x 5 arms): Kaplan–Meier,
//! log-rank and Cox for PFS and OS, response rates, and 1000 bootstrap replicates for the
//! ranking (issue 5's target: under 10 s on this 2-core machine). The rows are synthetic:
//! exponential PFS and OS with arm-specific hazards, administrative censoring at two years.
use criterion::{Criterion, criterion_group, criterion_main};
use immunotrial::scenario::trial::TrialSpec;
use immunotrial::trial::analysis::{ArmRecords, PatientRecord, analyse};
use immunotrial::trial::recist::Response;
use immunotrial::trial::survival::Observation;
use rand::rngs::ChaCha12Rng;
use rand::{RngExt, SeedableRng};

pub fn synthetic_arms(patients: u64, arms: usize) -> Vec<ArmRecords> {
    let mut rng = ChaCha12Rng::seed_from_u64(1);
    let horizon = 730.5;
    (0..arms)
        .map(|a| {
            let hazard = 1.0 / (150.0 * (1.0 + a as f64 * 0.2));
            ArmRecords {
                name: format!("arm {a}"),
                patients: (0..patients)
                    .map(|patient| {
                        let mut time = |scale: f64| {
                            let t = -(1.0 - rng.random::<f64>()).ln() / (hazard / scale);
                            // Whole days, as visits make them: many ties.
                            let t = t.ceil();
                            Observation {
                                time: t.min(horizon),
                                event: t < horizon,
                            }
                        };
                        let pfs = time(1.0);
                        let os = time(3.0);
                        let best_response = match rng.random_range(0..10) {
                            0 => Response::Cr,
                            1..=2 => Response::Pr,
                            3..=7 => Response::Sd,
                            _ => Response::Pd,
                        };
                        PatientRecord {
                            patient,
                            failed: false,
                            ineligible: false,
                            best_response,
                            best_change_pct: Some(rng.random_range(-100.0..50.0)),
                            response_day: None,
                            pfs,
                            os,
                        }
                    })
                    .collect(),
            }
        })
        .collect()
}

fn analysis(c: &mut Criterion) {
    let arms = synthetic_arms(200_000, 5);
    // The defaults of a scenario without [trial]: PFS ranks, 1000 bootstrap replicates.
    let spec = TrialSpec::default();
    let mut group = c.benchmark_group("trial analysis");
    group.sample_size(10);
    group.bench_function("1,000,000 rows, 1000 bootstrap replicates", |b| {
        b.iter(|| analyse(&arms, &spec, 730.5, 20261129))
    });
    group.finish();
}

criterion_group!(benches, analysis);
criterion_main!(benches);
