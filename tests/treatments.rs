//! Treatments in clinical units: every bad treatment input is an error naming its key and
//! line, and good ones become the exposures and fractions the engine is given.
use immunotrial::scenario::{Location, Scenario};

const BASE: &str = r#"name = "treatments"
horizon_days = 60
[model]
name = "kosinsky2018"
[patient]
weight_kg = 70
height_cm = 170
gfr_ml_min = 95
[[arm]]
name = "control"
[[arm]]
name = "treated"
"#;

fn line_of(text: &str, marker: &str) -> usize {
    text.lines()
        .position(|l| l.contains(marker))
        .expect("marker in text")
        + 1
}

/// Parses BASE plus `extra` (appended to the treated arm) and returns the single error.
fn error(extra: &str, marker: &str, key: &str, fragment: &str) {
    let text = format!("{BASE}{extra}");
    let e = Scenario::parse(&text, "s.toml", &[]).expect_err("must be rejected");
    let d =
        e.0.iter()
            .find(|d| d.key == key)
            .unwrap_or_else(|| panic!("no error keyed {key}: {e}"));
    match &d.location {
        Location::File { line, .. } => assert_eq!(*line, line_of(&text, marker), "{e}"),
        other => panic!("{other:?}"),
    }
    assert!(d.message.contains(fragment), "{key}: {}", d.message);
}

#[test]
fn unknown_drug_lists_the_catalogue() {
    error(
        "[[arm.drug]]\nname = \"aspirin\"\ndose = \"100 mg\"\n",
        "aspirin",
        "arm[1].drug[0].name",
        "pembrolizumab, nivolumab",
    );
}

#[test]
fn dose_without_or_with_an_unknown_unit_says_which_units_are_accepted() {
    error(
        "[[arm.drug]]\nname = \"atezolizumab\"\ndose = \"1200\"\n",
        "1200",
        "arm[1].drug[0].dose",
        "mg/m2",
    );
    error(
        "[[arm.drug]]\nname = \"atezolizumab\"\ndose = \"1200 mg/L\"\n",
        "1200",
        "arm[1].drug[0].dose",
        "unknown unit `mg/L`",
    );
}

/// Calvert's formula (mg = AUC x (GFR + 25)) is carboplatin's renal clearance: a target AUC
/// for another drug was silently dosed by it.
#[test]
fn only_carboplatin_is_dosed_by_a_target_auc() {
    error(
        "[[arm.drug]]\nname = \"atezolizumab\"\ndose = \"AUC 5\"\n",
        "AUC 5",
        "arm[1].drug[0].dose",
        "holds for carboplatin only; give atezolizumab in mg, mg/kg or mg/m2",
    );
    let custom = "[[arm.drug]]\nname = \"my-anti-pd1\"\ndose = \"AUC 5\"\n[[drug]]\nname = \"my-anti-pd1\"\nmechanism = \"pdl1_blockade\"\nmolecular_weight_g_per_mol = 146000\nhalf_life_days = 20\nvolume_l = 6\nkd_nm = 1\n";
    error(custom, "AUC 5", "arm[1].drug[0].dose", "carboplatin only");
}

#[test]
fn negative_dose_is_rejected() {
    error(
        "[[arm.drug]]\nname = \"atezolizumab\"\ndose = \"-5 mg/kg\"\n",
        "-5",
        "arm[1].drug[0].dose",
        "above 0",
    );
}

#[test]
fn a_drug_for_a_missing_mechanism_names_the_models_that_have_it() {
    let text = BASE.replace("kosinsky2018", "kuznetsov1994")
        + "[[arm.drug]]\nname = \"ipilimumab\"\ndose = \"3 mg/kg\"\n";
    let e = Scenario::parse(&text, "s.toml", &[]).unwrap_err();
    let d =
        e.0.iter()
            .find(|d| d.key == "arm[1].drug[0].name")
            .expect("keyed error");
    assert!(
        d.message
            .contains("kuznetsov1994 has no CTLA-4 blockade mechanism"),
        "{}",
        d.message
    );
    assert!(
        d.message.contains("models that do: immunity_cycle"),
        "{}",
        d.message
    );
    let text = BASE.replace("kosinsky2018", "kuznetsov1994")
        + "[[arm.drug]]\nname = \"atezolizumab\"\ndose = \"1200 mg\"\n";
    let e = Scenario::parse(&text, "s.toml", &[]).unwrap_err();
    assert!(e.to_string().contains("kuznetsov1994 has no PD-L1 blockade mechanism for atezolizumab; models that do: kosinsky2018, immunity_cycle"), "{e}");
}

