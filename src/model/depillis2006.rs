//! de Pillis, Gu & Radunskaya 2006: mixed immunotherapy and chemotherapy.
//!
//! L. G. de Pillis, W. Gu, A. E. Radunskaya. Mixed immunotherapy and chemotherapy of tumors:
//! modeling, applications and biological interpretations. J Theor Biol 238(4):841–862, 2006.
//!
//! ```text
//! D     = d*(L/T)^l / (s + (L/T)^l)  =  d / (1 + s*(T/L)^l)
//! dT/dt = a*T*(1 - b*T) - c*N*T - D*T - K_T*(1 - exp(-M))*T
//! dN/dt = e*C - f*N + g*T^2/(h + T^2)*N - p*N*T - K_N*(1 - exp(-M))*N
//! dL/dt = -m*L + j*D^2*T^2/(k + D^2*T^2)*L - q*L*T + (r1*N + r2*C)*T
//!         - u*N*L^2 - K_L*(1 - exp(-M))*L + p_I*L*I/(g_I + I) + v_L(t)
//! dC/dt = alpha - beta*C - K_C*(1 - exp(-M))*C
//! dM/dt = -gamma*M + v_M(t)
//! dI/dt = -mu_I*I + v_I(t)
//! ```
//! T tumour cells, N natural killer cells, L CD8+ T cells, C circulating lymphocytes (all
//! cells), M chemotherapy drug (drug units, 1 - exp(-M) its fractional kill), I IL-2
//! (IU); time in days. Inputs: v_L tumour-infiltrating lymphocytes (cells), v_M chemotherapy
//! (drug units), v_I IL-2 (IU).
//!
//! The ratio-dependent kill D is written in its second form, `d / (1 + s*(T/L)^l)`, which
//! tends to d as T goes to 0 instead of dividing by T. T is clamped at 0 inside D only
//! (a step can overshoot a vanishing tumour to -1e-12 cells, and a negative base to a
//! fractional power l is NaN); the state itself is never altered. D = 0 when L = 0.
//!
//! Values: the shared values and the patient 9 and 10 columns of the paper's Table 2, as
//! reproduced by public re-implementations (the paper's table was not available to us).
//! g_I = 2e7 (Kirschner & Panetta's value, also in de Pillis et al. 2008's Table 1; one copy
//! has 2e2, a typo). Patient 10's m = 9.12/day is the only value found in public copies; it
//! implies a 1.8-hour CD8+ half-life against patient 9's 3.4 days, so treat patient 10 with
//! caution (UNCONFIRMED against the paper's Table 2).

use super::{InputRole, InputSpec, ModelSpec, OdeModel, ParameterSpec, PresetSpec, StateSpec};
use nalgebra::SVector;

const TABLE2: &str = "de Pillis et al. 2006, Table 2, as reproduced by public re-implementations \
                      (the paper's table itself not checked)";

const fn param(
    name: &'static str,
    default: f64,
    unit: &'static str,
    description: &'static str,
) -> ParameterSpec {
    ParameterSpec::new(name, default, unit, description, TABLE2)
}

