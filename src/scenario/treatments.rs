//! Treatments in clinical units: `[patient]`, `[[drug]]`, `[[arm.drug]]` and
//! `[[arm.radiation]]`, checked and turned into drug exposures and radiation fractions.

use super::schema::{ArmDrugSection, DrugSection, PatientSection, RadiationSection};
use super::{Checker, KeyPath, before_horizon, names, num, snap};
use crate::engine::ode::SAME_INSTANT_DAY;
use crate::engine::{Administration, Delivery};
use crate::model::{Mechanism, ModelSpec, specs};
use crate::therapy::catalogue::{CATALOGUE, Potency, drug_names, find_drug};
use crate::therapy::dose::{Dose, Patient};
use crate::therapy::exposure::Exposure;
use crate::therapy::pk::{self, TwoCompartment};

/// Infusion length when a scenario does not give one.
pub const DEFAULT_INFUSION_MINUTES: f64 = 30.0;
/// Most administrations one `[[arm.drug]]` or `[[arm.radiation]]` may expand to.
const MAX_ADMINISTRATIONS: usize = 1_000_000;

/// A drug a scenario may give: from the catalogue or from its own `[[drug]]`.
#[derive(Debug, Clone, PartialEq)]
pub struct DrugDefinition {
    pub name: String,
    pub mechanism: Mechanism,
    pub molecular_weight_g_per_mol: f64,
    pub pk: TwoCompartment,
    pub potency: Potency,
    /// May be dosed by a target AUC (Calvert's formula): the catalogue's carboplatin.
    pub calvert_dosing: bool,
}

/// One drug as one arm gives it.
#[derive(Debug, Clone, PartialEq)]
pub struct ArmDrug {
    pub name: String,
    /// The dose as written: a cohort recomputes it for each patient's covariates.
    pub dose: Dose,
    /// Inter-individual variability of the PK: (`CL`, `Vc`, `Q` or `Vp`, coefficient of
    /// variation), from the catalogue; none for a scenario's own drug.
    pub variability: Vec<(String, f64)>,
    /// The exposure for the scenario's `[patient]`.
    pub exposure: Exposure,
}

pub(super) fn resolve_patient(c: &mut Checker<'_>, patient: Option<&PatientSection>) -> Patient {
    let mut p = Patient::default();
    let Some(section) = patient else { return p };
    let path = KeyPath::root().key("patient");
    for (key, value, slot) in [
        ("weight_kg", section.weight_kg, &mut p.weight_kg),
        ("height_cm", section.height_cm, &mut p.height_cm),
        ("gfr_ml_min", section.gfr_ml_min, &mut p.gfr_ml_min),
    ] {
        if let Some(v) = value
            && c.non_negative(&path.key(key), v, true)
        {
            *slot = v;
        }
    }
    p
}

fn mechanism_from_name(name: &str) -> Option<Mechanism> {
    match name {
        "pd1_blockade" => Some(Mechanism::Pd1Blockade),
        "pdl1_blockade" => Some(Mechanism::Pdl1Blockade),
        "ctla4_blockade" => Some(Mechanism::Ctla4Blockade),
        "cytotoxic" => Some(Mechanism::Cytotoxic),
        _ => None,
    }
}

/// The catalogue's drugs, then the scenario's own `[[drug]]`s.
/// The drugs an arm can give: the catalogue's and the valid `[[drug]]`s, and the names of
/// `[[drug]]`s whose errors are reported already (an arm giving one is not told again that
/// the drug is unknown, as if it had not been defined).
pub(super) struct Drugs {
    pub valid: Vec<DrugDefinition>,
    pub invalid: Vec<String>,
}

