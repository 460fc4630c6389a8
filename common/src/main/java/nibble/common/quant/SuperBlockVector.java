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
        final float[] lo = new float[SUBS];
        final float[] hi = new float[SUBS];
        final float[] sx = new float[SUBS];
        final float[] cs = new float[SUBS];
        final float[] cm = new float[SUBS];
        final float[] e = new float[SUBS];
        final float[] best = new float[SUBS];
        final float[] q = new float[SUPER];
        final int[] sc0 = new int[SUBS];
        final int[] mq0 = new int[SUBS];
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
            if (!fit(t, mse, w)) {
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

    // Each step below is one method over arrays (per-lane parameters in, per-lane results out): no vector crosses a
    // call of ours, since a vector argument or result of a method C2 does not inline is boxed (docs/DESIGN-NOTES.md).

    /** Per lane: the sub-block's low end (at most 0), high end (at least 0) and sum, as the reference scans them. */
    private static void range(float[] t, float[] lo, float[] hi, float[] sx) {
        FloatVector l = FloatVector.zero(FS);
        FloatVector h = FloatVector.zero(FS);
        FloatVector sum = FloatVector.zero(FS);
        for (int i = 0; i < SUB; i++) {
            FloatVector y = FloatVector.fromArray(FS, t, i * SUBS);
            l = l.blend(y, y.compare(VectorOperators.LT, l));
            h = h.blend(y, y.compare(VectorOperators.GT, h));
            sum = sum.add(y);
        }
        l.intoArray(lo, 0);
        h.intoArray(hi, 0);
        sum.intoArray(sx, 0);
    }

    /**
     * One candidate of the reference's grid, per lane: {@code s = (h - l) / 15}, {@code m = -l} from the clipped ends
     * {@code l = lo * ra}, {@code h = hi * rb}, refitted by least squares when {@code refit}; the pair into {@code s},
     * {@code m} and its squared error into {@code e}.
     */
    private static void candidate(float[] t, float[] lo, float[] hi, float[] sx, float ra, float rb, boolean refit, float[] sOut,
                                  float[] mOut, float[] eOut) {
        FloatVector zero = FloatVector.zero(FS);
        FloatVector one = FloatVector.broadcast(FS, 1f);
        FloatVector fifteen = FloatVector.broadcast(FS, 15f);
        FloatVector magic = FloatVector.broadcast(FS, MAGIC);
        FloatVector l = FloatVector.fromArray(FS, lo, 0).mul(ra);
        FloatVector h = FloatVector.fromArray(FS, hi, 0).mul(rb);
        FloatVector s = h.sub(l).div(15f);
        FloatVector m = l.neg();
        if (refit) {
            FloatVector r = one.div(s);
            FloatVector inv = zero.blend(r, s.compare(VectorOperators.GT, zero).and(r.compare(VectorOperators.LT, Float.POSITIVE_INFINITY)));
            FloatVector sq = zero;
            FloatVector sqq = zero;
            FloatVector sxq = zero;
            for (int i = 0; i < SUB; i++) {
                FloatVector y = FloatVector.fromArray(FS, t, i * SUBS);
                FloatVector v = y.add(m).mul(inv);
                v = v.blend(zero, v.compare(VectorOperators.LT, zero));
                v = v.blend(fifteen, v.compare(VectorOperators.GT, fifteen));
                FloatVector q = v.add(magic).sub(magic);
                sq = sq.add(q);
                sqq = sqq.add(q.mul(q));
                sxq = sxq.add(y.mul(q));
            }
            FloatVector n = FloatVector.broadcast(FS, (float) SUB);
            FloatVector sum = FloatVector.fromArray(FS, sx, 0);
            FloatVector det = n.mul(sqq).sub(sq.mul(sq)); // integers below 2^24: exact, as the reference's int
            VectorMask<Float> ok = det.compare(VectorOperators.GT, zero);
            FloatVector s2 = n.mul(sxq).sub(sq.mul(sum)).div(det);
            FloatVector negc = sum.sub(s2.mul(sq)).div(n).neg();
            s2 = zero.blend(s2, s2.compare(VectorOperators.GT, zero));
            FloatVector m2 = zero.blend(negc, negc.compare(VectorOperators.GT, zero));
            s = s.blend(s2, ok);
            m = m.blend(m2, ok);
        }
        FloatVector r = one.div(s);
        FloatVector inv = zero.blend(r, s.compare(VectorOperators.GT, zero).and(r.compare(VectorOperators.LT, Float.POSITIVE_INFINITY)));
        FloatVector e = zero;
        for (int i = 0; i < SUB; i++) {
            FloatVector y = FloatVector.fromArray(FS, t, i * SUBS);
            FloatVector v = y.add(m).mul(inv);
            v = v.blend(zero, v.compare(VectorOperators.LT, zero));
            v = v.blend(fifteen, v.compare(VectorOperators.GT, fifteen));
            FloatVector q = v.add(magic).sub(magic);
            FloatVector diff = y.sub(s.mul(q).sub(m));
            e = e.add(diff.mul(diff));
        }
        s.intoArray(sOut, 0);
        m.intoArray(mOut, 0);
        e.intoArray(eOut, 0);
    }

    /** The reference's fit of 8 sub-blocks: false when a sub-block's range is too wide for the layout. */
    private static boolean fit(float[] t, boolean mse, Scratch w) {
        range(t, w.lo, w.hi, w.sx);
        for (int j = 0; j < SUBS; j++) {
            if (!(w.hi[j] - w.lo[j] <= SuperBlockCodec.MAX_RANGE)) {
                return false;
            }
        }
        java.util.Arrays.fill(w.best, Float.POSITIVE_INFINITY);
        java.util.Arrays.fill(w.s, 0f);
        java.util.Arrays.fill(w.m, 0f);
        int ratios = mse ? RATIOS.length : 1;
        for (int a = 0; a < ratios; a++) {
            for (int c = 0; c < ratios; c++) {
                candidate(t, w.lo, w.hi, w.sx, RATIOS[a], RATIOS[c], mse, w.cs, w.cm, w.e);
                for (int j = 0; j < SUBS; j++) {
                    if (w.e[j] < w.best[j]) {
                        w.best[j] = w.e[j];
                        w.s[j] = w.cs[j];
                        w.m[j] = w.cm[j];
                    }
                }
            }
        }
        return true;
    }

    /** Per lane: the squared error of the sub-block stored with scale {@code d1} and minimum {@code m1}. */
    private static void storedErrors(float[] t, float[] d1, float[] m1, float[] eOut) {
        FloatVector zero = FloatVector.zero(FS);
        FloatVector fifteen = FloatVector.broadcast(FS, 15f);
        FloatVector magic = FloatVector.broadcast(FS, MAGIC);
        FloatVector dv = FloatVector.fromArray(FS, d1, 0);
        FloatVector mv = FloatVector.fromArray(FS, m1, 0);
        FloatVector r = FloatVector.broadcast(FS, 1f).div(dv);
        FloatVector inv = zero.blend(r, dv.compare(VectorOperators.GT, zero).and(r.compare(VectorOperators.LT, Float.POSITIVE_INFINITY)));
        FloatVector e = zero;
        for (int i = 0; i < SUB; i++) {
            FloatVector y = FloatVector.fromArray(FS, t, i * SUBS);
            FloatVector v = y.add(mv).mul(inv);
            v = v.blend(zero, v.compare(VectorOperators.LT, zero));
            v = v.blend(fifteen, v.compare(VectorOperators.GT, fifteen));
            FloatVector q = v.add(magic).sub(magic);
            FloatVector diff = y.sub(dv.mul(q).sub(mv));
            e = e.add(diff.mul(diff));
        }
        e.intoArray(eOut, 0);
    }

    /** The reference's 3 × 3 integer neighbours of each sub-block's 6-bit scale and minimum; the least error stays. */
    private static void refine(float[] t, float d, float dmin, Scratch w) {
        int[] sc = w.sc0;
        int[] mq = w.mq0;
        System.arraycopy(w.sc, 0, sc, 0, SUBS);
        System.arraycopy(w.mq, 0, mq, 0, SUBS);
        java.util.Arrays.fill(w.best, Float.POSITIVE_INFINITY);
        for (int[] nb : NEIGHBOURS) {
            for (int j = 0; j < SUBS; j++) {
                w.d1[j] = d * Math.max(0, Math.min(63, sc[j] + nb[0]));
                w.m1[j] = dmin * Math.max(0, Math.min(63, mq[j] + nb[1]));
            }
            storedErrors(t, w.d1, w.m1, w.e);
            for (int j = 0; j < SUBS; j++) {
                if (w.e[j] < w.best[j]) {
                    w.best[j] = w.e[j];
                    w.sc[j] = Math.max(0, Math.min(63, sc[j] + nb[0]));
                    w.mq[j] = Math.max(0, Math.min(63, mq[j] + nb[1]));
                }
            }
        }
    }

    /** The final codes of the super-block starting at row index {@code base}, packed two per byte in row order. */
    private static void encode(float[] t, Scratch w, int base, int n, byte[] codes) {
        codesOf(t, w.d1, w.m1, w.q);
        float[] q = w.q;
        int end = Math.min(SUPER, n - base);
        int i = 0;
        for (; i + 1 < end; i += 2) { // element i of the super-block is q[(i % 32) * 8 + i / 32]
            codes[(base + i) >> 1] = (byte) ((int) q[(i & 31) * SUBS + (i >> 5)] | (int) q[((i + 1) & 31) * SUBS + ((i + 1) >> 5)] << 4);
        }
        if (i < end) {
            codes[(base + i) >> 1] = (byte) (int) q[(i & 31) * SUBS + (i >> 5)];
        }
    }

    /** Per lane, the codes of the transposed super-block, as floats in the transposed order. */
    private static void codesOf(float[] t, float[] d1, float[] m1, float[] qOut) {
        FloatVector zero = FloatVector.zero(FS);
        FloatVector fifteen = FloatVector.broadcast(FS, 15f);
        FloatVector magic = FloatVector.broadcast(FS, MAGIC);
        FloatVector dv = FloatVector.fromArray(FS, d1, 0);
        FloatVector mv = FloatVector.fromArray(FS, m1, 0);
        FloatVector r = FloatVector.broadcast(FS, 1f).div(dv);
        FloatVector inv = zero.blend(r, dv.compare(VectorOperators.GT, zero).and(r.compare(VectorOperators.LT, Float.POSITIVE_INFINITY)));
        for (int i = 0; i < SUB; i++) {
            FloatVector y = FloatVector.fromArray(FS, t, i * SUBS);
            FloatVector v = y.add(mv).mul(inv);
            v = v.blend(zero, v.compare(VectorOperators.LT, zero));
            v = v.blend(fifteen, v.compare(VectorOperators.GT, fifteen));
            v.add(magic).sub(magic).intoArray(qOut, i * SUBS);
        }
    }
}
