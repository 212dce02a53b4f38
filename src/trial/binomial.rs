//! Proportions: exact (Clopper–Pearson) intervals for a response rate, Wilson score intervals,
//! and Newcombe's hybrid score interval for the difference of two rates (Newcombe, Stat Med
//! 17:873, 1998, method 10).

use super::survival::Z_975;
use statrs::function::beta::beta_reg;

/// x where the regularised incomplete beta I_x(a, b) equals `p`, by bisection to the last
/// bit (I_x is monotone in x; 200 halvings are more than f64 can resolve).
fn beta_quantile(a: f64, b: f64, p: f64) -> f64 {
    let (mut lo, mut hi) = (0.0_f64, 1.0_f64);
    for _ in 0..200 {
        let mid = 0.5 * (lo + hi);
        if mid <= lo || mid >= hi {
            break;
        }
        if beta_reg(a, b, mid) < p {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    0.5 * (lo + hi)
}

/// The exact 95% interval of a proportion of `x` in `n` (R's `binom.test`).
pub fn clopper_pearson(x: u64, n: u64) -> (f64, f64) {
    if n == 0 {
        return (f64::NAN, f64::NAN);
    }
    let (xf, nf) = (x as f64, n as f64);
    let lower = if x == 0 {
        0.0
    } else {
        beta_quantile(xf, nf - xf + 1.0, 0.025)
    };
    let upper = if x == n {
        1.0
    } else {
        beta_quantile(xf + 1.0, nf - xf, 0.975)
    };
    (lower, upper)
}

/// The 95% Wilson score interval of `x` in `n` (R's `prop.test(correct = FALSE)`).
pub fn wilson(x: u64, n: u64) -> (f64, f64) {
    let (xf, nf) = (x as f64, n as f64);
    let p = xf / nf;
    let z2 = Z_975 * Z_975;
    let centre = p + z2 / (2.0 * nf);
    let half = Z_975 * (p * (1.0 - p) / nf + z2 / (4.0 * nf * nf)).sqrt();
    let denominator = 1.0 + z2 / nf;
    // At x = 0 the lower limit is 0 and at x = n the upper is 1, exactly; computed, they came
    // out a rounding error inside, and a Newcombe limit built on them 1 + 2e-16.
    (
        if x == 0 {
            0.0
        } else {
            ((centre - half) / denominator).max(0.0)
        },
        if x == n {
            1.0
        } else {
            ((centre + half) / denominator).min(1.0)
        },
    )
}

/// The difference p1 - p2 of two independent proportions with Newcombe's 95% hybrid score
/// interval.
pub fn newcombe_difference(x1: u64, n1: u64, x2: u64, n2: u64) -> (f64, f64, f64) {
    let p1 = x1 as f64 / n1 as f64;
    let p2 = x2 as f64 / n2 as f64;
    let (l1, u1) = wilson(x1, n1);
    let (l2, u2) = wilson(x2, n2);
    let d = p1 - p2;
    (
        d,
        (d - ((p1 - l1).powi(2) + (u2 - p2).powi(2)).sqrt()).max(-1.0),
        (d + ((u1 - p1).powi(2) + (p2 - l2).powi(2)).sqrt()).min(1.0),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// All responders against none: the difference is 1 and its interval ends at 1 exactly
    /// (it had ended at 1 + 2e-16; found by an end-to-end check against R), and the other
    /// way round at -1; Wilson's limits at 0 and n are 0 and 1 exactly.
    #[test]
    fn limits_at_the_ends_are_exact() {
        for n in [1, 7, 25, 1000] {
            assert_eq!(wilson(0, n).0, 0.0);
            assert_eq!(wilson(n, n).1, 1.0);
            let (d, lo, hi) = newcombe_difference(n, n, 0, n);
            assert_eq!((d, hi), (1.0, 1.0), "{n}");
            assert!(lo > -1.0 && lo < 1.0, "{lo}");
            let (d, lo, _) = newcombe_difference(0, n, n, n);
            assert_eq!((d, lo), (-1.0, -1.0), "{n}");
        }
    }

    #[test]
    fn clopper_pearson_closed_forms() {
        // x = 0: the upper limit solves (1 - p)^n = 0.025; x = n: the lower solves p^n = 0.025.
        let (lo, hi) = clopper_pearson(0, 20);
        assert_eq!(lo, 0.0);
        assert!((hi - (1.0 - 0.025_f64.powf(1.0 / 20.0))).abs() < 1e-14);
        let (lo, hi) = clopper_pearson(20, 20);
        assert!((lo - 0.025_f64.powf(1.0 / 20.0)).abs() < 1e-14);
        assert_eq!(hi, 1.0);
    }

    #[test]
    fn wilson_is_symmetric() {
        let (lo, hi) = wilson(3, 10);
        let (lo2, hi2) = wilson(7, 10);
        assert!((lo - (1.0 - hi2)).abs() < 1e-15 && (hi - (1.0 - lo2)).abs() < 1e-15);
    }
}