#[test]
fn radiation_to_a_model_without_the_mechanism() {
    let text = BASE.replace("kosinsky2018", "depillis2006")
        + "[[arm.radiation]]\ndose_per_fraction_gy = 8\nfractions = 3\nstart_day = 14\n";
    let e = Scenario::parse(&text, "s.toml", &[]).unwrap_err();
    let d = &e.0[0];
    assert_eq!(d.key, "arm[1].radiation[0].dose_per_fraction_gy");
    assert!(
        d.message.contains(
            "depillis2006 has no radiation mechanism; models that do: kosinsky2018, immunity_cycle"
        ),
        "{}",
        d.message
    );
}

#[test]
fn impossible_schedules() {
    // An infusion shorter than the solver's instant (found by fuzzing: NaN concentrations).
    error(
        "[[arm.drug]]\nname = \"atezolizumab\"\ndose = \"1200 mg\"\ninfusion_minutes = 1e-320\n",
        "infusion_minutes",
        "arm[1].drug[0].infusion_minutes",
        "expected 0 (a bolus) or at least 1.44e-6 minutes",
    );
    // Infusions longer than the interval between them.
    error(
        "[[arm.drug]]\nname = \"atezolizumab\"\ndose = \"1200 mg\"\ninfusion_minutes = 2000\nevery_days = 1\n",
        "infusion_minutes",
        "arm[1].drug[0].infusion_minutes",
        "longer than",
    );
    // Days of a cycle that overlap, or fall outside the cycle.
    error(
        "[[arm.drug]]\nname = \"atezolizumab\"\ndose = \"840 mg\"\ninfusion_minutes = 1500\ncycle_days = 28\ndays_of_cycle = [1, 2]\n",
        "days_of_cycle",
        "arm[1].drug[0].days_of_cycle",
        "overlap",
    );
    error(
        "[[arm.drug]]\nname = \"atezolizumab\"\ndose = \"840 mg\"\ncycle_days = 28\ndays_of_cycle = [1, 29]\n",
        "days_of_cycle",
        "arm[1].drug[0].days_of_cycle",
        "not a day of a 28-day cycle",
    );
    // Both kinds of schedule at once.
    error(
        "[[arm.drug]]\nname = \"atezolizumab\"\ndose = \"1200 mg\"\nevery_days = 21\ncycle_days = 28\n",
        "cycle_days",
        "arm[1].drug[0].cycle_days",
        "not both",
    );
    // Two fractions on one day; a fraction after the horizon; a count past the horizon.
    error(
        "[[arm.radiation]]\ndose_per_fraction_gy = 8\ndays = [14, 16, 14]\n",
        "days = [",
        "arm[1].radiation[0].days",
        "same day",
    );
    error(
        "[[arm.radiation]]\ndose_per_fraction_gy = 8\nfractions = 3\nstart_day = 59\n",
        "fractions",
        "arm[1].radiation[0].fractions",
        "after the horizon",
    );
    error(
        "[[arm.drug]]\nname = \"atezolizumab\"\ndose = \"1200 mg\"\nevery_days = 21\ncount = 10\n",
        "count",
        "arm[1].drug[0].count",
        "only 3 fit",
    );
    // A dose input the engine fills from drugs.
    error(
        "[[arm.dose]]\ninput = \"pdl1_occupancy\"\namount = 1\n",
        "pdl1_occupancy",
        "arm[1].dose[0].input",
        "filled in by the engine",
    );
}

