//! How far one cohort run's trajectories are from another's, patient by patient: `cargo run
//! --release --example compare_trajectories OURS/trajectories.csv REFERENCE/trajectories.csv`.
//! Both runs must be of the same scenario and patients (`immunotrial run ... --trajectories N`,
//! the reference with a tight setting, e.g. `--set solver.method=rodas4 --set
//! solver.rtol=1e-11`). For every patient and arm it takes the worst error of any state or
//! derived output over all output times, by the accuracy standard of tests/accuracy.rs
//! (relative where the reference is above 1 in magnitude, a tenth of the absolute error
//! below), and prints the distribution of those worsts and the patient-arms with the largest.
use std::collections::BTreeMap;
use std::error::Error;

/// A patient-arm's worst error so far: the error, the column, the day, ours and the reference.
type Worst = (f64, usize, f64, f64, f64);

fn main() -> Result<(), Box<dyn Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [ours, reference] = args.as_slice() else {
        return Err("usage: compare_trajectories OURS.csv REFERENCE.csv".into());
    };
    let mut a = csv::Reader::from_path(ours)?;
    let mut b = csv::Reader::from_path(reference)?;
    let header = a.headers()?.clone();
    if &header != b.headers()? {
        return Err("the two files have different columns".into());
    }
    let mut worst: BTreeMap<(String, u64), Worst> = BTreeMap::new();
    let (mut ra, mut rb) = (csv::StringRecord::new(), csv::StringRecord::new());
    loop {
        let (more_a, more_b) = (a.read_record(&mut ra)?, b.read_record(&mut rb)?);
        if more_a != more_b {
            return Err("the two files have different numbers of rows".into());
        }
        if !more_a {
            break;
        }
        if ra.iter().take(3).ne(rb.iter().take(3)) {
            return Err(format!("rows differ in arm, patient or day: {ra:?} / {rb:?}").into());
        }
        let key = (ra[0].to_string(), ra[1].parse()?);
        let day: f64 = ra[2].parse()?;
        let entry = worst.entry(key).or_insert((0.0, 0, 0.0, 0.0, 0.0));
        for column in 3..ra.len() {
            let (Ok(x), Ok(r)) = (ra[column].parse::<f64>(), rb[column].parse::<f64>()) else {
                continue; // an empty cell: a value that does not exist at that time
            };
            let error = if r.abs() > 1.0 {
                (x - r).abs() / r.abs()
            } else {
                (x - r).abs() * 0.1
            };
            if error > entry.0 {
                *entry = (error, column, day, x, r);
            }
        }
    }
    let mut sorted: Vec<f64> = worst.values().map(|w| w.0).collect();
    sorted.sort_by(f64::total_cmp);
    let n = sorted.len();
    if n == 0 {
        return Err("no rows".into());
    }
    let quantile = |q: f64| sorted[((n - 1) as f64 * q).round() as usize];
    println!(
        "{n} patient-arms: worst error median {:.2e}, 90% {:.2e}, 99% {:.2e}, max {:.2e}; above 1e-6: {}",
        quantile(0.5),
        quantile(0.9),
        quantile(0.99),
        sorted[n - 1],
        sorted.iter().filter(|&&e| e > 1e-6).count()
    );
    let mut largest: Vec<_> = worst.iter().collect();
    largest.sort_by(|x, y| y.1.0.total_cmp(&x.1.0));
    for ((arm, patient), (error, column, day, x, r)) in largest.into_iter().take(5) {
        println!(
            "  {error:.2e}  {arm}, patient {patient}: {} on day {day} ({x} against {r})",
            &header[*column]
        );
    }
    Ok(())
}