pub(super) fn resolve_drugs(c: &mut Checker<'_>, sections: &[DrugSection]) -> Drugs {
    let errors_before = c.errors.len();
    let mut drugs: Vec<DrugDefinition> = CATALOGUE
        .iter()
        .map(|d| DrugDefinition {
            name: d.name.to_string(),
            mechanism: d.mechanism,
            molecular_weight_g_per_mol: d.molecular_weight_g_per_mol,
            pk: d.pk,
            potency: d.potency,
            calvert_dosing: d.calvert_dosing,
        })
        .collect();
    for (i, d) in sections.iter().enumerate() {
        let path = KeyPath::root().key("drug").index(i);
        if find_drug(&d.name).is_some() || sections[..i].iter().any(|o| o.name == d.name) {
            c.error(
                &path.key("name"),
                format!(
                    "a drug named `{}` is already defined; give yours another name",
                    d.name
                ),
            );
            continue;
        }
        let Some(mechanism) = mechanism_from_name(&d.mechanism) else {
            c.error(&path.key("mechanism"), format!("unknown mechanism `{}`; expected pd1_blockade, pdl1_blockade, ctla4_blockade or cytotoxic", d.mechanism));
            continue;
        };
        let mut ok = c.non_negative(
            &path.key("molecular_weight_g_per_mol"),
            d.molecular_weight_g_per_mol,
            true,
        );
        let pk = match (d.cl_l_per_day, d.vc_l, d.half_life_days, d.volume_l) {
            (Some(cl), Some(vc), None, None) => {
                ok &= c.non_negative(&path.key("cl_l_per_day"), cl, true)
                    & c.non_negative(&path.key("vc_l"), vc, true);
                let (q, vp) = (d.q_l_per_day.unwrap_or(0.0), d.vp_l.unwrap_or(0.0));
                ok &= c.non_negative(&path.key("q_l_per_day"), q, false)
                    & c.non_negative(&path.key("vp_l"), vp, false);
                if (q > 0.0) != (vp > 0.0) {
                    c.error(&path.key("q_l_per_day"), "a peripheral compartment needs both `q_l_per_day` and `vp_l` above 0 (or neither)");
                    ok = false;
                }
                TwoCompartment {
                    cl_l_per_day: cl,
                    vc_l: vc,
                    q_l_per_day: q,
                    vp_l: vp,
                }
            }
            (None, None, Some(half_life), Some(volume)) => {
                ok &= c.non_negative(&path.key("half_life_days"), half_life, true)
                    & c.non_negative(&path.key("volume_l"), volume, true);
                if d.q_l_per_day.is_some() || d.vp_l.is_some() {
                    c.error(&path.key("half_life_days"), "a half-life defines a one-compartment drug: give `cl_l_per_day`, `vc_l`, `q_l_per_day` and `vp_l` for two compartments");
                    ok = false;
                }
                TwoCompartment {
                    cl_l_per_day: std::f64::consts::LN_2 / half_life * volume,
                    vc_l: volume,
                    q_l_per_day: 0.0,
                    vp_l: 0.0,
                }
            }
            _ => {
                c.error(&path.key("name"), "expected the PK as `cl_l_per_day` and `vc_l` (with `q_l_per_day` and `vp_l` for two compartments), or as `half_life_days` and `volume_l`");
                continue;
            }
        };
        let potency = match (mechanism, d.kd_nm, d.ec50_mg_per_l) {
            (Mechanism::Cytotoxic, None, Some(ec50)) => {
                let hill = d.hill.unwrap_or(1.0);
                ok &= c.non_negative(&path.key("ec50_mg_per_l"), ec50, true)
                    & c.non_negative(&path.key("hill"), hill, true);
                Potency::Emax {
                    ec50_mg_per_l: ec50,
                    hill,
                }
            }
            (Mechanism::Cytotoxic, _, _) => {
                c.error(
                    &path.key("ec50_mg_per_l"),
                    "a cytotoxic drug needs `ec50_mg_per_l` (and optionally `hill`), not `kd_nm`",
                );
                continue;
            }
            (_, Some(kd), None) => {
                ok &= c.non_negative(&path.key("kd_nm"), kd, true);
                if d.hill.is_some() {
                    c.error(&path.key("hill"), "`hill` goes with `ec50_mg_per_l` (cytotoxics); an antibody's occupancy is C/(C + K_D)");
                    ok = false;
                }
                Potency::Occupancy { kd_nm: kd }
            }
            _ => {
                c.error(&path.key("kd_nm"), "a checkpoint antibody needs `kd_nm` (its binding constant), not `ec50_mg_per_l`");
                continue;
            }
        };
        if ok {
            drugs.push(DrugDefinition {
                name: d.name.clone(),
                mechanism,
                molecular_weight_g_per_mol: d.molecular_weight_g_per_mol,
                pk,
                potency,
                // Calvert's formula is carboplatin's: renal clearance from the GFR.
                calvert_dosing: false,
            });
        }
    }
    // A [[drug]] that reported an error is not among the valid ones.
    let invalid = if c.errors.len() > errors_before {
        sections
            .iter()
            .filter(|d| !drugs.iter().any(|x| x.name == d.name))
            .map(|d| d.name.clone())
            .collect()
    } else {
        Vec::new()
    };
    Drugs {
        valid: drugs,
        invalid,
    }
}

