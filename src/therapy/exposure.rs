//! A drug's exposure over one arm: its administrations, exact plasma concentrations and the
//! activity (0 to 1) they give the mechanism a model declares for it.

use super::catalogue::Potency;
use super::pk::{Administration, Amounts, CentralCurve, TwoCompartment};

/// One drug given to one patient in one arm, bound to the model input that receives its
/// activity.
#[derive(Debug, Clone, PartialEq)]
pub struct Exposure {
    /// Index of the model input (an `InputRole::Exposure`) that receives the activity.
    pub input: usize,
    pub pk: TwoCompartment,
    pub molecular_weight_g_per_mol: f64,
    pub potency: Potency,
    pub administrations: Vec<Administration>,
}

/// The activity (0 to 1) of plasma concentration `c_mg_per_l` for a drug of this potency.
pub fn activity(potency: Potency, molecular_weight_g_per_mol: f64, c_mg_per_l: f64) -> f64 {
    let (half, hill) = half_activity(potency, molecular_weight_g_per_mol);
    activity_from_half(half, hill, c_mg_per_l)
}

/// The concentration of half activity (mg/L) and the Hill exponent. Occupancy is
/// C/(C + K_D) in molar terms, which is the same as C/(C + K_D*MW) in mass terms (nM x g/mol
/// is µg/L, 1e-6 mg/L per nM g/mol): one division per evaluation rather than two.
pub fn half_activity(potency: Potency, molecular_weight_g_per_mol: f64) -> (f64, f64) {
    match potency {
        Potency::Occupancy { kd_nm } => (kd_nm * molecular_weight_g_per_mol * 1e-6, 1.0),
        Potency::Emax {
            ec50_mg_per_l,
            hill,
        } => (ec50_mg_per_l, hill),
    }
}

/// C^h/(C^h + C50^h) for concentration `c_mg_per_l`, half activity at `half_mg_per_l`.
#[inline]
fn activity_from_half(half_mg_per_l: f64, hill: f64, c_mg_per_l: f64) -> f64 {
    let c = c_mg_per_l.max(0.0);
    if hill == 1.0 {
        c / (c + half_mg_per_l)
    } else {
        // powf costs as much as the rest of a right-hand side; hill 1 is the common case.
        let x = (c / half_mg_per_l).powf(hill);
        x / (1.0 + x)
    }
}

/// One drug's activity over a stretch without dosing events, prepared once for evaluation at
/// the many stage times of the steps inside it: its concentration as a fixed sum of
/// exponentials, and its potency as a half-activity concentration.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct StretchActivity {
    /// The model input that receives the activity.
    pub input: usize,
    curve: CentralCurve,
    half_mg_per_l: f64,
    hill: f64,
    /// Where the two-exponential form does not exist (coinciding eigenvalues): the amounts at
    /// the stretch's start and the infusion rate, for [`TwoCompartment::advance`].
    pk: TwoCompartment,
    start: Amounts,
    rate_mg_per_day: f64,
    /// See [`StretchActivity::negligible`]: then the activity is taken as 0.
    negligible: bool,
}

impl StretchActivity {
    /// The activity `dt_day` after the stretch's start (0 where it is negligible).
    #[inline]
    pub fn at(&self, dt_day: f64) -> f64 {
        if self.negligible {
            return 0.0;
        }
        self.exact_at(dt_day)
    }

    /// The activity from the concentration, whether negligible or not.
    #[inline]
    fn exact_at(&self, dt_day: f64) -> f64 {
        let c = if self.curve.is_valid() {
            self.curve.at(dt_day)
        } else {
            self.pk.concentration_mg_per_l(self.pk.advance(
                self.start,
                self.rate_mg_per_day,
                dt_day,
            ))
        };
        activity_from_half(self.half_mg_per_l, self.hill, c)
    }

    /// Whether the activity stays below 2^-55 over the whole stretch. Then `1 - activity`
    /// rounds to exactly 1, so an input `1 - (1 - u)(1 - activity)` is bit for bit the same
    /// with the activity taken as 0, whatever `u`, and the exponentials need not be evaluated.
    /// A chemotherapy's concentration falls that low some weeks after its last dose
    /// (nab-paclitaxel, terminal half-life 14 hours: about 35 days); before, its exponentials
    /// were evaluated at every stage for the rest of the two years.
    pub fn negligible(&self) -> bool {
        self.negligible
    }

