//! Two arms compared: the log-rank test (R's `survdiff`) and the Cox proportional-hazards
//! model with the arm as its one covariate (R's `coxph`, Efron's handling of ties by default).

use super::survival::{Observation, Z_975, same_time};

/// One distinct time of the pooled data: at risk and events in each arm.
#[derive(Debug, Clone, Copy, Default)]
struct Tally {
    at_risk: [f64; 2],
    events: [f64; 2],
}

/// The pooled event times of a control (arm 0) and a treatment (arm 1), with who is at risk:
/// what both the log-rank test and the Cox model need, built once for both.
#[derive(Debug, Clone)]
pub struct Pooled(Vec<Tally>);

impl Pooled {
    pub fn new(control: &[Observation], treatment: &[Observation]) -> Pooled {
        Pooled(tallies(control, treatment))
    }
}

fn tallies(control: &[Observation], treatment: &[Observation]) -> Vec<Tally> {
    let mut all: Vec<(f64, bool, usize)> = control
        .iter()
        .map(|o| (o.time, o.event, 0))
        .chain(treatment.iter().map(|o| (o.time, o.event, 1)))
        .collect();
    all.sort_by(|a, b| a.0.total_cmp(&b.0));
    let mut at_risk = [control.len() as f64, treatment.len() as f64];
    let mut out = Vec::new();
    let mut i = 0;
    while i < all.len() {
        let time = all[i].0;
        let mut tally = Tally {
            at_risk,
            events: [0.0; 2],
        };
        while i < all.len() && same_time(all[i].0, time) {
            let (_, event, arm) = all[i];
            if event {
                tally.events[arm] += 1.0;
            }
            at_risk[arm] -= 1.0;
            i += 1;
        }
        if tally.events[0] + tally.events[1] > 0.0 {
            out.push(tally);
        }
    }
    out
}

/// The log-rank test of two arms.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LogRank {
    /// Chi-square statistic, 1 degree of freedom.
    pub chisq: f64,
    pub p: f64,
    /// Observed and expected events in the control and the treatment arm.
    pub observed: [f64; 2],
    pub expected: [f64; 2],
}

/// Upper tail of the chi-square distribution with one degree of freedom.
pub fn chisq1_upper(x: f64) -> f64 {
    statrs::function::erf::erfc((x / 2.0).sqrt())
}

/// Two-sided p-value of a standard normal statistic.
pub fn normal_two_sided(z: f64) -> f64 {
    statrs::function::erf::erfc(z.abs() / std::f64::consts::SQRT_2)
}

/// The log-rank test (Mantel–Haenszel, hypergeometric variance as R's `survdiff` with rho 0).
/// `None` when there is no event at all.
pub fn log_rank(control: &[Observation], treatment: &[Observation]) -> Option<LogRank> {
    log_rank_pooled(&Pooled::new(control, treatment))
}

/// The log-rank test of already pooled arms.
pub fn log_rank_pooled(pooled: &Pooled) -> Option<LogRank> {
    let mut observed = [0.0; 2];
    let mut expected = [0.0; 2];
    let mut variance = 0.0;
    for t in &pooled.0 {
        let n = t.at_risk[0] + t.at_risk[1];
        let d = t.events[0] + t.events[1];
        for arm in 0..2 {
            observed[arm] += t.events[arm];
            expected[arm] += d * t.at_risk[arm] / n;
        }
        if n > 1.0 {
            variance += d * (t.at_risk[0] / n) * (t.at_risk[1] / n) * (n - d) / (n - 1.0);
        }
    }
    if observed[0] + observed[1] == 0.0 || variance <= 0.0 {
        return None;
    }
    let chisq = (observed[1] - expected[1]).powi(2) / variance;
    Some(LogRank {
        chisq,
        p: chisq1_upper(chisq),
        observed,
        expected,
    })
}

/// How tied event times enter the partial likelihood.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ties {
    Efron,
    Breslow,
}

/// A Cox model fit of the treatment indicator.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CoxFit {
    /// log hazard ratio of treatment versus control, and its standard error.
    pub coef: f64,
    pub se: f64,
    pub hr: f64,
    pub hr_lower: f64,
    pub hr_upper: f64,
    pub wald_p: f64,
    /// The maximised log partial likelihood.
    pub log_likelihood: f64,
}

