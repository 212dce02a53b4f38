//! Sizing a real trial from the virtual one: draw many trials of n patients per arm from the
//! virtual cohort and count how often each test rejects.
//!
//! Each replicate draws n patients for the experimental arm and, independently, n for the
//! comparator, with replacement from the cohort's analysed patients of that arm: two
//! independent samples, as a real parallel-group trial has, though the virtual cohort is
//! paired. The log-rank test of PFS or OS and the two-sided test of the difference in
//! response rates (the pooled z test, R's `prop.test(correct = FALSE)`) each reject when their
//! p-value is below alpha and the difference favours the experimental arm (fewer events than
//! expected; more responders): power to show benefit, not harm. Power is the share of such
//! rejections, with its Monte Carlo standard error sqrt(p (1 - p) / reps).
//!
//! Replicate r at size n draws from its own stream of the seed, so results do not depend on
//! the thread count.

use super::analysis::{ArmRecords, PatientRecord};
use super::compare::{chisq1_upper, log_rank};
use super::survival::Observation;
use rand::rngs::ChaCha12Rng;
use rand::{Rng, SeedableRng};
use rayon::prelude::*;

/// Which time-to-event endpoint the log-rank test compares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SurvivalEndpoint {
    Pfs,
    Os,
}

/// Power at one trial size.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PowerPoint {
    pub n_per_arm: u64,
    pub log_rank: f64,
    pub log_rank_se: f64,
    pub orr: f64,
    pub orr_se: f64,
}

/// The power curve and the smallest sizes reaching the target.
#[derive(Debug, Clone, PartialEq)]
pub struct PowerCurve {
    pub points: Vec<PowerPoint>,
    pub target: f64,
    /// Smallest n of those tried whose log-rank power reaches the target.
    pub smallest_n_log_rank: Option<u64>,
    pub smallest_n_orr: Option<u64>,
}

/// The two-sided p-value of the pooled z test of two proportions.
pub fn two_proportion_p(x1: u64, n1: u64, x2: u64, n2: u64) -> f64 {
    let (n1f, n2f) = (n1 as f64, n2 as f64);
    let pooled = (x1 + x2) as f64 / (n1f + n2f);
    let variance = pooled * (1.0 - pooled) * (1.0 / n1f + 1.0 / n2f);
    if variance <= 0.0 {
        // Both arms all responders or all not: no evidence of a difference.
        return 1.0;
    }
    let z = (x1 as f64 / n1f - x2 as f64 / n2f) / variance.sqrt();
    chisq1_upper(z * z)
}

fn stream(seed: u64, n: u64, replicate: u64) -> ChaCha12Rng {
    let mut rng = ChaCha12Rng::seed_from_u64(seed ^ n.wrapping_mul(0x9E37_79B9_7F4A_7C15));
    rng.set_stream(replicate);
    rng
}

fn draw<'a>(rng: &mut ChaCha12Rng, from: &[&'a PatientRecord], n: u64) -> Vec<&'a PatientRecord> {
    (0..n)
        .map(|_| from[((u128::from(rng.next_u64()) * from.len() as u128) >> 64) as usize])
        .collect()
}

/// Power of `arm` against `comparator` at each size in `sizes`.
pub fn power(
    arm: &ArmRecords,
    comparator: &ArmRecords,
    sizes: &[u64],
    alpha: f64,
    replicates: u64,
    endpoint: SurvivalEndpoint,
    seed: u64,
) -> PowerCurve {
    let pool = |a: &'_ ArmRecords| -> Vec<PatientRecord> {
        a.patients.iter().filter(|p| !p.failed).cloned().collect()
    };
    let (a_pool, b_pool) = (pool(arm), pool(comparator));
    let a_refs: Vec<&PatientRecord> = a_pool.iter().collect();
    let b_refs: Vec<&PatientRecord> = b_pool.iter().collect();
    let time = |p: &PatientRecord| -> Observation {
        match endpoint {
            SurvivalEndpoint::Pfs => p.pfs,
            SurvivalEndpoint::Os => p.os,
        }
    };
    let points: Vec<PowerPoint> = sizes
        .iter()
        .map(|&n| {
            let rejections: Vec<(bool, bool)> = (0..replicates)
                .into_par_iter()
                .map(|r| {
                    if a_refs.is_empty() || b_refs.is_empty() {
                        return (false, false);
                    }
                    let mut rng = stream(seed, n, r);
                    let a = draw(&mut rng, &a_refs, n);
                    let b = draw(&mut rng, &b_refs, n);
                    let ta: Vec<Observation> = a.iter().map(|p| time(p)).collect();
                    let tb: Vec<Observation> = b.iter().map(|p| time(p)).collect();
                    // Two-sided tests; a rejection counts when it favours the arm.
                    let lr = log_rank(&tb, &ta)
                        .is_some_and(|t| t.p < alpha && t.observed[1] < t.expected[1]);
                    let responders = |s: &[&PatientRecord]| {
                        s.iter().filter(|p| p.best_response.is_objective()).count() as u64
                    };
                    let (ra, rb) = (responders(&a), responders(&b));
                    let orr = ra > rb && two_proportion_p(ra, n, rb, n) < alpha;
                    (lr, orr)
                })
                .collect();
            let share = |f: fn(&(bool, bool)) -> bool| {
                let p = rejections.iter().filter(|x| f(x)).count() as f64 / replicates as f64;
                (p, (p * (1.0 - p) / replicates as f64).sqrt())
            };
            let (log_rank, log_rank_se) = share(|x| x.0);
            let (orr, orr_se) = share(|x| x.1);
            PowerPoint {
                n_per_arm: n,
                log_rank,
                log_rank_se,
                orr,
                orr_se,
            }
        })
        .collect();
    let target = 0.8;
    let smallest = |f: fn(&PowerPoint) -> f64| {
        let mut reached: Vec<u64> = points
            .iter()
            .filter(|p| f(p) >= target)
            .map(|p| p.n_per_arm)
            .collect();
        reached.sort_unstable();
        reached.first().copied()
    };
    PowerCurve {
        smallest_n_log_rank: smallest(|p| p.log_rank),
        smallest_n_orr: smallest(|p| p.orr),
        points,
        target,
    }
}