    /// Whether the stretch's concentrations and activity are numbers: not where a dose or a
    /// PK or potency value is beyond what f64 holds (a 1e308 mg dose, an infusion of 1e-320
    /// minutes, a K_D of 1e-320 nM). Their concentrations were NaN, and the activity of a NaN
    /// concentration was taken as 0 without a word (found by fuzzing).
    pub fn is_finite(&self) -> bool {
        let c = &self.curve;
        let concentrations = if c.is_valid() {
            [
                c.steady_mg_per_l,
                c.a_mg_per_l,
                c.alpha_per_day,
                c.b_mg_per_l,
                c.beta_per_day,
            ]
            .iter()
            .all(|v| v.is_finite())
        } else {
            self.pk.concentration_mg_per_l(self.start).is_finite()
        };
        concentrations
            && self.start.central_mg.is_finite()
            && self.start.peripheral_mg.is_finite()
            && self.rate_mg_per_day.is_finite()
            && self.half_mg_per_l.is_finite()
            && self.half_mg_per_l > 0.0
            && self.hill.is_finite()
    }

    /// The concentration curve and the half-activity concentration, where the activity is
    /// `c / (c + half)` of `c = curve.at(dt)` clamped at 0 (Hill 1, a two-exponential
    /// curve): the form SIMD lanes evaluate with the same operations as [`Self::at`]. `None`
    /// where it is another form, which lanes evaluate one patient at a time.
    pub(crate) fn lane_form(&self) -> Option<(CentralCurve, f64)> {
        (self.curve.is_valid() && self.hill == 1.0).then_some((self.curve, self.half_mg_per_l))
    }
}

/// The bound of [`StretchActivity::negligible`]: |steady| + |a| + |b| bounds the concentration
/// for every dt >= 0 (both exponentials are at most 1, and rounding is monotone), and the
/// activity grows with the concentration. 2^-55 is half the threshold, a margin far beyond the
/// rounding of the bound.
fn negligible_on(curve: &CentralCurve, half_mg_per_l: f64, hill: f64) -> bool {
    const BELOW: f64 = 1.0 / (1u64 << 55) as f64;
    curve.is_valid() && {
        let most = curve.steady_mg_per_l.abs() + curve.a_mg_per_l.abs() + curve.b_mg_per_l.abs();
        activity_from_half(half_mg_per_l, hill, most) < BELOW
    }
}

