//! Mechanistic tumour–immune models.
//!
//! A model is its parameters plus its right-hand side behind one small trait, [`OdeModel`].
//! Everything a user can name in a scenario file (states, parameters, presets, inputs, derived
//! outputs) is declared once, as data, in the model's [`ModelSpec`]; the engine, the scenario
//! validator and `immunotrial models` read that declaration and never a model's name.
//!
//! Adding a model means: one file here implementing [`OdeModel`], declared with `pub mod`
//! below, and its name in [`registry`] (the `NAMES` list and the `visit` match). No engine
//! code changes.

use crate::lanes::{F64s, LANES};
use nalgebra::SVector;

pub mod depillis2006;
pub mod immunity_cycle;
pub mod kosinsky2018;
pub mod kuznetsov1994;
pub mod registry;

pub use registry::{ModelVisitor, find_spec, specs, visit};

/// A state variable of a model.
#[derive(Debug, Clone, Copy)]
pub struct StateSpec {
    /// The name used in scenario files and as the column of `trajectory.csv`.
    pub name: &'static str,
    pub unit: &'static str,
    pub description: &'static str,
    /// Default initial value.
    pub initial: f64,
    /// The size below which the state is resolved to an absolute rather than a relative
    /// accuracy: the solver's default absolute tolerance is `rtol * scale`. For a state
    /// counted in cells, 1 (one cell) keeps vanishing populations accurate to a fraction of
    /// a cell.
    pub scale: f64,
}

/// The values a quantity can take: what a scenario may set it to, or draw it from. Every
/// declared parameter is a rate, a size, an amount or a fraction, so none is negative; one
/// that a right-hand side divides by (a half-saturation constant, a maximum, a volume) must be
/// above 0, where 0 would give 0/0; a fraction of a population is at most 1.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Domain {
    /// 0 or more.
    NonNegative,
    /// Above 0.
    Positive,
    /// From 0 to 1.
    Fraction,
}

impl Domain {
    pub fn contains(self, x: f64) -> bool {
        match self {
            Domain::NonNegative => x >= 0.0 && x.is_finite(),
            Domain::Positive => x > 0.0 && x.is_finite(),
            Domain::Fraction => (0.0..=1.0).contains(&x),
        }
    }
    /// As an error message says what was expected: "at least 0", "above 0", "from 0 to 1".
    pub fn describe(self) -> &'static str {
        match self {
            Domain::NonNegative => "at least 0",
            Domain::Positive => "above 0",
            Domain::Fraction => "from 0 to 1",
        }
    }
}

/// A parameter of a model, with its default value and where that value comes from.
#[derive(Debug, Clone, Copy)]
pub struct ParameterSpec {
    pub name: &'static str,
    pub default: f64,
    pub unit: &'static str,
    pub description: &'static str,
    /// Citation of the value, or `assumption: ...` with a sentence of reasoning.
    pub source: &'static str,
    /// The values it may take ([`Domain::NonNegative`] unless declared otherwise).
    pub domain: Domain,
    /// A name it had before, still read from scenario files (a run folder's
    /// `scenario.resolved.toml` names every parameter as it was called then).
    pub formerly: Option<&'static str>,
}

impl ParameterSpec {
    /// For the models' static declarations.
    pub const fn new(
        name: &'static str,
        default: f64,
        unit: &'static str,
        description: &'static str,
        source: &'static str,
    ) -> Self {
        ParameterSpec {
            name,
            default,
            unit,
            description,
            source,
            domain: Domain::NonNegative,
            formerly: None,
        }
    }
    /// Read under its old `name` too.
    pub const fn formerly(self, name: &'static str) -> Self {
        ParameterSpec {
            formerly: Some(name),
            ..self
        }
    }
    /// A parameter the right-hand side divides by: above 0.
    pub const fn positive(self) -> Self {
        ParameterSpec {
            domain: Domain::Positive,
            ..self
        }
    }
    /// A fraction: from 0 to 1.
    pub const fn fraction(self) -> Self {
        ParameterSpec {
            domain: Domain::Fraction,
            ..self
        }
    }
}

