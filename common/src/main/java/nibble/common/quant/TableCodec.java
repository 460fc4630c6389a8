package nibble.common.quant;

import java.util.Arrays;

/**
 * A 4-bit symmetric codebook of 16 values in [-1, 1] ({@link Nf4}, {@link Log2Code}), one instance
 * per table: {@code scale = max(-lo, hi)} (the range's absmax), {@code code} = the entry nearest
 * {@code x / scale} (the quotient clamped to [-1, 1]; on equal distance the lower code wins), and
 * {@code x' = TABLE[code] * scale}. The reference finds the entry by a linear scan; the fast path
 * counts the distinct entries, sorted by value, that lie at or below the quotient (a branch-free
 * count, where a binary search mispredicts on every step), finds min/max with {@link RangeScan} and
 * writes codes straight into the packed row.
 */
final class TableCodec implements Codec {
    private final float[] values;
    private final float[] sorted;
    private final int[] sortedCode;
    /**
     * For the vector path: {@code thresholds[k]} is the least float {@code v} above {@code sorted[k]}
     * that {@link #nearest} maps past sorted entry {@code k}, so {@code nearest(v)} is {@code
     * sortedCode[#{k : v >= thresholds[k]}]} (see {@link #thresholds()}). Null when the table does
     * not run from -1 to 1.
     */
    private final float[] thresholds;

    TableCodec(float[] values) {
        if (values.length != 16) {
            throw new IllegalArgumentException("a 4-bit table has 16 entries");
        }
        this.values = values.clone();
        Integer[] order = new Integer[16];
        for (int i = 0; i < 16; i++) {
            order[i] = i;
        }
        Arrays.sort(order, (a, b) -> values[a] == values[b] ? Integer.compare(a, b) : Float.compare(values[a], values[b]));
        float[] s = new float[16];
        int[] c = new int[16];
        int n = 0;
        for (int i : order) {
            if (n > 0 && s[n - 1] == values[i]) {
                continue; // a duplicate value (log2's -0): the lower code, sorted first, stays
            }
            s[n] = values[i];
            c[n++] = i;
        }
        sorted = Arrays.copyOf(s, n);
        sortedCode = Arrays.copyOf(c, n);
        thresholds = sorted[0] == -1f && sorted[n - 1] == 1f ? thresholds() : null;
    }

    /**
     * {@link #nearest}'s decision boundaries. Between two neighbouring sorted entries {@code a < b}
     * it compares {@code |v - a|} with {@code |v - b|} in float; as {@code v} grows the first never
     * shrinks and the second never grows (rounding is monotone), so "goes to {@code b}" holds from
     * one float on, found here by bisection over the float order. Each boundary lies in {@code (a,
     * b]}, so they increase, and for {@code v} in {@code [-1, 1]} (where {@code nearest} clamps to)
     * the number of boundaries at or below {@code v} is the index of {@code nearest(v)} in {@code
     * sorted}; below -1 and above 1 the count is that of -1 and 1, so no clamp is needed.
     */
    private float[] thresholds() {
        float[] t = new float[sorted.length - 1];
        for (int k = 0; k < t.length; k++) {
            int lo = RangeScan.key(Float.floatToRawIntBits(sorted[k])); // goes down
            int hi = RangeScan.key(Float.floatToRawIntBits(sorted[k + 1])); // goes up
            while (hi - lo > 1) {
                int mid = lo + (hi - lo) / 2;
                if (nearest(Float.intBitsToFloat(RangeScan.key(mid))) == sortedCode[k]) {
                    lo = mid;
                } else {
                    hi = mid;
                }
            }
            t[k] = Float.intBitsToFloat(RangeScan.key(hi));
        }
        return t;
    }

    /** The sorted distinct entries, their codes and {@link #nearest}'s boundaries between them (null: no vector path). */
    float[] sorted() {
        return sorted;
    }

    int[] sortedCode() {
        return sortedCode;
    }

