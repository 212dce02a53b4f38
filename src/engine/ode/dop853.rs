//! The Dormand–Prince 8(5,3) method with its 7th-order continuous extension: Hairer, Nørsett &
//! Wanner, *Solving Ordinary Differential Equations I*, 2nd ed. (1993), §II.10, and their DOP853
//! code (coefficients, error estimate combining the 5th- and 3rd-order embedded solutions, step
//! control, stiffness test, dense output).
//!
//! Why it is the engine's default: at the default rtol of 1e-8 an 8th-order method takes about
//! a quarter of the steps of Dopri5 (Kuznetsov over 1000 days: ~110 steps against 452), and
//! each step's chain of right-hand-side evaluations is what bounds the speed of small
//! models. The 3 extra evaluations of the dense output are spent only on steps that contain an
//! output time.
//!
//! The coefficients are those of Prince & Dormand (1981) as printed in Hairer's dop853.f.

// The constants are printed to 30 digits as in Hairer's source, so that they can be checked
// against it digit for digit; f64 keeps what it can.
#![allow(clippy::excessive_precision)]

use super::step::{
    DenseOutput, Failure, Handover, Monitor, Reached, Stats, Tolerance, initial_step, negligible,
};
use nalgebra::SVector;

// Nodes.
pub(super) const C2: f64 = 0.526001519587677318785587544488e-01;
pub(super) const C3: f64 = 0.789002279381515978178381316732e-01;
pub(super) const C4: f64 = 0.118350341907227396726757197510e+00;
pub(super) const C5: f64 = 0.281649658092772603273242802490e+00;
pub(super) const C6: f64 = 0.333333333333333333333333333333e+00;
pub(super) const C7: f64 = 0.25e+00;
pub(super) const C8: f64 = 0.307692307692307692307692307692e+00;
pub(super) const C9: f64 = 0.651282051282051282051282051282e+00;
pub(super) const C10: f64 = 0.6e+00;
pub(super) const C11: f64 = 0.857142857142857142857142857142e+00;
pub(super) const C14: f64 = 0.1e+00;
pub(super) const C15: f64 = 0.2e+00;
pub(super) const C16: f64 = 0.777777777777777777777777777778e+00;
// 8th-order weights.
pub(super) const B1: f64 = 5.42937341165687622380535766363e-2;
pub(super) const B6: f64 = 4.45031289275240888144113950566e0;
pub(super) const B7: f64 = 1.89151789931450038304281599044e0;
pub(super) const B8: f64 = -5.8012039600105847814672114227e0;
pub(super) const B9: f64 = 3.1116436695781989440891606237e-1;
pub(super) const B10: f64 = -1.52160949662516078556178806805e-1;
pub(super) const B11: f64 = 2.01365400804030348374776537501e-1;
pub(super) const B12: f64 = 4.47106157277725905176885569043e-2;
// 3rd-order error estimate.
pub(super) const BHH1: f64 = 0.244094488188976377952755905512e+00;
pub(super) const BHH2: f64 = 0.733846688281611857341361741547e+00;
pub(super) const BHH3: f64 = 0.220588235294117647058823529412e-01;
// 5th-order error estimate.
pub(super) const ER1: f64 = 0.1312004499419488073250102996e-01;
pub(super) const ER6: f64 = -0.1225156446376204440720569753e+01;
pub(super) const ER7: f64 = -0.4957589496572501915214079952e+00;
pub(super) const ER8: f64 = 0.1664377182454986536961530415e+01;
pub(super) const ER9: f64 = -0.3503288487499736816886487290e+00;
pub(super) const ER10: f64 = 0.3341791187130174790297318841e+00;
pub(super) const ER11: f64 = 0.8192320648511571246570742613e-01;
pub(super) const ER12: f64 = -0.2235530786388629525884427845e-01;
// Runge-Kutta matrix.
pub(super) const A21: f64 = 5.26001519587677318785587544488e-2;
pub(super) const A31: f64 = 1.97250569845378994544595329183e-2;
pub(super) const A32: f64 = 5.91751709536136983633785987549e-2;
pub(super) const A41: f64 = 2.95875854768068491816892993775e-2;
pub(super) const A43: f64 = 8.87627564304205475450678981324e-2;
pub(super) const A51: f64 = 2.41365134159266685502369798665e-1;
pub(super) const A53: f64 = -8.84549479328286085344864962717e-1;
pub(super) const A54: f64 = 9.24834003261792003115737966543e-1;
pub(super) const A61: f64 = 3.7037037037037037037037037037e-2;
pub(super) const A64: f64 = 1.70828608729473871279604482173e-1;
pub(super) const A65: f64 = 1.25467687566822425016691814123e-1;
pub(super) const A71: f64 = 3.7109375e-2;
pub(super) const A74: f64 = 1.70252211019544039314978060272e-1;
pub(super) const A75: f64 = 6.02165389804559606850219397283e-2;
pub(super) const A76: f64 = -1.7578125e-2;
pub(super) const A81: f64 = 3.70920001185047927108779319836e-2;
pub(super) const A84: f64 = 1.70383925712239993810214054705e-1;
pub(super) const A85: f64 = 1.07262030446373284651809199168e-1;
pub(super) const A86: f64 = -1.53194377486244017527936158236e-2;
pub(super) const A87: f64 = 8.27378916381402288758473766002e-3;
pub(super) const A91: f64 = 6.24110958716075717114429577812e-1;
pub(super) const A94: f64 = -3.36089262944694129406857109825e0;
pub(super) const A95: f64 = -8.68219346841726006818189891453e-1;
pub(super) const A96: f64 = 2.75920996994467083049415600797e1;
pub(super) const A97: f64 = 2.01540675504778934086186788979e1;
pub(super) const A98: f64 = -4.34898841810699588477366255144e1;
pub(super) const A101: f64 = 4.77662536438264365890433908527e-1;
pub(super) const A104: f64 = -2.48811461997166764192642586468e0;
pub(super) const A105: f64 = -5.90290826836842996371446475743e-1;
pub(super) const A106: f64 = 2.12300514481811942347288949897e1;
pub(super) const A107: f64 = 1.52792336328824235832596922938e1;
pub(super) const A108: f64 = -3.32882109689848629194453265587e1;
pub(super) const A109: f64 = -2.03312017085086261358222928593e-2;
pub(super) const A111: f64 = -9.3714243008598732571704021658e-1;
pub(super) const A114: f64 = 5.18637242884406370830023853209e0;
pub(super) const A115: f64 = 1.09143734899672957818500254654e0;
pub(super) const A116: f64 = -8.14978701074692612513997267357e0;
pub(super) const A117: f64 = -1.85200656599969598641566180701e1;
pub(super) const A118: f64 = 2.27394870993505042818970056734e1;
pub(super) const A119: f64 = 2.49360555267965238987089396762e0;
pub(super) const A1110: f64 = -3.0467644718982195003823669022e0;
pub(super) const A121: f64 = 2.27331014751653820792359768449e0;
pub(super) const A124: f64 = -1.05344954667372501984066689879e1;
pub(super) const A125: f64 = -2.00087205822486249909675718444e0;
pub(super) const A126: f64 = -1.79589318631187989172765950534e1;
pub(super) const A127: f64 = 2.79488845294199600508499808837e1;
pub(super) const A128: f64 = -2.85899827713502369474065508674e0;
pub(super) const A129: f64 = -8.87285693353062954433549289258e0;
pub(super) const A1210: f64 = 1.23605671757943030647266201528e1;
pub(super) const A1211: f64 = 6.43392746015763530355970484046e-1;
// Extra stages of the dense output.
pub(super) const A141: f64 = 5.61675022830479523392909219681e-2;
pub(super) const A147: f64 = 2.53500210216624811088794765333e-1;
pub(super) const A148: f64 = -2.46239037470802489917441475441e-1;
pub(super) const A149: f64 = -1.24191423263816360469010140626e-1;
pub(super) const A1410: f64 = 1.5329179827876569731206322685e-1;
pub(super) const A1411: f64 = 8.20105229563468988491666602057e-3;
pub(super) const A1412: f64 = 7.56789766054569976138603589584e-3;
pub(super) const A1413: f64 = -8.298e-3;
pub(super) const A151: f64 = 3.18346481635021405060768473261e-2;
pub(super) const A156: f64 = 2.83009096723667755288322961402e-2;
pub(super) const A157: f64 = 5.35419883074385676223797384372e-2;
pub(super) const A158: f64 = -5.49237485713909884646569340306e-2;
pub(super) const A1511: f64 = -1.08347328697249322858509316994e-4;
pub(super) const A1512: f64 = 3.82571090835658412954920192323e-4;
pub(super) const A1513: f64 = -3.40465008687404560802977114492e-4;
pub(super) const A1514: f64 = 1.41312443674632500278074618366e-1;
pub(super) const A161: f64 = -4.28896301583791923408573538692e-1;
pub(super) const A166: f64 = -4.69762141536116384314449447206e0;
pub(super) const A167: f64 = 7.68342119606259904184240953878e0;
pub(super) const A168: f64 = 4.06898981839711007970213554331e0;
pub(super) const A169: f64 = 3.56727187455281109270669543021e-1;
pub(super) const A1613: f64 = -1.39902416515901462129418009734e-3;
pub(super) const A1614: f64 = 2.9475147891527723389556272149e0;
pub(super) const A1615: f64 = -9.15095847217987001081870187138e0;
// Dense output coefficients: D[row][column], columns for k1, k6..k12 then k13..k16.
pub(super) const D4: [f64; 12] = [
    -0.84289382761090128651353491142e+01,
    0.56671495351937776962531783590e+00,
    -0.30689499459498916912797304727e+01,
    0.23846676565120698287728149680e+01,
    0.21170345824450282767155149946e+01,
    -0.87139158377797299206789907490e+00,
    0.22404374302607882758541771650e+01,
    0.63157877876946881815570249290e+00,
    -0.88990336451333310820698117400e-01,
    0.18148505520854727256656404962e+02,
    -0.91946323924783554000451984436e+01,
    -0.44360363875948939664310572000e+01,
];
pub(super) const D5: [f64; 12] = [
    0.10427508642579134603413151009e+02,
    0.24228349177525818288430175319e+03,
    0.16520045171727028198505394887e+03,
    -0.37454675472269020279518312152e+03,
    -0.22113666853125306036270938578e+02,
    0.77334326684722638389603898808e+01,
    -0.30674084731089398182061213626e+02,
    -0.93321305264302278729567221706e+01,
    0.15697238121770843886131091075e+02,
    -0.31139403219565177677282850411e+02,
    -0.93529243588444783865713862664e+01,
    0.35816841486394083752465898540e+02,
];
pub(super) const D6: [f64; 12] = [
    0.19985053242002433820987653617e+02,
    -0.38703730874935176555105901742e+03,
    -0.18917813819516756882830838328e+03,
    0.52780815920542364900561016686e+03,
    -0.11573902539959630126141871134e+02,
    0.68812326946963000169666922661e+01,
    -0.10006050966910838403183860980e+01,
    0.77771377980534432092869265740e+00,
    -0.27782057523535084065932004339e+01,
    -0.60196695231264120758267380846e+02,
    0.84320405506677161018159903784e+02,
    0.11992291136182789328035130030e+02,
];
pub(super) const D7: [f64; 12] = [
    -0.25693933462703749003312586129e+02,
    -0.15418974869023643374053993627e+03,
    -0.23152937917604549567536039109e+03,
    0.35763911791061412378285349910e+03,
    0.93405324183624310003907691704e+02,
    -0.37458323136451633156875139351e+02,
    0.10409964950896230045147246184e+03,
    0.29840293426660503123344363579e+02,
    -0.43533456590011143754432175058e+02,
    0.96324553959188282948394950600e+02,
    -0.39177261675615439165231486172e+02,
    -0.14972683625798562581422125276e+03,
];

