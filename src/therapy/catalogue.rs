//! The drugs immunotrial knows, with their population pharmacokinetics.
//!
//! Typical values of linear two-compartment models (reference section 5, with each model's
//! source) and their inter-individual variability as a coefficient of variation, which the
//! cohort samples. Concentrations come out in mg/L, the same as µg/mL.

use super::pk::TwoCompartment;
pub use crate::model::Mechanism;

/// How a drug's plasma concentration becomes the activity (0 to 1) its mechanism receives.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Potency {
    /// Receptor occupancy C/(C + K_D), C as a molar concentration.
    Occupancy { kd_nm: f64 },
    /// Fractional effect C^h/(C^h + EC50^h).
    Emax { ec50_mg_per_l: f64, hill: f64 },
}

/// A drug of the catalogue.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Drug {
    pub name: &'static str,
    pub mechanism: Mechanism,
    /// Molecular weight (g/mol), to turn mg/L into molar concentrations.
    pub molecular_weight_g_per_mol: f64,
    pub pk: TwoCompartment,
    pub potency: Potency,
    pub potency_source: &'static str,
    /// Inter-individual variability: (parameter, coefficient of variation), parameters named
    /// `CL`, `Vc`, `Q`, `Vp`.
    pub variability: &'static [(&'static str, f64)],
    pub source: &'static str,
    pub note: &'static str,
    /// Dosed by a target AUC through Calvert's formula (mg = AUC x (GFR + 25)), which holds
    /// for a drug cleared by the kidneys as carboplatin is, and no other drug here.
    pub calvert_dosing: bool,
}

pub static CATALOGUE: [Drug; 7] = [
    Drug {
        name: "pembrolizumab",
        mechanism: Mechanism::Pd1Blockade,
        molecular_weight_g_per_mol: 149_000.0,
        pk: TwoCompartment {
            cl_l_per_day: 0.22,
            vc_l: 3.48,
            q_l_per_day: 0.795,
            vp_l: 4.06,
        },
        potency: Potency::Occupancy { kd_nm: 0.029 },
        potency_source: "PD-1 K_D 29 pM (Keytruda label, UNCONFIRMED); serum occupancy is near 1 at any therapeutic dose",
        variability: &[("CL", 0.38), ("Vc", 0.21)],
        source: "Ahamadi M et al. CPT Pharmacometrics Syst Pharmacol 6:49 (2017)",
        note: "200 mg q3w or 400 mg q6w; terminal half-life 25.8 days",
        calvert_dosing: false,
    },
    Drug {
        name: "nivolumab",
        mechanism: Mechanism::Pd1Blockade,
        molecular_weight_g_per_mol: 146_000.0,
        pk: TwoCompartment {
            cl_l_per_day: 0.226,
            vc_l: 3.63,
            q_l_per_day: 0.770,
            vp_l: 2.78,
        },
        potency: Potency::Occupancy { kd_nm: 2.6 },
        potency_source: "PD-1 K_D 2.6 nM (QSP-IO, reference section 4)",
        variability: &[("CL", 0.36)],
        source: "Bajaj G et al. CPT Pharmacometrics Syst Pharmacol 6:58 (2017)",
        note: "3 mg/kg or 240 mg q2w; the published decrease of clearance over time \
               (Emax -0.295, T50 1410 h, Hill 3.15) is not modelled: linear PK is solved exactly",
        calvert_dosing: false,
    },
    Drug {
        name: "atezolizumab",
        mechanism: Mechanism::Pdl1Blockade,
        molecular_weight_g_per_mol: 145_000.0,
        pk: TwoCompartment {
            cl_l_per_day: 0.200,
            vc_l: 3.28,
            q_l_per_day: 0.546,
            vp_l: 3.63,
        },
        potency: Potency::Occupancy { kd_nm: 0.4 },
        potency_source: "PD-L1 K_D 0.4 nM (Tecentriq label, UNCONFIRMED)",
        variability: &[("CL", 0.29), ("Vc", 0.18)],
        source: "Stroh M et al. Clin Pharmacol Ther 102:305 (2017); CL, Vc and Vss 6.91 L as in \
                 the label; Q and the variabilities UNCONFIRMED",
        note: "1200 mg q3w or 840 mg on days 1 and 15 of 28",
        calvert_dosing: false,
    },
    Drug {
        name: "ipilimumab",
        mechanism: Mechanism::Ctla4Blockade,
        molecular_weight_g_per_mol: 148_000.0,
        pk: TwoCompartment {
            cl_l_per_day: 0.36,
            vc_l: 4.15,
            q_l_per_day: 0.986,
            vp_l: 3.11,
        },
        potency: Potency::Occupancy { kd_nm: 5.25 },
        potency_source: "CTLA-4 K_D 5.25 nM (Yervoy label, UNCONFIRMED)",
        variability: &[("CL", 0.36), ("Vc", 0.15)],
        source: "Feng Y et al. Br J Clin Pharmacol 78:106 (2014)",
        note: "3 mg/kg q3w for 4 doses; terminal half-life 15.0 days",
        calvert_dosing: false,
    },
    Drug {
        name: "paclitaxel",
        mechanism: Mechanism::Cytotoxic,
        molecular_weight_g_per_mol: 853.9,
        pk: TwoCompartment {
            cl_l_per_day: 624.0,
            vc_l: 34.1,
            q_l_per_day: 101.0,
            vp_l: 67.7,
        },
        potency: Potency::Emax {
            ec50_mg_per_l: 0.0427,
            hill: 1.0,
        },
        potency_source: "assumption: EC50 at the 0.05 µM (0.0427 mg/L) threshold whose duration predicts paclitaxel toxicity and effect (Gianni et al. J Clin Oncol 13:180, 1995); Hill 1",
        variability: &[("CL", 0.25)],
        source: "Sun 2025, linear model of 80 mg/m2 weekly (reference section 5)",
        note: "80 mg/m2 weekly; paclitaxel is nonlinear at 175 mg/m2, which this model is not for",
        calvert_dosing: false,
    },
    Drug {
        name: "nab-paclitaxel",
        mechanism: Mechanism::Cytotoxic,
        molecular_weight_g_per_mol: 853.9,
        pk: TwoCompartment {
            cl_l_per_day: 624.0,
            vc_l: 34.1,
            q_l_per_day: 101.0,
            vp_l: 67.7,
        },
        potency: Potency::Emax {
            ec50_mg_per_l: 0.0427,
            hill: 1.0,
        },
        potency_source: "assumption: as paclitaxel",
        variability: &[("CL", 0.25)],
        source: "assumption: paclitaxel's disposition (Sun 2025); the albumin-bound formulation \
                 changes the first hours of distribution, not the weekly exposure that drives kill",
        note: "100 mg/m2 on days 1, 8 and 15 of 28",
        calvert_dosing: false,
    },
    Drug {
        name: "carboplatin",
        mechanism: Mechanism::Cytotoxic,
        molecular_weight_g_per_mol: 371.25,
        // Ekhart 2008 gives k12 3.24/day and k21 5.16/day: Q = k12*Vc, Vp = Q/k21.
        pk: TwoCompartment {
            cl_l_per_day: 201.0,
            vc_l: 15.4,
            q_l_per_day: 3.24 * 15.4,
            vp_l: 3.24 * 15.4 / 5.16,
        },
        potency: Potency::Emax {
            ec50_mg_per_l: 5.0,
            hill: 1.0,
        },
        potency_source: "assumption: a free-platinum EC50 of 5 mg/L, about a fifth of the peak after AUC 5; to be calibrated",
        variability: &[("CL", 0.19), ("Vc", 0.15)],
        source: "Ekhart C et al. Cancer Chemother Pharmacol 62:1139 (2008), free platinum",
        note: "dosed by target AUC (Calvert): mg = AUC x (GFR + 25)",
        calvert_dosing: true,
    },
];