pub static SPEC: ModelSpec = ModelSpec {
    name: "depillis2006",
    title: "de Pillis, Gu & Radunskaya 2006: mixed immunotherapy and chemotherapy",
    citation: "de Pillis LG, Gu W, Radunskaya AE. Mixed immunotherapy and chemotherapy of tumors: \
               modeling, applications and biological interpretations. J Theor Biol 238(4):841-862 (2006).",
    summary: "Tumour, NK cells, CD8+ T cells and circulating lymphocytes under chemotherapy, \
              tumour-infiltrating lymphocytes and IL-2; defaults are patient 9.",
    states: &[
        StateSpec {
            name: "T",
            unit: "cells",
            description: "tumour cells",
            initial: 1e6,
            scale: 1.0,
        },
        StateSpec {
            name: "N",
            unit: "cells",
            description: "natural killer cells",
            initial: 1e3,
            scale: 1.0,
        },
        StateSpec {
            name: "L",
            unit: "cells",
            description: "tumour-specific CD8+ T cells",
            initial: 10.0,
            scale: 1.0,
        },
        StateSpec {
            name: "C",
            unit: "cells",
            description: "circulating lymphocytes",
            initial: 6e8,
            scale: 1.0,
        },
        StateSpec {
            name: "M",
            unit: "drug units",
            description: "chemotherapy drug",
            initial: 0.0,
            scale: 1.0,
        },
        StateSpec {
            name: "I",
            unit: "IU",
            description: "interleukin-2",
            initial: 0.0,
            scale: 1.0,
        },
    ],
    parameters: &[
        param("a", 0.431, "1/day", "tumour growth rate"),
        param("b", 1.02e-9, "1/cell", "inverse tumour carrying capacity"),
        param("c", 6.41e-11, "1/(cell*day)", "tumour kill by NK cells"),
        param("d", 2.34, "1/day", "saturation level of CD8+ kill"),
        param("l", 2.09, "1", "exponent of the CD8+ kill"),
        param("s", 8.39e-2, "1", "steepness of the CD8+ kill"),
        param(
            "e",
            2.08e-7,
            "1/day",
            "NK production from circulating lymphocytes",
        ),
        param("f", 4.12e-2, "1/day", "NK death rate"),
        param("g", 1.25e-2, "1/day", "maximal NK recruitment by tumour"),
        param(
            "h",
            2.02e7,
            "cells^2",
            "tumour size (squared) of half-maximal NK recruitment",
        ).positive(),
        param("p", 3.42e-6, "1/(cell*day)", "NK inactivation by tumour"),
        param("m", 0.204, "1/day", "CD8+ death rate"),
        param(
            "j",
            2.49e-2,
            "1/day",
            "maximal CD8+ recruitment by killed tumour",
        ),
        param("k", 3.66e7, "cells^2", "half-maximal CD8+ recruitment").positive(),
        param("q", 1.42e-6, "1/(cell*day)", "CD8+ inactivation by tumour"),
        param(
            "r1",
            1.1e-7,
            "1/(cell*day)",
            "CD8+ production by NK-killed tumour debris",
        ),
        param(
            "r2",
            6.5e-11,
            "1/(cell*day)",
            "CD8+ production by circulating lymphocytes meeting tumour",
        ),
        param("u", 3e-10, "1/(cell^2*day)", "CD8+ regulation by NK cells"),
        param("K_T", 0.9, "1/day", "chemotherapy kill of tumour"),
        param("K_N", 0.6, "1/day", "chemotherapy kill of NK cells"),
        param("K_L", 0.6, "1/day", "chemotherapy kill of CD8+ cells"),
        param(
            "K_C",
            0.6,
            "1/day",
            "chemotherapy kill of circulating lymphocytes",
        ),
        param(
            "alpha",
            7.5e8,
            "cells/day",
            "constant source of circulating lymphocytes",
        ),
        param(
            "beta",
            1.2e-2,
            "1/day",
            "death rate of circulating lymphocytes",
        ),
        param("gamma", 0.9, "1/day", "chemotherapy decay rate"),
        param("mu_I", 10.0, "1/day", "IL-2 decay rate"),
        param("p_I", 0.125, "1/day", "maximal CD8+ proliferation by IL-2"),
        ParameterSpec::new(
            "g_I",
            2e7,
            "IU",
            "IL-2 of half-maximal CD8+ proliferation",
            "Kirschner & Panetta 1998 via de Pillis et al. 2008, Table 1 (one copy of the 2006 table has 2e2, a typo)",
        ).positive(),
    ],
    presets: &[
        PresetSpec {
            name: "patient9",
            description: "patient 9 of the paper's Table 2 (the defaults)",
            parameters: &[
                ("d", 2.34),
                ("l", 2.09),
                ("s", 8.39e-2),
                ("k", 3.66e7),
                ("m", 0.204),
                ("q", 1.42e-6),
                ("p", 3.42e-6),
                ("alpha", 7.5e8),
                ("beta", 1.2e-2),
            ],
            initial: &[],
            sources: &[],
        },
        PresetSpec {
            name: "patient10",
            description: "patient 10 of the paper's Table 2 (m = 9.12/day UNCONFIRMED)",
            parameters: &[
                ("d", 1.88),
                ("l", 1.81),
                ("s", 5.12e-1),
                ("k", 5.66e7),
                ("m", 9.12),
                ("q", 1.59e-6),
                ("p", 3.59e-6),
                ("alpha", 5e8),
                ("beta", 8e-3),
            ],
            initial: &[],
            sources: &[],
        },
    ],
    inputs: &[
        InputSpec {
            name: "v_L",
            unit: "cells",
            description: "tumour-infiltrating lymphocytes, into L",
            bolus_state: Some(2),
            role: InputRole::Dose,
        },
        InputSpec {
            name: "v_M",
            unit: "drug units",
            description: "chemotherapy, into M",
            bolus_state: Some(4),
            role: InputRole::Dose,
        },
        InputSpec {
            name: "v_I",
            unit: "IU",
            description: "interleukin-2, into I",
            bolus_state: Some(5),
            role: InputRole::Dose,
        },
    ],
    derived: &[],
    tumour: "T",
    tumour_mm3_per_unit: super::CELL_MM3,
};

