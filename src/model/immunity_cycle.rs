//! The immunity-cycle model: immunotrial's own combination model of checkpoint blockade,
//! chemotherapy and radiotherapy, built on the structure of Kosinsky et al. 2018 (see
//! [`super::kosinsky2018`]).
//!
//! Tumour cell death matures dendritic cells, which prime effector T cells in the lymph
//! node; the effectors proliferate, differentiate and kill tumour cells, checked by PD-L1
//! (induced by the effectors themselves) and by suppression that grows with the antigen load.
//! Every modality acts through a mechanism:
//!
//! ```text
//! RT     = alpha*Dose + 2*beta/(tau*delta^2)*U^2                 radiation kill (LQ via DSBs)
//! CK     = k_chemo*E_chemo*(1 - TV/TVmax)                         chemotherapy kill of cycling cells
//! TCD    = mu*TVd/(TV + TVd) + e*dTeff + d0                       tumour cell death signal
//! DCm    = TCD^2/(TCD^2 + Ktcd^2)                                 dendritic-cell maturation
//! A      = DCm*(TV + TVd)                                         presented antigen
//! free   = (1 - o_PD1)*(1 - o_PDL1)/(1 + mAb/K_D)                 unblocked PD-1/PD-L1 axis
//! IAR    = (1 - PDL1*free)*(1 - A/(A + S_R*(1 + s_ctla4*o_CTLA4)))  immune activation rate
//! dTV/dt    = r*TV*(1 - TV/TVmax) - RT*TV - (e*dTeff + d0)*TV - CK*TV
//! dU/dt     = delta*Dose - U/tau
//! dTVd/dt   = RT*TV + f_icd*CK*TV - mu*TVd
//! dnTeff/dt = kLN*(1 + p_ctla4*o_CTLA4)*A/(A + S_L) + IAR*nTeff*(kpro - kdif) - kel*nTeff
//!             - k_lympho*E_chemo*nTeff - alpha_T*f_field*Dose*nTeff
//! ddTeff/dt = IAR*nTeff*kdif - kapo*dTeff - k_lympho*E_chemo*dTeff - alpha_T*f_field*Dose*dTeff
//! dPDL1/dt  = kpdl*dTeff/(Kpdl + dTeff) - kpdl*PDL1
//! dA_depot/dt, dA_central/dt: Kosinsky's intraperitoneal antibody (the mouse protocols)
//! ```
//! TV, TVd in mm³; U double-strand breaks per cell; T cells in cells; Dose the radiation
//! dose rate (Gy/day); o_PD1, o_PDL1, o_CTLA4 receptor occupancies and E_chemo the
//! fractional effect of the cytotoxics given, all from the drugs' exact plasma
//! concentrations (the engine fills them in).
//!
//! - Radiotherapy: Kosinsky's quadratic coefficient 0.2*alpha/(tau*delta^2) is generalised to
//!   2*beta/(tau*delta^2): an acute dose D then kills alpha*D + beta*D^2 in log terms, and
//!   beta = 0.1*alpha gives back Kosinsky's model. The killed cells enter the dying pool that
//!   drives dendritic-cell maturation (immunogenic cell death). A fraction f_field of the
//!   effector T cells is in the field and dies at alpha_T per Gy (lymphocytes are
//!   radiosensitive); an acute fraction multiplies them by exp(-alpha_T*f_field*D).
//! - Chemotherapy: kills cycling tumour cells (in proportion to the growth fraction
//!   1 - TV/TVmax) at up to k_chemo per day; a fraction f_icd of the killed cells dies
//!   immunogenically into the dying pool, the rest is cleared silently; effector T cells are
//!   depleted at up to k_lympho per day.
//! - PD-1/PD-L1 blockade: occupancy releases the PD-L1 brake in the activation rate, as the
//!   antibody does in Kosinsky's model.
//! - CTLA-4 blockade: occupancy raises priming (by up to a factor 1 + p_ctla4) and lowers
//!   suppression (S_R up to 1 + s_ctla4 times larger), the effect of more co-stimulation and
//!   of regulatory T-cell depletion.
//!
//! Repair is not followed below 1e-12 unrepaired breaks per cell ([`DSB_NEGLIGIBLE`]): U then
//! stays where it is instead of decaying at 50/day for the rest of the run, which would hold
//! an explicit solver to stability-limited steps of a tenth of a day with no biological
//! effect (the quadratic kill it feeds is 1e-24 of the linear one).
//!
//! Preset `ct26_mouse` switches chemotherapy, CTLA-4 and T-cell radiation kill off and sets
//! beta = 0.1*alpha: the model is then Kosinsky's, term for term (a test compares the two).