/// The models that have `mechanism`, for error messages.
fn models_with(mechanism: Mechanism) -> String {
    names(
        specs()
            .into_iter()
            .filter(|s| s.has_mechanism(mechanism))
            .map(|s| s.name),
    )
}

/// Administration days of an `[[arm.drug]]`, before the horizon; `None` after an error.
fn drug_days(
    c: &mut Checker<'_>,
    path: &KeyPath,
    d: &ArmDrugSection,
    horizon: f64,
    infusion_day: f64,
) -> Option<Vec<f64>> {
    let start = d.start_day.unwrap_or(0.0);
    if !c.non_negative(&path.key("start_day"), start, false) {
        return None;
    }
    let mut days = Vec::new();
    match (d.every_days, d.cycle_days) {
        (Some(_), Some(_)) => {
            c.error(&path.key("cycle_days"), "give either `every_days` (with `count`) or `cycle_days` (with `days_of_cycle` and `cycles`), not both");
            return None;
        }
        (None, None) => {
            if d.count.is_some_and(|n| n != 1) || d.days_of_cycle.is_some() || d.cycles.is_some() {
                c.error(
                    &path.key("every_days"),
                    "a repeated drug needs `every_days` (or `cycle_days` with `days_of_cycle`)",
                );
                return None;
            }
            days.push(snap(start));
        }
        (Some(every), None) => {
            if !c.non_negative(&path.key("every_days"), every, true) {
                return None;
            }
            if d.days_of_cycle.is_some() || d.cycles.is_some() {
                c.error(
                    &path.key("days_of_cycle"),
                    "`days_of_cycle` and `cycles` go with `cycle_days`, not `every_days`",
                );
                return None;
            }
            if infusion_day >= every {
                c.error(&path.key("infusion_minutes"), format!("each infusion lasts {} minutes, as long as or longer than the {}-day interval between them", num(infusion_day * 1440.0), num(every)));
                return None;
            }
            if d.count == Some(0) {
                c.error(&path.key("count"), "expected at least 1 administration");
                return None;
            }
            let wanted = d.count.map_or(usize::MAX, |n| n as usize);
            let mut i = 0usize;
            while i < wanted && days.len() <= MAX_ADMINISTRATIONS {
                let t = snap(start + i as f64 * every);
                if !before_horizon(t, horizon) {
                    break;
                }
                days.push(t);
                i += 1;
            }
            if let Some(n) = d.count
                && days.len() < n as usize
            {
                c.error(&path.key("count"), format!("{n} administrations every {} days from day {} run past the horizon (day {}); only {} fit before it", num(every), num(start), num(horizon), days.len()));
                return None;
            }
        }
        (None, Some(cycle)) => {
            if !c.non_negative(&path.key("cycle_days"), cycle, true) {
                return None;
            }
            let Some(of_cycle) = d.days_of_cycle.as_ref().filter(|v| !v.is_empty()) else {
                c.error(&path.key("days_of_cycle"), "a cycle needs `days_of_cycle`, the days of each cycle the drug is given on, from 1 (for example [1, 8, 15])");
                return None;
            };
            let mut sorted = of_cycle.clone();
            sorted.sort_by(f64::total_cmp);
            for (k, &day) in sorted.iter().enumerate() {
                if !(day.is_finite() && day >= 1.0 && day < cycle + 1.0) {
                    c.error(
                        &path.key("days_of_cycle"),
                        format!(
                            "day {} is not a day of a {}-day cycle (days are numbered from 1)",
                            num(day),
                            num(cycle)
                        ),
                    );
                    return None;
                }
                if k > 0 && day - sorted[k - 1] <= infusion_day {
                    c.error(
                        &path.key("days_of_cycle"),
                        format!(
                            "days {} and {} overlap: the infusion lasts {} minutes",
                            num(sorted[k - 1]),
                            num(day),
                            num(infusion_day * 1440.0)
                        ),
                    );
                    return None;
                }
            }
            if d.cycles == Some(0) {
                c.error(&path.key("cycles"), "expected at least 1 cycle");
                return None;
            }
            if d.count.is_some() {
                c.error(
                    &path.key("count"),
                    "`count` goes with `every_days`; a cyclic schedule is sized by `cycles`",
                );
                return None;
            }
            let wanted = d.cycles.map_or(usize::MAX, |n| n as usize);
            let mut cycle_index = 0usize;
            'cycles: while cycle_index < wanted && days.len() <= MAX_ADMINISTRATIONS {
                for &day in &sorted {
                    let t = snap(start + cycle_index as f64 * cycle + day - 1.0);
                    if !before_horizon(t, horizon) {
                        if d.cycles.is_some() {
                            c.error(&path.key("cycles"), format!("{} cycles of {} days from day {} run past the horizon (day {})", wanted, num(cycle), num(start), num(horizon)));
                            return None;
                        }
                        break 'cycles;
                    }
                    days.push(t);
                }
                cycle_index += 1;
            }
        }
    }
    if days.is_empty() {
        c.error(&path.key("start_day"), format!("the drug starts on day {}, at or after the horizon (day {}); it would never be given", num(start), num(horizon)));
        return None;
    }
    if days.len() > MAX_ADMINISTRATIONS {
        c.error(
            &path.key("every_days"),
            "more than 1,000,000 administrations before the horizon",
        );
        return None;
    }
    Some(days)
}

