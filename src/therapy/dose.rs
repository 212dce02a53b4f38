//! Doses as a clinician writes them ("200 mg", "3 mg/kg", "100 mg/m2", "AUC 5"), turned into
//! milligrams for a given patient.

use std::fmt;

/// The covariates dosing depends on.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Patient {
    pub weight_kg: f64,
    pub height_cm: f64,
    /// Glomerular filtration rate, for carboplatin's Calvert formula.
    pub gfr_ml_min: f64,
}

impl Default for Patient {
    /// A 70 kg, 170 cm adult with a GFR of 100 mL/min.
    fn default() -> Self {
        Patient {
            weight_kg: 70.0,
            height_cm: 170.0,
            gfr_ml_min: 100.0,
        }
    }
}

impl Patient {
    /// Body surface area (m²) by Mosteller's formula, sqrt(height_cm * weight_kg / 3600)
    /// (Mosteller RD, N Engl J Med 317:1098, 1987).
    pub fn bsa_m2(&self) -> f64 {
        (self.height_cm * self.weight_kg / 3600.0).sqrt()
    }
}

/// A dose with its unit.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Dose {
    /// A flat dose.
    Milligrams(f64),
    /// Per kilogram of body weight.
    MilligramsPerKg(f64),
    /// Per square metre of body surface area.
    MilligramsPerM2(f64),
    /// A target area under the curve (mg·min/mL), dosed by Calvert's formula.
    Auc(f64),
}

/// What a dose string may look like, for error messages.
pub const ACCEPTED_UNITS: &str =
    "\"200 mg\", \"3 mg/kg\", \"100 mg/m2\" or \"AUC 5\" (carboplatin, Calvert formula)";

/// Why a dose string was not understood.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DoseError(pub String);

impl fmt::Display for DoseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for DoseError {}

impl Dose {
    /// Parses a dose string; the amount must be a finite number above 0.
    pub fn parse(text: &str) -> Result<Dose, DoseError> {
        let trimmed = text.trim();
        let number = |s: &str| -> Result<f64, DoseError> {
            let v: f64 = s.trim().parse().map_err(|_| {
                DoseError(format!(
                    "`{text}`: `{}` is not a number; expected {ACCEPTED_UNITS}",
                    s.trim()
                ))
            })?;
            if v.is_finite() && v > 0.0 {
                Ok(v)
            } else {
                Err(DoseError(format!(
                    "`{text}`: the dose must be a finite number above 0"
                )))
            }
        };
        if let Some(rest) = trimmed
            .strip_prefix("AUC")
            .or_else(|| trimmed.strip_prefix("auc"))
        {
            if rest.trim().is_empty() {
                return Err(DoseError(format!(
                    "`{text}`: AUC needs a target, for example \"AUC 5\""
                )));
            }
            return Ok(Dose::Auc(number(rest)?));
        }
        // The unit starts at the last letter before which a number stands ("1.5e2mg" is
        // 150 mg, not 1.5 of unit "e2mg").
        let letters: Vec<usize> = trimmed
            .char_indices()
            .filter(|(_, c)| c.is_ascii_alphabetic())
            .map(|(i, _)| i)
            .collect();
        let Some(&first_letter) = letters.first() else {
            return Err(DoseError(format!(
                "`{text}`: the unit is missing; expected {ACCEPTED_UNITS}"
            )));
        };
        let split = letters
            .iter()
            .rev()
            .copied()
            .find(|&i| trimmed[..i].trim().parse::<f64>().is_ok())
            .unwrap_or(first_letter);
        let (value, unit) = trimmed.split_at(split);
        let value = number(value)?;
        match unit.trim() {
            "mg" => Ok(Dose::Milligrams(value)),
            "mg/kg" => Ok(Dose::MilligramsPerKg(value)),
            "mg/m2" | "mg/m^2" | "mg/m²" => Ok(Dose::MilligramsPerM2(value)),
            other => Err(DoseError(format!(
                "`{text}`: unknown unit `{other}`; expected {ACCEPTED_UNITS}"
            ))),
        }
    }

    /// The dose in milligrams for `patient`.
    pub fn milligrams(&self, patient: &Patient) -> f64 {
        match *self {
            Dose::Milligrams(mg) => mg,
            Dose::MilligramsPerKg(v) => v * patient.weight_kg,
            Dose::MilligramsPerM2(v) => v * patient.bsa_m2(),
            // Calvert AH et al., J Clin Oncol 7:1748 (1989): dose = AUC x (GFR + 25).
            Dose::Auc(auc) => auc * (patient.gfr_ml_min + 25.0),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn doses_in_every_unit() {
        let p = Patient {
            weight_kg: 70.0,
            height_cm: 170.0,
            gfr_ml_min: 95.0,
        };
        assert_eq!(Dose::parse("200 mg").unwrap().milligrams(&p), 200.0);
        assert_eq!(Dose::parse("3 mg/kg").unwrap().milligrams(&p), 210.0);
        // Mosteller: sqrt(170 * 70 / 3600) = 1.81812...
        let bsa = (170.0f64 * 70.0 / 3600.0).sqrt();
        assert!((p.bsa_m2() - 1.818118).abs() < 1e-6);
        assert_eq!(
            Dose::parse("100 mg/m2").unwrap().milligrams(&p),
            100.0 * bsa
        );
        // Calvert: 5 x (95 + 25) = 600 mg.
        assert_eq!(Dose::parse("AUC 5").unwrap().milligrams(&p), 600.0);
        assert_eq!(Dose::parse(" 1.5e2mg ").unwrap(), Dose::Milligrams(150.0));
    }

    #[test]
    fn bad_doses_say_which_units_are_accepted() {
        for (text, fragment) in [
            ("200", "unit is missing"),
            ("200 mg/L", "unknown unit `mg/L`"),
            ("200 g", "unknown unit `g`"),
            ("-5 mg", "above 0"),
            ("0 mg", "above 0"),
            ("AUC", "needs a target"),
            ("ten mg", "not a number"),
        ] {
            let e = Dose::parse(text).unwrap_err().0;
            assert!(e.contains(fragment), "{text}: {e}");
        }
        assert!(Dose::parse("200 g").unwrap_err().0.contains("mg/m2"));
    }
}