/// A named set of parameter values and initial states that a model ships
/// (for example a published patient).
#[derive(Debug, Clone, Copy)]
pub struct PresetSpec {
    pub name: &'static str,
    pub description: &'static str,
    pub parameters: &'static [(&'static str, f64)],
    pub initial: &'static [(&'static str, f64)],
    /// Where each of the preset's values comes from (a citation, or `assumption: ...`).
    pub sources: &'static [(&'static str, &'static str)],
}

/// What a treatment does: the vocabulary models and drugs share. A model declares which
/// mechanisms it has (as inputs with an [`InputRole`]); a drug acts through one; a scenario
/// that gives a drug to a model without its mechanism is an error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mechanism {
    /// Blocks PD-1 on T cells.
    Pd1Blockade,
    /// Blocks PD-L1 on tumour and myeloid cells.
    Pdl1Blockade,
    /// Blocks CTLA-4: more priming, fewer regulatory T cells.
    Ctla4Blockade,
    /// Kills proliferating cells.
    Cytotoxic,
    /// Ionising radiation.
    Radiation,
}

impl Mechanism {
    /// Every mechanism, in the order they are listed.
    pub const ALL: [Mechanism; 5] = [
        Mechanism::Pd1Blockade,
        Mechanism::Pdl1Blockade,
        Mechanism::Ctla4Blockade,
        Mechanism::Cytotoxic,
        Mechanism::Radiation,
    ];

    pub fn describe(self) -> &'static str {
        match self {
            Mechanism::Pd1Blockade => "PD-1 blockade",
            Mechanism::Pdl1Blockade => "PD-L1 blockade",
            Mechanism::Ctla4Blockade => "CTLA-4 blockade",
            Mechanism::Cytotoxic => "cytotoxic chemotherapy",
            Mechanism::Radiation => "radiation",
        }
    }
}

/// How an input gets its value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InputRole {
    /// Given by the scenario (`[[arm.dose]]`): a rate or a bolus in the input's unit.
    Dose,
    /// Radiation in Gy: given by `[[arm.dose]]` or as the fractions of `[[arm.radiation]]`
    /// (acute doses, applied as boluses).
    Radiation,
    /// Filled in by the engine from the drugs an arm gives (`[[arm.drug]]`) that act by this
    /// mechanism: a dimensionless activity in [0, 1], the receptor occupancy of a checkpoint
    /// antibody or the fractional effect (Emax model) of a cytotoxic, at each instant, from
    /// the drug's exact plasma concentration. Two drugs of one mechanism combine as
    /// independent actions, 1 - (1 - a1)(1 - a2).
    Exposure(Mechanism),
}

/// An input a scenario can administer over time (`[[arm.dose]] input = "..."`), or that the
/// engine fills in from drugs and radiation (see [`InputRole`]).
///
/// An administered input is given either as a rate (`amount_per_day`, constant while it runs,
/// passed to the right-hand side) or as an instantaneous bolus (`amount`, applied by
/// [`OdeModel::bolus`], which by default adds the amount to `bolus_state`; a model whose bolus
/// acts otherwise declares `None` and overrides [`OdeModel::bolus`]). An exposure input is
/// never administered: the right-hand side receives its activity, from 0 to 1.
#[derive(Debug, Clone, Copy)]
pub struct InputSpec {
    pub name: &'static str,
    /// Unit of a bolus amount; a rate is this unit per day.
    pub unit: &'static str,
    pub description: &'static str,
    /// Index of the state a bolus adds to, or `None` where the model's own
    /// [`OdeModel::bolus`] applies it.
    pub bolus_state: Option<usize>,
    pub role: InputRole,
}

/// Where a model's tumour measure is found in a solution.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TumourMeasure {
    State(usize),
    Derived(usize),
}

/// A quantity computed from the state (for example a tumour volume from a cell count).
#[derive(Debug, Clone, Copy)]
pub struct DerivedSpec {
    pub name: &'static str,
    pub unit: &'static str,
    pub description: &'static str,
    /// Whether the value depends on the inputs (a drug's occupancy, a dose rate): the engine
    /// computes the inputs at an output only when a derived value asked for there reads them.
    pub reads_inputs: bool,
}

/// Volume of one tumour cell in mm3, for models that count cells (1e9 cells per cm3).
pub const CELL_MM3: f64 = 1e-6;