    float[] boundaries() {
        return thresholds;
    }

    /** The table, indexed by code. */
    float[] values() {
        return values.clone();
    }

    // ---------------------------------------------------------------- reference

    /** The code of the entry nearest {@code v}: a linear scan. */
    int nearestReference(float v) {
        v = Math.max(-1f, Math.min(1f, v));
        int best = 0;
        for (int c = 1; c < 16; c++) {
            if (Math.abs(v - values[c]) < Math.abs(v - values[best])) {
                best = c;
            }
        }
        return best;
    }

    @Override
    public QuantizedRow quantizeReference(String tensor, long row, float[] x, RowLayout layout, Clip clip) {
        return quantizeReference(tensor, row, x, layout, clip, null);
    }

    @Override
    public QuantizedRow quantizeReference(String tensor, long row, float[] x, RowLayout layout, Clip clip, double[] w) {
        Quantizer.requireFinite(tensor, row, x);
        Scheme s = layout.scheme();
        int[] codes = new int[x.length];
        byte[] scales = layout.newScales();
        for (int g = 0; g < layout.groupCount(); g++) {
            int from = layout.groupStart(g);
            int to = layout.groupEnd(g);
            ReferenceGroup range = ReferenceGroup.range(x, from, to, s, clip);
            float lo = range.lo();
            float hi = range.hi();
            float scale = s.scaleFormat().round(Math.max(Math.abs(lo), Math.abs(hi)));
            if (!Float.isFinite(scale)) {
                throw Quantizer.scaleOverflow(tensor, row, g, lo, hi, s.scaleFormat());
            }
            if (s.range() == RangeMethod.MSE) {
                double best = referenceError(x, w, from, to, scale);
                for (int k = 1; k <= 25; k++) {
                    float r = (50 - k) / 50f;
                    float cScale = s.scaleFormat().round(Math.max(Math.abs(lo * r), Math.abs(hi * r)));
                    double e = referenceError(x, w, from, to, cScale);
                    if (e < best) {
                        best = e;
                        scale = cScale;
                    }
                }
            }
            float inv = ReferenceGroup.inverse(scale);
            for (int i = from; i < to; i++) {
                codes[i] = nearestReference(x[i] * inv);
            }
            layout.putScale(scales, g, scale);
        }
        return new QuantizedRow(layout.packCodes(codes), scales, null);
    }

    @Override
    public void dequantizeReference(byte[] codes, byte[] scales, byte[] zeros, RowLayout layout, float[] out) {
        for (int g = 0; g < layout.groupCount(); g++) {
            float scale = layout.scale(scales, g);
            for (int i = layout.groupStart(g); i < layout.groupEnd(g); i++) {
                out[i] = values[layout.code(codes, i)] * scale;
            }
        }
    }

    /** Squared reconstruction error of a group under one candidate scale, each term times {@code w[i]} when given. */
    private double referenceError(float[] x, double[] w, int from, int to, float scale) {
        float inv = ReferenceGroup.inverse(scale);
        double err = 0;
        for (int i = from; i < to; i++) {
            double d = (double) x[i] - values[nearestReference(x[i] * inv)] * scale;
            err += w == null ? d * d : w[i] * d * d;
        }
        return err;
    }

    // ---------------------------------------------------------------- fast

    /** The same code as {@link #nearestReference}, by counting sorted entries. */
    int nearest(float v) {
        v = v < -1f ? -1f : (v > 1f ? 1f : v);
        float[] s = sorted;
        int n = s.length;
        int count = 0;
        for (int k = 0; k < n; k++) {
            count += s[k] <= v ? 1 : 0;
        }
        int lo = count == 0 ? 0 : count - 1; // the largest i with s[i] <= v
        if (lo == n - 1) {
            return sortedCode[lo];
        }
        float d0 = Math.abs(v - s[lo]);
        float d1 = Math.abs(v - s[lo + 1]);
        int a = sortedCode[lo];
        int b = sortedCode[lo + 1];
        return d0 < d1 ? a : (d1 < d0 ? b : Math.min(a, b));
    }