impl Exposure {
    /// Every instant where the input to the compartments changes.
    pub fn event_times(&self) -> impl Iterator<Item = f64> + '_ {
        self.administrations.iter().flat_map(|a| {
            let end = (a.duration_day > 0.0).then_some(a.start_day + a.duration_day);
            std::iter::once(a.start_day).chain(end)
        })
    }

    /// Infusion rate (mg/day) on a stretch `[start, end)` that no event splits.
    pub fn rate_on(&self, start: f64, end: f64, same_instant: f64) -> f64 {
        self.administrations
            .iter()
            .filter(|a| {
                a.duration_day > 0.0
                    && a.start_day <= start + same_instant
                    && a.start_day + a.duration_day >= end - same_instant
            })
            .map(|a| a.amount_mg / a.duration_day)
            .sum()
    }

    /// Bolus amount (mg) given at `t`.
    pub fn bolus_at(&self, t: f64, same_instant: f64) -> f64 {
        self.administrations
            .iter()
            .filter(|a| a.duration_day == 0.0 && (a.start_day - t).abs() <= same_instant)
            .map(|a| a.amount_mg)
            .sum()
    }

    /// The activity at concentration `c_mg_per_l`.
    pub fn activity(&self, c_mg_per_l: f64) -> f64 {
        activity(self.potency, self.molecular_weight_g_per_mol, c_mg_per_l)
    }

    /// The activity over a stretch that starts with amounts `start` and has a constant
    /// infusion `rate_mg_per_day` throughout.
    pub fn stretch(&self, start: Amounts, rate_mg_per_day: f64) -> StretchActivity {
        let (half_mg_per_l, hill) = half_activity(self.potency, self.molecular_weight_g_per_mol);
        let curve = self.pk.central_curve(start, rate_mg_per_day);
        StretchActivity {
            input: self.input,
            curve,
            half_mg_per_l,
            hill,
            pk: self.pk,
            start,
            rate_mg_per_day,
            negligible: negligible_on(&curve, half_mg_per_l, hill),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn occupancy_and_emax() {
        // 149 kDa antibody at 14.9 mg/L is 100 nM: occupancy 100/(100 + 1) with K_D 1 nM.
        let o = activity(Potency::Occupancy { kd_nm: 1.0 }, 149_000.0, 14.9);
        assert!((o - 100.0 / 101.0).abs() < 1e-12);
        let e = activity(
            Potency::Emax {
                ec50_mg_per_l: 2.0,
                hill: 2.0,
            },
            1.0,
            2.0,
        );
        assert!((e - 0.5).abs() < 1e-15);
        assert_eq!(
            activity(
                Potency::Emax {
                    ec50_mg_per_l: 2.0,
                    hill: 2.0
                },
                1.0,
                -1e-30
            ),
            0.0
        );
    }

    /// A stretch is negligible only where `1 - activity` is exactly 1 at every time in it, so
    /// that taking the activity as 0 changes no input's bits whatever the input held before
    /// (a schedule's rate on the same input, found in review: leaving the drug out altogether
    /// turned 0.1 into 0.09999999999999998). It is so for nab-paclitaxel weeks after its last
    /// dose, not days after.
    #[test]
    fn a_drug_is_negligible_only_where_it_changes_no_input() {
        let nab = crate::therapy::catalogue::find_drug("nab-paclitaxel").unwrap();
        let exposure = Exposure {
            input: 5,
            pk: nab.pk,
            molecular_weight_g_per_mol: nab.molecular_weight_g_per_mol,
            potency: nab.potency,
            administrations: Vec::new(),
        };
        // 180 mg at the end of a 30-minute infusion, then `days` without drug (as Amounts
        // after the infusion, advanced exactly).
        let after_infusion = nab
            .pk
            .advance(Amounts::default(), 180.0 / (0.5 / 24.0), 0.5 / 24.0);
        let mut seen = (false, false);
        for days in [0.5, 2.0, 10.0, 25.0, 30.0, 35.0, 40.0, 60.0, 200.0] {
            let stretch = exposure.stretch(nab.pk.advance(after_infusion, 0.0, days), 0.0);
            let exactly_one = (0..=2000).all(|i| 1.0 - stretch.at(i as f64 * 0.05) == 1.0);
            if stretch.negligible() {
                assert!(
                    exactly_one,
                    "{days} days after: negligible, yet changes an input"
                );
                seen.1 = true;
            } else {
                seen.0 = true;
            }
            // The bound is not wasteful: 30 days on the drug is kept, 35
            // days on the drug is left out (terminal half-life 14 hours: five days divide
            // it by about 400).
            assert_eq!(stretch.negligible(), days >= 35.0, "{days} days after");
        }
        assert_eq!(seen, (true, true));
    }

    /// A stretch's activity is the potency applied to the exact concentration, whichever form
    /// the potency takes (occupancy in molar terms, Emax with a Hill exponent).
    #[test]
    fn stretch_activity_is_potency_of_the_exact_concentration() {
        let pk = TwoCompartment {
            cl_l_per_day: 0.22,
            vc_l: 3.48,
            q_l_per_day: 0.795,
            vp_l: 4.06,
        };
        let start = Amounts {
            central_mg: 120.0,
            peripheral_mg: 60.0,
        };
        for (potency, mw) in [
            (Potency::Occupancy { kd_nm: 0.3 }, 149_000.0),
            (
                Potency::Emax {
                    ec50_mg_per_l: 20.0,
                    hill: 1.0,
                },
                853.9,
            ),
            (
                Potency::Emax {
                    ec50_mg_per_l: 20.0,
                    hill: 2.5,
                },
                853.9,
            ),
        ] {
            let exposure = Exposure {
                input: 3,
                pk,
                molecular_weight_g_per_mol: mw,
                potency,
                administrations: Vec::new(),
            };
            let stretch = exposure.stretch(start, 40.0);
            assert_eq!(stretch.input, 3);
            for dt in [0.0, 0.02, 1.0, 30.0, 400.0] {
                let c = pk.concentration_mg_per_l(pk.advance(start, 40.0, dt));
                // The molar form by its definition: C in nM over C + K_D.
                let expected = match potency {
                    Potency::Occupancy { kd_nm } => {
                        let c_nm = c / mw * 1e6;
                        c_nm / (c_nm + kd_nm)
                    }
                    Potency::Emax {
                        ec50_mg_per_l,
                        hill,
                    } => c.powf(hill) / (c.powf(hill) + ec50_mg_per_l.powf(hill)),
                };
                // A few roundings apart: the curve and `advance` sum the same exponentials in
                // another order.
                assert!(
                    (stretch.at(dt) - expected).abs() <= 1e-13 * expected,
                    "{potency:?} at {dt}: {} vs {expected}",
                    stretch.at(dt)
                );
            }
        }
    }
}
