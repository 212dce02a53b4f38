//! What is given to a model over time, expanded into single administrations, and the
//! piecewise-constant timeline the solver integrates through.

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
    /// Administrations at or after the horizon are ignored (the scenario validator rejects
    /// them before they get here).
    pub fn segments(&self, n_inputs: usize, horizon_day: f64) -> Vec<Segment> {
        let mut cuts: Vec<f64> = vec![0.0, horizon_day];
        for a in &self.administrations {
            if a.start_day < horizon_day {
                cuts.push(a.start_day.max(0.0));
                if let Delivery::Rate { duration_days, .. } = a.kind {
                    let end = a.start_day + duration_days;
                    if end < horizon_day {
                        cuts.push(end);
                    }
                }
            }
        }
        cuts.sort_by(f64::total_cmp);
        cuts.dedup();

        let mut segments = Vec::with_capacity(cuts.len());
        for w in cuts.windows(2) {
            let (start, end) = (w[0], w[1]);
            let mut rates = vec![0.0; n_inputs];
            let mut boluses = Vec::new();
            for a in &self.administrations {
                match a.kind {
                    Delivery::Rate {
                        amount_per_day,
                        duration_days,
                    } => {
                        if a.start_day <= start && a.start_day + duration_days >= end {
                            rates[a.input] += amount_per_day;
                        }
                    }
                    Delivery::Bolus { amount } => {
                        if a.start_day == start {
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
        let s = schedule.segments(2, 10.0);
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
