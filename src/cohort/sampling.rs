//! Virtual patients: inter-patient variability as distributions, joined by a Gaussian copula,
//! drawn from each patient's own random stream.
//!
//! Every marginal is sampled by transforming one standard normal deviate (the inverse-CDF
//! method), so correlations are imposed on the normals first (the Gaussian copula: z = L e,
//! L the Cholesky factor of the correlation matrix) and each marginal keeps its exact
//! distribution. Lognormal and untruncated normal marginals use z directly; the others go
//! through u = Phi(z).
//!
//! A patient's deviates come from ChaCha12 seeded by the cohort seed, on stream number = the
//! patient's index: they depend on (seed, index) alone, never on which thread or shard draws
//! them or in what order.

use nalgebra::{DMatrix, DVector};
use rand::rngs::ChaCha12Rng;
use rand::{RngExt, SeedableRng};
use statrs::function::beta::inv_beta_reg;
use statrs::function::erf::{erfc, erfc_inv};

/// A distribution of one patient quantity.
#[derive(Debug, Clone, PartialEq)]
pub enum Distribution {
    /// log X ~ N(ln median, omega^2).
    LogNormal {
        median: f64,
        omega: f64,
    },
    /// N(mean, sd^2), truncated to [min, max] where given.
    Normal {
        mean: f64,
        sd: f64,
        min: Option<f64>,
        max: Option<f64>,
    },
    Uniform {
        min: f64,
        max: f64,
    },
    /// log X uniform on [ln min, ln max].
    LogUniform {
        min: f64,
        max: f64,
    },
    /// Beta(a, b) rescaled to [min, max] (default [0, 1]).
    Beta {
        a: f64,
        b: f64,
        min: f64,
        max: f64,
    },
    /// One of `values` with probabilities proportional to `weights`.
    Categorical {
        values: Vec<f64>,
        weights: Vec<f64>,
    },
    Fixed(f64),
}

/// How many SDs from the centre a normal or lognormal draw is taken to reach: a Box–Muller
/// deviate from 53-bit uniforms is at most 8.6 in size (correlated ones may rarely exceed it).
pub const DRAW_SDS: f64 = 10.0;

/// Omega (SD of log) of a lognormal with coefficient of variation `cv`.
pub fn omega_from_cv(cv: f64) -> f64 {
    (1.0 + cv * cv).ln().sqrt()
}

/// Standard normal CDF.
pub fn phi(z: f64) -> f64 {
    0.5 * erfc(-z / std::f64::consts::SQRT_2)
}

/// Standard normal quantile.
pub fn phi_inv(u: f64) -> f64 {
    -std::f64::consts::SQRT_2 * erfc_inv(2.0 * u)
}

impl Distribution {
    /// The value at standard normal deviate `z` (the inverse CDF at Phi(z)).
    pub fn from_normal(&self, z: f64) -> f64 {
        match self {
            Distribution::LogNormal { median, omega } => median * (omega * z).exp(),
            Distribution::Normal {
                mean,
                sd,
                min: None,
                max: None,
            } => mean + sd * z,
            Distribution::Normal { mean, sd, min, max } => {
                // Inverse CDF of the truncated normal at u = Phi(a) + Phi(z) (Phi(b) - Phi(a)),
                // a and b the bounds in SDs. Above the median it is taken from the upper tail,
                // 1 - u = Phi(-b) + Phi(-z) (Phi(-a) - Phi(-b)), where probabilities near 0 keep
                // their digits: from u itself a window 9 SDs above the mean had rounded to
                // Phi(a) = Phi(b) = 1 and drawn infinite values or piled up at a bound.
                let a = min.map_or(f64::NEG_INFINITY, |m| (m - mean) / sd);
                let b = max.map_or(f64::INFINITY, |m| (m - mean) / sd);
                let u = phi(a) + phi(z) * (phi(b) - phi(a));
                let standard = if u <= 0.5 {
                    phi_inv(u)
                } else {
                    -phi_inv(phi(-b) + phi(-z) * (phi(-a) - phi(-b)))
                };
                let x = mean + sd * standard;
                x.clamp(
                    min.unwrap_or(f64::NEG_INFINITY),
                    max.unwrap_or(f64::INFINITY),
                )
            }
            Distribution::Uniform { min, max } => min + (max - min) * phi(z),
            Distribution::LogUniform { min, max } => {
                (min.ln() + (max.ln() - min.ln()) * phi(z)).exp()
            }
            Distribution::Beta { a, b, min, max } => {
                min + (max - min) * inv_beta_reg(*a, *b, phi(z))
            }
            Distribution::Categorical { values, weights } => {
                let total: f64 = weights.iter().sum();
                let u = phi(z) * total;
                let mut cumulative = 0.0;
                for (v, w) in values.iter().zip(weights) {
                    cumulative += w;
                    if u < cumulative {
                        return *v;
                    }
                }
                *values.last().unwrap_or(&f64::NAN)
            }
            Distribution::Fixed(v) => *v,
        }
    }

