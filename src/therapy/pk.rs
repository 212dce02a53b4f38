//! Linear compartmental pharmacokinetics, solved exactly.
//!
//! A two-compartment model with intravenous input into the central compartment:
//!
//! ```text
//! dA_c/dt = R(t) - (k10 + k12)*A_c + k21*A_p        k10 = CL/Vc, k12 = Q/Vc, k21 = Q/Vp
//! dA_p/dt = k12*A_c - k21*A_p                       C = A_c / Vc
//! ```
//! with R(t) the infusion rate (a bolus adds to A_c at once). The system is linear with
//! constant coefficients, so between two changes of R the amounts follow exactly
//!
//! ```text
//! x(t) = exp(M t) x(0) + (integral of exp(M s) ds from 0 to t) (R, 0)
//! ```
//! where exp(M t) is a sum of the two exponentials exp(-alpha t) and exp(-beta t) (Sylvester's
//! formula), alpha > beta the hybrid rate constants. Chaining this over the dosing events is
//! the superposition of every dose's sum of exponentials, computed in constant time per event
//! rather than summed over all past doses at every time. No ODE is integrated.
//!
//! With Q = 0 (or Vp = 0) the model is one-compartment.

/// A linear two-compartment model (clearances in L/day, volumes in L).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TwoCompartment {
    pub cl_l_per_day: f64,
    pub vc_l: f64,
    pub q_l_per_day: f64,
    pub vp_l: f64,
}

/// Amounts in the central and peripheral compartments (mg).
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Amounts {
    pub central_mg: f64,
    pub peripheral_mg: f64,
}

impl TwoCompartment {
    /// Micro rate constants (1/day): elimination k10 and distribution k12, k21.
    pub fn micro_constants(&self) -> (f64, f64, f64) {
        let k10 = self.cl_l_per_day / self.vc_l;
        if self.is_one_compartment() {
            return (k10, 0.0, 0.0);
        }
        (
            k10,
            self.q_l_per_day / self.vc_l,
            self.q_l_per_day / self.vp_l,
        )
    }

    pub fn is_one_compartment(&self) -> bool {
        self.q_l_per_day == 0.0 || self.vp_l == 0.0
    }

    /// Hybrid rate constants alpha >= beta (1/day): the concentration after a bolus is
    /// A e^(-alpha t) + B e^(-beta t).
    pub fn hybrid_constants(&self) -> (f64, f64) {
        let (k10, k12, k21) = self.micro_constants();
        if self.is_one_compartment() {
            return (k10, k10);
        }
        let sum = k10 + k12 + k21;
        let root = (sum * sum - 4.0 * k10 * k21).max(0.0).sqrt();
        let alpha = 0.5 * (sum + root);
        // beta from the product alpha*beta = k10*k21, avoiding cancellation in sum - root.
        (alpha, k10 * k21 / alpha)
    }

    /// Terminal half-life (days), ln 2 / beta.
    pub fn terminal_half_life_day(&self) -> f64 {
        std::f64::consts::LN_2 / self.hybrid_constants().1
    }

