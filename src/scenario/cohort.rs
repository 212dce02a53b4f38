//! The `[cohort]` section: how many virtual patients, their seed, and the distributions and
//! correlations of what varies between them.

use super::schema::{CohortSection, DistributionSection};
use super::{Checker, KeyPath, names, num};
use crate::cohort::sampling::{DRAW_SDS, Distribution, cholesky, omega_from_cv};

use crate::model::{Domain, ModelSpec};
use nalgebra::DMatrix;

/// What a sampled quantity sets in each patient.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    Parameter(usize),
    Initial(usize),
    WeightKg,
    HeightCm,
    GfrMlMin,
}

/// One quantity that varies between patients.
#[derive(Debug, Clone, PartialEq)]
pub struct Varying {
    /// Its column in patients.csv (`S_L`, `weight_kg`, `initial.TV`).
    pub name: String,
    pub target: Target,
    pub distribution: Distribution,
}

/// A validated `[cohort]`.
#[derive(Debug, Clone, PartialEq)]
pub struct CohortSpec {
    pub patients: u64,
    pub seed: u64,
    pub max_failed_fraction: f64,
    pub pk_variability: bool,
    pub varying: Vec<Varying>,
    /// Cholesky factor of the correlation of the varying quantities' normals.
    pub cholesky: DMatrix<f64>,
}

fn distribution(
    c: &mut Checker<'_>,
    path: &KeyPath,
    d: &DistributionSection,
) -> Option<Distribution> {
    let need = |c: &mut Checker<'_>, key: &str, v: Option<f64>| -> Option<f64> {
        match v {
            Some(x) if x.is_finite() => Some(x),
            Some(x) => {
                c.error(
                    &path.key(key),
                    format!("expected a finite number, found {}", num(x)),
                );
                None
            }
            None => {
                c.error(
                    &path.key("dist"),
                    format!("a {} distribution needs `{key}`", d.dist),
                );
                None
            }
        }
    };
    let positive = |c: &mut Checker<'_>, key: &str, v: f64| -> Option<f64> {
        c.non_negative(&path.key(key), v, true).then_some(v)
    };
    match d.dist.as_str() {
        "lognormal" => {
            let median = need(c, "median", d.median)?;
            let median = positive(c, "median", median)?;
            let omega = match (d.omega, d.cv) {
                (Some(_), Some(_)) => {
                    c.error(
                        &path.key("cv"),
                        "give `omega` (SD of log) or `cv`, not both",
                    );
                    return None;
                }
                (Some(o), None) => positive(c, "omega", o)?,
                (None, Some(cv)) => omega_from_cv(positive(c, "cv", cv)?),
                (None, None) => {
                    c.error(
                        &path.key("dist"),
                        "a lognormal distribution needs `omega` (SD of log) or `cv`",
                    );
                    return None;
                }
            };
            // Draws reach about ten SDs of log at the very most; beyond f64 there they were
            // inf in patients.csv (omega 1000, found by fuzzing).
            if !(median.ln() + DRAW_SDS * omega).exp().is_finite() {
                c.error(
                    &path.key(if d.cv.is_some() { "cv" } else { "omega" }),
                    format!(
                        "expected a spread whose draws stay below f64::MAX (median e^(±{DRAW_SDS} omega)); found omega {}",
                        num(omega)
                    ),
                );
                return None;
            }
            Some(Distribution::LogNormal { median, omega })
        }
        "normal" => {
            let mean = need(c, "mean", d.mean)?;
            let sd = need(c, "sd", d.sd)?;
            let sd = positive(c, "sd", sd)?;
            if !(mean.abs() + DRAW_SDS * sd).is_finite() {
                c.error(
                    &path.key("sd"),
                    format!(
                        "expected a spread whose draws stay below f64::MAX (mean ± {DRAW_SDS} sd); found sd {}",
                        num(sd)
                    ),
                );
                return None;
            }
            if let (Some(lo), Some(hi)) = (d.min, d.max)
                && lo >= hi
            {
                c.error(
                    &path.key("max"),
                    format!("expected `max` above `min` ({})", num(lo)),
                );
                return None;
            }
            Some(Distribution::Normal {
                mean,
                sd,
                min: d.min,
                max: d.max,
            })
        }
        "uniform" | "loguniform" => {
            let (min, max) = (need(c, "min", d.min)?, need(c, "max", d.max)?);
            if min >= max || (d.dist == "loguniform" && min <= 0.0) {
                let want = if d.dist == "loguniform" {
                    "0 < min < max for a log-uniform"
                } else {
                    "min < max for a uniform"
                };
                c.error(
                    &path.key("max"),
                    format!(
                        "expected {want}; found min {} and max {}",
                        num(min),
                        num(max)
                    ),
                );
                return None;
            }
            // A uniform draws min + (max - min) u: a width beyond f64 gave inf (found by fuzzing).
            if !(max - min).is_finite() {
                c.error(
                    &path.key("max"),
                    format!(
                        "expected max - min below f64::MAX; found min {} and max {}",
                        num(min),
                        num(max)
                    ),
                );
                return None;
            }
            Some(if d.dist == "uniform" {
                Distribution::Uniform { min, max }
            } else {
                Distribution::LogUniform { min, max }
            })
        }
        "beta" => {
            let a = need(c, "a", d.a)?;
            let a = positive(c, "a", a)?;
            let b = need(c, "b", d.b)?;
            let b = positive(c, "b", b)?;
            let (min, max) = (d.min.unwrap_or(0.0), d.max.unwrap_or(1.0));
            if min >= max {
                c.error(&path.key("max"), "expected `max` above `min`");
                return None;
            }
            Some(Distribution::Beta { a, b, min, max })
        }
        "categorical" => {
            let values = d.values.clone().unwrap_or_default();
            let weights = d.weights.clone().unwrap_or_else(|| vec![1.0; values.len()]);
            if values.is_empty()
                || values.len() != weights.len()
                || values.iter().any(|v| !v.is_finite())
                || weights.iter().any(|w| !(w.is_finite() && *w >= 0.0))
                || weights.iter().sum::<f64>() <= 0.0
            {
                c.error(
                    &path.key("values"),
                    "expected finite `values` and as many non-negative `weights` (summing above 0)",
                );
                return None;
            }
            Some(Distribution::Categorical { values, weights })
        }
        "fixed" => Some(Distribution::Fixed(need(c, "value", d.value)?)),
        other => {
            c.error(&path.key("dist"), format!("unknown distribution `{other}`; distributions: lognormal, normal, uniform, loguniform, beta, categorical, fixed"));
            None
        }
    }
}