/// Checks an arm's `[[arm.drug]]`s and turns each into an exposure of the model input its
/// mechanism has.
pub(super) fn resolve_arm_drugs(
    c: &mut Checker<'_>,
    arm_path: &KeyPath,
    sections: &[ArmDrugSection],
    model: &'static ModelSpec,
    all_drugs: &Drugs,
    patient: &Patient,
    horizon: Option<f64>,
) -> Vec<ArmDrug> {
    let drugs = &all_drugs.valid;
    let mut out = Vec::new();
    for (i, d) in sections.iter().enumerate() {
        let path = arm_path.key("drug").index(i);
        let Some(drug) = drugs.iter().find(|x| x.name == d.name) else {
            if all_drugs.invalid.contains(&d.name) {
                continue;
            }
            let mut known = drug_names();
            known.extend(
                drugs
                    .iter()
                    .map(|x| x.name.as_str())
                    .filter(|n| find_drug(n).is_none()),
            );
            c.error(
                &path.key("name"),
                format!(
                    "unknown drug `{}`; drugs: {} (or define it with [[drug]])",
                    d.name,
                    known.join(", ")
                ),
            );
            continue;
        };
        let Some(input) = model.exposure_input(drug.mechanism) else {
            c.error(
                &path.key("name"),
                format!(
                    "{} has no {} mechanism for {}; models that do: {}",
                    model.name,
                    drug.mechanism.describe(),
                    d.name,
                    models_with(drug.mechanism)
                ),
            );
            continue;
        };
        let dose = match Dose::parse(&d.dose) {
            Ok(Dose::Auc(_)) if !drug.calvert_dosing => {
                c.error(
                    &path.key("dose"),
                    format!(
                        "`{}`: a target AUC is dosed by Calvert's formula (mg = AUC x (GFR + 25)), which holds for carboplatin only; give {} in mg, mg/kg or mg/m2",
                        d.dose, d.name
                    ),
                );
                continue;
            }
            Ok(dose) => dose,
            Err(e) => {
                c.error(&path.key("dose"), e.0);
                continue;
            }
        };
        let minutes = d.infusion_minutes.unwrap_or(DEFAULT_INFUSION_MINUTES);
        if !c.non_negative(&path.key("infusion_minutes"), minutes, false) {
            continue;
        }
        // Shorter than the solver's one instant, an infusion has no stretch of its own to be
        // given over, and its rate (the dose over a vanishing time) overflows: 1e-320 minutes
        // wrote NaN concentrations (found by fuzzing). 0 is a bolus.
        let shortest_minutes = SAME_INSTANT_DAY * 1440.0;
        if minutes > 0.0 && minutes < shortest_minutes {
            c.error(
                &path.key("infusion_minutes"),
                format!(
                    "expected 0 (a bolus) or at least {shortest_minutes:.2e} minutes (shorter is one instant to the solver), found {}",
                    num(minutes)
                ),
            );
            continue;
        }
        let Some(horizon) = horizon else { continue };
        let infusion_day = minutes / 1440.0;
        let Some(days) = drug_days(c, &path, d, horizon, infusion_day) else {
            continue;
        };
        let amount_mg = dose.milligrams(patient);
        let administrations = days
            .into_iter()
            .map(|t| pk::Administration {
                start_day: t,
                amount_mg,
                duration_day: infusion_day,
            })
            .collect();
        let variability = find_drug(&d.name)
            .map(|x| {
                x.variability
                    .iter()
                    .map(|(p, cv)| (p.to_string(), *cv))
                    .collect()
            })
            .unwrap_or_default();
        out.push(ArmDrug {
            name: d.name.clone(),
            dose,
            variability,
            exposure: Exposure {
                input,
                pk: drug.pk,
                molecular_weight_g_per_mol: drug.molecular_weight_g_per_mol,
                potency: drug.potency,
                administrations,
            },
        });
    }
    out
}