/// Log partial likelihood, score and information at `beta`.
fn partial_likelihood(tallies: &[Tally], beta: f64, ties: Ties) -> (f64, f64, f64) {
    let risk = beta.exp();
    let (mut loglik, mut score, mut information) = (0.0, 0.0, 0.0);
    for t in tallies {
        let d = t.events[0] + t.events[1];
        let total = t.at_risk[0] + t.at_risk[1] * risk;
        let treated = t.at_risk[1] * risk;
        let dying_total = t.events[0] + t.events[1] * risk;
        let dying_treated = t.events[1] * risk;
        loglik += beta * t.events[1];
        score += t.events[1];
        let copies = d as usize;
        for l in 0..copies {
            let f = match ties {
                Ties::Efron => l as f64 / d,
                Ties::Breslow => 0.0,
            };
            let denominator = total - f * dying_total;
            let numerator = treated - f * dying_treated;
            let mean = numerator / denominator;
            loglik -= denominator.ln();
            score -= mean;
            // The covariate is 0 or 1, so its second moment equals its first.
            information += mean - mean * mean;
        }
    }
    (loglik, score, information)
}

/// Fits the Cox model by Newton–Raphson with step halving. `None` when the hazard ratio is
/// not estimable (no events, or all of them in one arm: the estimate runs off to 0 or
/// infinity).
pub fn cox(control: &[Observation], treatment: &[Observation], ties: Ties) -> Option<CoxFit> {
    cox_pooled(&Pooled::new(control, treatment), ties)
}

/// The Cox model of already pooled arms. `None` also when Newton–Raphson does not converge in
/// 100 iterations (the arms separate perfectly and the estimate runs off; R warns "did not
/// converge" there).
pub fn cox_pooled(pooled: &Pooled, ties: Ties) -> Option<CoxFit> {
    let t = &pooled.0;
    let events: [f64; 2] = t.iter().fold([0.0; 2], |acc, x| {
        [acc[0] + x.events[0], acc[1] + x.events[1]]
    });
    if events[0] == 0.0 || events[1] == 0.0 {
        return None;
    }
    let mut beta = 0.0;
    let (mut loglik, mut score, mut information) = partial_likelihood(t, beta, ties);
    let mut converged = false;
    for _ in 0..100 {
        if information.is_nan() || information <= 0.0 {
            return None;
        }
        let mut step = score / information;
        let mut next = partial_likelihood(t, beta + step, ties);
        // Halve a step that lowers the likelihood or overflows it (never needed near the
        // optimum).
        let worse = |n: &(f64, f64, f64)| !n.0.is_finite() || n.0 < loglik - 1e-12 * loglik.abs();
        let mut halvings = 0;
        while worse(&next) && halvings < 60 {
            step /= 2.0;
            next = partial_likelihood(t, beta + step, ties);
            halvings += 1;
        }
        if worse(&next) {
            return None;
        }
        beta += step;
        (loglik, score, information) = next;
        if step.abs() <= 1e-12 * (1.0 + beta.abs()) {
            converged = true;
            break;
        }
    }
    if !(converged && beta.is_finite() && information > 0.0) {
        return None;
    }
    let se = 1.0 / information.sqrt();
    // Separated arms: the likelihood flattens as the estimate runs off, Newton's steps shrink
    // with the information and look converged. An interval of exp(±2 x 100) says nothing:
    // not estimable (R: "coefficient may be infinite").
    if se > 100.0 {
        return None;
    }
    Some(CoxFit {
        coef: beta,
        se,
        hr: beta.exp(),
        hr_lower: (beta - Z_975 * se).exp(),
        hr_upper: (beta + Z_975 * se).exp(),
        wald_p: normal_two_sided(beta / se),
        log_likelihood: loglik,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A NaN time must not hang the comparison: the pooled tallies gathered one time with `==`
    /// and never advanced past a NaN. It ends up a time of its own, last (as `total_cmp` sorts
    /// it); the finite times before it are tallied as without it.
    #[test]
    fn a_nan_time_does_not_hang_the_comparison() {
        let at = |time: f64, event: bool| Observation { time, event };
        let control = [at(5.0, true), at(f64::NAN, true), at(9.0, false)];
        let treatment = [at(3.0, true), at(7.0, false), at(8.0, true)];
        let pooled = tallies(&control, &treatment);
        // Events at 3, 5 and 8, then the NaN.
        assert_eq!(pooled.len(), 4);
        assert_eq!(pooled[0].events, [0.0, 1.0]);
        assert_eq!(pooled[0].at_risk, [3.0, 3.0]);
        assert_eq!(pooled[3].events, [1.0, 0.0]);
        assert_eq!(pooled[3].at_risk, [1.0, 0.0]);
    }
}
