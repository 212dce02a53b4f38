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
use nalgebra::SVector;

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

/// Parameters of [`Kosinsky2018`], named as in the paper.
#[derive(Debug, Clone, Copy)]
pub struct Params {
    r: f64,
    tv_max: f64,
    d0: f64,
    k_ln: f64,
    s_l: f64,
    s_r: f64,
    kpro: f64,
    kdif: f64,
    kel: f64,
    kapo: f64,
    e: f64,
    k_pdl: f64,
    kpdl: f64,
    k_tcd: f64,
    alpha: f64,
    delta: f64,
    tau: f64,
    mu: f64,
    ka_mab: f64,
    kel_mab: f64,
    v_mab: f64,
    k_d: f64,
    mw_mab: f64,
    weight: f64,
}

impl Params {
    /// nmol of antibody per mg/kg given: mg = (mg/kg) * kg, and 1 kDa = 1 mg/µmol.
    fn nmol_per_mg_per_kg(&self) -> f64 {
        self.weight / self.mw_mab * 1e3
    }

    /// Antigen presented by mature dendritic cells, DCm*(TV + TVd) (µL).
    fn antigen(&self, y: &SVector<f64, 8>) -> f64 {
        let (tv, tvd, dteff) = (y[0], y[2], y[4]);
        self.dcm(tv, tvd, dteff) * (tv + tvd)
    }

    /// Immune activation rate for a given antigen, its PD-L1 brake released by antibody
    /// occupancy: the model's own intraperitoneal antibody (mAb/(mAb + K_D)) and any PD-1 or
    /// PD-L1 drug given through `[[arm.drug]]`, acting independently.
    fn iar(&self, y: &SVector<f64, 8>, antigen: f64, input: &[f64]) -> f64 {
        let m_ab = y[7] / self.v_mab;
        let free = (1.0 - input[2]) * (1.0 - input[3]) / (1.0 + m_ab / self.k_d);
        (1.0 - y[5] * free) * (1.0 - antigen / (antigen + self.s_r))
    }

    fn dcm(&self, tv: f64, tvd: f64, dteff: f64) -> f64 {
        let total = tv + tvd;
        let dying_share = if total > 0.0 { tvd / total } else { 0.0 };
        let tcd = self.mu * dying_share + self.e * dteff + self.d0;
        tcd * tcd / (tcd * tcd + self.k_tcd * self.k_tcd)
    }
}

impl OdeModel<8> for Kosinsky2018 {
    type Params = Params;
    type LaneParams = ();

    fn spec(&self) -> &'static ModelSpec {
        &SPEC
    }

    fn params(&self, v: &[f64]) -> Params {
        Params {
            r: v[0],
            tv_max: v[1],
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
            k_tcd: v[13],
            alpha: v[14],
            delta: v[15],
            tau: v[16],
            mu: v[17],
            ka_mab: v[18],
            kel_mab: v[19],
            v_mab: v[20],
            k_d: v[21],
            mw_mab: v[22],
            weight: v[23],
        }
    }

    fn rhs(
        &self,
        p: &Params,
        _t: f64,
        y: &SVector<f64, 8>,
        input: &[f64],
        dydt: &mut SVector<f64, 8>,
    ) {
        let (tv, u, tvd, nteff, dteff, pdl1) = (y[0], y[1], y[2], y[3], y[4], y[5]);
        let dose_rate = input[0];
        let antigen = p.antigen(y);
        let iar = p.iar(y, antigen, input);
        let rt_kill = p.alpha * dose_rate + 0.2 * p.alpha / (p.tau * p.delta * p.delta) * u * u;
        dydt[0] = p.r * tv * (1.0 - tv / p.tv_max) - rt_kill * tv - (p.e * dteff + p.d0) * tv;
        dydt[1] = p.delta * dose_rate - u / p.tau;
        dydt[2] = rt_kill * tv - p.mu * tvd;
        dydt[3] =
            p.k_ln * antigen / (antigen + p.s_l) + iar * nteff * (p.kpro - p.kdif) - p.kel * nteff;
        dydt[4] = iar * nteff * p.kdif - p.kapo * dteff;
        dydt[5] = p.kpdl * dteff / (p.k_pdl + dteff) - p.kpdl * pdl1;
        dydt[6] = -p.ka_mab * y[6] + input[1] * p.nmol_per_mg_per_kg();
        dydt[7] = p.ka_mab * y[6] - p.kel_mab * y[7];
    }

    fn bolus(&self, p: &Params, input: usize, amount: f64, y: &mut SVector<f64, 8>) {
        match input {
            0 => {
                let surviving = y[0] * (-p.alpha * amount).exp();
                y[2] += y[0] - surviving;
                y[0] = surviving;
                y[1] += p.delta * amount;
            }
            _ => y[6] += amount * p.nmol_per_mg_per_kg(),
        }
    }

    fn derived_value(&self, p: &Params, y: &SVector<f64, 8>, input: &[f64], index: usize) -> f64 {
        match index {
            0 => y[0] + y[2],
            1 => y[7] / p.v_mab,
            _ => p.iar(y, p.antigen(y), input),
        }
    }
}