/// The model of de Pillis et al. 2006 (see the module documentation).
#[derive(Debug, Clone, Copy, Default)]
pub struct DePillis2006;

/// Parameters of [`DePillis2006`], named as in the paper.
#[derive(Debug, Clone, Copy)]
pub struct Params {
    a: f64,
    b: f64,
    c: f64,
    d: f64,
    l: f64,
    s: f64,
    e: f64,
    f: f64,
    g: f64,
    h: f64,
    p: f64,
    m: f64,
    j: f64,
    k: f64,
    q: f64,
    r1: f64,
    r2: f64,
    u: f64,
    k_t: f64,
    k_n: f64,
    k_l: f64,
    k_c: f64,
    alpha: f64,
    beta: f64,
    gamma: f64,
    mu_i: f64,
    p_i: f64,
    g_i: f64,
}

impl OdeModel<6> for DePillis2006 {
    type Params = Params;
    type LaneParams = ();

    fn spec(&self) -> &'static ModelSpec {
        &SPEC
    }

    fn params(&self, v: &[f64]) -> Params {
        Params {
            a: v[0],
            b: v[1],
            c: v[2],
            d: v[3],
            l: v[4],
            s: v[5],
            e: v[6],
            f: v[7],
            g: v[8],
            h: v[9],
            p: v[10],
            m: v[11],
            j: v[12],
            k: v[13],
            q: v[14],
            r1: v[15],
            r2: v[16],
            u: v[17],
            k_t: v[18],
            k_n: v[19],
            k_l: v[20],
            k_c: v[21],
            alpha: v[22],
            beta: v[23],
            gamma: v[24],
            mu_i: v[25],
            p_i: v[26],
            g_i: v[27],
        }
    }

    fn rhs(&self, p: &Params, _t: f64, y: &SVector<f64, 6>, u: &[f64], dydt: &mut SVector<f64, 6>) {
        let (t, n, l, c, m, i) = (y[0], y[1], y[2], y[3], y[4], y[5]);
        let kill = 1.0 - (-m).exp();
        let big_d = if l <= 0.0 {
            0.0
        } else {
            p.d / (1.0 + p.s * (t.max(0.0) / l).powf(p.l))
        };
        let dt = big_d * t;
        dydt[0] = p.a * t * (1.0 - p.b * t) - p.c * n * t - dt - p.k_t * kill * t;
        dydt[1] =
            p.e * c - p.f * n + p.g * t * t / (p.h + t * t) * n - p.p * n * t - p.k_n * kill * n;
        dydt[2] = -p.m * l + p.j * dt * dt / (p.k + dt * dt) * l - p.q * l * t
            + (p.r1 * n + p.r2 * c) * t
            - p.u * n * l * l
            - p.k_l * kill * l
            + p.p_i * l * i / (p.g_i + i)
            + u[0];
        dydt[3] = p.alpha - p.beta * c - p.k_c * kill * c;
        dydt[4] = -p.gamma * m + u[1];
        dydt[5] = -p.mu_i * i + u[2];
    }
}