/// Everything a model declares about itself.
#[derive(Debug, Clone, Copy)]
pub struct ModelSpec {
    /// Registry name used in scenario files (`[model] name = "..."`).
    pub name: &'static str,
    pub title: &'static str,
    pub citation: &'static str,
    pub summary: &'static str,
    pub states: &'static [StateSpec],
    pub parameters: &'static [ParameterSpec],
    pub presets: &'static [PresetSpec],
    pub inputs: &'static [InputSpec],
    pub derived: &'static [DerivedSpec],
    /// The state or derived output that measures the tumour (cohort summaries and trial
    /// endpoints read it).
    pub tumour: &'static str,
    /// Cubic millimetres of tumour per unit of the tumour measure: 1 for a volume in mm3;
    /// 1e-6 for a count of cells (about 1e9 cells make 1 cm3 of tumour: Del Monte, Cell
    /// Cycle 8:505, 2009). The trial turns the measure into a lesion diameter with it.
    pub tumour_mm3_per_unit: f64,
}

impl ModelSpec {
    pub fn state_index(&self, name: &str) -> Option<usize> {
        self.states.iter().position(|s| s.name == name)
    }
    /// The current name of the parameter formerly called `name`, if `name` is a former name.
    pub fn renamed(&self, name: &str) -> Option<&'static str> {
        self.parameters
            .iter()
            .find(|p| p.formerly == Some(name) && p.name != name)
            .map(|p| p.name)
    }

    /// The parameter called `name`, now or formerly.
    pub fn parameter_index(&self, name: &str) -> Option<usize> {
        self.parameters
            .iter()
            .position(|p| p.name == name)
            .or_else(|| {
                self.parameters
                    .iter()
                    .position(|p| p.formerly == Some(name))
            })
    }
    pub fn input_index(&self, name: &str) -> Option<usize> {
        self.inputs.iter().position(|i| i.name == name)
    }
    /// The input that takes the exposure of drugs acting by `mechanism`, if the model has one.
    pub fn exposure_input(&self, mechanism: Mechanism) -> Option<usize> {
        self.inputs
            .iter()
            .position(|i| i.role == InputRole::Exposure(mechanism))
    }
    /// The input radiation fractions are given on, if the model has one.
    pub fn radiation_input(&self) -> Option<usize> {
        self.inputs
            .iter()
            .position(|i| i.role == InputRole::Radiation)
    }
    /// Where the tumour measure is: a state or a derived output.
    pub fn tumour_measure(&self) -> Option<TumourMeasure> {
        self.state_index(self.tumour)
            .map(TumourMeasure::State)
            .or_else(|| {
                self.derived
                    .iter()
                    .position(|d| d.name == self.tumour)
                    .map(TumourMeasure::Derived)
            })
    }
    /// Whether the model responds to `mechanism`.
    pub fn has_mechanism(&self, mechanism: Mechanism) -> bool {
        match mechanism {
            Mechanism::Radiation => self.radiation_input().is_some(),
            m => self.exposure_input(m).is_some(),
        }
    }
    pub fn preset(&self, name: &str) -> Option<&'static PresetSpec> {
        self.presets.iter().find(|p| p.name == name)
    }
    pub fn default_parameters(&self) -> Vec<f64> {
        self.parameters.iter().map(|p| p.default).collect()
    }
    pub fn default_initial(&self) -> Vec<f64> {
        self.states.iter().map(|s| s.initial).collect()
    }

    /// Default parameters and initial state with a preset applied.
    ///
    /// # Panics
    /// Only if the model's own preset table names a parameter or state the model does not
    /// declare; `every_preset_names_declared_quantities` in the tests proves it does not.
    pub fn with_preset(&self, preset: Option<&str>) -> Option<(Vec<f64>, Vec<f64>)> {
        let mut parameters = self.default_parameters();
        let mut initial = self.default_initial();
        if let Some(name) = preset {
            let preset = self.preset(name)?;
            for (key, value) in preset.parameters {
                let i = self
                    .parameter_index(key)
                    .expect("preset names a declared parameter");
                parameters[i] = *value;
            }
            for (key, value) in preset.initial {
                let i = self
                    .state_index(key)
                    .expect("preset names a declared state");
                initial[i] = *value;
            }
        }
        Some((parameters, initial))
    }
}

