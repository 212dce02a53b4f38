//! Kosinsky et al. 2018: radiotherapy and anti-PD-(L)1 in the cancer-immunity cycle.
//!
//! Y. Kosinsky, S. J. Dovedi, K. Peskov, V. Voronova, L. Chu, H. Tomkinson, N. Al-Huniti,
//! D. R. Stanski, G. Helmlinger. Radiation and PD-(L)1 treatment combinations: immune
//! response and dose optimization via a predictive systems model. J Immunother Cancer 6:17,
//! 2018. Curated as BioModels BIOMD0000000863. Mouse CT26 tumours (Dovedi et al. 2014).
//!
//! ```text
//! TCD   = mu*TVd/(TV + TVd) + e*dTeff + d0                    tumour cell death
//! DCm   = TCD^2 / (TCD^2 + Ktcd^2)                            dendritic-cell maturation
//! IAR   = (1 - PDL1*(1 - o_PD1)*(1 - o_PDL1)/(1 + mAb/K_D))
//!         * (1 - DCm*(TV+TVd)/(DCm*(TV+TVd) + S_R))           immune activation rate
//! RT    = alpha*Dose + 0.2*alpha/(tau*delta^2)*U^2            radiation kill rate
//! dTV/dt    = r*TV*(1 - TV/TVmax) - RT*TV - (e*dTeff + d0)*TV
//! dU/dt     = delta*Dose - U/tau
//! dTVd/dt   = RT*TV - mu*TVd
//! dnTeff/dt = kLN*DCm*(TV+TVd)/(DCm*(TV+TVd) + S_L) + IAR*nTeff*(kpro - kdif) - kel*nTeff
//! ddTeff/dt = IAR*nTeff*kdif - kapo*dTeff
//! dPDL1/dt  = kpdl*dTeff/(Kpdl + dTeff) - kpdl*PDL1
//! dA_depot/dt   = -ka*A_depot + (antibody rate in nmol/day)
//! dA_central/dt = ka*A_depot - kel_mAb*A_central,   mAb = A_central / V_mAb (nM)
//! ```
//! TV viable tumour volume and TVd dying tumour volume (µL = mm³), U double-strand breaks
//! per cell awaiting repair, nTeff and dTeff non-differentiated and differentiated effector
//! T cells, PDL1 relative PD-L1 expression, A_depot and A_central the anti-PD-L1 antibody in
//! the intraperitoneal depot and in plasma (nmol). Dose is the radiation dose rate (Gy/day).
//!
//! Repair: tau is a repair *time* (Table 1: "DSB repair time", 0.02 d), so the repair rate
//! is U/tau. The curated BioModels file writes tau*U, which gives an acute-dose quadratic
//! kill of about 250*alpha*D^2 (everything dies at 2 Gy) and only goes unnoticed because that
//! file never irradiates. With U/tau an acute dose D kills alpha*D + 0.1*alpha*D^2 in log
//! terms: the linear-quadratic model with alpha/beta = 10 Gy.
//!
//! Values: Table 1 of the paper (all confirmed against the curated file, which has the same
//! values). The antibody PK (ka 8/d, kel 0.15/d, Vd 0.003 L, K_D 30 nM) is from the paper's
//! text; the curated file leaves it out. The paper gives neither the molecular weight nor the
//! mouse weight: we take 150 kDa (an IgG) and 20 g (a typical adult BALB/c mouse), so that
//! 10 mg/kg is 0.2 mg, 1.33 nmol, as later implementations of the model also do.
//!
//! An acute radiation dose (a bolus of input `radiation`) is the limit of a fraction whose
//! duration goes to zero: TV is multiplied by exp(-alpha*D), the cells killed move to TVd and
//! U rises by delta*D; the quadratic kill then follows as U is repaired.
//!
//! o_PD1 and o_PDL1 are the receptor occupancies of drugs given through `[[arm.drug]]`
//! (zero in the published model, which doses its own antibody through `anti_pdl1`).

use super::{
    DerivedSpec, InputRole, InputSpec, Mechanism, ModelSpec, OdeModel, ParameterSpec, StateSpec,
};
use crate::lanes::{F64s, Lane};
use nalgebra::{SMatrix, SVector};

const TABLE1: &str = "Kosinsky et al. 2018, J Immunother Cancer 6:17, Table 1";
const TEXT: &str = "Kosinsky et al. 2018, methods (antibody PK)";

