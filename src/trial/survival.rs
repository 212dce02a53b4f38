//! Kaplan–Meier estimation as R's `survival` package does it (`survfit`, conf.type
//! "log-log"), with Greenwood's variance, the median and its confidence interval, landmark
//! survival and the restricted mean survival time.
//!
//! Conventions (checked against R 4 / survival 3.5 in `tests/survival_reference.rs`):
//! - At a time with both events and censorings, the events come first: those censored at `t`
//!   are still at risk at `t`.
//! - Greenwood: Var(log S(t)) = sum over event times t_i <= t of d_i / (n_i (n_i - d_i)).
//! - The 95% interval is symmetric on log(-log S): S^exp(±z se / log S), undefined where S is
//!   0 or 1 (R reports NA there; we report S itself, the degenerate interval).
//! - The median is the first time the curve reaches 0.5 or below; where it is exactly 0.5 over
//!   an interval and then falls, the middle of that interval (R's `print.survfit` table, the
//!   median users read). Its interval runs from
//!   where the lower band reaches 0.5 to where the upper band does; a band that never does
//!   leaves that limit undefined.

/// The 0.975 quantile of the standard normal (R's `qnorm(0.975)`).
pub const Z_975: f64 = 1.959_963_984_540_054;

/// Two survival values closer than this are equal when looking for the median (R's
/// `sqrt(.Machine$double.eps)`).
const SAME_SURVIVAL: f64 = 1.490_116_119_384_765_6e-8;

/// One subject's follow-up: the time it ended, and whether by the event (else censored).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Observation {
    pub time: f64,
    pub event: bool,
}

/// Whether two times of data sorted with `total_cmp` are one distinct time. `==` groups 0 with
/// -0, and `total_cmp` makes a NaN equal to itself: with `==` alone, a loop that gathers the
/// observations of one time never advanced past a NaN (the Kaplan–Meier fit pushed steps until
/// memory ran out, found in review).
pub(crate) fn same_time(a: f64, b: f64) -> bool {
    a == b || a.total_cmp(&b).is_eq()
}

/// The curve at one distinct time of the data.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct KmStep {
    pub time: f64,
    pub at_risk: f64,
    pub events: f64,
    pub censored: f64,
    /// S(t) just after this time.
    pub survival: f64,
    /// Greenwood's sum: the variance of log S(t) (R's `std.err` squared).
    pub greenwood: f64,
}

impl KmStep {
    /// Standard error of log S (R's `std.err`); infinite once S reaches 0.
    pub fn std_err(&self) -> f64 {
        self.greenwood.sqrt()
    }

    /// 95% log-log interval of S at this step.
    pub fn interval(&self) -> (f64, f64) {
        log_log_interval(self.survival, self.greenwood)
    }
}

/// The 95% interval of S symmetric on log(-log S), given Var(log S).
pub fn log_log_interval(survival: f64, variance_log_s: f64) -> (f64, f64) {
    if survival <= 0.0 || survival >= 1.0 || !variance_log_s.is_finite() {
        return (survival, survival);
    }
    let log_s = survival.ln();
    let w = Z_975 * variance_log_s.sqrt() / log_s.abs();
    // S^exp(w) is below S, S^exp(-w) above.
    (survival.powf(w.exp()), survival.powf((-w).exp()))
}

/// A Kaplan–Meier curve.
#[derive(Debug, Clone, PartialEq)]
pub struct KaplanMeier {
    /// Subjects (or total weight) at the start.
    pub n: f64,
    /// One step per distinct time, events or censorings, in increasing time.
    pub steps: Vec<KmStep>,
}

impl KaplanMeier {
    /// The curve of `observations` (any order).
    pub fn fit(observations: &[Observation]) -> KaplanMeier {
        let mut sorted: Vec<Observation> = observations.to_vec();
        sorted.sort_by(|a, b| a.time.total_cmp(&b.time));
        KaplanMeier::fit_sorted(sorted.iter().map(|o| (o.time, o.event, 1.0)))
    }

    /// The curve of `(time, event, weight)` already sorted by time.
    pub fn fit_sorted(sorted: impl Iterator<Item = (f64, bool, f64)>) -> KaplanMeier {
        let items: Vec<(f64, bool, f64)> = sorted.collect();
        let n: f64 = items.iter().map(|x| x.2).sum();
        let mut steps = Vec::new();
        let mut at_risk = n;
        let mut survival = 1.0;
        let mut greenwood = 0.0;
        let mut i = 0;
        while i < items.len() {
            let time = items[i].0;
            let (mut events, mut censored) = (0.0, 0.0);
            while i < items.len() && same_time(items[i].0, time) {
                if items[i].1 {
                    events += items[i].2;
                } else {
                    censored += items[i].2;
                }
                i += 1;
            }
            if events > 0.0 {
                survival *= 1.0 - events / at_risk;
                greenwood += if at_risk > events {
                    events / (at_risk * (at_risk - events))
                } else {
                    f64::INFINITY
                };
            }
            steps.push(KmStep {
                time,
                at_risk,
                events,
                censored,
                survival,
                greenwood,
            });
            at_risk -= events + censored;
        }
        KaplanMeier { n, steps }
    }

    /// The last step at or before `t`, if any.
    fn step_at(&self, t: f64) -> Option<&KmStep> {
        let k = self.steps.partition_point(|s| s.time <= t);
        k.checked_sub(1).map(|i| &self.steps[i])
    }

