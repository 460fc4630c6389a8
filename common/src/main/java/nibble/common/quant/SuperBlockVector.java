package nibble.common.quant;

import static nibble.common.quant.SuperBlockCodec.HEADER;
import static nibble.common.quant.SuperBlockCodec.RATIOS;
import static nibble.common.quant.SuperBlockCodec.SUB;
import static nibble.common.quant.SuperBlockCodec.SUBS;
import static nibble.common.quant.SuperBlockCodec.SUPER;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;
import nibble.common.Halfs;

/**
 * {@link SuperBlockCodec}'s Vector API path: one 8-lane float vector holds one value of each of a
 * super-block's 8 sub-blocks (the super-block is transposed once into a 32 × 8 scratch), so every
 * lane runs exactly the reference's float operations on its own sub-block in the reference's
 * element order: the sums, the least-squares refit, the errors and the codes come out bit for bit
 * the same, without any cross-lane reduction. The per-super-block steps (the two F16 factors and the
 * 6-bit rounding) are 8 scalar operations and stay scalar. Only loaded when {@link
 * VectorSupport#enabled()}.
 */
final class SuperBlockVector {
    private static final VectorSpecies<Float> FS = FloatVector.SPECIES_256;
    private static final float MAGIC = 12582912f; // 1.5 * 2^23: v + MAGIC - MAGIC is rint(v) for 0 <= v <= 15
    private static final int[][] NEIGHBOURS = {{0, 0}, {0, -1}, {0, 1}, {-1, 0}, {-1, -1}, {-1, 1}, {1, 0}, {1, -1}, {1, 1}};

    private SuperBlockVector() {
    }

    /** Per-thread scratch: the transposed super-block and the per-lane results. */
    private static final class Scratch {
        final float[] t = new float[SUPER];
        final float[] s = new float[SUBS];
        final float[] m = new float[SUBS];
        final float[] d1 = new float[SUBS];
        final float[] m1 = new float[SUBS];
        final int[] sc = new int[SUBS];
        final int[] mq = new int[SUBS];
    }

    private static final ThreadLocal<Scratch> SCRATCH = ThreadLocal.withInitial(Scratch::new);

    static QuantizedRow quantize(String tensor, long row, float[] x, RowLayout layout) {
        Quantizer.requireFinite(tensor, row, x);
        boolean mse = layout.scheme().range() == RangeMethod.MSE;
        int n = x.length;
        int blocks = SuperBlockCodec.superBlocks(n);
        byte[] codes = layout.newCodes();
        byte[] scales = layout.newScales();
        Scratch w = SCRATCH.get();
        float[] t = w.t;
        for (int b = 0; b < blocks; b++) {
            int base = b * SUPER;
            for (int j = 0; j < SUBS; j++) {
                for (int i = 0; i < SUB; i++) {
                    int at = base + j * SUB + i;
                    t[i * SUBS + j] = at < n ? x[at] : 0f;
                }
            }
            if (!fit(t, mse, w.s, w.m)) {
                throw SuperBlockCodec.overflow(tensor, row, b);
            }
            float smax = 0f;
            float mmax = 0f;
            for (int j = 0; j < SUBS; j++) {
                if (!Float.isFinite(w.s[j]) || !Float.isFinite(w.m[j])) {
                    throw SuperBlockCodec.overflow(tensor, row, b);
                }
                smax = w.s[j] > smax ? w.s[j] : smax;
                mmax = w.m[j] > mmax ? w.m[j] : mmax;
            }
            float d = Halfs.roundToF16(smax / 63f);
            float dmin = Halfs.roundToF16(mmax / 63f);
            if (!Float.isFinite(d) || !Float.isFinite(dmin)) {
                throw SuperBlockCodec.overflow(tensor, row, b);
            }
            int o = b * HEADER;
            SuperBlockCodec.putHalf(scales, o, d);
            SuperBlockCodec.putHalf(scales, o + 2, dmin);
            float id = SuperBlockCodec.inverse(d);
            float idmin = SuperBlockCodec.inverse(dmin);
            for (int j = 0; j < SUBS; j++) {
                w.sc[j] = (int) Math.rint(Math.min(w.s[j] * id, 63f));
                w.mq[j] = (int) Math.rint(Math.min(w.m[j] * idmin, 63f));
            }
            if (mse) {
                refine(t, d, dmin, w);
            }
            for (int j = 0; j < SUBS; j++) {
                SuperBlockCodec.putScaleMin(scales, o + 4, j, w.sc[j], w.mq[j]);
                w.d1[j] = d * w.sc[j];
                w.m1[j] = dmin * w.mq[j];
            }
            encode(t, w, base, n, codes);
        }
        return new QuantizedRow(codes, scales, null);
    }