const fn param(
    name: &'static str,
    default: f64,
    unit: &'static str,
    description: &'static str,
    source: &'static str,
) -> ParameterSpec {
    ParameterSpec::new(name, default, unit, description, source)
}

/// The states, shared with `immunity_cycle`, which extends this model.
pub const STATES: [StateSpec; 8] = [
    StateSpec {
        name: "TV",
        unit: "mm3",
        description: "viable tumour volume (uL = mm3)",
        initial: 15.0,
        scale: 1.0,
    },
    StateSpec {
        name: "U",
        unit: "DSB/cell",
        description: "unrepaired double-strand breaks",
        initial: 0.0,
        scale: 1.0,
    },
    StateSpec {
        name: "TVd",
        unit: "mm3",
        description: "dying tumour volume (uL = mm3)",
        initial: 0.0,
        scale: 1.0,
    },
    StateSpec {
        name: "nTeff",
        unit: "cells",
        description: "non-differentiated effector T cells",
        initial: 0.0,
        scale: 1.0,
    },
    StateSpec {
        name: "dTeff",
        unit: "cells",
        description: "differentiated effector T cells",
        initial: 0.0,
        scale: 1.0,
    },
    StateSpec {
        name: "PDL1",
        unit: "1",
        description: "relative PD-L1 expression (0 to 1)",
        initial: 0.0,
        scale: 1.0,
    },
    StateSpec {
        name: "A_depot",
        unit: "nmol",
        description: "anti-PD-L1 in the intraperitoneal depot",
        initial: 0.0,
        scale: 1.0,
    },
    StateSpec {
        name: "A_central",
        unit: "nmol",
        description: "anti-PD-L1 in plasma",
        initial: 0.0,
        scale: 1.0,
    },
];