    /// The amounts `dt_day` after `start`, with a constant infusion `rate_mg_per_day` into the
    /// central compartment throughout (exact):
    ///
    /// ```text
    /// x(t) = exp(M t) x(0) + (integral of exp(M s) ds from 0 to t) (R, 0)
    /// ```
    /// each exponential mode's integral taken as -expm1(-lambda t)/lambda. Written as an offset
    /// from the steady state instead (x_ss + exp(M t)(x(0) - x_ss)), an infusion's amounts
    /// were differences of numbers near x_ss, which for an antibody is about 150 g against the
    /// 0.2 g given: concentrations chained from output to output on a fine grid lost up to
    /// seven digits, and at an infusion's first instant came out as -8e-12 (found by an
    /// independent check of the PK).
    pub fn advance(&self, start: Amounts, rate_mg_per_day: f64, dt_day: f64) -> Amounts {
        if dt_day == 0.0 {
            return start;
        }
        let (k10, k12, k21) = self.micro_constants();
        // (1 - e^(-lambda t)) / lambda, without cancellation for small lambda t.
        let integral = |lambda: f64| {
            if lambda > 0.0 {
                -(-lambda * dt_day).exp_m1() / lambda
            } else {
                dt_day
            }
        };
        if self.is_one_compartment() {
            return Amounts {
                central_mg: start.central_mg * (-k10 * dt_day).exp()
                    + rate_mg_per_day * integral(k10),
                peripheral_mg: 0.0,
            };
        }
        // M = [[-(k10 + k12), k21], [k12, -k21]], eigenvalues -alpha, -beta.
        let (alpha, beta) = self.hybrid_constants();
        let m = [[-(k10 + k12), k21], [k12, -k21]];
        let id = |i: usize, j: usize| if i == j { 1.0 } else { 0.0 };
        // exp(Mt) and its integral, entry by entry (`e`, `g`).
        let (e, g): ([[f64; 2]; 2], [[f64; 2]; 2]) = if (alpha - beta) > 1e-9 * alpha {
            // exp(Mt) = [e^(-alpha t) (M + beta I) - e^(-beta t) (M + alpha I)] / (beta - alpha)
            let (ea, eb) = ((-alpha * dt_day).exp(), (-beta * dt_day).exp());
            let (ga, gb) = (integral(alpha), integral(beta));
            let w = 1.0 / (beta - alpha);
            let entry = |i: usize, j: usize, a: f64, b: f64| {
                w * (a * (m[i][j] + beta * id(i, j)) - b * (m[i][j] + alpha * id(i, j)))
            };
            (
                [
                    [entry(0, 0, ea, eb), entry(0, 1, ea, eb)],
                    [entry(1, 0, ea, eb), entry(1, 1, ea, eb)],
                ],
                [
                    [entry(0, 0, ga, gb), entry(0, 1, ga, gb)],
                    [entry(1, 0, ga, gb), entry(1, 1, ga, gb)],
                ],
            )
        } else {
            // Repeated eigenvalue -alpha: exp(Mt) = e^(-alpha t) (I + (M + alpha I) t), whose
            // integral is g_alpha I + (M + alpha I) (g_alpha - t e^(-alpha t)) / alpha.
            let ea = (-alpha * dt_day).exp();
            let ga = integral(alpha);
            let moment = (ga - dt_day * ea) / alpha;
            let entry = |i: usize, j: usize| {
                (
                    ea * (id(i, j) + (m[i][j] + alpha * id(i, j)) * dt_day),
                    ga * id(i, j) + (m[i][j] + alpha * id(i, j)) * moment,
                )
            };
            let ([e00, e01], [e10, e11]) = ([entry(0, 0), entry(0, 1)], [entry(1, 0), entry(1, 1)]);
            (
                [[e00.0, e01.0], [e10.0, e11.0]],
                [[e00.1, e01.1], [e10.1, e11.1]],
            )
        };
        let x = [start.central_mg, start.peripheral_mg];
        Amounts {
            central_mg: e[0][0] * x[0] + e[0][1] * x[1] + g[0][0] * rate_mg_per_day,
            peripheral_mg: e[1][0] * x[0] + e[1][1] * x[1] + g[1][0] * rate_mg_per_day,
        }
    }

    /// The plasma concentration from `start` on, with a constant infusion `rate_mg_per_day`,
    /// as a sum of exponentials fixed once: cheap to evaluate at many times.
    pub fn central_curve(&self, start: Amounts, rate_mg_per_day: f64) -> CentralCurve {
        let (k10, k12, k21) = self.micro_constants();
        if self.is_one_compartment() {
            let ss = rate_mg_per_day / k10;
            return CentralCurve {
                steady_mg_per_l: ss / self.vc_l,
                a_mg_per_l: (start.central_mg - ss) / self.vc_l,
                alpha_per_day: k10,
                b_mg_per_l: 0.0,
                beta_per_day: 0.0,
            };
        }
        let (alpha, beta) = self.hybrid_constants();
        if alpha - beta <= 1e-9 * alpha {
            // Repeated eigenvalue (measure zero): no two-exponential form; callers use
            // `advance`, which handles it.
            return CentralCurve {
                steady_mg_per_l: f64::NAN,
                a_mg_per_l: f64::NAN,
                alpha_per_day: alpha,
                b_mg_per_l: f64::NAN,
                beta_per_day: beta,
            };
        }
        let ss = [rate_mg_per_day / k10, rate_mg_per_day * k12 / (k10 * k21)];
        let d = [start.central_mg - ss[0], start.peripheral_mg - ss[1]];
        let (m00, m01) = (-(k10 + k12), k21);
        // Central row of exp(Mt) = [e^(-alpha t)(M + beta I) - e^(-beta t)(M + alpha I)]/(beta - alpha).
        let w = 1.0 / (beta - alpha);
        CentralCurve {
            steady_mg_per_l: ss[0] / self.vc_l,
            a_mg_per_l: w * ((m00 + beta) * d[0] + m01 * d[1]) / self.vc_l,
            alpha_per_day: alpha,
            b_mg_per_l: -w * ((m00 + alpha) * d[0] + m01 * d[1]) / self.vc_l,
            beta_per_day: beta,
        }
    }