    /** The lanes' codes: {@code rint(clamp((y + m) * inv, 0, 15))}, as floats. */
    private static FloatVector code(FloatVector y, FloatVector m, FloatVector inv, FloatVector zero, FloatVector fifteen,
                                    FloatVector magic) {
        FloatVector v = y.add(m).mul(inv);
        v = v.blend(zero, v.compare(VectorOperators.LT, zero));
        v = v.blend(fifteen, v.compare(VectorOperators.GT, fifteen));
        return v.add(magic).sub(magic);
    }

    /** {@link SuperBlockCodec#inverse} per lane. */
    private static FloatVector inverse(FloatVector v, FloatVector zero, FloatVector one) {
        FloatVector r = one.div(v);
        VectorMask<Float> ok = v.compare(VectorOperators.GT, zero).and(r.compare(VectorOperators.LT, Float.POSITIVE_INFINITY));
        return zero.blend(r, ok);
    }

    /** The reference's per-sub-block fit, 8 sub-blocks at once; results into {@code s} and {@code m}. */
    private static boolean fit(float[] t, boolean mse, float[] sOut, float[] mOut) {
        FloatVector zero = FloatVector.zero(FS);
        FloatVector one = FloatVector.broadcast(FS, 1f);
        FloatVector fifteen = FloatVector.broadcast(FS, 15f);
        FloatVector magic = FloatVector.broadcast(FS, MAGIC);
        FloatVector lo = zero;
        FloatVector hi = zero;
        FloatVector sx = zero;
        for (int i = 0; i < SUB; i++) {
            FloatVector y = FloatVector.fromArray(FS, t, i * SUBS);
            lo = lo.blend(y, y.compare(VectorOperators.LT, lo));
            hi = hi.blend(y, y.compare(VectorOperators.GT, hi));
            sx = sx.add(y);
        }
        if (!hi.sub(lo).compare(VectorOperators.LE, SuperBlockCodec.MAX_RANGE).allTrue()) {
            return false;
        }
        FloatVector best = FloatVector.broadcast(FS, Float.POSITIVE_INFINITY);
        FloatVector bs = zero;
        FloatVector bm = zero;
        int ratios = mse ? RATIOS.length : 1;
        FloatVector n = FloatVector.broadcast(FS, (float) SUB);
        for (int a = 0; a < ratios; a++) {
            FloatVector l = lo.mul(RATIOS[a]);
            FloatVector m = l.neg();
            for (int c = 0; c < ratios; c++) {
                FloatVector h = hi.mul(RATIOS[c]);
                FloatVector s = h.sub(l).div(15f);
                FloatVector mm = m;
                if (mse) {
                    FloatVector inv = inverse(s, zero, one);
                    FloatVector sq = zero;
                    FloatVector sqq = zero;
                    FloatVector sxq = zero;
                    for (int i = 0; i < SUB; i++) {
                        FloatVector y = FloatVector.fromArray(FS, t, i * SUBS);
                        FloatVector q = code(y, mm, inv, zero, fifteen, magic);
                        sq = sq.add(q);
                        sqq = sqq.add(q.mul(q));
                        sxq = sxq.add(y.mul(q));
                    }
                    FloatVector det = n.mul(sqq).sub(sq.mul(sq)); // integers below 2^24: exact, as the reference's int
                    VectorMask<Float> ok = det.compare(VectorOperators.GT, zero);
                    FloatVector s2 = n.mul(sxq).sub(sq.mul(sx)).div(det);
                    FloatVector c2 = sx.sub(s2.mul(sq)).div(n);
                    FloatVector negc = c2.neg();
                    s2 = zero.blend(s2, s2.compare(VectorOperators.GT, zero));
                    FloatVector m2 = zero.blend(negc, negc.compare(VectorOperators.GT, zero));
                    s = s.blend(s2, ok);
                    mm = mm.blend(m2, ok);
                }
                FloatVector inv = inverse(s, zero, one);
                FloatVector e = zero;
                for (int i = 0; i < SUB; i++) {
                    FloatVector y = FloatVector.fromArray(FS, t, i * SUBS);
                    FloatVector q = code(y, mm, inv, zero, fifteen, magic);
                    FloatVector diff = y.sub(s.mul(q).sub(mm));
                    e = e.add(diff.mul(diff));
                }
                VectorMask<Float> better = e.compare(VectorOperators.LT, best);
                best = best.blend(e, better);
                bs = bs.blend(s, better);
                bm = bm.blend(mm, better);
            }
        }
        bs.intoArray(sOut, 0);
        bm.intoArray(mOut, 0);
        return true;
    }