impl Drug {
    /// The activity (0 to 1) of plasma concentration `c_mg_per_l`.
    pub fn activity(&self, c_mg_per_l: f64) -> f64 {
        super::exposure::activity(self.potency, self.molecular_weight_g_per_mol, c_mg_per_l)
    }
}

/// The catalogue's drug called `name`.
pub fn find_drug(name: &str) -> Option<&'static Drug> {
    CATALOGUE.iter().find(|d| d.name == name)
}

/// The catalogue's drug names, for error messages.
pub fn drug_names() -> Vec<&'static str> {
    CATALOGUE.iter().map(|d| d.name).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Pembrolizumab's terminal half-life from the catalogue values is 25.8 days (the issue's
    /// check; half the last printed digit, 0.05 day).
    #[test]
    fn pembrolizumab_terminal_half_life_is_25_8_days() {
        let t_half = find_drug("pembrolizumab")
            .unwrap()
            .pk
            .terminal_half_life_day();
        assert!((t_half - 25.8).abs() <= 0.05, "{t_half}");
    }

    /// The other half-lives the reference prints, to half their last printed digit. Nivolumab
    /// is the exception: its values give 20.82 days where the reference prints 20.9 (by hand:
    /// k10 0.06226, k12 0.21212, k21 0.27698 per day, beta = 0.033287/day, ln 2/beta = 20.82).
    #[test]
    fn other_half_lives_agree_with_the_reference() {
        for (name, days, half_digit) in [
            ("nivolumab", 20.82, 0.005),
            ("ipilimumab", 15.0, 0.05),
            ("carboplatin", 4.4 / 24.0, 0.05 / 24.0),
            ("paclitaxel", 13.0 / 24.0, 0.5 / 24.0),
        ] {
            let t_half = find_drug(name).unwrap().pk.terminal_half_life_day();
            assert!(
                (t_half - days).abs() <= half_digit,
                "{name}: {t_half} days ({} h), reference {days}",
                t_half * 24.0
            );
        }
    }

    #[test]
    fn names_are_unique() {
        let mut names = drug_names();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), CATALOGUE.len());
    }
}
