//! A drug's exposure over one arm: its administrations, exact plasma concentrations and the
//! activity (0 to 1) they give the mechanism a model declares for it.

use super::catalogue::Potency;
use super::pk::{Administration, Amounts, TwoCompartment};

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
    let c = c_mg_per_l.max(0.0);
    match potency {
        Potency::Occupancy { kd_nm } => {
            // mg/L over g/mol is mmol/m3 = µmol/L; 1e3 more for nmol/L.
            let c_nm = c / molecular_weight_g_per_mol * 1e6;
            c_nm / (c_nm + kd_nm)
        }
        Potency::Emax {
            ec50_mg_per_l,
            hill,
        } => {
            let ratio = c / ec50_mg_per_l;
            // powf costs as much as the rest of a right-hand side; hill 1 is the common case.
            let x = if hill == 1.0 { ratio } else { ratio.powf(hill) };
            x / (1.0 + x)
        }
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

    /// Plasma concentration (mg/L) `dt` after a point where the amounts were `start`, with a
    /// constant infusion `rate_mg_per_day` since.
    pub fn concentration(&self, start: Amounts, rate_mg_per_day: f64, dt_day: f64) -> f64 {
        self.pk
            .concentration_mg_per_l(self.pk.advance(start, rate_mg_per_day, dt_day))
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
}