/// A sampled quantity's distribution must stay in its domain: a parameter in its model's
/// declared [`Domain`], a state at least 0 (an amount: cells, mm3, mg, as `[model.initial]`
/// requires), a covariate (weight, height, GFR) above 0 (as `[patient]` requires). One that
/// can draw outside is refused here, before any patient is simulated with an impossible value
/// (a normal initial tumour volume without `min` drew negative volumes, simulated and
/// assessed as NaN percent changes).
fn check_domain(c: &mut Checker<'_>, path: &KeyPath, dist: &Distribution, domain: Domain) -> bool {
    let [(lowest, lowest_drawn), (highest, _)] = dist.support();
    let low_ok = match domain {
        Domain::Positive => lowest > 0.0 || (lowest == 0.0 && !lowest_drawn),
        Domain::NonNegative | Domain::Fraction => lowest >= 0.0,
    };
    let high_ok = domain != Domain::Fraction || highest <= 1.0;
    if low_ok && high_ok {
        return true;
    }
    let want = domain.describe();
    let (bound, value) = if low_ok {
        ("max", highest)
    } else {
        ("min", lowest)
    };
    let (key, why) = match dist {
        Distribution::Normal { .. } if value.is_infinite() => (
            None,
            format!(
                "a normal without `{bound}` can draw any value: give `{bound}` {want} (a truncated normal)"
            ),
        ),
        Distribution::LogNormal { .. } if low_ok => (
            None,
            "a lognormal can draw any value above 0: use a beta, a uniform or a truncated normal"
                .to_string(),
        ),
        Distribution::LogNormal { .. } => (
            None,
            format!(
                "a lognormal this small and wide draws values that underflow to 0 (median e^(-{DRAW_SDS} omega) is 0 in f64): give a larger median or a smaller spread"
            ),
        ),
        Distribution::Categorical { .. } => (
            Some("values"),
            format!("one of its values is {}", num(value)),
        ),
        Distribution::Fixed(_) => (Some("value"), format!("found {}", num(value))),
        Distribution::Beta { min, .. } if bound == "min" && *min == 0.0 => (
            Some(bound),
            format!(
                "its `min` is 0 (as written, or a beta's default when none is): give `min` {want}"
            ),
        ),
        _ => (
            Some(bound),
            format!("its `{bound}` is {}: give `{bound}` {want}", num(value)),
        ),
    };
    c.error(
        &key.map_or_else(|| path.clone(), |k| path.key(k)),
        format!("expected draws {want}; {why}"),
    );
    false
}