    /// Plasma concentration (mg/L, the same as µg/mL) for given amounts.
    pub fn concentration_mg_per_l(&self, amounts: Amounts) -> f64 {
        amounts.central_mg / self.vc_l
    }
}

/// The central concentration on a stretch without dosing events:
/// `C(dt) = steady + a e^(-alpha dt) + b e^(-beta dt)`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CentralCurve {
    pub steady_mg_per_l: f64,
    pub a_mg_per_l: f64,
    pub alpha_per_day: f64,
    pub b_mg_per_l: f64,
    pub beta_per_day: f64,
}

impl CentralCurve {
    /// Concentration (mg/L) `dt_day` after the start of the stretch.
    #[inline]
    pub fn at(&self, dt_day: f64) -> f64 {
        self.steady_mg_per_l
            + self.a_mg_per_l * decay(self.alpha_per_day * dt_day)
            + self.b_mg_per_l * decay(self.beta_per_day * dt_day)
    }

    /// Whether the two-exponential form exists (it does unless the eigenvalues coincide).
    pub fn is_valid(&self) -> bool {
        self.steady_mg_per_l.is_finite()
    }
}

/// e^-x for x >= 0, exactly 0 past x = 745.2: [`crate::lanes::exp_neg`], so that the drug
/// inputs of patients integrated in SIMD lanes are the bits of one integrated alone. (glibc's
/// `exp`, used before, is within 1 ulp of it; its underflow path was also slow: a paclitaxel
/// distribution phase, 22/day, underflows from day 34 of every segment.)
#[inline]
pub(crate) fn decay(x: f64) -> f64 {
    crate::lanes::exp_neg(x)
}

/// One administration of a drug: `amount_mg` given at `start_day`, over `duration_day`
/// (0 for a bolus).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Administration {
    pub start_day: f64,
    pub amount_mg: f64,
    pub duration_day: f64,
}