    /** The reference's 3 × 3 integer neighbours of each sub-block's 6-bit scale and minimum; the least error stays. */
    private static void refine(float[] t, float d, float dmin, Scratch w) {
        FloatVector zero = FloatVector.zero(FS);
        FloatVector one = FloatVector.broadcast(FS, 1f);
        FloatVector fifteen = FloatVector.broadcast(FS, 15f);
        FloatVector magic = FloatVector.broadcast(FS, MAGIC);
        float[] d1 = w.d1;
        float[] m1 = w.m1;
        int[] sc = w.sc.clone();
        int[] mq = w.mq.clone();
        float[] best = new float[SUBS];
        float[] e = new float[SUBS];
        java.util.Arrays.fill(best, Float.POSITIVE_INFINITY);
        for (int[] nb : NEIGHBOURS) {
            for (int j = 0; j < SUBS; j++) {
                d1[j] = d * Math.max(0, Math.min(63, sc[j] + nb[0]));
                m1[j] = dmin * Math.max(0, Math.min(63, mq[j] + nb[1]));
            }
            FloatVector dv = FloatVector.fromArray(FS, d1, 0);
            FloatVector mv = FloatVector.fromArray(FS, m1, 0);
            FloatVector inv = inverse(dv, zero, one);
            FloatVector err = zero;
            for (int i = 0; i < SUB; i++) {
                FloatVector y = FloatVector.fromArray(FS, t, i * SUBS);
                FloatVector q = code(y, mv, inv, zero, fifteen, magic);
                FloatVector diff = y.sub(dv.mul(q).sub(mv));
                err = err.add(diff.mul(diff));
            }
            err.intoArray(e, 0);
            for (int j = 0; j < SUBS; j++) {
                if (e[j] < best[j]) {
                    best[j] = e[j];
                    w.sc[j] = Math.max(0, Math.min(63, sc[j] + nb[0]));
                    w.mq[j] = Math.max(0, Math.min(63, mq[j] + nb[1]));
                }
            }
        }
    }

    /** The final codes of the super-block starting at row index {@code base}, packed two per byte in row order. */
    private static void encode(float[] t, Scratch w, int base, int n, byte[] codes) {
        FloatVector zero = FloatVector.zero(FS);
        FloatVector one = FloatVector.broadcast(FS, 1f);
        FloatVector fifteen = FloatVector.broadcast(FS, 15f);
        FloatVector magic = FloatVector.broadcast(FS, MAGIC);
        FloatVector dv = FloatVector.fromArray(FS, w.d1, 0);
        FloatVector mv = FloatVector.fromArray(FS, w.m1, 0);
        FloatVector inv = inverse(dv, zero, one);
        float[] q = w.s; // reused: the codes of one transposed row i, for the 8 sub-blocks
        byte[] nib = new byte[SUPER];
        for (int i = 0; i < SUB; i++) {
            FloatVector y = FloatVector.fromArray(FS, t, i * SUBS);
            code(y, mv, inv, zero, fifteen, magic).intoArray(q, 0);
            for (int j = 0; j < SUBS; j++) {
                nib[j * SUB + i] = (byte) q[j];
            }
        }
        int end = Math.min(SUPER, n - base);
        int i = 0;
        for (; i + 1 < end; i += 2) {
            codes[(base + i) >> 1] = (byte) (nib[i] | nib[i + 1] << 4);
        }
        if (i < end) {
            codes[(base + i) >> 1] = nib[i];
        }
    }
}
