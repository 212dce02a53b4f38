//! What is given to a model over time, expanded into single administrations, and the
//! piecewise-constant timeline the solver integrates through.

use super::ode::SAME_INSTANT_DAY;

/// One administration of an input.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Administration {
    /// Index into the model's declared inputs.
    pub input: usize,
    pub start_day: f64,
    pub kind: Delivery,
}

/// How an administration is delivered.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Delivery {
    /// Constant rate (the input's unit per day) for `duration_days`.
    Rate {
        amount_per_day: f64,
        duration_days: f64,
    },
    /// Everything at once, at `start_day`.
    Bolus { amount: f64 },
}

/// Every administration of one arm.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Schedule {
    pub administrations: Vec<Administration>,
}

/// An interval on which every input rate is constant, preceded by the boluses given at its
/// start.
#[derive(Debug, Clone, PartialEq)]
pub struct Segment {
    pub start_day: f64,
    pub end_day: f64,
    /// `(input, amount)` applied at `start_day`, before integrating the segment.
    pub boluses: Vec<(usize, f64)>,
    /// Rate of each input on the segment.
    pub rates: Vec<f64>,
}

impl Schedule {
    /// Splits `[0, horizon_day]` at every start and stop of an input, so that the right-hand
    /// side is smooth on each segment and the solver can be restarted at each discontinuity.
    ///
    /// Times closer than [`SAME_INSTANT_DAY`] are one instant (an infusion ending at
    /// 0.30000000000000004 and a bolus at 0.3 make one cut, not a 4e-17-day segment), and
    /// administrations at or after the horizon are ignored (the scenario validator rejects
    /// them before they get here).
    /// `extra_cuts` are further instants where the right-hand side changes (a drug's infusion
    /// starting or stopping).
    pub fn segments(&self, n_inputs: usize, horizon_day: f64, extra_cuts: &[f64]) -> Vec<Segment> {
        let before_horizon = |t: f64| t < horizon_day - SAME_INSTANT_DAY;
        let mut raw: Vec<f64> = vec![0.0];
        raw.extend(
            extra_cuts
                .iter()
                .copied()
                .filter(|&t| t > 0.0 && before_horizon(t)),
        );
        for a in &self.administrations {
            if before_horizon(a.start_day) {
                raw.push(a.start_day.max(0.0));
                if let Delivery::Rate { duration_days, .. } = a.kind
                    && before_horizon(a.start_day + duration_days)
                {
                    raw.push(a.start_day + duration_days);
                }
            }
        }
        raw.sort_by(f64::total_cmp);
        let mut cuts: Vec<f64> = Vec::with_capacity(raw.len() + 1);
        for t in raw {
            if cuts.last().is_none_or(|&last| t > last + SAME_INSTANT_DAY) {
                cuts.push(t);
            }
        }
        cuts.push(horizon_day);
        // The cut an administration's time belongs to.
        let snap = |t: f64| -> f64 {
            let i = cuts.partition_point(|&c| c < t - SAME_INSTANT_DAY);
            match cuts.get(i) {
                Some(&c) if c <= t + SAME_INSTANT_DAY => c,
                _ => t,
            }
        };
        let snapped: Vec<(f64, f64)> = self
            .administrations
            .iter()
            .map(|a| match a.kind {
                Delivery::Rate { duration_days, .. } => {
                    (snap(a.start_day), snap(a.start_day + duration_days))
                }
                Delivery::Bolus { .. } => (snap(a.start_day), snap(a.start_day)),
            })
            .collect();

        let mut segments = Vec::with_capacity(cuts.len());
        for w in cuts.windows(2) {
            let (start, end) = (w[0], w[1]);
            let mut rates = vec![0.0; n_inputs];
            let mut boluses = Vec::new();
            for (a, &(a_start, a_end)) in self.administrations.iter().zip(&snapped) {
                match a.kind {
                    Delivery::Rate { amount_per_day, .. } => {
                        if a_start <= start && a_end >= end {
                            rates[a.input] += amount_per_day;
                        }
                    }
                    Delivery::Bolus { amount } => {
                        if a_start == start {
                            boluses.push((a.input, amount));
                        }
                    }
                }
            }
            segments.push(Segment {
                start_day: start,
                end_day: end,
                boluses,
                rates,
            });
        }
        segments
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An infusion ending at 0.1 + 0.2 = 0.30000000000000004 and a bolus at 0.3 are one
    /// instant: no 4e-17-day segment for the solver to underflow on.
    #[test]
    fn floating_point_neighbours_are_one_instant() {
        let schedule = Schedule {
            administrations: vec![
                Administration {
                    input: 0,
                    start_day: 0.1,
                    kind: Delivery::Rate {
                        amount_per_day: 1.0,
                        duration_days: 0.2,
                    },
                },
                Administration {
                    input: 0,
                    start_day: 0.3,
                    kind: Delivery::Bolus { amount: 2.0 },
                },
                Administration {
                    input: 0,
                    start_day: 0.9 - 1e-16,
                    kind: Delivery::Bolus { amount: 3.0 },
                },
            ],
        };
        let s = schedule.segments(1, 0.9, &[]);
        let cuts: Vec<(f64, f64)> = s.iter().map(|g| (g.start_day, g.end_day)).collect();
        assert_eq!(cuts, vec![(0.0, 0.1), (0.1, 0.3), (0.3, 0.9)]);
        assert_eq!(s[1].rates, vec![1.0]);
        assert_eq!(s[2].rates, vec![0.0]);
        assert_eq!(s[2].boluses, vec![(0, 2.0)]);
    }

    #[test]
    fn overlapping_infusions_add_and_boluses_land_on_their_day() {
        let schedule = Schedule {
            administrations: vec![
                Administration {
                    input: 0,
                    start_day: 1.0,
                    kind: Delivery::Rate {
                        amount_per_day: 2.0,
                        duration_days: 3.0,
                    },
                },
                Administration {
                    input: 0,
                    start_day: 2.0,
                    kind: Delivery::Rate {
                        amount_per_day: 5.0,
                        duration_days: 1.0,
                    },
                },
                Administration {
                    input: 1,
                    start_day: 2.0,
                    kind: Delivery::Bolus { amount: 7.0 },
                },
            ],
        };
        let s = schedule.segments(2, 10.0, &[]);
        let cuts: Vec<(f64, f64)> = s.iter().map(|g| (g.start_day, g.end_day)).collect();
        assert_eq!(
            cuts,
            vec![(0.0, 1.0), (1.0, 2.0), (2.0, 3.0), (3.0, 4.0), (4.0, 10.0)]
        );
        let rates: Vec<f64> = s.iter().map(|g| g.rates[0]).collect();
        assert_eq!(rates, vec![0.0, 2.0, 7.0, 2.0, 0.0]);
        assert_eq!(s[2].boluses, vec![(1, 7.0)]);
        assert!(
            s.iter()
                .enumerate()
                .all(|(i, g)| i == 2 || g.boluses.is_empty())
        );
    }
}
