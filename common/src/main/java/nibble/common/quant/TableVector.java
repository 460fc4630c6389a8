package nibble.common.quant;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;

/**
 * {@link TableCodec}'s fast path (NF4, log2) with the Vector API: the scalar fast path's per-group
 * steps with vector loops. The nearest table entry of {@code v = x * inv} is found without a
 * per-lane look-up: lanes start at the lowest entry and move to entry {@code k+1} wherever {@code v
 * >= boundary[k]} (15 compare-and-blend steps), where the boundaries are the exact floats at which
 * the scalar {@link TableCodec#nearest} changes its answer ({@link TableCodec#boundaries}), so the
 * code is the scalar one for every float. The MSE search puts one candidate in each lane and
 * chooses as {@link UniformVector#search} does (float errors with a bound, the reference's double
 * errors where the bound leaves more than one candidate).
 */
final class TableVector {
    private TableVector() {
    }

    private static final VarHandle INT_LE = MethodHandles.byteArrayViewVarHandle(int[].class, ByteOrder.LITTLE_ENDIAN);
    private static final IntVector NIBBLE_SHIFTS = IntVector.fromArray(UniformVector.IS, new int[] {0, 4, 8, 12, 16, 20, 24, 28}, 0);
    private static final int LANES = UniformVector.LANES;

    /** Loads this class (the probe in {@link VectorSupport}). */
    static boolean ready() {
        return NIBBLE_SHIFTS.length() == LANES;
    }

    static QuantizedRow quantize(TableCodec t, String tensor, long row, float[] x, RowLayout layout, Clip clip) {
        float[] bounds = t.boundaries();
        if (bounds == null) {
            return t.quantizeScalar(tensor, row, x, layout, clip);
        }
        Scheme s = layout.scheme();
        ScaleFormat fmt = s.scaleFormat();
        boolean tensorRange = s.granularity() == Granularity.TENSOR;
        boolean mse = s.range() == RangeMethod.MSE;
        byte[] codes = layout.newCodes();
        byte[] scales = layout.newScales();
        RangeScan scan = new RangeScan();
        UniformVector.Candidates cands = mse ? new UniformVector.Candidates() : null;
        float[] codeOf = new float[bounds.length + 1];
        for (int k = 0; k < codeOf.length; k++) {
            codeOf[k] = t.sortedCode()[k];
        }
        int groups = layout.groupCount();
        int len = layout.groupLength();
        for (int g = 0; g < groups; g++) {
            int from = layout.groupStart(g);
            int to = Math.min(from + len, x.length);
            float gmin = 0f;
            float gmax = 0f;
            if (from < to) {
                UniformVector.scan(x, from, to, scan);
                if (scan.nan || scan.min == Float.NEGATIVE_INFINITY || scan.max == Float.POSITIVE_INFINITY) {
                    Quantizer.requireFinite(tensor, row, x);
                }
                gmin = scan.min;
                gmax = scan.max;
            }
            float lo;
            float hi;
            if (tensorRange) {
                lo = clip.min();
                hi = clip.max();
            } else {
                lo = Math.min(gmin, 0f);
                hi = Math.max(gmax, 0f);
                if (clip != null) {
                    lo = Math.max(lo, clip.min());
                    hi = Math.min(hi, clip.max());
                }
            }
            float scale = fmt.round(Math.max(-lo, hi));
            if (!Float.isFinite(scale)) {
                throw Quantizer.scaleOverflow(tensor, row, g, lo, hi, fmt);
            }
            if (mse && (lo != 0f || hi != 0f)) { // an all-zero group: every candidate's error is 0, the first wins
                scale = cands.scale[search(t, x, from, to, fmt, lo, hi, cands)];
            }
            encodePacked(t, codeOf, x, from, to, scale, codes);
            layout.putScale(scales, g, scale);
        }
        return new QuantizedRow(codes, scales, null);
    }