// Step control, DOP853 defaults (beta = 0: a plain, not PI, controller).
pub(super) const SAFETY: f64 = 0.9;
pub(super) const FAC_MIN: f64 = 0.333; // the step shrinks at most 3-fold ...
pub(super) const FAC_MAX: f64 = 6.0; // ... and grows at most 6-fold
const STIFF_H_LAMBDA: f64 = 6.1;

/// One accepted step and its 7th-order interpolant, valid on `[t_start, t_start + h]`.
#[derive(Debug, Clone, Copy)]
pub struct DenseStep<const N: usize> {
    pub t_start: f64,
    pub h: f64,
    /// 1/h, so that each output multiplies where it divided.
    inv_h: f64,
    r: [SVector<f64, N>; 8],
}

impl<const N: usize> DenseStep<N> {
    /// The interpolant of the step `[t_start, t_start + h]` with Hairer's coefficients `r`.
    pub(super) fn new(t_start: f64, h: f64, r: [SVector<f64, N>; 8]) -> Self {
        DenseStep {
            t_start,
            h,
            inv_h: 1.0 / h,
            r,
        }
    }
}

impl<const N: usize> DenseOutput<N> for DenseStep<N> {
    fn t_end(&self) -> f64 {
        self.t_start + self.h
    }

    /// Hairer's nested form `r0 + s(r1 + s1(r2 + s(r3 + ...)))` regrouped in powers of
    /// u = s*s1 as `(a0 + u a1) + u^2 (a2 + u a3)` with `ai = r(2i) + s r(2i+1)`: the same
    /// polynomial, in a chain of 8 operations instead of 16, which outputs wait for.
    #[inline]
    fn eval(&self, t: f64) -> SVector<f64, N> {
        let s = (t - self.t_start) * self.inv_h;
        let u = s * (1.0 - s);
        let r = &self.r;
        let a = |i: usize| r[2 * i] + r[2 * i + 1] * s;
        (a(0) + a(1) * u) + (a(2) + a(3) * u) * (u * u)
    }
}