/// Concentrations (mg/L) at `times_day` (sorted ascending) for a series of administrations,
/// exact. Outputs at a bolus time include the bolus.
pub fn concentrations(
    pk: &TwoCompartment,
    administrations: &[Administration],
    times_day: &[f64],
) -> Vec<f64> {
    // Every instant where the input changes: bolus times, infusion starts and stops.
    let mut events: Vec<f64> = Vec::new();
    for a in administrations {
        events.push(a.start_day);
        if a.duration_day > 0.0 {
            events.push(a.start_day + a.duration_day);
        }
    }
    events.sort_by(f64::total_cmp);
    events.dedup();
    let rate_at = |t: f64| -> f64 {
        administrations
            .iter()
            .filter(|a| {
                a.duration_day > 0.0 && a.start_day <= t && t < a.start_day + a.duration_day
            })
            .map(|a| a.amount_mg / a.duration_day)
            .sum()
    };
    let boluses_at = |t: f64| -> f64 {
        administrations
            .iter()
            .filter(|a| a.duration_day == 0.0 && a.start_day == t)
            .map(|a| a.amount_mg)
            .sum()
    };

    let mut out = Vec::with_capacity(times_day.len());
    let (mut now, mut amounts) = (f64::NEG_INFINITY, Amounts::default());
    let mut next_event = 0;
    for &t in times_day {
        // Walk through the events up to and including t.
        while next_event < events.len() && events[next_event] <= t {
            let e = events[next_event];
            if now.is_finite() {
                amounts = pk.advance(amounts, rate_at(now), e - now);
            }
            amounts.central_mg += boluses_at(e);
            now = e;
            next_event += 1;
        }
        if now.is_finite() {
            amounts = pk.advance(amounts, rate_at(now), t - now);
            now = t;
        }
        out.push(pk.concentration_mg_per_l(amounts));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Within an ulp of `exp` up to and into underflow, where the subnormal results are
    /// rounded once; 0 past 745.2 as `exp` gives. (The whole range: `lanes::tests`.)
    #[test]
    fn decay_is_exp_including_underflow() {
        for i in 0..=4000 {
            let x = 700.0 + i as f64 * 0.0125;
            let (ours, reference) = (decay(x).to_bits() as i64, (-x).exp().to_bits() as i64);
            assert!((ours - reference).abs() <= 1, "{x}");
        }
        assert_eq!(decay(0.0), 1.0);
        assert_eq!(decay(1e6), 0.0);
    }

    const PEMBROLIZUMAB: TwoCompartment = TwoCompartment {
        cl_l_per_day: 0.22,
        vc_l: 3.48,
        q_l_per_day: 0.795,
        vp_l: 4.06,
    };

    #[test]
    fn bolus_matches_the_textbook_biexponential() {
        // C(t) = D/Vc [ (alpha - k21) e^(-alpha t) + (k21 - beta) e^(-beta t) ] / (alpha - beta)
        let pk = PEMBROLIZUMAB;
        let (_, _, k21) = pk.micro_constants();
        let (alpha, beta) = pk.hybrid_constants();
        let times: Vec<f64> = (0..200).map(|i| i as f64 * 0.7).collect();
        let c = concentrations(
            &pk,
            &[Administration {
                start_day: 0.0,
                amount_mg: 200.0,
                duration_day: 0.0,
            }],
            &times,
        );
        for (t, c) in times.iter().zip(c) {
            let exact = 200.0 / pk.vc_l
                * ((alpha - k21) * (-alpha * t).exp() + (k21 - beta) * (-beta * t).exp())
                / (alpha - beta);
            assert!(
                (c - exact).abs() <= 1e-12 * exact.abs().max(1e-300) + 1e-15,
                "t {t}: {c} vs {exact}"
            );
        }
    }

    #[test]
    fn central_curve_equals_the_matrix_exponential() {
        for pk in [
            PEMBROLIZUMAB,
            TwoCompartment {
                cl_l_per_day: 2.0,
                vc_l: 10.0,
                q_l_per_day: 0.0,
                vp_l: 0.0,
            },
        ] {
            let start = Amounts {
                central_mg: 150.0,
                peripheral_mg: if pk.is_one_compartment() { 0.0 } else { 40.0 },
            };
            let curve = pk.central_curve(start, 30.0);
            assert!(curve.is_valid());
            for dt in [0.0, 0.01, 0.5, 3.0, 40.0] {
                let exact = pk.concentration_mg_per_l(pk.advance(start, 30.0, dt));
                assert!(
                    (curve.at(dt) - exact).abs() <= 1e-12 * exact.abs(),
                    "dt {dt}: {} vs {exact}",
                    curve.at(dt)
                );
            }
        }
    }

    #[test]
    fn one_compartment_is_a_single_exponential() {
        let pk = TwoCompartment {
            cl_l_per_day: 2.0,
            vc_l: 10.0,
            q_l_per_day: 0.0,
            vp_l: 0.0,
        };
        let c = concentrations(
            &pk,
            &[Administration {
                start_day: 1.0,
                amount_mg: 50.0,
                duration_day: 0.0,
            }],
            &[0.5, 1.0, 3.0],
        );
        assert_eq!(c[0], 0.0);
        assert!((c[1] - 5.0).abs() < 1e-14);
        assert!((c[2] - 5.0 * (-0.2f64 * 2.0).exp()).abs() < 1e-14);
    }
}