/// Checks an arm's `[[arm.radiation]]`s and appends their fractions (acute doses on the
/// model's radiation input) to `out`.
pub(super) fn resolve_radiation(
    c: &mut Checker<'_>,
    arm_path: &KeyPath,
    sections: &[RadiationSection],
    model: &'static ModelSpec,
    horizon: Option<f64>,
    out: &mut Vec<Administration>,
) {
    for (i, r) in sections.iter().enumerate() {
        let path = arm_path.key("radiation").index(i);
        let Some(input) = model.radiation_input() else {
            c.error(
                &path.key("dose_per_fraction_gy"),
                format!(
                    "{} has no radiation mechanism; models that do: {}",
                    model.name,
                    models_with(Mechanism::Radiation)
                ),
            );
            continue;
        };
        if !c.non_negative(
            &path.key("dose_per_fraction_gy"),
            r.dose_per_fraction_gy,
            true,
        ) {
            continue;
        }
        let days: Vec<f64> = match (&r.days, r.start_day, r.every_days) {
            (Some(_), Some(_), _) | (Some(_), _, Some(_)) => {
                c.error(
                    &path.key("days"),
                    "give either `days` or `start_day` with `every_days`, not both",
                );
                continue;
            }
            (Some(days), None, None) => {
                if days.is_empty() || r.fractions.is_some_and(|n| n as usize != days.len()) {
                    c.error(
                        &path.key("days"),
                        format!(
                            "expected one day per fraction ({} fractions, {} days)",
                            r.fractions.map_or("no".to_string(), |n| n.to_string()),
                            days.len()
                        ),
                    );
                    continue;
                }
                let mut sorted: Vec<f64> = days.iter().map(|&d| snap(d)).collect();
                sorted.sort_by(f64::total_cmp);
                if let Some(bad) = sorted.iter().find(|d| !(d.is_finite() && **d >= 0.0)) {
                    c.error(
                        &path.key("days"),
                        format!("expected days of at least 0, found {}", num(*bad)),
                    );
                    continue;
                }
                if sorted.windows(2).any(|w| w[0] == w[1]) {
                    c.error(
                        &path.key("days"),
                        "two fractions on the same day; give the dose of the day as one fraction",
                    );
                    continue;
                }
                sorted
            }
            (None, start, every) => {
                let (start, every) = (start.unwrap_or(0.0), every.unwrap_or(1.0));
                let Some(n) = r.fractions else {
                    c.error(
                        &path.key("fractions"),
                        "expected the number of fractions (or `days`, one per fraction)",
                    );
                    continue;
                };
                if n == 0 || n as usize > MAX_ADMINISTRATIONS {
                    c.error(
                        &path.key("fractions"),
                        "expected between 1 and 1,000,000 fractions",
                    );
                    continue;
                }
                if !(c.non_negative(&path.key("start_day"), start, false)
                    & c.non_negative(&path.key("every_days"), every, true))
                {
                    continue;
                }
                (0..n).map(|k| snap(start + k as f64 * every)).collect()
            }
        };
        let Some(horizon) = horizon else { continue };
        if let Some(last) = days.iter().rev().find(|&&d| !before_horizon(d, horizon)) {
            c.error(
                &path.key("fractions"),
                format!(
                    "a fraction falls on day {}, at or after the horizon (day {})",
                    num(*last),
                    num(horizon)
                ),
            );
            continue;
        }
        out.extend(days.into_iter().map(|t| Administration {
            input,
            start_day: t,
            kind: Delivery::Bolus {
                amount: r.dose_per_fraction_gy,
            },
        }));
    }
}