/// A tumour–immune model: a system of ordinary differential equations with `N` states.
///
/// `N` is a compile-time constant so that the solver works on stack-allocated
/// [`SVector`]s with no heap traffic in the hot loop.
pub trait OdeModel<const N: usize>: Send + Sync {
    /// The parameters in the form the right-hand side reads fastest (usually a struct of
    /// named `f64`s), built once per simulation from the values in [`ModelSpec::parameters`]
    /// order.
    type Params: Send + Sync;

    /// The parameters of [`LANES`] patients, one per SIMD lane, for [`OdeModel::rhs_lanes`]
    /// (`()` for a model without it).
    type LaneParams: Send + Sync;

    fn spec(&self) -> &'static ModelSpec;

    /// Builds the typed parameters from values ordered as [`ModelSpec::parameters`].
    fn params(&self, values: &[f64]) -> Self::Params;

    /// dy/dt at time `t_day` for state `y`, with `input_rate[i]` the current value of input
    /// `i`: for an input given by `[[arm.dose]]`, its rate (its unit per day; zero when nothing
    /// is being given); for an exposure input ([`InputRole::Exposure`]), the activity the
    /// engine fills in from the drugs (an occupancy or effect from 0 to 1).
    fn rhs(
        &self,
        p: &Self::Params,
        t_day: f64,
        y: &SVector<f64, N>,
        input_rate: &[f64],
        dydt: &mut SVector<f64, N>,
    );

    /// The parameters of [`LANES`] patients gathered lane by lane, if the model integrates
    /// patients in SIMD lanes ([`OdeModel::rhs_lanes`]); `None` (the default) where it does
    /// not, and its patients are integrated one at a time. Whether it gives `Some` is a property
    /// of the model: it must not depend on the parameter values.
    fn lane_params(&self, _p: [&Self::Params; LANES]) -> Option<Self::LaneParams> {
        None
    }

    /// dy/dt for [`LANES`] patients at once, each lane exactly what [`OdeModel::rhs`] gives
    /// for that patient, bit for bit (write both from one function generic over
    /// [`crate::lanes::Lane`]). Called only with parameters from [`OdeModel::lane_params`].
    /// Mark the implementation `#[inline(always)]`: the lane kernel calls it at every stage,
    /// and inlined there it keeps the states in registers (the TNBC cohort ran 4% faster,
    /// with the same bits).
    fn rhs_lanes(
        &self,
        _p: &Self::LaneParams,
        _t_day: F64s,
        _y: &[F64s; N],
        _input_rate: &[F64s],
        _dydt: &mut [F64s; N],
    ) {
        unreachable!("rhs_lanes is called only for a model whose lane_params gives Some")
    }

    /// Applies an instantaneous dose of input `input`. By default the amount is added to the
    /// input's `bolus_state`; models override it where a bolus acts otherwise (an acute
    /// radiation dose kills cells rather than accumulating anywhere).
    fn bolus(&self, _p: &Self::Params, input: usize, amount: f64, y: &mut SVector<f64, N>) {
        if let Some(state) = self.spec().inputs[input].bolus_state {
            y[state] += amount;
        }
    }

    /// The declared derived output `index` for state `y`, with inputs `input` as the
    /// right-hand side sees them at that instant. A value declared without
    /// [`DerivedSpec::reads_inputs`] must not read `input`: the engine may pass none.
    /// Models that declare derived outputs override it (a test checks that every declared
    /// value is finite); the default is never called.
    fn derived_value(
        &self,
        _p: &Self::Params,
        _y: &SVector<f64, N>,
        _input: &[f64],
        _index: usize,
    ) -> f64 {
        f64::NAN
    }

    /// The Jacobian d(rhs)/dy, if the model provides it analytically: writes it into `jac` and
    /// returns true. The default returns false and the stiff solver forms it by central
    /// differences (2N right-hand-side evaluations a step). A model that provides one has a
    /// test comparing it to finite differences.
    fn jacobian(
        &self,
        _p: &Self::Params,
        _t_day: f64,
        _y: &SVector<f64, N>,
        _input: &[f64],
        _jac: &mut nalgebra::SMatrix<f64, N, N>,
    ) -> bool {
        false
    }
}

