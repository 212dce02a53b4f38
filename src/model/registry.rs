//! The built-in models, by name.
//!
//! Models have different state dimensions, so the engine cannot hold them behind one trait
//! object without giving up fixed-size vectors. Instead a caller hands a [`ModelVisitor`] to
//! [`visit`], which calls it back with the concrete model type; the engine's solver is then
//! monomorphised for each model. This file is the only place that lists the models.

use super::{ModelSpec, OdeModel};
use super::{
    depillis2006::DePillis2006, immunity_cycle::ImmunityCycle, kosinsky2018::Kosinsky2018,
    kuznetsov1994::Kuznetsov1994,
};

/// Something to do with a model whose concrete type is known only at run time.
pub trait ModelVisitor {
    type Output;
    fn visit<const N: usize, M: OdeModel<N>>(self, model: &M) -> Self::Output;
}

/// The built-in models' names, in the order `immunotrial models` lists them.
pub const NAMES: [&str; 4] = [
    "kuznetsov1994",
    "depillis2006",
    "kosinsky2018",
    "immunity_cycle",
];

/// Calls `visitor` with the built-in model called `name`, or returns `None` if there is none.
pub fn visit<V: ModelVisitor>(name: &str, visitor: V) -> Option<V::Output> {
    match name {
        "kuznetsov1994" => Some(visitor.visit(&Kuznetsov1994)),
        "depillis2006" => Some(visitor.visit(&DePillis2006)),
        "kosinsky2018" => Some(visitor.visit(&Kosinsky2018)),
        "immunity_cycle" => Some(visitor.visit(&ImmunityCycle)),
        _ => None,
    }
}

/// Asks a model for its declaration.
struct Spec;
impl ModelVisitor for Spec {
    type Output = &'static ModelSpec;
    fn visit<const N: usize, M: OdeModel<N>>(self, model: &M) -> &'static ModelSpec {
        model.spec()
    }
}

/// Every built-in model's declaration, in the order `immunotrial models` lists them.
pub fn specs() -> Vec<&'static ModelSpec> {
    NAMES
        .into_iter()
        .filter_map(|name| visit(name, Spec))
        .collect()
}

/// The declaration of the model called `name`.
pub fn find_spec(name: &str) -> Option<&'static ModelSpec> {
    specs().into_iter().find(|s| s.name == name)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every listed name reaches a model whose declaration has that name: the validator finds
    /// a model by its declared name and the engine by the registry's, so a model registered as
    /// `logistic_pd1` but declaring `logistic-pd1` was validated and then made `simulate`
    /// panic; one listed without a `visit` arm vanished from `immunotrial models` (both found
    /// by adding a model as a new developer would).
    #[test]
    fn every_listed_name_is_its_models_declared_name() {
        for name in NAMES {
            let spec = visit(name, Spec).unwrap_or_else(|| panic!("`{name}` has no visit arm"));
            assert_eq!(
                spec.name, name,
                "registered as `{name}`, declared as `{}`",
                spec.name
            );
            assert_eq!(find_spec(name).map(|s| s.name), Some(name));
        }
        assert_eq!(specs().len(), NAMES.len());
    }
}