/// Integrates `dy/dt = f(t, y)` from `t0` to exactly `t1`. For each accepted step,
/// `wants_dense(t_end)` says whether an output falls in it; if so the interpolant is built
/// (three more evaluations) and handed to `on_step`, in step order, during the next step
/// (after its third stage) or before returning.
#[allow(clippy::too_many_arguments)]
pub fn integrate<const N: usize, F, W, S>(
    f: &F,
    t0: f64,
    t1: f64,
    y0: SVector<f64, N>,
    tol: &Tolerance<N>,
    monitor: &mut Monitor,
    stats: &mut Stats,
    wants_dense: W,
    on_step: S,
) -> Result<SVector<f64, N>, (Failure, f64)>
where
    F: Fn(f64, &SVector<f64, N>, &mut SVector<f64, N>),
    W: Fn(f64) -> bool,
    S: FnMut(&DenseStep<N>),
{
    let reached = integrate_until(
        f,
        t0,
        t1,
        y0,
        0.0,
        tol,
        monitor,
        stats,
        wants_dense,
        on_step,
        |_, _, _| Handover::Continue {
            h_max: f64::INFINITY,
        },
    )?;
    Ok(reached.y)
}

/// `engine::ode::lanes` computes this step for eight patients at once, operation for operation
/// in the same order (the kernel's stages, error estimate and dense output): keep the two in
/// step (`tests/lanes.rs` checks them bit for bit).
/// As [`integrate`], starting with step `h_start` (0: the usual initial-step estimate), and
/// asking `after_step(t, y, h_next)` after each accepted step whether to go on and with what
/// largest step, or to stop there. Returns where it stopped: `t1` unless `after_step` said stop.
#[allow(clippy::too_many_arguments)]
pub fn integrate_until<const N: usize, F, W, S, A>(
    f: &F,
    t0: f64,
    t1: f64,
    y0: SVector<f64, N>,
    h_start: f64,
    tol: &Tolerance<N>,
    monitor: &mut Monitor,
    stats: &mut Stats,
    wants_dense: W,
    mut on_step: S,
    mut after_step: A,
) -> Result<Reached<N>, (Failure, f64)>
where
    F: Fn(f64, &SVector<f64, N>, &mut SVector<f64, N>),
    W: Fn(f64) -> bool,
    S: FnMut(&DenseStep<N>),
    A: FnMut(f64, &SVector<f64, N>, f64) -> Handover,
{
    let span = t1 - t0;
    if negligible(t0, t1) {
        return Ok(Reached {
            t: t1,
            y: y0,
            h_next: h_start,
        });
    }
    let z = SVector::<f64, N>::zeros;
    let (mut t, mut y) = (t0, y0);
    let mut k1 = z();
    f(t, &y, &mut k1);
    stats.rhs_evaluations += 1;
    if !k1.iter().all(|v| v.is_finite()) {
        return Err((Failure::NonFinite, t));
    }
    let mut h = if h_start > 0.0 {
        h_start.min(span)
    } else {
        initial_step(8.0, f, t, &y, &k1, tol, span, stats)
    };
    let (mut k2, mut k3, mut k4, mut k5, mut k6) = (z(), z(), z(), z(), z());
    let (mut k7, mut k8, mut k9, mut k10, mut k11, mut k12) = (z(), z(), z(), z(), z(), z());
    let (mut k13, mut k14, mut k15, mut k16) = (z(), z(), z(), z());
    let mut last_rejected = false;
    let mut non_finite_seen = false;
    // The last accepted step's interpolant, until its outputs are taken. Taken at once, the
    // outputs queued behind the interpolant's own chain of evaluations and held up the next
    // step; taken after the next step's third stage, they fill the wait for its evaluations
    // (Kuznetsov 1000 d daily: 33.5 -> 31.9 µs; after the second or sixth stage, 32.7).
    let mut pending: Option<DenseStep<N>> = None;

    let result = loop {
        if let Err(e) = monitor.step(t, h, non_finite_seen) {
            break Err(e);
        }
        let last = t + 1.01 * h >= t1;
        if last {
            h = t1 - t;
        }

        // Each stage's input is `y + h*(terms known early) + (h*a)*k_latest`: the latest
        // stage, which the others wait for, enters with one multiply and one add (the chain of
        // evaluations, not the arithmetic, bounds a small model's speed).
        f(t + C2 * h, &(y + k1 * (h * A21)), &mut k2);
        f(t + C3 * h, &(y + k1 * (h * A31) + k2 * (h * A32)), &mut k3);
        if let Some(step) = pending.take() {
            on_step(&step);
        }
        f(t + C4 * h, &(y + k1 * (h * A41) + k3 * (h * A43)), &mut k4);
        f(
            t + C5 * h,
            &(y + (k1 * A51 + k3 * A53) * h + k4 * (h * A54)),
            &mut k5,
        );
        f(
            t + C6 * h,
            &(y + (k1 * A61 + k4 * A64) * h + k5 * (h * A65)),
            &mut k6,
        );
        f(
            t + C7 * h,
            &(y + (k1 * A71 + k4 * A74 + k5 * A75) * h + k6 * (h * A76)),
            &mut k7,
        );
        f(
            t + C8 * h,
            &(y + (k1 * A81 + k4 * A84 + k5 * A85 + k6 * A86) * h + k7 * (h * A87)),
            &mut k8,
        );
        f(
            t + C9 * h,
            &(y + (k1 * A91 + k4 * A94 + k5 * A95 + k6 * A96 + k7 * A97) * h + k8 * (h * A98)),
            &mut k9,
        );
        f(
            t + C10 * h,
            &(y + (k1 * A101 + k4 * A104 + k5 * A105 + k6 * A106 + k7 * A107 + k8 * A108) * h
                + k9 * (h * A109)),
            &mut k10,
        );
        f(
            t + C11 * h,
            &(y + (k1 * A111
                + k4 * A114
                + k5 * A115
                + k6 * A116
                + k7 * A117
                + k8 * A118
                + k9 * A119)
                * h
                + k10 * (h * A1110)),
            &mut k11,
        );
        let t_new = if last { t1 } else { t + h };
        let y12 = y
            + (k1 * A121
                + k4 * A124
                + k5 * A125
                + k6 * A126
                + k7 * A127
                + k8 * A128
                + k9 * A129
                + k10 * A1210)
                * h
            + k11 * (h * A1211);
        f(t_new, &y12, &mut k12);
        stats.rhs_evaluations += 11;
        let slope_known = k1 * B1 + k6 * B6 + k7 * B7 + k8 * B8 + k9 * B9 + k10 * B10 + k11 * B11;
        let slope = slope_known + k12 * B12;
        let y_new = y + slope_known * h + k12 * (h * B12);

        // Error: the 5th-order estimate, damped where the 3rd-order one is small (Hairer).
        let sc = tol.atol + y.abs().sup(&y_new.abs()) * tol.rtol;
        let err3 = slope - k1 * BHH1 - k9 * BHH2 - k12 * BHH3;
        let err5 = k1 * ER1
            + k6 * ER6
            + k7 * ER7
            + k8 * ER8
            + k9 * ER9
            + k10 * ER10
            + k11 * ER11
            + k12 * ER12;
        let (mut sum5, mut sum3) = (0.0, 0.0);
        for i in 0..N {
            let (e5, e3) = (err5[i] / sc[i], err3[i] / sc[i]);
            sum5 += e5 * e5;
            sum3 += e3 * e3;
        }
        let mut deno = sum5 + 0.01 * sum3;
        if deno <= 0.0 {
            deno = 1.0;
        }
        let (a, d) = (h.abs() * sum5, deno * N as f64);
        let err = a / d.sqrt();

        if !err.is_finite() {
            non_finite_seen = true;
            stats.rejected_steps += 1;
            h *= FAC_MIN;
            last_rejected = true;
            continue;
        }
        // The step grows by SAFETY / err^(1/8) (the exponent is 1/order), within
        // [FAC_MIN, FAC_MAX]. The next step waits for it, so it is computed as
        // SAFETY * (d / a^2)^(1/16): one division and four square roots in a row, where
        // err^(1/8) then dividing by it took five roots and three divisions.
        let grow = SAFETY * (d / (a * a)).sqrt().sqrt().sqrt().sqrt();
        let mut h_new = h * grow.clamp(FAC_MIN, FAC_MAX);

        if err <= 1.0 {
            stats.accepted_steps += 1;
            let test_stiffness = monitor.accept();
            f(t_new, &y_new, &mut k13);
            stats.rhs_evaluations += 1;

            if test_stiffness {
                let num = (k13 - k12).norm_squared();
                let den = (y_new - y12).norm_squared();
                let h_lambda = if den > 0.0 {
                    h * (num / den).sqrt()
                } else {
                    0.0
                };
                if monitor.stiffness(h_lambda, STIFF_H_LAMBDA) && tol.stop_when_stiff {
                    break Err((Failure::Stiff, t));
                }
            }
            if !y_new.iter().all(|v| v.is_finite()) || !k13.iter().all(|v| v.is_finite()) {
                break Err((Failure::NonFinite, t_new));
            }

            if wants_dense(t_new) {
                let ks = [&k1, &k6, &k7, &k8, &k9, &k10, &k11, &k12];
                let row = |d: &[f64; 12]| -> SVector<f64, N> {
                    let mut acc = z();
                    for (c, k) in d.iter().zip(ks) {
                        acc += *k * *c;
                    }
                    acc
                };
                let (r4, r5, r6, r7) = (row(&D4), row(&D5), row(&D6), row(&D7));
                f(
                    t + C14 * h,
                    &(y + (k1 * A141
                        + k7 * A147
                        + k8 * A148
                        + k9 * A149
                        + k10 * A1410
                        + k11 * A1411
                        + k12 * A1412)
                        * h
                        + k13 * (h * A1413)),
                    &mut k14,
                );
                f(
                    t + C15 * h,
                    &(y + (k1 * A151
                        + k6 * A156
                        + k7 * A157
                        + k8 * A158
                        + k11 * A1511
                        + k12 * A1512
                        + k13 * A1513)
                        * h
                        + k14 * (h * A1514)),
                    &mut k15,
                );
                f(
                    t + C16 * h,
                    &(y + (k1 * A161
                        + k6 * A166
                        + k7 * A167
                        + k8 * A168
                        + k9 * A169
                        + k13 * A1613
                        + k14 * A1614)
                        * h
                        + k15 * (h * A1615)),
                    &mut k16,
                );
                stats.rhs_evaluations += 3;
                let tail = |d: &[f64; 12], base: SVector<f64, N>| {
                    (base + k13 * d[8] + k14 * d[9] + k15 * d[10] + k16 * d[11]) * h
                };
                let ydiff = y_new - y;
                let bspl = k1 * h - ydiff;
                let step = DenseStep::new(
                    t,
                    h,
                    [
                        y,
                        ydiff,
                        bspl,
                        ydiff - k13 * h - bspl,
                        tail(&D4, r4),
                        tail(&D5, r5),
                        tail(&D6, r6),
                        tail(&D7, r7),
                    ],
                );
                pending = Some(step);
            }

            k1 = k13;
            y = y_new;
            t = t_new;
            if last_rejected {
                h_new = h_new.min(h);
            }
            if last {
                break Ok(Reached {
                    t,
                    y,
                    h_next: h_new,
                });
            }
            match after_step(t, &y, h_new) {
                Handover::Continue { h_max } => h_new = h_new.min(h_max),
                // The held-back outputs of this step are flushed below, before returning.
                Handover::Stop => {
                    break Ok(Reached {
                        t,
                        y,
                        h_next: h_new,
                    });
                }
            }
            last_rejected = false;
        } else {
            h_new = h * grow.max(FAC_MIN);
            last_rejected = true;
            if monitor.accepted >= 1 {
                stats.rejected_steps += 1;
            }
        }
        h = h_new;
    };
    // The last step's outputs, or those of the step before a failure.
    if let Some(step) = pending {
        on_step(&step);
    }
    result
}

