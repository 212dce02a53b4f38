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
use nalgebra::{SMatrix, SVector};

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

    /// The analytic Jacobian of [`Self::rhs`] (checked against central differences in the
    /// tests). RODAS4, which the de Pillis scenarios ship, otherwise forms it from 12
    /// right-hand sides, each with a power and an exponential. With x = T/L (T clamped at 0)
    /// and D = d/(1 + s*x^l): dD/dT = -D*w/T and dD/dL = D*w/L, w = l*s*x^l/(1 + s*x^l)
    /// (written without dividing by T, as D*w/T = D*l*s*x^(l-1)/(L*(1 + s*x^l))).
    fn jacobian(
        &self,
        p: &Params,
        _t: f64,
        y: &SVector<f64, 6>,
        _u: &[f64],
        jac: &mut SMatrix<f64, 6, 6>,
    ) -> bool {
        let (t, n, l, c, m, i) = (y[0], y[1], y[2], y[3], y[4], y[5]);
        let (it, i_n, il, ic, im, ii) = (0, 1, 2, 3, 4, 5);
        let decay = (-m).exp();
        let kill = 1.0 - decay;
        // The ratio-dependent kill D, its product DT and their derivatives in T and L.
        let (big_d, d_big_d_t, d_big_d_l) = if l <= 0.0 {
            (0.0, 0.0, 0.0)
        } else {
            let x = t.max(0.0) / l;
            let power = x.powf(p.l);
            let denominator = 1.0 + p.s * power;
            let big_d = p.d / denominator;
            // d(x^l)/dT = l*x^(l-1)/L; 0 where T is clamped (and at x = 0 for l > 1).
            let d_power_dx = if t > 0.0 {
                p.l * x.powf(p.l - 1.0)
            } else {
                0.0
            };
            let d_big_d_dx = -p.d * p.s * d_power_dx / (denominator * denominator);
            (big_d, d_big_d_dx / l, -d_big_d_dx * x / l)
        };
        let dt = big_d * t;
        let d_dt_t = big_d + t * d_big_d_t;
        let d_dt_l = t * d_big_d_l;
        *jac = SMatrix::zeros();
        // dT/dt = a*T*(1 - b*T) - c*N*T - D*T - K_T*kill*T
        jac[(it, it)] = p.a * (1.0 - p.b * t) - p.a * p.b * t - p.c * n - d_dt_t - p.k_t * kill;
        jac[(it, i_n)] = -p.c * t;
        jac[(it, il)] = -d_dt_l;
        jac[(it, im)] = -p.k_t * decay * t;
        // dN/dt = e*C - f*N + g*T^2/(h + T^2)*N - p*N*T - K_N*kill*N
        let h_t2 = p.h + t * t;
        jac[(i_n, it)] = p.g * 2.0 * p.h * t / (h_t2 * h_t2) * n - p.p * n;
        jac[(i_n, i_n)] = -p.f + p.g * t * t / h_t2 - p.p * t - p.k_n * kill;
        jac[(i_n, ic)] = p.e;
        jac[(i_n, im)] = -p.k_n * decay * n;
        // dL/dt = -m*L + j*(DT)^2/(k + (DT)^2)*L - q*L*T + (r1*N + r2*C)*T - u*N*L^2
        //         - K_L*kill*L + p_I*L*I/(g_I + I) + v_L
        let z = dt * dt;
        let recruitment = z / (p.k + z);
        let d_recruitment_d_dt = p.k / ((p.k + z) * (p.k + z)) * 2.0 * dt;
        jac[(il, it)] = p.j * d_recruitment_d_dt * d_dt_t * l - p.q * l + p.r1 * n + p.r2 * c;
        jac[(il, i_n)] = p.r1 * t - p.u * l * l;
        jac[(il, il)] = -p.m + p.j * recruitment + p.j * d_recruitment_d_dt * d_dt_l * l
            - p.q * t
            - 2.0 * p.u * n * l
            - p.k_l * kill
            + p.p_i * i / (p.g_i + i);
        jac[(il, ic)] = p.r2 * t;
        jac[(il, im)] = -p.k_l * decay * l;
        jac[(il, ii)] = p.p_i * l * p.g_i / ((p.g_i + i) * (p.g_i + i));
        // dC/dt = alpha - beta*C - K_C*kill*C
        jac[(ic, ic)] = -p.beta - p.k_c * kill;
        jac[(ic, im)] = -p.k_c * decay * c;
        // dM/dt = -gamma*M + v_M, dI/dt = -mu_I*I + v_I
        jac[(im, im)] = -p.gamma;
        jac[(ii, ii)] = -p.mu_i;
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The analytic Jacobian equals central differences of the right-hand side: patient 9's
    /// values, at states with every term active (chemotherapy, IL-2 and lymphocytes in the
    /// body; tumour large and small against L, so that the ratio kill is in both regimes).
    #[test]
    fn analytic_jacobian_matches_central_differences() {
        let model = DePillis2006;
        let (values, _) = SPEC.with_preset(None).unwrap();
        let p = model.params(&values);
        let states = [
            SVector::<f64, 6>::from_row_slice(&[1e7, 2.5e5, 5e5, 2.2e9, 0.8, 1e5]),
            SVector::<f64, 6>::from_row_slice(&[3e3, 1e5, 4e6, 1.5e9, 0.1, 4e7]),
            SVector::<f64, 6>::from_row_slice(&[2e8, 5e4, 1e4, 6e8, 2.0, 10.0]),
        ];
        crate::model::assert_jacobian_matches_central_differences(
            &model,
            &p,
            &states,
            &[1e9, 1.0, 1e6],
        );
    }
}