pub static SPEC: ModelSpec = ModelSpec {
    name: "kosinsky2018",
    title: "Kosinsky et al. 2018: radiotherapy and anti-PD-L1 in the cancer-immunity cycle (mouse CT26)",
    citation: "Kosinsky Y, Dovedi SJ, Peskov K, Voronova V, Chu L, Tomkinson H, Al-Huniti N, Stanski DR, \
               Helmlinger G. Radiation and PD-(L)1 treatment combinations: immune response and dose \
               optimization via a predictive systems model. J Immunother Cancer 6:17 (2018). \
               BioModels BIOMD0000000863.",
    summary: "Tumour volume, radiation-induced DNA damage, dying cells, dendritic-cell maturation, \
              effector T-cell priming and PD-L1 feedback, with anti-PD-L1 pharmacokinetics.",
    states: &STATES,
    parameters: &[
        param("r", 0.4, "1/day", "tumour growth rate", TABLE1),
        param("TVmax", 2500.0, "uL", "maximal tumour volume", TABLE1).positive(),
        param("d0", 0.01, "1/day", "basal tumour cell death rate", TABLE1),
        param(
            "kLN",
            279.0,
            "cells/day",
            "maximal effector T-cell influx from lymph nodes",
            TABLE1,
        ),
        param(
            "S_L",
            8.89,
            "uL",
            "antigen of half-maximal T-cell priming",
            TABLE1,
        )
        .positive(),
        param(
            "S_R",
            30.5,
            "uL",
            "antigen of half-maximal suppression of activation",
            TABLE1,
        )
        .positive(),
        param(
            "kpro",
            3.0,
            "1/day",
            "effector T-cell proliferation rate",
            TABLE1,
        ),
        param(
            "kdif",
            3.2,
            "1/day",
            "effector T-cell differentiation rate",
            TABLE1,
        ),
        param(
            "kel",
            0.2,
            "1/day",
            "non-differentiated T-cell elimination rate",
            TABLE1,
        ),
        param(
            "kapo",
            2.0,
            "1/day",
            "differentiated T-cell death rate",
            TABLE1,
        ),
        param(
            "e",
            0.001,
            "1/(cell*day)",
            "tumour kill per differentiated effector T cell",
            TABLE1,
        ),
        param(
            "Kpdl",
            478.0,
            "cells",
            "effector T cells of half-maximal PD-L1 induction",
            TABLE1,
        )
        .positive(),
        param("kpdl", 1.0, "1/day", "PD-L1 turnover rate", TABLE1),
        param(
            "Ktcd",
            0.2,
            "1/day",
            "tumour cell death of half-maximal dendritic-cell maturation",
            TABLE1,
        )
        .positive(),
        param("alpha", 0.146, "1/Gy", "linear radiosensitivity", TABLE1),
        param(
            "delta",
            19.0,
            "DSB/(cell*Gy)",
            "double-strand breaks per Gy",
            TABLE1,
        )
        .positive(),
        param("tau", 0.02, "day", "DSB repair time", TABLE1).positive(),
        param(
            "mu",
            0.1725,
            "1/day",
            "clearance of dying tumour cells",
            TABLE1,
        ),
        param(
            "ka_mAb",
            8.0,
            "1/day",
            "antibody absorption from the intraperitoneal depot",
            TEXT,
        ),
        param("kel_mAb", 0.15, "1/day", "antibody elimination rate", TEXT),
        param("V_mAb_L", 0.003, "L", "antibody distribution volume", TEXT).positive(),
        param(
            "K_D",
            30.0,
            "nM",
            "antibody concentration of half-maximal PD-L1 blockade",
            TEXT,
        )
        .positive(),
        param(
            "mw_mAb_kDa",
            150.0,
            "kDa",
            "antibody molecular weight",
            "assumption: a full IgG; the paper does not state it",
        )
        .positive(),
        param(
            "mouse_weight_kg",
            0.02,
            "kg",
            "mouse body weight (converts mg/kg doses)",
            "assumption: a typical adult BALB/c mouse; the paper does not state it",
        )
        .formerly("weight_kg"),
    ],
    presets: &[],
    inputs: &[
        InputSpec {
            name: "radiation",
            unit: "Gy",
            description: "radiation: a rate in Gy/day during a fraction, or an acute dose in Gy",
            bolus_state: None,
            role: InputRole::Radiation,
        },
        InputSpec {
            name: "anti_pdl1",
            unit: "mg/kg",
            description: "anti-PD-L1 antibody given intraperitoneally, into the depot",
            bolus_state: Some(6),
            role: InputRole::Dose,
        },
        InputSpec {
            name: "pd1_occupancy",
            unit: "1",
            description: "PD-1 occupancy by drugs given with [[arm.drug]] (filled in by the engine)",
            bolus_state: None,
            role: InputRole::Exposure(Mechanism::Pd1Blockade),
        },
        InputSpec {
            name: "pdl1_occupancy",
            unit: "1",
            description: "PD-L1 occupancy by drugs given with [[arm.drug]] (filled in by the engine)",
            bolus_state: None,
            role: InputRole::Exposure(Mechanism::Pdl1Blockade),
        },
    ],
    derived: &[
        DerivedSpec {
            name: "tumour_volume_mm3",
            unit: "mm3",
            description: "total tumour volume TV + TVd (what calipers measure)",
            reads_inputs: false,
        },
        DerivedSpec {
            name: "mAb_nM",
            unit: "nM",
            description: "plasma anti-PD-L1 concentration",
            reads_inputs: false,
        },
        DerivedSpec {
            name: "IAR",
            unit: "1",
            description: "immune activation rate",
            reads_inputs: true,
        },
    ],
    tumour: "tumour_volume_mm3",
    tumour_mm3_per_unit: 1.0,
};

/// The model of Kosinsky et al. 2018 (see the module documentation).
#[derive(Debug, Clone, Copy, Default)]
pub struct Kosinsky2018;

crate::lanes::lane_params! {
    /// Parameters of [`Kosinsky2018`], named as in the paper, for one animal (`T = f64`) or for
    /// one animal a lane ([`crate::lanes::F64s`]).
    pub struct Params {
        r,
        d0,
        k_ln,
        s_l,
        s_r,
        kpro,
        kdif,
        kel,
        kapo,
        e,
        k_pdl,
        kpdl,
        alpha,
        delta,
        mu,
        ka_mab,
        kel_mab,
        // Combinations of the above that the right-hand side would otherwise divide out at every
        // evaluation (divisions were most of its time).
        /// 1/TVmax (1/µL).
        inv_tv_max,
        /// The quadratic radiation coefficient 0.2*alpha/(tau*delta^2) (per day per DSB^2).
        rt_quadratic,
        /// DSB repair rate 1/tau (1/day).
        repair_rate,
        /// 1/V_mAb (1/L): antibody amount (nmol) to concentration (nM).
        inv_v_mab,
        /// 1/(V_mAb*K_D): antibody amount (nmol) to its concentration as a fraction of K_D.
        mab_over_kd,
        /// K_tcd^2.
        k_tcd_squared,
        /// nmol of antibody per mg/kg given: mg = (mg/kg) * kg, and 1 kDa = 1 mg/µmol.
        nmol_per_mg_per_kg,
    }
}

