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

        // Each administration visits only the segments it covers (a bolus the one it starts,
        // an infusion those between its start and end), in the administrations' order, so
        // that each segment's rates are summed in that order as before. Checking every
        // administration against every segment took minutes for a million doses (found by
        // fuzzing).
        let windows = cuts.len() - 1;
        let mut segments: Vec<Segment> = cuts
            .windows(2)
            .map(|w| Segment {
                start_day: w[0],
                end_day: w[1],
                boluses: Vec::new(),
                rates: vec![0.0; n_inputs],
            })
            .collect();
        for (a, &(a_start, a_end)) in self.administrations.iter().zip(&snapped) {
            // The first segment starting at or after the administration's start.
            let first = cuts.partition_point(|&c| c < a_start).min(windows);
            match a.kind {
                Delivery::Rate { amount_per_day, .. } => {
                    // Segments whose end is at or before the administration's end.
                    let past = cuts.partition_point(|&c| c <= a_end).saturating_sub(1);
                    for segment in segments.iter_mut().take(past).skip(first) {
                        segment.rates[a.input] += amount_per_day;
                    }
                }
                Delivery::Bolus { amount } => {
                    if let Some(segment) = segments.get_mut(first)
                        && segment.start_day == a_start
                    {
                        segment.boluses.push((a.input, amount));
                    }
                }
            }
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

    /// The segments as they were first computed, every administration checked against every
    /// segment: the reference the sweep must equal bit for bit (rates summed in the same
    /// order), on schedules with overlapping infusions, boluses on and between cuts, times a
    /// rounding error apart, extra cuts, and administrations past the horizon.
    fn segments_by_scanning(schedule: &Schedule, cuts: &[Segment]) -> Vec<Segment> {
        let snap = |t: f64| -> f64 {
            cuts.iter()
                .map(|g| g.start_day)
                .chain(cuts.last().map(|g| g.end_day))
                .find(|&c| (c - t).abs() <= SAME_INSTANT_DAY)
                .unwrap_or(t)
        };
        cuts.iter()
            .map(|g| {
                let mut rates = vec![0.0; 3];
                let mut boluses = Vec::new();
                for a in &schedule.administrations {
                    match a.kind {
                        Delivery::Rate {
                            amount_per_day,
                            duration_days,
                        } => {
                            if snap(a.start_day) <= g.start_day
                                && snap(a.start_day + duration_days) >= g.end_day
                            {
                                rates[a.input] += amount_per_day;
                            }
                        }
                        Delivery::Bolus { amount } => {
                            if snap(a.start_day) == g.start_day {
                                boluses.push((a.input, amount));
                            }
                        }
                    }
                }
                Segment {
                    rates,
                    boluses,
                    ..g.clone()
                }
            })
            .collect()
    }

    #[test]
    fn the_sweep_equals_checking_every_administration_against_every_segment() {
        let mut state = 0x2545_f491_4f6c_dd1d_u64;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state >> 11) as f64 / (1u64 << 53) as f64
        };
        for _ in 0..300 {
            let horizon = 5.0 + 20.0 * next();
            let mut administrations = Vec::new();
            for _ in 0..(next() * 40.0) as usize {
                // Whole and quarter days, so that many coincide; some nudged by a rounding
                // error; some past the horizon.
                let mut start = (next() * (horizon + 3.0) * 4.0).floor() / 4.0;
                if next() < 0.2 {
                    start += 1e-15;
                }
                // Before day 0 (the validator refuses them; the segments must not misplace
                // them either).
                if next() < 0.05 {
                    start -= 1.0;
                }
                let input = (next() * 3.0) as usize;
                let kind = if next() < 0.5 {
                    Delivery::Bolus {
                        amount: next() * 10.0,
                    }
                } else {
                    Delivery::Rate {
                        amount_per_day: 0.1 + next() / 3.0,
                        duration_days: ((next() * 12.0).floor() + 1.0) / 4.0,
                    }
                };
                administrations.push(Administration {
                    input,
                    start_day: start,
                    kind,
                });
            }
            let schedule = Schedule { administrations };
            let extra = [next() * horizon, 1.0 + 1e-13];
            let segments = schedule.segments(3, horizon, &extra);
            let reference = segments_by_scanning(&schedule, &segments);
            for (g, r) in segments.iter().zip(&reference) {
                let bits = |v: &[f64]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
                assert_eq!(bits(&g.rates), bits(&r.rates), "rates on {g:?}");
                assert_eq!(g.boluses, r.boluses, "boluses on {g:?}");
            }
        }
    }
}