    /** {@link TableCodec}'s packed codes, eight at a time; {@code codeOf[j]} is the code of sorted entry {@code j}. */
    static void encodePacked(TableCodec t, float[] codeOf, float[] x, int from, int to, float scale, byte[] out) {
        float inv = TableCodec.inverse(scale);
        int i = from;
        if ((i & 1) == 1 && i < to) { // a group starting on a high nibble
            out[i >> 1] |= (byte) (t.nearest(x[i] * inv) << 4);
            i++;
        }
        float[] bounds = t.boundaries();
        FloatVector vinv = FloatVector.broadcast(UniformVector.FS, inv);
        FloatVector first = FloatVector.broadcast(UniformVector.FS, codeOf[0]);
        for (; i + LANES <= to; i += LANES) {
            FloatVector v = FloatVector.fromArray(UniformVector.FS, x, i).mul(vinv);
            FloatVector code = first;
            for (int k = 0; k < bounds.length; k++) {
                VectorMask<Float> up = v.compare(VectorOperators.GE, bounds[k]);
                code = code.blend(codeOf[k + 1], up);
            }
            // codes are small whole floats: adding 1.5*2^23 leaves them in the low mantissa bits (F2I is not intrinsified on AVX2 in JDK 17)
            IntVector c = code.add(UniformCodec.MAGIC).reinterpretAsInts().sub(UniformCodec.MAGIC_BITS);
            INT_LE.set(out, i >> 1, c.lanewise(VectorOperators.LSHL, NIBBLE_SHIFTS).reduceLanes(VectorOperators.OR));
        }
        for (; i + 1 < to; i += 2) {
            out[i >> 1] = (byte) (t.nearest(x[i] * inv) | t.nearest(x[i + 1] * inv) << 4);
        }
        if (i < to) {
            out[i >> 1] = (byte) t.nearest(x[i] * inv);
        }
    }

    /** The MSE search over {@link Quantizer#CLIP_RATIOS}, one candidate per lane: the index the reference keeps. */
    static int search(TableCodec t, float[] x, int from, int to, ScaleFormat fmt, float lo, float hi, UniformVector.Candidates c) {
        int cands = UniformVector.CANDIDATES;
        for (int k = 0; k < cands; k++) {
            float r = Quantizer.CLIP_RATIOS[k];
            float sc = fmt.round(Math.max(-(lo * r), hi * r));
            c.scale[k] = sc;
            c.inv[k] = TableCodec.inverse(sc);
        }
        for (int k = cands; k < UniformVector.PADDED; k++) {
            c.scale[k] = c.scale[0];
            c.inv[k] = c.inv[0];
        }
        if (to - from > (1 << 20)) {
            java.util.Arrays.fill(c.err, Float.POSITIVE_INFINITY); // no bound: exact errors for all
            return UniformVector.choose(x, from, to, c, 0, 0, t);
        }
        float[] bounds = t.boundaries();
        float[] sorted = t.sorted();
        FloatVector first = FloatVector.broadcast(UniformVector.FS, sorted[0]);
        for (int k = 0; k < UniformVector.PADDED; k += 2 * LANES) {
            FloatVector inv0 = FloatVector.fromArray(UniformVector.FS, c.inv, k);
            FloatVector sc0 = FloatVector.fromArray(UniformVector.FS, c.scale, k);
            FloatVector inv1 = FloatVector.fromArray(UniformVector.FS, c.inv, k + LANES);
            FloatVector sc1 = FloatVector.fromArray(UniformVector.FS, c.scale, k + LANES);
            FloatVector acc0 = FloatVector.zero(UniformVector.FS);
            FloatVector acc1 = FloatVector.zero(UniformVector.FS);
            for (int i = from; i < to; i++) {
                FloatVector xv = FloatVector.broadcast(UniformVector.FS, x[i]);
                FloatVector v0 = xv.mul(inv0);
                FloatVector v1 = xv.mul(inv1);
                FloatVector e0 = first;
                FloatVector e1 = first;
                for (int j = 0; j < bounds.length; j++) {
                    float b = bounds[j];
                    float next = sorted[j + 1];
                    e0 = e0.blend(next, v0.compare(VectorOperators.GE, b));
                    e1 = e1.blend(next, v1.compare(VectorOperators.GE, b));
                }
                FloatVector d0 = xv.sub(e0.mul(sc0));
                FloatVector d1 = xv.sub(e1.mul(sc1));
                acc0 = d0.fma(d0, acc0);
                acc1 = d1.fma(d1, acc1);
            }
            acc0.intoArray(c.err, k);
            acc1.intoArray(c.err, k + LANES);
        }
        return UniformVector.choose(x, from, to, c, 0, 0, t);
    }
}