/// Antigen presented by mature dendritic cells, DCm*(TV + TVd) (µL), from the tumour cell
/// death signal TCD = mu*TVd/(TV + TVd) + e*dTeff + d0 and DCm = TCD^2/(TCD^2 + Ktcd^2); the
/// same in `immunity_cycle`, which extends this model.
#[inline(always)]
pub(super) fn presented_antigen<T: Lane>(y: &[T; 8], mu: T, e: T, d0: T, k_tcd_squared: T) -> T {
    let (tv, tvd, dteff) = (y[0], y[2], y[4]);
    let total = tv + tvd;
    let zero = T::splat(0.0);
    let dying_share = T::select(total.gt(zero), tvd / total, zero);
    let tcd = mu * dying_share + e * dteff + d0;
    tcd * tcd / (tcd * tcd + k_tcd_squared) * total
}

impl<T: Lane> Params<T> {
    /// Antigen presented by mature dendritic cells, DCm*(TV + TVd) (µL).
    #[inline(always)]
    fn antigen(&self, y: &[T; 8]) -> T {
        presented_antigen(y, self.mu, self.e, self.d0, self.k_tcd_squared)
    }

    /// Immune activation rate for a given antigen, its PD-L1 brake released by antibody
    /// occupancy: the model's own intraperitoneal antibody (mAb/(mAb + K_D)) and any PD-1 or
    /// PD-L1 drug given through `[[arm.drug]]`, acting independently.
    #[inline(always)]
    fn iar(&self, y: &[T; 8], antigen: T, input: &[T]) -> T {
        let one = T::splat(1.0);
        let free = (one - input[2]) * (one - input[3]) / (one + y[7] * self.mab_over_kd);
        (one - y[5] * free) * (one - antigen / (antigen + self.s_r))
    }

    /// The right-hand side (the module documentation's equations).
    #[inline(always)]
    fn rhs(&self, y: &[T; 8], input: &[T], dydt: &mut [T; 8]) {
        let p = self;
        let one = T::splat(1.0);
        let (tv, u, tvd, nteff, dteff, pdl1) = (y[0], y[1], y[2], y[3], y[4], y[5]);
        let dose_rate = input[0];
        let antigen = p.antigen(y);
        let iar = p.iar(y, antigen, input);
        let rt_kill = p.alpha * dose_rate + p.rt_quadratic * u * u;
        dydt[0] = p.r * tv * (one - tv * p.inv_tv_max) - rt_kill * tv - (p.e * dteff + p.d0) * tv;
        dydt[1] = p.delta * dose_rate - u * p.repair_rate;
        dydt[2] = rt_kill * tv - p.mu * tvd;
        dydt[3] =
            p.k_ln * antigen / (antigen + p.s_l) + iar * nteff * (p.kpro - p.kdif) - p.kel * nteff;
        dydt[4] = iar * nteff * p.kdif - p.kapo * dteff;
        dydt[5] = p.kpdl * dteff / (p.k_pdl + dteff) - p.kpdl * pdl1;
        dydt[6] = -p.ka_mab * y[6] + input[1] * p.nmol_per_mg_per_kg;
        dydt[7] = p.ka_mab * y[6] - p.kel_mab * y[7];
    }
}

impl OdeModel<8> for Kosinsky2018 {
    type Params = Params;
    type LaneParams = Params<F64s>;