use super::{
    DerivedSpec, InputRole, InputSpec, Mechanism, ModelSpec, OdeModel, ParameterSpec, PresetSpec,
};
use crate::lanes::{F64s, Lane};
use nalgebra::{SMatrix, SVector};

const KOSINSKY: &str = "Kosinsky et al. 2018, J Immunother Cancer 6:17, Table 1";

const fn param(
    name: &'static str,
    default: f64,
    unit: &'static str,
    description: &'static str,
    source: &'static str,
) -> ParameterSpec {
    ParameterSpec::new(name, default, unit, description, source)
}

pub static SPEC: ModelSpec = ModelSpec {
    name: "immunity_cycle",
    title: "immunity cycle: checkpoint blockade, chemotherapy and radiotherapy on Kosinsky's cancer-immunity cycle",
    citation: "immunotrial's combination model, built on Kosinsky Y et al. J Immunother Cancer 6:17 (2018); \
               each parameter's and each preset value's source is listed with it",
    summary: "Tumour, DNA damage, dying cells, dendritic-cell maturation, effector T-cell priming and PD-L1 \
              feedback, with radiotherapy (linear-quadratic, immunogenic death, T-cell kill), chemotherapy \
              (kill of cycling cells, lymphodepletion), PD-1/PD-L1 and CTLA-4 blockade. Defaults are the \
              ct26_mouse preset.",
    states: &super::kosinsky2018::STATES,
    parameters: &[
        param("r", 0.4, "1/day", "tumour growth rate", KOSINSKY),
        param("TVmax", 2500.0, "mm3", "maximal tumour volume", KOSINSKY).positive(),
        param(
            "d0",
            0.01,
            "1/day",
            "basal tumour cell death rate",
            KOSINSKY,
        ),
        param(
            "kLN",
            279.0,
            "cells/day",
            "maximal effector T-cell influx from lymph nodes",
            KOSINSKY,
        ),
        param(
            "S_L",
            8.89,
            "mm3",
            "antigen of half-maximal T-cell priming",
            KOSINSKY,
        )
        .positive(),
        param(
            "S_R",
            30.5,
            "mm3",
            "antigen of half-maximal suppression of activation",
            KOSINSKY,
        )
        .positive(),
        param(
            "kpro",
            3.0,
            "1/day",
            "effector T-cell proliferation rate",
            KOSINSKY,
        ),
        param(
            "kdif",
            3.2,
            "1/day",
            "effector T-cell differentiation rate",
            KOSINSKY,
        ),
        param(
            "kel",
            0.2,
            "1/day",
            "non-differentiated T-cell elimination rate",
            KOSINSKY,
        ),
        param(
            "kapo",
            2.0,
            "1/day",
            "differentiated T-cell death rate",
            KOSINSKY,
        ),
        param(
            "e",
            0.001,
            "1/(cell*day)",
            "tumour kill per differentiated effector T cell",
            KOSINSKY,
        ),
        param(
            "Kpdl",
            478.0,
            "cells",
            "effector T cells of half-maximal PD-L1 induction",
            KOSINSKY,
        )
        .positive(),
        param("kpdl", 1.0, "1/day", "PD-L1 turnover rate", KOSINSKY),
        param(
            "Ktcd",
            0.2,
            "1/day",
            "tumour cell death of half-maximal dendritic-cell maturation",
            KOSINSKY,
        )
        .positive(),
        param(
            "alpha",
            0.146,
            "1/Gy",
            "linear radiosensitivity of tumour cells",
            KOSINSKY,
        ),
        param(
            "beta",
            0.0146,
            "1/Gy^2",
            "quadratic radiosensitivity of tumour cells",
            "Kosinsky's 0.2*alpha/(tau*delta^2) is 2*beta/(tau*delta^2) with beta = 0.1*alpha (alpha/beta 10 Gy)",
        ),
        param(
            "delta",
            19.0,
            "DSB/(cell*Gy)",
            "double-strand breaks per Gy",
            KOSINSKY,
        )
        .positive(),
        param("tau", 0.02, "day", "DSB repair time", KOSINSKY).positive(),
        param(
            "mu",
            0.1725,
            "1/day",
            "clearance of dying tumour cells",
            KOSINSKY,
        ),
        param(
            "ka_mAb",
            8.0,
            "1/day",
            "mouse antibody absorption from the intraperitoneal depot",
            "Kosinsky et al. 2018, methods",
        ),
        param(
            "kel_mAb",
            0.15,
            "1/day",
            "mouse antibody elimination rate",
            "Kosinsky et al. 2018, methods",
        ),
        param(
            "V_mAb_L",
            0.003,
            "L",
            "mouse antibody distribution volume",
            "Kosinsky et al. 2018, methods",
        )
        .positive(),
        param(
            "K_D",
            30.0,
            "nM",
            "mouse antibody concentration of half-maximal PD-L1 blockade",
            "Kosinsky et al. 2018, methods",
        )
        .positive(),
        param(
            "mw_mAb_kDa",
            150.0,
            "kDa",
            "mouse antibody molecular weight",
            "assumption: a full IgG",
        )
        .positive(),
        param(
            "mouse_weight_kg",
            0.02,
            "kg",
            "mouse body weight (converts mg/kg of the mouse antibody)",
            "assumption: a typical adult BALB/c mouse",
        )
        .formerly("weight_kg"),
        param(
            "k_chemo",
            0.0,
            "1/day",
            "maximal chemotherapy kill rate of cycling tumour cells",
            "set by preset; 0 switches the chemotherapy module off",
        ),
        param(
            "f_icd",
            0.0,
            "1",
            "fraction of chemotherapy-killed cells dying immunogenically",
            "set by preset",
        )
        .fraction(),
        param(
            "k_lympho",
            0.0,
            "1/day",
            "maximal chemotherapy depletion rate of effector T cells",
            "set by preset",
        ),
        param(
            "p_ctla4",
            0.0,
            "1",
            "maximal relative increase of priming under full CTLA-4 blockade",
            "set by preset; 0 switches it off",
        ),
        param(
            "s_ctla4",
            0.0,
            "1",
            "maximal relative increase of S_R (less suppression) under full CTLA-4 blockade",
            "set by preset; 0 switches it off",
        ),
        param(
            "alpha_T",
            0.0,
            "1/Gy",
            "radiosensitivity of effector T cells",
            "set by preset; 0 switches T-cell radiation kill off",
        ),
        param(
            "f_field",
            0.0,
            "1",
            "fraction of effector T cells in the radiation field",
            "set by preset",
        )
        .fraction(),
    ],
    presets: &[
        PresetSpec {
            name: "ct26_mouse",
            description: "Kosinsky 2018's CT26 mouse: chemotherapy, CTLA-4 and T-cell radiation kill off, beta = 0.1 alpha (the defaults)",
            parameters: &[],
            initial: &[],
            sources: &[],
        },
        PresetSpec {
            name: "tnbc_human",
            description: "human triple-negative breast cancer, a 3 cm lesion; each value with its source or the reasoning of an assumption",
            parameters: &TNBC_PARAMETERS,
            initial: &TNBC_INITIAL,
            sources: &TNBC_SOURCES,
        },
    ],
    inputs: &[
        InputSpec {
            name: "radiation",
            unit: "Gy",
            description: "radiation: a rate in Gy/day during a fraction, or an acute dose",
            bolus_state: None,
            role: InputRole::Radiation,
        },
        InputSpec {
            name: "anti_pdl1",
            unit: "mg/kg",
            description: "mouse anti-PD-L1 antibody given intraperitoneally (Kosinsky's protocols)",
            bolus_state: None,
            role: InputRole::Dose,
        },
        InputSpec {
            name: "pd1_occupancy",
            unit: "1",
            description: "PD-1 occupancy by the drugs of [[arm.drug]]",
            bolus_state: None,
            role: InputRole::Exposure(Mechanism::Pd1Blockade),
        },
        InputSpec {
            name: "pdl1_occupancy",
            unit: "1",
            description: "PD-L1 occupancy by the drugs of [[arm.drug]]",
            bolus_state: None,
            role: InputRole::Exposure(Mechanism::Pdl1Blockade),
        },
        InputSpec {
            name: "ctla4_occupancy",
            unit: "1",
            description: "CTLA-4 occupancy by the drugs of [[arm.drug]]",
            bolus_state: None,
            role: InputRole::Exposure(Mechanism::Ctla4Blockade),
        },
        InputSpec {
            name: "chemo_effect",
            unit: "1",
            description: "fractional effect of the cytotoxics of [[arm.drug]]",
            bolus_state: None,
            role: InputRole::Exposure(Mechanism::Cytotoxic),
        },
    ],
    derived: &[
        DerivedSpec {
            name: "tumour_volume_mm3",
            unit: "mm3",
            description: "total tumour volume TV + TVd (what imaging measures)",
            reads_inputs: false,
        },
        DerivedSpec {
            name: "tumour_diameter_mm",
            unit: "mm",
            description: "diameter of a sphere of the total tumour volume",
            reads_inputs: false,
        },
        DerivedSpec {
            name: "effector_t_cells",
            unit: "cells",
            description: "effector T cells, nTeff + dTeff",
            reads_inputs: false,
        },
        DerivedSpec {
            name: "PDL1_level",
            unit: "1",
            description: "relative PD-L1 expression",
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

/// Preset `tnbc_human`. Each value's source, or `assumption` with its reasoning, is in
/// [`TNBC_SOURCES`]; a later calibration against trial data is expected to revise the
/// assumptions.
pub const TNBC_PARAMETERS: [(&str, f64); 16] = [
    ("r", 0.0077),
    ("d0", 0.001),
    ("TVmax", 5.0e5),
    ("alpha", 0.08),
    ("beta", 0.08 / 2.88),
    ("e", 5e-6),
    ("kLN", 279.0),
    ("k_chemo", 0.1),
    ("f_icd", 0.3),
    ("k_lympho", 0.05),
    ("p_ctla4", 1.0),
    ("s_ctla4", 1.0),
    ("alpha_T", 0.8),
    ("f_field", 0.1),
    ("S_L", 8.89),
    ("S_R", 30.5),
];

/// Initial state of preset `tnbc_human`: a lesion of 3 cm diameter, pi/6 * 30^3 mm3.
pub const TNBC_INITIAL: [(&str, f64); 1] = [("TV", 14137.17)];

/// Where each `tnbc_human` value comes from.
pub const TNBC_SOURCES: [(&str, &str); 17] = [
    (
        "r",
        "net growth r - d0 = ln 2 / 103 days, the mean volume doubling time of triple-negative tumours on serial ultrasound (Ryu EB et al. 2014, 'Tumour volume doubling time of molecular breast cancer subtypes assessed by serial breast ultrasound': 103 +- 43 days for triple-negative tumours)",
    ),
    (
        "d0",
        "assumption: basal death a seventh of growth, so that most of the net rate is proliferation",
    ),
    (
        "TVmax",
        "assumption: 500 cm3, a burden at which growth would saturate; it only matters at the end of untreated runs",
    ),
    (
        "alpha",
        "Qi XS et al. 2011 (reference section 6): breast cancer alpha 0.08/Gy",
    ),
    ("beta", "Qi 2011: alpha/beta 2.88 Gy"),
    (
        "e",
        "assumption: 200-fold below the mouse value, so that the untreated lesion grows at its doubling time (an immunologically cold tumour); with e = 2e-5 it would regress untreated, which TNBC does not",
    ),
    (
        "kLN",
        "assumption: Kosinsky's value kept (T-cell counts are in the model's own units; e sets the kill)",
    ),
    (
        "k_chemo",
        "assumption: chosen so that nab-paclitaxel 100 mg/m2 d1,8,15 q28 shrinks a 3 cm lesion by about a third over two cycles, in the range of single-agent taxane response in metastatic TNBC",
    ),
    (
        "f_icd",
        "assumption: taxanes and platinum cause some immunogenic cell death; a third of the kill",
    ),
    (
        "k_lympho",
        "assumption: half the tumour kill rate: lymphocytes cycle and are depleted by chemotherapy",
    ),
    (
        "p_ctla4",
        "assumption: full CTLA-4 blockade doubles priming",
    ),
    (
        "s_ctla4",
        "assumption: full CTLA-4 blockade doubles the antigen load needed for half-maximal suppression (regulatory T-cell depletion)",
    ),
    (
        "alpha_T",
        "reference section 6: lymphocyte D0 about 1.2 Gy, alpha about 0.8/Gy (UNCONFIRMED)",
    ),
    (
        "f_field",
        "assumption: a tenth of the effector T cells are in the irradiated volume at a fraction",
    ),
    ("S_L", "Kosinsky 2018 (antigen scale kept)"),
    ("S_R", "Kosinsky 2018 (antigen scale kept)"),
    ("TV", "a 3 cm lesion, the scenario's protocol"),
];

/// Unrepaired double-strand breaks per cell below which repair is not followed further.
pub const DSB_NEGLIGIBLE: f64 = 1e-12;

/// The immunity-cycle model (see the module documentation).
#[derive(Debug, Clone, Copy, Default)]
pub struct ImmunityCycle;

crate::lanes::lane_params! {
    /// Parameters of [`ImmunityCycle`].
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
        k_chemo,
        f_icd,
        k_lympho,
        p_ctla4,
        s_ctla4,
        alpha_t,
        f_field,
        // Combinations of the above that the right-hand side would otherwise divide out at every
        // evaluation (a division costs as much as several multiplications, and they are chained).
        /// 1/TVmax (1/mm3).
        inv_tv_max,
        /// The quadratic radiation coefficient 2*beta/(tau*delta^2) (per day per DSB^2).
        rt_quadratic,
        /// DSB repair rate 1/tau (1/day).
        repair_rate,
        /// 1/(V_mab*K_D): antibody amount (nmol) to bound fraction of K_D.
        mab_over_kd,
        /// K_tcd^2.
        k_tcd_squared,
        /// nmol of antibody per mg/kg dose.
        nmol_per_mg_per_kg,
    }
}

impl<T: Lane> Params<T> {
    /// Presented antigen DCm*(TV + TVd).
    #[inline(always)]
    fn antigen(&self, y: &[T; 8]) -> T {
        super::kosinsky2018::presented_antigen(y, self.mu, self.e, self.d0, self.k_tcd_squared)
    }

    #[inline(always)]
    fn iar(&self, y: &[T; 8], antigen: T, input: &[T]) -> T {
        let one = T::splat(1.0);
        let free = (one - input[2]) * (one - input[3]) / (one + y[7] * self.mab_over_kd);
        let s_r = self.s_r * (one + self.s_ctla4 * input[4]);
        (one - y[5] * free) * (one - antigen / (antigen + s_r))
    }

    /// The Jacobian of [`Self::rhs`], `jac[i][j]` = d(dy_i)/d(y_j), written over
    /// [`Lane`] as the right-hand side is (tried in lanes for the spectral-radius estimates,
    /// then made every fifth step: no faster than one lane at a time).
    #[inline(always)]
    pub(crate) fn jacobian(&self, y: &[T; 8], input: &[T], jac: &mut [[T; 8]; 8]) {
        let p = self;
        let (zero, one, two) = (T::splat(0.0), T::splat(1.0), T::splat(2.0));
        let (tv, u, tvd, nteff, dteff, pdl1, a_c) = (y[0], y[1], y[2], y[3], y[4], y[5], y[7]);
        let (dose_rate, o_pd1, o_pdl1, o_ctla4, chemo) =
            (input[0], input[2], input[3], input[4], input[5]);
        // Tumour cell death, dendritic-cell maturation and presented antigen, with their
        // derivatives in TV, TVd and dTeff.
        let total = tv + tvd;
        let some = total.gt(zero);
        let share = T::select(some, tvd / total, zero);
        let d_share_tv = T::select(some, -tvd / (total * total), zero);
        let d_share_tvd = T::select(some, tv / (total * total), zero);
        let tcd = p.mu * share + p.e * dteff + p.d0;
        let k2 = p.k_tcd_squared;
        let dcm = tcd * tcd / (tcd * tcd + k2);
        let d_dcm = two * tcd * k2 / ((tcd * tcd + k2) * (tcd * tcd + k2));
        let antigen = dcm * total;
        let d_antigen = [
            d_dcm * p.mu * d_share_tv * total + dcm,
            d_dcm * p.mu * d_share_tvd * total + dcm,
            d_dcm * p.e * total,
        ];
        // Immune activation rate and its derivatives.
        let blocked = (one - o_pd1) * (one - o_pdl1);
        let bound = one + a_c * p.mab_over_kd;
        let free = blocked / bound;
        let s_r = p.s_r * (one + p.s_ctla4 * o_ctla4);
        let brake = one - pdl1 * free;
        let suppression = s_r / (antigen + s_r);
        let iar = brake * suppression;
        let d_iar_antigen = -brake * s_r / ((antigen + s_r) * (antigen + s_r));
        let d_iar_pdl1 = -free * suppression;
        let d_iar_ac = pdl1 * blocked / (bound * bound) * p.mab_over_kd * suppression;
        // Radiation, chemotherapy and T-cell losses.
        let c = p.rt_quadratic;
        let rt_kill = p.alpha * dose_rate + c * u * u;
        let growth_fraction = one - tv * p.inv_tv_max;
        let growing = growth_fraction.gt(zero);
        let chemo_kill = T::select(growing, p.k_chemo * chemo * growth_fraction, zero);
        let d_chemo_tv = T::select(growing, -p.k_chemo * chemo * p.inv_tv_max, zero);
        let loss = p.k_lympho * chemo + p.alpha_t * p.f_field * dose_rate;
        // [TV, U, TVd, nTeff, dTeff, PDL1, A_depot, A_central]
        let (i_tv, i_u, i_tvd, i_nt, i_dt, i_pdl1, i_ad, i_ac) = (0, 1, 2, 3, 4, 5, 6, 7);
        *jac = [[zero; 8]; 8];
        jac[i_tv][i_tv] = p.r * growth_fraction
            - p.r * tv * p.inv_tv_max
            - rt_kill
            - (p.e * dteff + p.d0)
            - chemo_kill
            - tv * d_chemo_tv;
        jac[i_tv][i_u] = -tv * two * c * u;
        jac[i_tv][i_dt] = -p.e * tv;
        jac[i_u][i_u] = T::select(u.gt(T::splat(DSB_NEGLIGIBLE)), -p.repair_rate, zero);
        jac[i_tvd][i_tv] = rt_kill + p.f_icd * (chemo_kill + tv * d_chemo_tv);
        jac[i_tvd][i_u] = two * c * u * tv;
        jac[i_tvd][i_tvd] = -p.mu;
        let priming = p.k_ln * (one + p.p_ctla4 * o_ctla4);
        let d_priming_antigen = priming * p.s_l / ((antigen + p.s_l) * (antigen + p.s_l));
        let net = p.kpro - p.kdif;
        for (k, column) in [i_tv, i_tvd, i_dt].into_iter().enumerate() {
            jac[i_nt][column] = jac[i_nt][column]
                + (d_priming_antigen + nteff * net * d_iar_antigen) * d_antigen[k];
            jac[i_dt][column] = jac[i_dt][column] + nteff * p.kdif * d_iar_antigen * d_antigen[k];
        }
        jac[i_nt][i_nt] = iar * net - p.kel - loss;
        jac[i_nt][i_pdl1] = nteff * net * d_iar_pdl1;
        jac[i_nt][i_ac] = nteff * net * d_iar_ac;
        jac[i_dt][i_nt] = iar * p.kdif;
        jac[i_dt][i_dt] = jac[i_dt][i_dt] + (-p.kapo - loss);
        jac[i_dt][i_pdl1] = nteff * p.kdif * d_iar_pdl1;
        jac[i_dt][i_ac] = nteff * p.kdif * d_iar_ac;
        jac[i_pdl1][i_dt] = p.kpdl * p.k_pdl / ((p.k_pdl + dteff) * (p.k_pdl + dteff));
        jac[i_pdl1][i_pdl1] = -p.kpdl;
        jac[i_ad][i_ad] = -p.ka_mab;
        jac[i_ac][i_ad] = p.ka_mab;
        jac[i_ac][i_ac] = -p.kel_mab;
    }

    /// The right-hand side, for one patient (`T = f64`) or for one patient a lane.
    #[inline(always)]
    fn rhs(&self, y: &[T; 8], input: &[T], dydt: &mut [T; 8]) {
        let p = self;
        let (one, zero) = (T::splat(1.0), T::splat(0.0));
        let (tv, u, tvd, nteff, dteff, pdl1) = (y[0], y[1], y[2], y[3], y[4], y[5]);
        let (dose_rate, chemo) = (input[0], input[5]);
        let antigen = p.antigen(y);
        let iar = p.iar(y, antigen, input);
        let rt_kill = p.alpha * dose_rate + p.rt_quadratic * u * u;
        let growth_fraction = one - tv * p.inv_tv_max;
        let chemo_kill = p.k_chemo * chemo * growth_fraction.max(zero);
        let t_cell_loss = p.k_lympho * chemo + p.alpha_t * p.f_field * dose_rate;
        dydt[0] =
            p.r * tv * growth_fraction - rt_kill * tv - (p.e * dteff + p.d0) * tv - chemo_kill * tv;
        // Repair stops counting below 1e-12 breaks per cell, which is none: an exponential
        // decay at 1/tau = 50/day kept going for the rest of a two-year run would hold an
        // explicit solver to steps of a tenth of a day (stiffness) for no biological effect.
        let repair = T::select(u.gt(T::splat(DSB_NEGLIGIBLE)), u * p.repair_rate, zero);
        dydt[1] = p.delta * dose_rate - repair;
        dydt[2] = rt_kill * tv + p.f_icd * chemo_kill * tv - p.mu * tvd;
        dydt[3] = p.k_ln * (one + p.p_ctla4 * input[4]) * antigen / (antigen + p.s_l)
            + iar * nteff * (p.kpro - p.kdif)
            - p.kel * nteff
            - t_cell_loss * nteff;
        dydt[4] = iar * nteff * p.kdif - p.kapo * dteff - t_cell_loss * dteff;
        dydt[5] = p.kpdl * dteff / (p.k_pdl + dteff) - p.kpdl * pdl1;
        dydt[6] = -p.ka_mab * y[6] + input[1] * p.nmol_per_mg_per_kg;
        dydt[7] = p.ka_mab * y[6] - p.kel_mab * y[7];
    }
}

impl OdeModel<8> for ImmunityCycle {
    type Params = Params;
    type LaneParams = Params<F64s>;

    fn spec(&self) -> &'static ModelSpec {
        &SPEC
    }

    fn params(&self, v: &[f64]) -> Params {
        let (tv_max, beta, delta, tau, v_mab, k_d, k_tcd, mw_mab, weight) =
            (v[1], v[15], v[16], v[17], v[21], v[22], v[13], v[23], v[24]);
        Params {
            inv_tv_max: 1.0 / tv_max,
            rt_quadratic: 2.0 * beta / (tau * delta * delta),
            repair_rate: 1.0 / tau,
            mab_over_kd: 1.0 / (v_mab * k_d),
            k_tcd_squared: k_tcd * k_tcd,
            nmol_per_mg_per_kg: weight / mw_mab * 1e3,
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
            alpha: v[14],
            delta: v[16],
            mu: v[18],
            ka_mab: v[19],
            kel_mab: v[20],
            k_chemo: v[25],
            f_icd: v[26],
            k_lympho: v[27],
            p_ctla4: v[28],
            s_ctla4: v[29],
            alpha_t: v[30],
            f_field: v[31],
        }
    }

    crate::lanes::lane_model_methods!(8);

    /// The analytic Jacobian of [`Self::rhs`] (checked against central differences in the
    /// tests): it saves RODAS4 two thirds of its right-hand-side evaluations.
    fn jacobian(
        &self,
        p: &Params,
        _t: f64,
        y: &SVector<f64, 8>,
        input: &[f64],
        jac: &mut SMatrix<f64, 8, 8>,
    ) -> bool {
        let mut rows = [[0.0; 8]; 8];
        p.jacobian(&y.data.0[0], input, &mut rows);
        *jac = SMatrix::from_fn(|i, j| rows[i][j]);
        true
    }

    fn bolus(&self, p: &Params, input: usize, amount: f64, y: &mut SVector<f64, 8>) {
        match input {
            0 => {
                // An acute fraction: the limit of a fraction of vanishing duration.
                let surviving = y[0] * (-p.alpha * amount).exp();
                y[2] += y[0] - surviving;
                y[0] = surviving;
                y[1] += p.delta * amount;
                let t_cells_surviving = (-p.alpha_t * p.f_field * amount).exp();
                y[3] *= t_cells_surviving;
                y[4] *= t_cells_surviving;
            }
            1 => y[6] += amount * p.nmol_per_mg_per_kg,
            // Exposure inputs are filled in by the engine; the validator gives them no doses.
            _ => {}
        }
    }

    fn derived_value(&self, p: &Params, y: &SVector<f64, 8>, input: &[f64], index: usize) -> f64 {
        let volume = y[0] + y[2];
        match index {
            0 => volume,
            1 => (6.0 * volume.max(0.0) / std::f64::consts::PI).cbrt(),
            2 => y[3] + y[4],
            3 => y[5],
            _ => p.iar(&y.data.0[0], p.antigen(&y.data.0[0]), input),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The analytic Jacobian equals central differences of the right-hand side at states and
    /// inputs where every term is active.
    #[test]
    fn analytic_jacobian_matches_central_differences() {
        let model = ImmunityCycle;
        let mut values = SPEC.default_parameters();
        for (name, v) in TNBC_PARAMETERS {
            values[SPEC.parameter_index(name).unwrap()] = v;
        }
        let states = [
            SVector::<f64, 8>::from_row_slice(&[14000.0, 3.0, 900.0, 1500.0, 300.0, 0.4, 0.5, 1.2]),
            SVector::<f64, 8>::from_row_slice(&[20.0, 0.01, 5.0, 10.0, 2.0, 0.05, 0.0, 0.0]),
        ];
        let input = [50.0, 0.0, 0.7, 0.3, 0.5, 0.6];
        crate::model::assert_jacobian_matches_central_differences(
            &model,
            &model.params(&values),
            &states,
            &input,
        );
    }
}
