//! Kuznetsov, Makalkin, Taylor & Perelson 1994: effector cells against a growing tumour.
//!
//! V. A. Kuznetsov, I. A. Makalkin, M. A. Taylor, A. S. Perelson. Nonlinear dynamics of
//! immunogenic tumors: parameter estimation and global bifurcation analysis.
//! Bull Math Biol 56(2):295–321, 1994. Curated as BioModels BIOMD0000000762.
//!
//! ```text
//! dE/dt = s + p*E*T/(g + T) - m*E*T - d*E
//! dT/dt = a*T*(1 - b*T) - n*E*T
//! ```
//! E effector (cytotoxic) cells, T tumour cells, time in days. Values are the paper's
//! estimates for the BCL1 lymphoma in the chimeric mouse, as in the curated file.
//!
//! The model has four equilibria for these values: tumour-free (saddle), dormant
//! (E 1.6081e6, T 8.1864e6; a stable focus), a saddle at T 2.6802e8 and escape
//! (E 1.7321e5, T 4.4703e8; a stable node). Which one a tumour reaches depends on its initial
//! size: the "sneaking through" threshold.
//!
//! No state is clamped: both equations keep E and T non-negative on their own (dE/dt = s > 0
//! at E = 0 and dT/dt = 0 at T = 0).

use super::{ModelSpec, OdeModel, ParameterSpec, StateSpec};
use nalgebra::SVector;

const SOURCE: &str = "Kuznetsov et al. 1994, Bull Math Biol 56:295; BIOMD0000000762";

pub static SPEC: ModelSpec = ModelSpec {
    name: "kuznetsov1994",
    title: "Kuznetsov, Makalkin, Taylor & Perelson 1994: effector cells and tumour cells",
    citation: "Kuznetsov VA, Makalkin IA, Taylor MA, Perelson AS. Nonlinear dynamics of immunogenic \
               tumors: parameter estimation and global bifurcation analysis. Bull Math Biol \
               56(2):295-321 (1994). BioModels BIOMD0000000762.",
    summary: "Two-state predator-prey model of cytotoxic effector cells against an immunogenic \
              tumour: tumour dormancy, escape and sneaking through.",
    states: &[
        StateSpec {
            name: "E",
            unit: "cells",
            description: "effector (cytotoxic) immune cells",
            initial: 3.2e5,
            scale: 1e6,
        },
        StateSpec {
            name: "T",
            unit: "cells",
            description: "tumour cells",
            initial: 5e6,
            scale: 1e6,
        },
    ],
    parameters: &[
        ParameterSpec::new(
            "s",
            1.3e4,
            "cells/day",
            "normal influx of effector cells",
            SOURCE,
        ),
        ParameterSpec::new(
            "p",
            0.1245,
            "1/day",
            "maximal tumour-driven effector proliferation",
            SOURCE,
        ),
        ParameterSpec::new(
            "g",
            2.019e7,
            "cells",
            "tumour size of half-maximal effector proliferation",
            SOURCE,
        )
        .positive(),
        ParameterSpec::new(
            "m",
            3.422e-10,
            "1/(cell*day)",
            "effector inactivation by tumour cells",
            SOURCE,
        ),
        ParameterSpec::new("d", 0.0412, "1/day", "effector death rate", SOURCE),
        ParameterSpec::new("a", 0.18, "1/day", "maximal tumour growth rate", SOURCE),
        ParameterSpec::new(
            "b",
            2.0e-9,
            "1/cell",
            "inverse carrying capacity of the tumour",
            SOURCE,
        ),
        ParameterSpec::new(
            "n",
            1.101e-7,
            "1/(cell*day)",
            "tumour cell kill by effector cells",
            SOURCE,
        ),
    ],
    presets: &[],
    inputs: &[],
    derived: &[],
    tumour: "T",
    tumour_mm3_per_unit: super::CELL_MM3,
};

/// The model of Kuznetsov et al. 1994 (see the module documentation).
#[derive(Debug, Clone, Copy, Default)]
pub struct Kuznetsov1994;

/// Parameters of [`Kuznetsov1994`], named as in the paper.
#[derive(Debug, Clone, Copy)]
pub struct Params {
    pub s: f64,
    pub p: f64,
    pub g: f64,
    pub m: f64,
    pub d: f64,
    pub a: f64,
    pub b: f64,
    pub n: f64,
}

impl OdeModel<2> for Kuznetsov1994 {
    type Params = Params;
    type LaneParams = ();

    fn spec(&self) -> &'static ModelSpec {
        &SPEC
    }

    fn params(&self, v: &[f64]) -> Params {
        Params {
            s: v[0],
            p: v[1],
            g: v[2],
            m: v[3],
            d: v[4],
            a: v[5],
            b: v[6],
            n: v[7],
        }
    }

    #[inline]
    fn rhs(
        &self,
        p: &Params,
        _t: f64,
        y: &SVector<f64, 2>,
        _u: &[f64],
        dydt: &mut SVector<f64, 2>,
    ) {
        let (e, t) = (y[0], y[1]);
        // The division last: the terms waiting on it are the solver's critical path.
        dydt[0] = (p.s - p.m * e * t - p.d * e) + p.p * e * t / (p.g + t);
        dydt[1] = p.a * t * (1.0 - p.b * t) - p.n * e * t;
    }
}