    fn spec(&self) -> &'static ModelSpec {
        &SPEC
    }

    fn params(&self, v: &[f64]) -> Params {
        let (tv_max, k_tcd, alpha, delta, tau, v_mab, k_d, mw_mab, weight) =
            (v[1], v[13], v[14], v[15], v[16], v[20], v[21], v[22], v[23]);
        Params {
            r: v[0],
            d0: v[2],
            k_ln: v[3],
            s_l: v[4],
            s_r: v[5],
            kpro: v[6],
            kdif: v[7],
            kel: v[8],
            kapo: v[9],
            e: v[10],
            k_pdl: v[11],
            kpdl: v[12],
            alpha,
            delta,
            mu: v[17],
            ka_mab: v[18],
            kel_mab: v[19],
            inv_tv_max: 1.0 / tv_max,
            rt_quadratic: 0.2 * alpha / (tau * delta * delta),
            repair_rate: 1.0 / tau,
            inv_v_mab: 1.0 / v_mab,
            mab_over_kd: 1.0 / (v_mab * k_d),
            k_tcd_squared: k_tcd * k_tcd,
            nmol_per_mg_per_kg: weight / mw_mab * 1e3,
        }
    }

    crate::lanes::lane_model_methods!(8);

    /// The analytic Jacobian: `immunity_cycle`'s, which extends this model, at this model's
    /// values (chemotherapy, CTLA-4 blockade and T-cell radiation kill off, the same
    /// quotients), with DNA repair followed at every level as here (`immunity_cycle` stops it
    /// below 1e-12 breaks per cell). Checked against central differences in the tests; it
    /// spares `dop853_bounded` the 16 right-hand sides of a difference Jacobian at each
    /// spectral-radius estimate.
    fn jacobian(
        &self,
        p: &Params,
        _t: f64,
        y: &SVector<f64, 8>,
        input: &[f64],
        jac: &mut SMatrix<f64, 8, 8>,
    ) -> bool {
        let extended = super::immunity_cycle::Params {
            r: p.r,
            d0: p.d0,
            k_ln: p.k_ln,
            s_l: p.s_l,
            s_r: p.s_r,
            kpro: p.kpro,
            kdif: p.kdif,
            kel: p.kel,
            kapo: p.kapo,
            e: p.e,
            k_pdl: p.k_pdl,
            kpdl: p.kpdl,
            alpha: p.alpha,
            delta: p.delta,
            mu: p.mu,
            ka_mab: p.ka_mab,
            kel_mab: p.kel_mab,
            k_chemo: 0.0,
            f_icd: 0.0,
            k_lympho: 0.0,
            p_ctla4: 0.0,
            s_ctla4: 0.0,
            alpha_t: 0.0,
            f_field: 0.0,
            inv_tv_max: p.inv_tv_max,
            rt_quadratic: p.rt_quadratic,
            repair_rate: p.repair_rate,
            mab_over_kd: p.mab_over_kd,
            k_tcd_squared: p.k_tcd_squared,
            nmol_per_mg_per_kg: p.nmol_per_mg_per_kg,
        };
        // immunity_cycle's inputs: these four, then CTLA-4 occupancy and chemotherapy (none).
        let extended_input = [input[0], input[1], input[2], input[3], 0.0, 0.0];
        let mut rows = [[0.0; 8]; 8];
        extended.jacobian(&y.data.0[0], &extended_input, &mut rows);
        rows[1][1] = -p.repair_rate;
        *jac = SMatrix::from_fn(|i, j| rows[i][j]);
        true
    }

    fn bolus(&self, p: &Params, input: usize, amount: f64, y: &mut SVector<f64, 8>) {
        match input {
            0 => {
                let surviving = y[0] * (-p.alpha * amount).exp();
                y[2] += y[0] - surviving;
                y[0] = surviving;
                y[1] += p.delta * amount;
            }
            _ => y[6] += amount * p.nmol_per_mg_per_kg,
        }
    }

    fn derived_value(&self, p: &Params, y: &SVector<f64, 8>, input: &[f64], index: usize) -> f64 {
        match index {
            0 => y[0] + y[2],
            1 => y[7] * p.inv_v_mab,
            _ => {
                let y = &y.data.0[0];
                p.iar(y, p.antigen(y), input)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The analytic Jacobian (immunity_cycle's at this model's values, with repair at every
    /// level) equals central differences of this model's own right-hand side, at states where
    /// every term is active (radiation given, DNA damage far below immunity_cycle's cut, the
    /// antibody in both compartments) and with a PD-L1 drug's occupancy.
    #[test]
    fn analytic_jacobian_matches_central_differences() {
        let model = Kosinsky2018;
        let p = model.params(&SPEC.default_parameters());
        let states = [
            SVector::<f64, 8>::from_row_slice(&[300.0, 3.0, 90.0, 1500.0, 300.0, 0.4, 0.5, 1.2]),
            SVector::<f64, 8>::from_row_slice(&[20.0, 1e-14, 5.0, 10.0, 2.0, 0.05, 2.0, 0.3]),
        ];
        let input = [50.0, 0.1, 0.0, 0.3];
        crate::model::assert_jacobian_matches_central_differences(&model, &p, &states, &input);
    }
}