    /// The lowest and the highest value a draw can take, each with whether a draw can take
    /// exactly it (a lognormal's draws approach 0 and reach it only by underflow; a normal without `min`
    /// reaches -inf). Validation compares them with what the quantity may be (its
    /// [`crate::model::Domain`]).
    pub fn support(&self) -> [(f64, bool); 2] {
        match self {
            // Above 0 in exact arithmetic, but ten SDs below a tiny median a draw underflows
            // to 0 in f64 (median 1e-307 with omega 30 drew zeros; found by review).
            Distribution::LogNormal { median, omega } => [
                (0.0, (median.ln() - DRAW_SDS * omega).exp() == 0.0),
                (f64::INFINITY, false),
            ],
            Distribution::Normal { min, max, .. } => [
                (min.unwrap_or(f64::NEG_INFINITY), min.is_some()),
                (max.unwrap_or(f64::INFINITY), max.is_some()),
            ],
            Distribution::Uniform { min, max }
            | Distribution::LogUniform { min, max }
            | Distribution::Beta { min, max, .. } => [(*min, true), (*max, true)],
            Distribution::Categorical { values, weights } => {
                let drawn = || values.iter().zip(weights).filter(|&(_, w)| *w > 0.0);
                [
                    (drawn().map(|(v, _)| *v).fold(f64::INFINITY, f64::min), true),
                    (
                        drawn().map(|(v, _)| *v).fold(f64::NEG_INFINITY, f64::max),
                        true,
                    ),
                ]
            }
            Distribution::Fixed(v) => [(*v, true), (*v, true)],
        }
    }
}

/// A correlation matrix's Cholesky factor, or why it is impossible and the pair (indices into
/// `names`) that makes it so.
#[allow(clippy::type_complexity)]
pub fn cholesky(
    correlation: &DMatrix<f64>,
    names: &[String],
) -> Result<DMatrix<f64>, (String, Option<(usize, usize)>)> {
    if let Some(c) = correlation.clone().cholesky() {
        return Ok(c.l());
    }
    // Name a pair: the first leading block that fails, and its strongest correlation with
    // the earlier quantities.
    for k in 1..correlation.nrows() {
        let block = correlation.view((0, 0), (k + 1, k + 1)).into_owned();
        if block.cholesky().is_none() {
            let j = (0..k)
                .max_by(|&a, &b| {
                    correlation[(k, a)]
                        .abs()
                        .total_cmp(&correlation[(k, b)].abs())
                })
                .unwrap_or(0);
            return Err((
                format!(
                    "the correlations are not a valid correlation matrix (not positive definite); it fails at {} with {} (rho {})",
                    names[k],
                    names[j],
                    correlation[(k, j)]
                ),
                Some((k, j)),
            ));
        }
    }
    Err((
        "the correlations are not a valid correlation matrix (not positive definite)".to_string(),
        None,
    ))
}

/// The random stream of patient `index` in a cohort seeded with `seed`.
pub fn patient_stream(seed: u64, index: u64) -> ChaCha12Rng {
    let mut rng = ChaCha12Rng::seed_from_u64(seed);
    rng.set_stream(index);
    rng
}

