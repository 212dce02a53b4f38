//! The shipped TNBC scenario runs as it is, and its arms differ for the reasons the README
//! gives (these are checks of the tnbc_human preset's behaviour, whose values are partly
//! assumptions: see `immunotrial models immunity_cycle`).
use immunotrial::engine::simulate;
use immunotrial::scenario::Scenario;
use std::path::Path;

#[test]
fn tnbc_arms_differ_for_mechanistic_reasons() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("models/tnbc_combinations.toml");
    let scenario = Scenario::load(&path, &[]).unwrap();
    let solutions = simulate(&scenario).unwrap();
    let volume_column = scenario
        .model
        .derived
        .iter()
        .position(|d| d.name == "tumour_volume_mm3")
        .unwrap();
    let arm = |name: &str| {
        let i = scenario.arms.iter().position(|a| a.name == name).unwrap();
        let s = &solutions[i];
        let v: Vec<f64> = (0..s.len())
            .map(|r| s.derived_row(r)[volume_column])
            .collect();
        assert!(v.iter().all(|x| x.is_finite() && *x >= 0.0));
        let nadir = v.iter().cloned().fold(f64::INFINITY, f64::min);
        (v[0], nadir, v[v.len() - 1])
    };
    let (baseline, _, untreated_end) = arm("untreated");
    // 3 cm: pi/6 * 30^3 mm3; untreated, it grows at its doubling time of about 100 days.
    assert!((baseline - 14137.17).abs() < 0.01);
    assert!(untreated_end > 8.0 * baseline, "{untreated_end}");
    let (_, chemo_nadir, chemo_end) = arm("nab-paclitaxel");
    let (_, pembro_nadir, pembro_end) = arm("pembrolizumab");
    let (_, combo_nadir, combo_end) = arm("pembrolizumab + nab-paclitaxel");
    let (_, rt_nadir, _) = arm("pembrolizumab + RT 3 x 8 Gy");
    let (_, triple_nadir, triple_end) = arm("pembrolizumab + nab-paclitaxel + RT");
    // Chemotherapy shrinks the lesion while it is given.
    assert!(chemo_nadir < 0.7 * baseline, "{chemo_nadir}");
    // The tumour is cold: PD-1 blockade alone does not shrink it, only slows it.
    assert!(
        pembro_nadir > 0.99 * baseline && pembro_end < untreated_end,
        "{pembro_nadir} {pembro_end}"
    );
    // Chemotherapy's immunogenic death primes T cells that blockade keeps active.
    assert!(
        combo_nadir < chemo_nadir && combo_end < chemo_end,
        "{combo_nadir} {combo_end}"
    );
    // 3 x 8 Gy to the whole lesion: LQ survival exp(-3(0.08*8 + 0.0278*64)), below 1e-3.
    assert!(rt_nadir < 1e-2 * baseline, "{rt_nadir}");
    assert!(
        triple_nadir <= rt_nadir && triple_end < combo_end,
        "{triple_nadir} {triple_end}"
    );
}

#[test]
fn pembrolizumab_trough_at_steady_state_is_in_the_observed_range() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("models/tnbc_combinations.toml");
    let scenario = Scenario::load(&path, &[]).unwrap();
    let arm = scenario
        .arms
        .iter()
        .find(|a| a.name == "pembrolizumab")
        .unwrap();
    let exposure = &arm.drugs[0].exposure;
    // Trough just before the 30th dose (day 609): about 20-30 ug/mL is observed at 200 mg q3w.
    let c = immunotrial::therapy::pk::concentrations(
        &exposure.pk,
        &exposure.administrations,
        &[609.0 - 1e-6],
    )[0];
    assert!(c > 15.0 && c < 45.0, "steady-state trough {c} ug/mL");
}