pub(super) fn resolve(
    c: &mut Checker<'_>,
    section: &CohortSection,
    model: &'static ModelSpec,
) -> Option<CohortSpec> {
    let path = KeyPath::root().key("cohort");
    let mut ok = true;
    if section.patients == 0 {
        c.error(&path.key("patients"), "expected at least 1 patient");
        ok = false;
    }
    let max_failed_fraction = section.max_failed_fraction.unwrap_or(0.01);
    if !(0.0..=1.0).contains(&max_failed_fraction) {
        c.error(
            &path.key("max_failed_fraction"),
            format!(
                "expected a fraction from 0 to 1, found {}",
                num(max_failed_fraction)
            ),
        );
        ok = false;
    }
    let mut varying = Vec::new();
    for (key, d) in &section.parameters {
        let p = path.key("parameters").key(key);
        // Sampled under its former name and its current one: two columns of one parameter.
        if let Some(now) = model.renamed(key)
            && section.parameters.contains_key(now)
        {
            c.error(
                &p,
                format!("`{key}` is the former name of `{now}`, which is sampled too: give one"),
            );
            continue;
        }
        match model.parameter_index(key) {
            Some(i) => {
                if let Some(dist) = distribution(c, &p, d)
                    && check_domain(c, &p, &dist, model.parameters[i].domain)
                {
                    varying.push(Varying {
                        // Its name now, if the file used a former one.
                        name: model.parameters[i].name.to_string(),
                        target: Target::Parameter(i),
                        distribution: dist,
                    });
                }
            }
            None => c.error(
                &p,
                format!(
                    "unknown parameter of {}; parameters: {}",
                    model.name,
                    names(model.parameters.iter().map(|p| p.name))
                ),
            ),
        }
    }
    for (key, d) in &section.covariates {
        let p = path.key("covariates").key(key);
        let target = match key.as_str() {
            "weight_kg" => Target::WeightKg,
            "height_cm" => Target::HeightCm,
            "gfr_ml_min" => Target::GfrMlMin,
            _ => {
                c.error(
                    &p,
                    "unknown covariate; covariates: weight_kg, height_cm, gfr_ml_min",
                );
                continue;
            }
        };
        if let Some(dist) = distribution(c, &p, d)
            && check_domain(c, &p, &dist, Domain::Positive)
        {
            varying.push(Varying {
                name: key.clone(),
                target,
                distribution: dist,
            });
        }
    }
    for (key, d) in &section.initial {
        let p = path.key("initial").key(key);
        match model.state_index(key) {
            Some(i) => {
                if let Some(dist) = distribution(c, &p, d)
                    && check_domain(c, &p, &dist, Domain::NonNegative)
                {
                    varying.push(Varying {
                        name: format!("initial.{key}"),
                        target: Target::Initial(i),
                        distribution: dist,
                    });
                }
            }
            None => c.error(
                &p,
                format!(
                    "unknown state of {}; states: {}",
                    model.name,
                    names(model.states.iter().map(|s| s.name))
                ),
            ),
        }
    }
    let n = varying.len();
    let mut correlation = DMatrix::<f64>::identity(n, n);
    // Which entry set each pair, to name it where the matrix fails.
    let mut entry_of_pair = std::collections::HashMap::new();
    for (k, pair) in section.correlations.iter().enumerate() {
        let p = path.key("correlation").index(k);
        let find = |name: &str| {
            let at = |name: &str| {
                varying
                    .iter()
                    .position(|v| v.name == name || v.name == format!("initial.{name}"))
            };
            // A sampled quantity by its own name first (the covariate `weight_kg`), then a
            // parameter by its former name (a run folder made before `mouse_weight_kg` was
            // renamed correlates `weight_kg`). The other way round, the covariate could not
            // be correlated at all on the models that had renamed theirs.
            at(name).or_else(|| model.renamed(name).and_then(at))
        };
        let [a, b] = pair.between.as_slice() else {
            c.error(
                &p.key("between"),
                "expected two names, for example between = [\"r\", \"S_L\"]",
            );
            ok = false;
            continue;
        };
        match (find(a), find(b)) {
            (Some(i), Some(j)) if i != j => {
                // A fixed quantity does not vary: a correlation with it would do nothing.
                if let Some(fixed) = [(a, i), (b, j)]
                    .into_iter()
                    .find(|(_, at)| matches!(varying[*at].distribution, Distribution::Fixed(_)))
                {
                    c.error(
                        &p.key("between"),
                        format!(
                            "`{}` is fixed, so it cannot be correlated with anything; expected \
                             two quantities that vary",
                            fixed.0
                        ),
                    );
                    ok = false;
                    continue;
                }
                if let Some(first) = entry_of_pair.insert((i.min(j), i.max(j)), k) {
                    c.error(
                        &p.key("between"),
                        format!(
                            "the pair `{a}`, `{b}` is correlated already by \
                             [[cohort.correlation]] number {}; give each pair once",
                            first + 1
                        ),
                    );
                    ok = false;
                    continue;
                }
                if !(pair.rho.is_finite() && pair.rho > -1.0 && pair.rho < 1.0) {
                    c.error(
                        &p.key("rho"),
                        format!(
                            "expected a correlation strictly between -1 and 1, found {}",
                            num(pair.rho)
                        ),
                    );
                    ok = false;
                    continue;
                }
                correlation[(i, j)] = pair.rho;
                correlation[(j, i)] = pair.rho;
            }
            (i, j) => {
                // A name the file samples, but whose distribution was refused (or which the
                // model lacks), has its error already: not a second one here.
                let declared = |name: &str| {
                    section.parameters.contains_key(name)
                        || section.covariates.contains_key(name)
                        || section
                            .initial
                            .contains_key(name.strip_prefix("initial.").unwrap_or(name))
                };
                let missing = [(a, i), (b, j)];
                // Only where that error was given: a run without a cohort and without a word
                // is the worst outcome of all.
                if !c.errors.is_empty()
                    && missing
                        .iter()
                        .any(|(name, found)| found.is_none() && declared(name))
                {
                    ok = false;
                    continue;
                }
                let unknown: Vec<String> = missing
                    .iter()
                    .filter(|(_, found)| found.is_none())
                    .map(|(name, _)| format!("`{name}`"))
                    .collect();
                let what = if unknown.is_empty() {
                    "the same quantity twice".to_string()
                } else {
                    format!("{} not sampled", unknown.join(" and "))
                };
                c.error(
                    &p.key("between"),
                    format!(
                        "expected two different sampled quantities, found {what}; sampled: {}",
                        varying
                            .iter()
                            .map(|v| v.name.as_str())
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                );
                ok = false;
            }
        }
    }
    let names: Vec<String> = varying.iter().map(|v| v.name.clone()).collect();
    let chol = match cholesky(&correlation, &names) {
        Ok(l) => l,
        Err((message, pair)) => {
            // At the entry of the pair named, where the file sets it.
            let at = pair
                .and_then(|(i, j)| entry_of_pair.get(&(i.min(j), i.max(j))))
                .map_or(path.key("correlation"), |&k| {
                    path.key("correlation").index(k).key("rho")
                });
            c.error(&at, message);
            return None;
        }
    };
    ok.then_some(CohortSpec {
        patients: section.patients,
        seed: section.seed,
        max_failed_fraction,
        pk_variability: section.pk_variability.unwrap_or(true),
        varying,
        cholesky: chol,
    })
}