/// The trial's random stream of patient `index` (background death, dropout): the patient's
/// own stream from word 2^64 on, far beyond anything the parameter draws use.
pub fn trial_stream(seed: u64, index: u64) -> ChaCha12Rng {
    let mut rng = patient_stream(seed, index);
    rng.set_word_pos(1u128 << 64);
    rng
}

/// A standard normal deviate by the Box–Muller transform of two uniforms, written out so that
/// how the stream is used is fixed by this file, not by a library version.
pub fn standard_normal(rng: &mut ChaCha12Rng) -> f64 {
    loop {
        let u1: f64 = rng.random::<f64>();
        let u2: f64 = rng.random();
        if u1 > 0.0 {
            return (-2.0_f64 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos();
        }
    }
}

/// Draws one patient's quantities: `k` independent normals from the stream, correlated by
/// `chol`, each transformed by its marginal.
pub fn draw(
    distributions: &[Distribution],
    chol: &DMatrix<f64>,
    rng: &mut ChaCha12Rng,
) -> Vec<f64> {
    let e = DVector::from_iterator(
        distributions.len(),
        (0..distributions.len()).map(|_| standard_normal(rng)),
    );
    let z = chol * e;
    distributions
        .iter()
        .zip(z.iter())
        .map(|(d, z)| d.from_normal(*z))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const N: usize = 40_000;

    fn sample(d: &Distribution) -> Vec<f64> {
        let chol = DMatrix::identity(1, 1);
        (0..N as u64)
            .map(|i| draw(std::slice::from_ref(d), &chol, &mut patient_stream(7, i))[0])
            .collect()
    }

    fn mean_sd(x: &[f64]) -> (f64, f64) {
        let n = x.len() as f64;
        let m = x.iter().sum::<f64>() / n;
        let v = x.iter().map(|v| (v - m).powi(2)).sum::<f64>() / (n - 1.0);
        (m, v.sqrt())
    }

    /// Tolerances are 4 standard errors of the estimate at N = 40,000 (fixed seed): the mean's
    /// SE is sd/sqrt(N), the SD's about sd/sqrt(2N).
    fn close(estimate: f64, truth: f64, se: f64) {
        assert!(
            (estimate - truth).abs() < 4.0 * se,
            "{estimate} vs {truth} (4 SE = {})",
            4.0 * se
        );
    }

    /// A fixed quantity takes its deviate from the stream like any other: making one quantity
    /// fixed, or variable again, leaves every other quantity's draws as they were, so that two
    /// cohorts that differ in one variability are the same patients otherwise.
    #[test]
    fn a_fixed_quantity_leaves_the_others_draws_unchanged() {
        let a = Distribution::LogNormal {
            median: 1.0,
            omega: 0.5,
        };
        let c = Distribution::Uniform { min: 0.0, max: 1.0 };
        let chol = DMatrix::identity(3, 3);
        for i in 0..100 {
            let fixed = draw(
                &[a.clone(), Distribution::Fixed(2.0), c.clone()],
                &chol,
                &mut patient_stream(11, i),
            );
            let variable = draw(
                &[
                    a.clone(),
                    Distribution::Normal {
                        mean: 2.0,
                        sd: 1.0,
                        min: None,
                        max: None,
                    },
                    c.clone(),
                ],
                &chol,
                &mut patient_stream(11, i),
            );
            assert_eq!(fixed[1], 2.0);
            assert_ne!(variable[1], 2.0);
            assert_eq!(
                (fixed[0], fixed[2]),
                (variable[0], variable[2]),
                "patient {i}"
            );
        }
    }

    /// statrs' erfc was measured 1.1e-12 off here (about 6e-13 relative): far below what
    /// sampling needs; the bound is 1e-11.
    #[test]
    fn phi_and_its_inverse() {
        assert!(
            (phi(1.959963984540054) - 0.975).abs() < 1e-11,
            "{}",
            phi(1.959963984540054) - 0.975
        );
        assert!((phi_inv(0.975) - 1.959963984540054).abs() < 1e-9);
        assert_eq!(phi(0.0), 0.5);
    }

    #[test]
    fn lognormal_median_and_omega() {
        let x = sample(&Distribution::LogNormal {
            median: 8.89,
            omega: 0.696,
        });
        let logs: Vec<f64> = x.iter().map(|v| v.ln()).collect();
        let (m, s) = mean_sd(&logs);
        close(m, 8.89f64.ln(), 0.696 / (N as f64).sqrt());
        close(s, 0.696, 0.696 / (2.0 * N as f64).sqrt());
        // cv 0.2 gives omega sqrt(ln 1.04).
        assert!((omega_from_cv(0.2) - 1.04f64.ln().sqrt()).abs() < 1e-15);
    }

    #[test]
    fn normal_and_truncated_normal() {
        let x = sample(&Distribution::Normal {
            mean: 70.0,
            sd: 12.0,
            min: None,
            max: None,
        });
        let (m, s) = mean_sd(&x);
        close(m, 70.0, 12.0 / (N as f64).sqrt());
        close(s, 12.0, 12.0 / (2.0 * N as f64).sqrt());
        // Truncated to [0, inf) at mean 0.1, sd 0.1: the mean of a normal truncated at
        // alpha = -1 is mu + sd phi(alpha)/(1 - Phi(alpha)).
        let x = sample(&Distribution::Normal {
            mean: 0.1,
            sd: 0.1,
            min: Some(0.0),
            max: None,
        });
        assert!(x.iter().all(|v| *v >= 0.0));
        let pdf = (-0.5f64).exp() / (2.0 * std::f64::consts::PI).sqrt();
        let expected = 0.1 + 0.1 * pdf / (1.0 - phi(-1.0));
        let (m, s) = mean_sd(&x);
        close(m, expected, s / (N as f64).sqrt());
    }

    /// A window far in either tail: draws are finite, inside it, spread (not piled at a bound),
    /// and those of a window above the mean mirror those of the window below it, which the
    /// lower tail's probabilities compute without loss. (From the probability itself, windows
    /// 7 SDs or more above the mean drew a handful of distinct values, infinities, or every
    /// draw at the bound; found by an independent check of the sampling.)
    #[test]
    fn a_truncated_normal_far_in_a_tail_is_drawn_from_it() {
        let zs: Vec<f64> = (1..2000).map(|i| phi_inv(i as f64 / 2000.0)).collect();
        for (a, b) in [
            (7.0, None),
            (8.0, Some(8.5)),
            (9.0, Some(11.0)),
            (15.0, None),
        ] {
            let upper = Distribution::Normal {
                mean: 30.0,
                sd: 1.0,
                min: Some(30.0 + a),
                max: b.map(|b| 30.0 + b),
            };
            let lower = Distribution::Normal {
                mean: 0.0,
                sd: 1.0,
                min: b.map(|b| -b),
                max: Some(-a),
            };
            let mut previous = f64::NEG_INFINITY;
            for &z in &zs {
                let x = upper.from_normal(z);
                assert!(x.is_finite() && x >= 30.0 + a, "{a} {b:?} at {z}: {x}");
                assert!(b.is_none_or(|b| x <= 30.0 + b), "{a} {b:?} at {z}: {x}");
                // Increasing in z, strictly (the copula keeps ranks), so no value repeats.
                assert!(x > previous, "{a} {b:?} at {z}: {x} after {previous}");
                previous = x;
                let mirrored = 30.0 - lower.from_normal(-z);
                assert!((x - mirrored).abs() <= 1e-12 * x, "{x} vs {mirrored}");
            }
        }
        // The lower tail itself: the median draw of N(0, 1) truncated to (-inf, -8] is at
        // Phi^-1(Phi(-8) / 2).
        let lower = Distribution::Normal {
            mean: 0.0,
            sd: 1.0,
            min: None,
            max: Some(-8.0),
        };
        let median = lower.from_normal(0.0);
        assert!(
            (median - phi_inv(phi(-8.0) / 2.0)).abs() < 1e-12,
            "{median}"
        );
    }

    #[test]
    fn uniform_log_uniform_beta_categorical_fixed() {
        let x = sample(&Distribution::Uniform {
            min: 200.0,
            max: 350.0,
        });
        assert!(x.iter().all(|v| (200.0..=350.0).contains(v)));
        close(
            mean_sd(&x).0,
            275.0,
            150.0 / 12f64.sqrt() / (N as f64).sqrt(),
        );
        let x = sample(&Distribution::LogUniform {
            min: 1.0,
            max: 100.0,
        });
        let logs: Vec<f64> = x.iter().map(|v| v.log10()).collect();
        close(
            mean_sd(&logs).0,
            1.0,
            2.0 / 12f64.sqrt() / (N as f64).sqrt(),
        );
        // Beta(2, 5): mean 2/7, variance ab/((a+b)^2 (a+b+1)) = 10/392.
        let x = sample(&Distribution::Beta {
            a: 2.0,
            b: 5.0,
            min: 0.0,
            max: 1.0,
        });
        close(
            mean_sd(&x).0,
            2.0 / 7.0,
            (10.0f64 / 392.0).sqrt() / (N as f64).sqrt(),
        );
        // Categorical 30/70: the share of the first value is binomial.
        let x = sample(&Distribution::Categorical {
            values: vec![1.0, 0.0],
            weights: vec![0.3, 0.7],
        });
        let share = x.iter().filter(|v| **v == 1.0).count() as f64 / N as f64;
        close(share, 0.3, (0.3f64 * 0.7 / N as f64).sqrt());
        assert!(sample(&Distribution::Fixed(4.2)).iter().all(|v| *v == 4.2));
    }

    #[test]
    fn a_requested_correlation_is_reproduced() {
        let rho = -0.3;
        let corr = DMatrix::from_row_slice(2, 2, &[1.0, rho, rho, 1.0]);
        let chol = cholesky(&corr, &["r".into(), "S_L".into()]).unwrap();
        let d = [
            Distribution::Normal {
                mean: 0.0,
                sd: 1.0,
                min: None,
                max: None,
            },
            Distribution::Normal {
                mean: 0.0,
                sd: 1.0,
                min: None,
                max: None,
            },
        ];
        let draws: Vec<Vec<f64>> = (0..N as u64)
            .map(|i| draw(&d, &chol, &mut patient_stream(11, i)))
            .collect();
        let r = draws.iter().map(|v| v[0] * v[1]).sum::<f64>() / N as f64;
        // The sample correlation's SE is (1 - rho^2)/sqrt(N).
        close(r, rho, (1.0 - rho * rho) / (N as f64).sqrt());
    }

    #[test]
    fn an_impossible_correlation_names_a_pair() {
        let corr = DMatrix::from_row_slice(3, 3, &[1.0, 0.9, 0.9, 0.9, 1.0, -0.9, 0.9, -0.9, 1.0]);
        let (e, pair) = cholesky(&corr, &["a".into(), "b".into(), "c".into()]).unwrap_err();
        assert!(
            e.contains("c with") && e.contains("not positive definite"),
            "{e}"
        );
        // c (index 2) with its strongest correlation among the earlier quantities, a or b.
        assert!(matches!(pair, Some((2, 0 | 1))), "{pair:?}");
    }

    #[test]
    fn a_patients_draws_depend_on_seed_and_index_alone() {
        let d = [
            Distribution::LogNormal {
                median: 1.0,
                omega: 0.5,
            },
            Distribution::Uniform { min: 0.0, max: 1.0 },
        ];
        let chol = DMatrix::identity(2, 2);
        let alone = draw(&d, &chol, &mut patient_stream(2026, 12345));
        let in_sequence: Vec<Vec<f64>> = (12340..12350)
            .map(|i| draw(&d, &chol, &mut patient_stream(2026, i)))
            .collect();
        assert_eq!(alone, in_sequence[5]);
        assert_ne!(in_sequence[5], in_sequence[6]);
        assert_ne!(alone, draw(&d, &chol, &mut patient_stream(2027, 12345)));
    }
}