#[test]
fn clinical_schedules_expand_as_written() {
    let text = format!(
        "{BASE}{}",
        "[[arm.drug]]\nname = \"atezolizumab\"\ndose = \"100 mg/m2\"\ncycle_days = 28\ndays_of_cycle = [1, 8, 15]\ncycles = 2\n\
         [[arm.drug]]\nname = \"pembrolizumab\"\ndose = \"2 mg/kg\"\ninfusion_minutes = 60\nstart_day = 1\nevery_days = 21\n\
         [[arm.radiation]]\ndose_per_fraction_gy = 8\nfractions = 3\nstart_day = 14\nevery_days = 2\n"
    );
    let s = Scenario::parse(&text, "s.toml", &[]).unwrap();
    let arm = &s.arms[1];
    let cyclic = &arm.drugs[0].exposure;
    let days: Vec<f64> = cyclic.administrations.iter().map(|a| a.start_day).collect();
    assert_eq!(days, vec![0.0, 7.0, 14.0, 28.0, 35.0, 42.0]);
    // Mosteller BSA of 170 cm, 70 kg: 1.8181 m2; 100 mg/m2 over the default 30 minutes.
    assert!(
        (cyclic.administrations[0].amount_mg - 100.0 * (170.0f64 * 70.0 / 3600.0).sqrt()).abs()
            < 1e-9
    );
    assert_eq!(cyclic.administrations[0].duration_day, 30.0 / 1440.0);
    // 2 mg/kg of 70 kg, over an hour, every 21 days from day 1 until the horizon (60).
    let pembro = &arm.drugs[1].exposure;
    assert_eq!(
        pembro
            .administrations
            .iter()
            .map(|a| a.start_day)
            .collect::<Vec<_>>(),
        vec![1.0, 22.0, 43.0]
    );
    assert_eq!(pembro.administrations[0].amount_mg, 140.0);
    assert_eq!(pembro.administrations[0].duration_day, 1.0 / 24.0);
    // Three acute 8 Gy fractions on the radiation input.
    let rt: Vec<(f64, f64)> = arm
        .schedule
        .administrations
        .iter()
        .map(|a| match a.kind {
            immunotrial::engine::Delivery::Bolus { amount } => (a.start_day, amount),
            _ => panic!("fractions are acute doses"),
        })
        .collect();
    assert_eq!(rt, vec![(14.0, 8.0), (16.0, 8.0), (18.0, 8.0)]);
    // The resolved scenario writes the defaults out and reads back to the same arms.
    let again =
        Scenario::parse(&toml::to_string(&s.resolved).unwrap(), "resolved.toml", &[]).unwrap();
    assert_eq!(again.arms, s.arms);
}

#[test]
fn a_scenario_can_define_its_own_drug() {
    let text = format!(
        "{BASE}{}",
        "[[arm.drug]]\nname = \"my-anti-pd1\"\ndose = \"10 mg/kg\"\n"
    ) + "[[drug]]\nname = \"my-anti-pd1\"\nmechanism = \"pd1_blockade\"\nmolecular_weight_g_per_mol = 146000\nhalf_life_days = 20\nvolume_l = 6\nkd_nm = 1\n";
    let s = Scenario::parse(&text, "s.toml", &[]).unwrap();
    let e = &s.arms[1].drugs[0].exposure;
    assert!((e.pk.terminal_half_life_day() - 20.0).abs() < 1e-12);
    let bad = text.replace("kd_nm = 1", "ec50_mg_per_l = 1");
    let err = Scenario::parse(&bad, "s.toml", &[]).unwrap_err();
    assert!(err.to_string().contains("needs `kd_nm`"), "{err}");
    // The arm that gives it is not told the drug is unknown as well: it was defined.
    assert!(!err.to_string().contains("unknown drug"), "{err}");
    assert_eq!(err.0.len(), 1, "{err}");
}

#[test]
fn chemotherapy_in_clinical_units_reaches_the_immunity_cycle_model() {
    let text = BASE.replace("kosinsky2018", "immunity_cycle")
        + "[[arm.drug]]\nname = \"nab-paclitaxel\"\ndose = \"100 mg/m2\"\ncycle_days = 28\ndays_of_cycle = [1, 8, 15]\ncycles = 2\n\
           [[arm.drug]]\nname = \"carboplatin\"\ndose = \"AUC 5\"\ninfusion_minutes = 60\nevery_days = 21\ncount = 2\n";
    let s = Scenario::parse(&text, "s.toml", &[]).unwrap();
    let arm = &s.arms[1];
    let nab = &arm.drugs[0].exposure;
    assert_eq!(
        nab.administrations
            .iter()
            .map(|a| a.start_day)
            .collect::<Vec<_>>(),
        vec![0.0, 7.0, 14.0, 28.0, 35.0, 42.0]
    );
    // Calvert: 5 x (95 + 25) = 600 mg.
    assert_eq!(arm.drugs[1].exposure.administrations[0].amount_mg, 600.0);
    assert_eq!(s.model.inputs[nab.input].name, "chemo_effect");
}
