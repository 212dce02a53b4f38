//! The TNBC scenario's cohort: patients per second on 1 and 2 threads, in SIMD lanes and one
//! patient at a time (issue 4's target: 10,000 patients x 5 arms over 2 years in under 5 s on
//! 2 cores, and 2 threads at least 1.8 times faster than 1). A small cohort per iteration
//! keeps the bench short; `immunotrial run` writes the full-size figure into run.json.
use criterion::{Criterion, criterion_group, criterion_main};
use immunotrial::cohort::runner::{RunOptions, run};
use immunotrial::scenario::Scenario;
use std::path::Path;

fn cohort(c: &mut Criterion) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("models/tnbc_combinations.toml");
    let scenario = Scenario::load(&path, &[]).expect("shipped scenario is valid");
    let out = std::env::temp_dir().join(format!("immunotrial-bench-cohort-{}", std::process::id()));
    let mut group = c.benchmark_group("tnbc cohort, 160 patients x 6 arms");
    group.sample_size(10);
    for (threads, one_at_a_time) in [(1, false), (2, false), (1, true)] {
        let options = RunOptions {
            patients: Some(160),
            threads: Some(threads),
            one_at_a_time,
            ..RunOptions::default()
        };
        let how = if one_at_a_time {
            "one at a time"
        } else {
            "lanes"
        };
        group.bench_function(format!("{threads} thread(s), {how}"), |b| {
            b.iter(|| run(&scenario, &options, &out).expect("cohort runs"))
        });
    }
    group.finish();
    let _ = std::fs::remove_dir_all(&out);
}

criterion_group!(benches, cohort);
criterion_main!(benches);