/// Asserts that `model`'s analytic Jacobian equals central differences of its right-hand side
/// at each of `states`. The differences' own error is cancellation, about eps*|f|/h, plus
/// truncation, of order h^2: the bound allows 1e-6 relative plus ten times that cancellation
/// error.
#[cfg(test)]
pub(crate) fn assert_jacobian_matches_central_differences<const N: usize, M: OdeModel<N>>(
    model: &M,
    p: &M::Params,
    states: &[SVector<f64, N>],
    input: &[f64],
) {
    for y in states {
        let mut analytic = nalgebra::SMatrix::<f64, N, N>::zeros();
        assert!(
            model.jacobian(p, 0.0, y, input, &mut analytic),
            "no analytic Jacobian"
        );
        for j in 0..N {
            let h = 1e-5 * y[j].abs().max(0.1);
            let (mut up, mut down) = (*y, *y);
            up[j] += h;
            down[j] -= h;
            let (mut fu, mut fd) = (SVector::<f64, N>::zeros(), SVector::<f64, N>::zeros());
            model.rhs(p, 0.0, &up, input, &mut fu);
            model.rhs(p, 0.0, &down, input, &mut fd);
            let numeric = (fu - fd) / (2.0 * h);
            for i in 0..N {
                let (a, n) = (analytic[(i, j)], numeric[i]);
                let cancellation = 10.0 * f64::EPSILON * fu[i].abs().max(fd[i].abs()) / h;
                assert!(
                    (a - n).abs() <= 1e-6 * a.abs().max(n.abs()) + cancellation,
                    "{}: d f{i} / d y{j} at {y:?}: analytic {a}, numeric {n}",
                    model.spec().name
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_preset_names_declared_quantities() {
        for spec in specs() {
            for preset in spec.presets {
                for (name, _) in preset.parameters {
                    assert!(
                        spec.parameter_index(name).is_some(),
                        "{}: preset {} names parameter {name}",
                        spec.name,
                        preset.name
                    );
                }
                for (name, _) in preset.initial {
                    assert!(
                        spec.state_index(name).is_some(),
                        "{}: preset {} names state {name}",
                        spec.name,
                        preset.name
                    );
                }
            }
        }
    }

    /// Every default and preset value lies in its parameter's declared domain, and every
    /// initial state is at least 0: what a scenario may set, a model ships.
    #[test]
    fn every_shipped_value_lies_in_its_domain() {
        let mut checked = 0;
        for spec in specs() {
            let mut cases = vec![("defaults", spec.with_preset(None))];
            for preset in spec.presets {
                cases.push((preset.name, spec.with_preset(Some(preset.name))));
            }
            for (case, values) in cases {
                let (parameters, initial) = values.expect("the model's own presets");
                for (p, value) in spec.parameters.iter().zip(&parameters) {
                    assert!(
                        p.domain.contains(*value),
                        "{} {case}: {} = {value}, expected {}",
                        spec.name,
                        p.name,
                        p.domain.describe()
                    );
                    checked += 1;
                }
                for (s, value) in spec.states.iter().zip(&initial) {
                    assert!(*value >= 0.0, "{} {case}: {} = {value}", spec.name, s.name);
                }
            }
        }
        assert!(checked > 100, "{checked}");
    }

    /// A cohort's sampled parameters, initial states (`initial.X`) and covariates are columns
    /// of patients.csv: a parameter named like a covariate gave two `weight_kg` columns (the
    /// mouse weight of Kosinsky's antibody dosing, now `mouse_weight_kg`).
    #[test]
    fn no_parameter_is_named_like_a_patient_covariate() {
        for spec in specs() {
            for p in spec.parameters {
                assert!(
                    !["weight_kg", "height_cm", "gfr_ml_min"].contains(&p.name),
                    "{}: parameter {}",
                    spec.name,
                    p.name
                );
            }
        }
    }

    /// A former name reads as its parameter only if nothing else is called that now.
    #[test]
    fn no_former_name_is_a_current_one() {
        for spec in specs() {
            for p in spec.parameters {
                let Some(old) = p.formerly else { continue };
                assert!(
                    spec.parameters.iter().all(|q| q.name != old)
                        && spec.states.iter().all(|s| s.name != old)
                        && spec.derived.iter().all(|d| d.name != old),
                    "{}: {} was {old}, a current name",
                    spec.name,
                    p.name
                );
                assert_eq!(spec.parameter_index(old), spec.parameter_index(p.name));
            }
        }
    }

    #[test]
    fn domains_hold_what_they_say() {
        for (domain, inside, outside) in [
            (Domain::NonNegative, [0.0, 3e5], [-1e-300, f64::INFINITY]),
            (Domain::Positive, [5e-324, 1.0], [0.0, f64::NAN]),
            (
                Domain::Fraction,
                [0.0, 1.0],
                [1.0 + f64::EPSILON, -0.0 - 1e-300],
            ),
        ] {
            for x in inside {
                assert!(domain.contains(x), "{domain:?} {x}");
            }
            for x in outside {
                assert!(!domain.contains(x), "{domain:?} {x}");
            }
        }
    }

    /// Every declared derived output is finite, and one declared not to read the inputs gives
    /// the same bits with none (as the engine then calls it). At every preset's state and at
    /// a mid-course one with every state non-zero, so that each term is active.
    #[test]
    fn derived_outputs_read_the_inputs_only_where_declared() {
        struct Check;
        impl ModelVisitor for Check {
            type Output = usize;
            fn visit<const N: usize, M: OdeModel<N>>(self, model: &M) -> usize {
                let spec = model.spec();
                let n_inputs = spec.inputs.len();
                let mut cases = vec![(spec.default_parameters(), spec.default_initial())];
                for preset in spec.presets {
                    cases.extend(spec.with_preset(Some(preset.name)));
                }
                let mut checked = 0;
                for (parameters, initial) in cases {
                    let p = model.params(&parameters);
                    for y in [
                        SVector::<f64, N>::from_column_slice(&initial),
                        SVector::<f64, N>::from_fn(|i, _| 0.5 + initial[i] * 1.3 + i as f64),
                    ] {
                        let some: Vec<f64> = (0..n_inputs).map(|i| 0.3 + 0.1 * i as f64).collect();
                        for (index, d) in spec.derived.iter().enumerate() {
                            let with = model.derived_value(&p, &y, &some, index);
                            assert!(with.is_finite(), "{}.{} is {with}", spec.name, d.name);
                            if !d.reads_inputs {
                                // As the engine calls it then: with no inputs at all.
                                let without = model.derived_value(&p, &y, &[], index);
                                assert_eq!(
                                    with.to_bits(),
                                    without.to_bits(),
                                    "{}.{} reads the inputs but does not declare it",
                                    spec.name,
                                    d.name
                                );
                            }
                            checked += 1;
                        }
                    }
                }
                checked
            }
        }
        let checked: usize = registry::NAMES
            .iter()
            .map(|name| visit(name, Check).unwrap())
            .sum();
        assert!(checked >= 16, "only {checked} derived values checked");
    }

    #[test]
    fn declarations_are_complete_and_unambiguous() {
        for spec in specs() {
            let mut names: Vec<&str> = spec.states.iter().map(|s| s.name).collect();
            names.extend(spec.derived.iter().map(|d| d.name));
            let n = names.len();
            names.sort_unstable();
            names.dedup();
            assert_eq!(
                names.len(),
                n,
                "{}: a state and a derived output share a name",
                spec.name
            );
            for p in spec.parameters {
                assert!(
                    p.default.is_finite() && !p.unit.is_empty() && !p.source.is_empty(),
                    "{}.{}",
                    spec.name,
                    p.name
                );
            }
            for s in spec.states {
                assert!(
                    s.scale > 0.0 && s.initial >= 0.0,
                    "{}.{}",
                    spec.name,
                    s.name
                );
            }
            assert!(
                spec.tumour_measure().is_some(),
                "{}: tumour measure `{}` is neither a state nor a derived output",
                spec.name,
                spec.tumour
            );
            for i in spec.inputs {
                assert!(
                    i.bolus_state.is_none_or(|s| s < spec.states.len()),
                    "{}.{}",
                    spec.name,
                    i.name
                );
            }
        }
    }
}