/// As [`integrate_until`], emitting the output `times` from `*next` on that are strictly
/// before `before`, in order, through `emit`, from each step's interpolant; `next` advances.
/// (`emit` is generic rather than a `dyn` callback: an indirect call per output cost the
/// Kuznetsov patient 4.6%.)
#[allow(clippy::too_many_arguments)]
pub fn integrate_with_outputs<const N: usize, F, A, E>(
    f: &F,
    t0: f64,
    t1: f64,
    y0: SVector<f64, N>,
    h_start: f64,
    tol: &Tolerance<N>,
    monitor: &mut Monitor,
    stats: &mut Stats,
    (times, next, before): (&[f64], &mut usize, f64),
    emit: &mut E,
    after_step: A,
) -> Result<Reached<N>, (Failure, f64)>
where
    F: Fn(f64, &SVector<f64, N>, &mut SVector<f64, N>),
    A: FnMut(f64, &SVector<f64, N>, f64) -> Handover,
    E: FnMut(f64, &SVector<f64, N>) + ?Sized,
{
    // Which output is next is read by `wants_dense` and advanced by the step.
    let cursor = std::cell::Cell::new(*next);
    let result = integrate_until(
        f,
        t0,
        t1,
        y0,
        h_start,
        tol,
        monitor,
        stats,
        |t_end| {
            let i = cursor.get();
            i < times.len() && times[i] < before && times[i] <= t_end
        },
        |step| {
            let mut i = cursor.get();
            super::emit_inside(step, times, &mut i, before, emit);
            cursor.set(i);
        },
        after_step,
    );
    *next = cursor.get();
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The harmonic oscillator y'' = -y: the 8th-order steps and the 7th-order interpolant
    /// between them follow sin and cos to the tolerance.
    #[test]
    fn oscillator_matches_closed_form_including_interpolated_points() {
        let f = |_t: f64, y: &SVector<f64, 2>, dy: &mut SVector<f64, 2>| {
            dy[0] = y[1];
            dy[1] = -y[0];
        };
        let tol = Tolerance {
            rtol: 1e-11,
            atol: SVector::<f64, 2>::repeat(1e-13),
            stop_when_stiff: true,
        };
        let mut stats = Stats::default();
        let mut worst: f64 = 0.0;
        let y_end = integrate(
            &f,
            0.0,
            20.0,
            SVector::<f64, 2>::new(0.0, 1.0),
            &tol,
            &mut Monitor::new(100_000),
            &mut stats,
            |_| true,
            |s| {
                for k in 1..10 {
                    let t = s.t_start + s.h * k as f64 / 10.0;
                    worst = worst.max((s.eval(t)[0] - t.sin()).abs());
                }
            },
        )
        .unwrap();
        assert!((y_end[0] - 20f64.sin()).abs() < 1e-9, "{}", y_end[0]);
        assert!(worst < 1e-9, "worst interpolation error {worst:e}");
    }

    #[test]
    fn stiff_problem_is_detected() {
        let f =
            |t: f64, y: &SVector<f64, 1>, dy: &mut SVector<f64, 1>| dy[0] = -1e6 * (y[0] - t.cos());
        let tol = Tolerance {
            rtol: 1e-6,
            atol: SVector::<f64, 1>::repeat(1e-6),
            stop_when_stiff: true,
        };
        let mut stats = Stats::default();
        let r = integrate(
            &f,
            0.0,
            100.0,
            SVector::<f64, 1>::new(1.0),
            &tol,
            &mut Monitor::new(10_000_000),
            &mut stats,
            |_| false,
            |_| {},
        );
        assert_eq!(r.unwrap_err().0, Failure::Stiff);
    }
}