    /// S(t), right-continuous: 1 before the first event.
    pub fn survival_at(&self, t: f64) -> f64 {
        self.step_at(t).map_or(1.0, |s| s.survival)
    }

    /// S(t) with its 95% log-log interval.
    pub fn survival_with_interval_at(&self, t: f64) -> (f64, f64, f64) {
        match self.step_at(t) {
            Some(s) => {
                let (lo, hi) = s.interval();
                (s.survival, lo, hi)
            }
            None => (1.0, 1.0, 1.0),
        }
    }

    /// Whether follow-up reaches `t` (someone is still at risk, or it is before the last time).
    pub fn reaches(&self, t: f64) -> bool {
        self.steps.last().is_some_and(|s| s.time >= t)
    }

    /// Whether S(t) is known at `t`: follow-up reaches it, or the curve has already fallen to 0
    /// (everyone had the event; R's `summary(fit, times)` leaves such a time out, but S is 0
    /// there and a trial reports it so).
    pub fn known_at(&self, t: f64) -> bool {
        self.reaches(t) || self.steps.last().is_some_and(|s| s.survival == 0.0)
    }

    /// The median and its 95% interval (each `None` where the curve or band never reaches
    /// 0.5).
    pub fn median(&self) -> (Option<f64>, Option<f64>, Option<f64>) {
        let times: Vec<f64> = self.steps.iter().map(|s| s.time).collect();
        let surv: Vec<f64> = self.steps.iter().map(|s| s.survival).collect();
        // Where S is 0 or 1 the band is undefined (R's NA): it cannot reach 0.5 there.
        let (lower, upper): (Vec<f64>, Vec<f64>) = self
            .steps
            .iter()
            .map(|s| {
                if s.survival > 0.0 && s.survival < 1.0 {
                    s.interval()
                } else {
                    (f64::NAN, f64::NAN)
                }
            })
            .unzip();
        (
            quantile_time(&times, &surv, 0.5),
            // The lower band reaches 0.5 first: it gives the lower limit.
            quantile_time(&times, &lower, 0.5),
            quantile_time(&times, &upper, 0.5),
        )
    }

    /// Restricted mean survival time to `tau` (the area under S from 0 to tau) and its
    /// standard error (R's `rmean` and `se(rmean)`).
    pub fn rmst(&self, tau: f64) -> (f64, f64) {
        // Areas from each event time to tau, accumulated backwards.
        let mut area = 0.0;
        let mut previous_time = 0.0;
        let mut previous_s = 1.0;
        let mut pieces = Vec::new(); // (time, survival after, events, at risk)
        for s in self.steps.iter().filter(|s| s.time <= tau) {
            area += previous_s * (s.time - previous_time);
            previous_time = s.time;
            previous_s = s.survival;
            if s.events > 0.0 {
                pieces.push(*s);
            }
        }
        area += previous_s * (tau - previous_time);
        // Var = sum over event times of A_i^2 d_i / (n_i (n_i - d_i)), with A_i the area
        // under S from t_i to tau.
        let mut variance = 0.0;
        let mut tail = 0.0;
        let mut upto = tau;
        for s in pieces.iter().rev() {
            tail += s.survival * (upto - s.time);
            upto = s.time;
            // S is constant between event times (censorings do not move it), so the tail
            // is the area from t_i to tau.
            let a = tail;
            if s.at_risk > s.events {
                variance += a * a * s.events / (s.at_risk * (s.at_risk - s.events));
            }
        }
        (area, variance.sqrt())
    }
}

/// The first time a right-continuous step curve `values` (at `times`) reaches `level` or
/// below; the middle of the interval where it equals `level` exactly (R's rule).
pub fn quantile_time(times: &[f64], values: &[f64], level: f64) -> Option<f64> {
    let i = values.iter().position(|&v| v <= level + SAME_SURVIVAL)?;
    if (values[i] - level).abs() < SAME_SURVIVAL {
        // Flat at the level: the middle up to where it next falls below; if it never does,
        // where it reached the level (R's printed median and lifelines both; R's
        // `quantile()` alone takes the middle up to the last time there).
        match values[i..].iter().position(|&v| v < level - SAME_SURVIVAL) {
            Some(j) => Some((times[i] + times[i + j]) / 2.0),
            None => Some(times[i]),
        }
    } else {
        Some(times[i])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A NaN time is a defect upstream, but it must not hang the analysis: the fit grouped
    /// times with `==`, which never held for NaN, and pushed steps until memory ran out.
    #[test]
    fn a_nan_time_ends_the_fit_as_a_step_of_its_own() {
        let observations = [
            Observation {
                time: 5.0,
                event: true,
            },
            Observation {
                time: f64::NAN,
                event: true,
            },
            Observation {
                time: 0.0,
                event: false,
            },
            Observation {
                time: -0.0,
                event: true,
            },
        ];
        let curve = KaplanMeier::fit(&observations);
        let times: Vec<f64> = curve.steps.iter().map(|s| s.time).collect();
        assert_eq!(times.len(), 3, "{times:?}");
        assert_eq!(times[0], 0.0, "0 and -0 are one time");
        assert_eq!(curve.steps[0].events + curve.steps[0].censored, 2.0);
        assert_eq!(times[1], 5.0);
        assert!(times[2].is_nan());
    }
}