    @Override
    public QuantizedRow quantizeVector(String tensor, long row, float[] x, RowLayout layout, Clip clip) {
        return TableVector.quantize(this, tensor, row, x, layout, clip);
    }

    @Override
    public QuantizedRow quantizeScalar(String tensor, long row, float[] x, RowLayout layout, Clip clip) {
        return quantizeScalar(tensor, row, x, layout, clip, null);
    }

    @Override
    public QuantizedRow quantizeScalar(String tensor, long row, float[] x, RowLayout layout, Clip clip, double[] w) {
        Scheme s = layout.scheme();
        ScaleFormat fmt = s.scaleFormat();
        boolean tensorRange = s.granularity() == Granularity.TENSOR;
        boolean mse = s.range() == RangeMethod.MSE;
        byte[] codes = layout.newCodes();
        byte[] scales = layout.newScales();
        RangeScan scan = new RangeScan();
        int groups = layout.groupCount();
        int len = layout.groupLength();
        for (int g = 0; g < groups; g++) {
            int from = layout.groupStart(g);
            int to = Math.min(from + len, x.length); // layout.groupEnd(g) in the form C2 optimises best
            float gmin = 0f;
            float gmax = 0f;
            if (from < to) {
                scan.run(x, from, to);
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
            if (mse) {
                double best = error(x, w, from, to, scale);
                for (int k = 1; k < Quantizer.CLIP_RATIOS.length; k++) {
                    float r = Quantizer.CLIP_RATIOS[k];
                    float cScale = fmt.round(Math.max(-(lo * r), hi * r));
                    double e = error(x, w, from, to, cScale);
                    if (e < best) {
                        best = e;
                        scale = cScale;
                    }
                }
            }
            encodePacked(x, from, to, scale, codes);
            layout.putScale(scales, g, scale);
        }
        return new QuantizedRow(codes, scales, null);
    }

    @Override
    public void dequantize(byte[] codes, byte[] scales, byte[] zeros, RowLayout layout, float[] out) {
        decodeNibbles(codes, scales, zeros, layout, out);
    }

    @Override
    public void nibbleTable(RowLayout layout, byte[] scales, byte[] zeros, int g, float[] lut) {
        float scale = layout.scale(scales, g);
        for (int n = 0; n < 16; n++) {
            lut[n] = values[n] * scale;
        }
    }

    static float inverse(float scale) {
        float inv = 1f / scale;
        return Float.isInfinite(inv) ? 0f : inv;
    }

    double error(float[] x, int from, int to, float scale) {
        return error(x, null, from, to, scale);
    }

    /** {@link #error(float[], int, int, float)}, each squared error times {@code w[i]} when {@code w} is not null. */
    double error(float[] x, double[] w, int from, int to, float scale) {
        float inv = inverse(scale);
        float[] t = values;
        double err = 0;
        for (int i = from; i < to; i++) {
            double d = (double) x[i] - t[nearest(x[i] * inv)] * scale;
            err += w == null ? d * d : w[i] * d * d;
        }
        return err;
    }

    /** Writes codes straight into the packed row, as {@link UniformCodec}'s 4-bit fast path does. */
    private void encodePacked(float[] x, int from, int to, float scale, byte[] out) {
        float inv = inverse(scale);
        int i = from;
        if ((i & 1) == 1 && i < to) {
            out[i >> 1] |= (byte) (nearest(x[i] * inv) << 4);
            i++;
        }
        for (; i + 1 < to; i += 2) {
            out[i >> 1] = (byte) (nearest(x[i] * inv) | nearest(x[i + 1] * inv) << 4);
        }
        if (i < to) {
            out[i >> 1] = (byte) nearest(x[i] * inv);
        }
    }
}
