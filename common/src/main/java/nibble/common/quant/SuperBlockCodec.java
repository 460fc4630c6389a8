package nibble.common.quant;

import nibble.common.Halfs;
import nibble.common.InvalidInputException;

/**
 * The K-quant layout ({@link Granularity#SUPERBLOCK}), byte for byte ggml's {@code Q4_K} apart from
 * the order of the nibbles: a row is cut into super-blocks of {@value #SUPER} values, each of
 * {@value #SUBS} sub-blocks of {@value #SUB}; a value decodes to {@code (d·sc)·q − dmin·m}, with
 * {@code q} its 4-bit code (0..15), {@code sc} and {@code m} its sub-block's 6-bit scale and minimum
 * and {@code d}, {@code dmin} the super-block's two F16 factors (4 + (2·16 + 8·12)/256 = 4.5 bits per
 * weight). The {@code scales} column holds per super-block the first 16 bytes of ggml's
 * {@code block_q4_K}: {@code d}, {@code dmin} (F16, little-endian) and the 12 bytes of packed 6-bit
 * scales and minimums ({@link #putScaleMin}, ggml's {@code get_scale_min_k4} read backwards); the
 * {@code codes} column holds the nibbles in Nibble's order (element {@code 2i} low, {@code 2i+1} high,
 * as every 4-bit scheme: {@link RowLayout}), which the GGUF export reorders into {@code qs}; there
 * are no zero-points. A row whose length is not a multiple of 256 is quantized as if padded with
 * zeros; the pad is not stored.
 *
 * <p>Choosing the numbers (docs/FORMAT.md): per sub-block, a scale {@code s} and minimum {@code m}
 * from a grid of clip ratios of its low and high ends ({@code range mse}: 3 × 3 ratios 1, 0.9, 0.8,
 * each followed by one least-squares refit of {@code s} and {@code m} for its codes; {@code range
 * minmax}: ratio 1 only, no refit), the pair with the least squared error kept; then {@code d =
 * f16(max s / 63)}, {@code dmin = f16(max m / 63)}, each sub-block's {@code sc} and {@code m} rounded
 * to 6 bits; then ({@code mse}) the 3 × 3 integer neighbours of that rounding are tried and the one
 * with the least error against the stored values kept (the first on ties). Errors and sums are
 * float, accumulated in element order, so the Vector API path ({@link SuperBlockVector}: one lane per
 * sub-block, the same float operations in the same order per lane) gives the same bytes.
 *
 * <p>{@link #quantizeReference} is the plain definition; {@link #quantizeScalar} runs it (it has no
 * separate scalar fast path); {@link #quantizeVector} is the fast path, tested byte-identical.
 * {@link #quantizeWeighted} is the importance-weighted search (recipe {@code int4-k256-imatrix}).
 */
final class SuperBlockCodec implements Codec {
    static final SuperBlockCodec INSTANCE = new SuperBlockCodec();

    /** Values per super-block. */
    static final int SUPER = 256;
    /** Values per sub-block. */
    static final int SUB = 32;
    /** Sub-blocks per super-block. */
    static final int SUBS = 8;
    /** Bytes of {@code scales} per super-block: d, dmin (F16) and 12 bytes of 6-bit fields. */
    static final int HEADER = 16;
    /** Clip ratios of the search, for the low and the high end alike. */
    static final float[] RATIOS = {1f, 0.9f, 0.8f};

    private SuperBlockCodec() {
    }

    // ---------------------------------------------------------------- layout

    /** Super-blocks of a row of {@code n} values. */
    static int superBlocks(int n) {
        return (n + SUPER - 1) / SUPER;
    }

    /** Writes sub-block {@code j}'s 6-bit scale and minimum into the 12 bytes at {@code o} (ggml's packing). */
    static void putScaleMin(byte[] b, int o, int j, int sc, int m) {
        if (j < 4) {
            b[o + j] = (byte) ((b[o + j] & 0xc0) | sc);
            b[o + j + 4] = (byte) ((b[o + j + 4] & 0xc0) | m);
        } else {
            b[o + j + 4] = (byte) ((sc & 0xf) | (m & 0xf) << 4);
            b[o + j - 4] = (byte) ((b[o + j - 4] & 0x3f) | (sc >> 4) << 6);
            b[o + j] = (byte) ((b[o + j] & 0x3f) | (m >> 4) << 6);
        }
    }

    /** Sub-block {@code j}'s 6-bit scale, from the 12 bytes at {@code o}. */
    static int scaleOf(byte[] b, int o, int j) {
        return j < 4 ? b[o + j] & 63 : (b[o + j + 4] & 0xf) | ((b[o + j - 4] & 0xff) >> 6) << 4;
    }

    /** Sub-block {@code j}'s 6-bit minimum, from the 12 bytes at {@code o}. */
    static int minOf(byte[] b, int o, int j) {
        return j < 4 ? b[o + j + 4] & 63 : ((b[o + j + 4] & 0xff) >> 4) | ((b[o + j] & 0xff) >> 6) << 4;
    }

    static float half(byte[] b, int o) {
        return Halfs.f16ToFloat((short) ((b[o] & 0xff) | (b[o + 1] << 8)));
    }

    static void putHalf(byte[] b, int o, float v) {
        short h = Halfs.floatToF16(v);
        b[o] = (byte) h;
        b[o + 1] = (byte) (h >>> 8);
    }

    /** The scale {@code d·sc} of sub-block {@code g} (counted along the row). */
    static float subScale(byte[] scales, int g) {
        int o = (g / SUBS) * HEADER;
        return half(scales, o) * scaleOf(scales, o + 4, g % SUBS);
    }

    /** The minimum {@code dmin·m} of sub-block {@code g}, subtracted from every value. */
    static float subMin(byte[] scales, int g) {
        int o = (g / SUBS) * HEADER;
        return half(scales, o + 2) * minOf(scales, o + 4, g % SUBS);
    }

    /**
     * The widest sub-block range the layout takes: {@code max s = range / 15} must leave {@code d =
     * max s / 63} inside F16. Wider ranges are refused before any arithmetic could overflow.
     */
    static final float MAX_RANGE = 65504f * 63f * 15f;

    /** {@code 1 / v} for positive {@code v} whose inverse is finite, else 0 (so codes stay finite). */
    static float inverse(float v) {
        float r = 1f / v;
        return v > 0f && r < Float.POSITIVE_INFINITY ? r : 0f;
    }

    static InvalidInputException overflow(String tensor, long row, int block) {
        return new InvalidInputException("tensor '" + tensor + "' row " + row + ": the scale or minimum of super-block " + block
                + " overflows F16 (values too large for the K-quant layout)");
    }

    // ---------------------------------------------------------------- reference

    @Override
    public QuantizedRow quantizeReference(String tensor, long row, float[] x, RowLayout layout, Clip clip) {
        return reference(tensor, row, x, layout, null);
    }

    /**
     * The importance-weighted search ({@link Importance#ACTIVATIONS}, recipe {@code int4-k256-imatrix}): every squared
     * error and every least-squares sum of the search is weighted by {@code importance[c]} (column {@code c}'s mean
     * x², as a float), the zero pad past the row's end by 0. Weights of 1 give {@link #quantizeReference}'s bytes
     * exactly (multiplying by 1 and summing 32 ones are exact). Weighted rows have no vector path.
     */
    QuantizedRow quantizeWeighted(String tensor, long row, float[] x, RowLayout layout, double[] importance) {
        return reference(tensor, row, x, layout, importance);
    }

    @Override
    public QuantizedRow quantizeReference(String tensor, long row, float[] x, RowLayout layout, Clip clip, double[] w) {
        return reference(tensor, row, x, layout, w);
    }

    /** The weighted search has no fast path: the reference itself. */
    @Override
    public QuantizedRow quantizeScalar(String tensor, long row, float[] x, RowLayout layout, Clip clip, double[] w) {
        return reference(tensor, row, x, layout, w);
    }

    private QuantizedRow reference(String tensor, long row, float[] x, RowLayout layout, double[] importance) {
        Quantizer.requireFinite(tensor, row, x);
        boolean mse = layout.scheme().range() == RangeMethod.MSE;
        float[] wy = new float[SUB];
        int n = x.length;
        int blocks = superBlocks(n);
        int[] codes = new int[n];
        byte[] scales = layout.newScales();
        float[] y = new float[SUB];
        float[] s = new float[SUBS];
        float[] m = new float[SUBS];
        for (int b = 0; b < blocks; b++) {
            for (int j = 0; j < SUBS; j++) {
                load(x, b * SUPER + j * SUB, y);
                weights(importance, b * SUPER + j * SUB, x.length, wy);
                float[] fit = fitReference(y, wy, mse);
                s[j] = fit[0];
                m[j] = fit[1];
                if (!Float.isFinite(s[j]) || !Float.isFinite(m[j])) {
                    throw overflow(tensor, row, b);
                }
            }
            float smax = 0f;
            float mmax = 0f;
            for (int j = 0; j < SUBS; j++) {
                smax = s[j] > smax ? s[j] : smax;
                mmax = m[j] > mmax ? m[j] : mmax;
            }
            float d = Halfs.roundToF16(smax / 63f);
            float dmin = Halfs.roundToF16(mmax / 63f);
            if (!Float.isFinite(d) || !Float.isFinite(dmin)) {
                throw overflow(tensor, row, b);
            }
            int o = b * HEADER;
            putHalf(scales, o, d);
            putHalf(scales, o + 2, dmin);
            float id = inverse(d);
            float idmin = inverse(dmin);
            for (int j = 0; j < SUBS; j++) {
                int sc = (int) Math.rint(Math.min(s[j] * id, 63f));
                int mq = (int) Math.rint(Math.min(m[j] * idmin, 63f));
                load(x, b * SUPER + j * SUB, y);
                weights(importance, b * SUPER + j * SUB, x.length, wy);
                if (mse) {
                    float best = Float.POSITIVE_INFINITY;
                    int bs = sc;
                    int bm = mq;
                    for (int ds : new int[] {0, -1, 1}) {
                        for (int dm : new int[] {0, -1, 1}) {
                            int sc2 = Math.max(0, Math.min(63, sc + ds));
                            int m2 = Math.max(0, Math.min(63, mq + dm));
                            float e = storedError(y, wy, d * sc2, dmin * m2);
                            if (e < best) {
                                best = e;
                                bs = sc2;
                                bm = m2;
                            }
                        }
                    }
                    sc = bs;
                    mq = bm;
                }
                putScaleMin(scales, o + 4, j, sc, mq);
                float d1 = d * sc;
                float m1 = dmin * mq;
                float inv = inverse(d1);
                for (int i = 0; i < SUB; i++) {
                    int at = b * SUPER + j * SUB + i;
                    if (at < n) {
                        codes[at] = codeReference(y[i], m1, inv);
                    }
                }
            }
        }
        return new QuantizedRow(layout.packCodes(codes), scales, null);
    }

    /** Sub-block values from {@code x[from...]}, zeros past the row's end. */
    private static void load(float[] x, int from, float[] y) {
        for (int i = 0; i < SUB; i++) {
            y[i] = from + i < x.length ? x[from + i] : 0f;
        }
    }

    /** Sub-block weights: 1 everywhere without importance; else the columns' importance, 0 past the row's end. */
    private static void weights(double[] importance, int from, int n, float[] w) {
        for (int i = 0; i < SUB; i++) {
            w[i] = importance == null ? 1f : from + i < n ? (float) importance[from + i] : 0f;
        }
    }

    /** The code of {@code v} in a sub-block of minimum {@code m1} and inverse scale {@code inv}. */
    private static int codeReference(float v, float m1, float inv) {
        float t = (v + m1) * inv;
        t = t < 0f ? 0f : (t > 15f ? 15f : t);
        return (int) Math.rint(t);
    }

    /** Squared error of a sub-block stored with scale {@code d1} and minimum {@code m1}, float, in element order. */
    private static float storedError(float[] y, float[] w, float d1, float m1) {
        float inv = inverse(d1);
        float e = 0f;
        for (int i = 0; i < SUB; i++) {
            float r = d1 * codeReference(y[i], m1, inv) - m1;
            float diff = y[i] - r;
            e += w[i] * (diff * diff);
        }
        return e;
    }

    /**
     * The sub-block's (scale, minimum) before 6-bit rounding: the grid search (and refit) or min/max. Weights
     * {@code w} multiply each squared error and each term of the least-squares sums (all 1 without importance).
     */
    private static float[] fitReference(float[] y, float[] w, boolean mse) {
        float lo = 0f;
        float hi = 0f;
        float sw = 0f;
        float swx = 0f;
        for (int i = 0; i < SUB; i++) {
            lo = y[i] < lo ? y[i] : lo;
            hi = y[i] > hi ? y[i] : hi;
            sw += w[i];
            swx += w[i] * y[i];
        }
        if (!(hi - lo <= MAX_RANGE)) {
            return new float[] {Float.POSITIVE_INFINITY, Float.POSITIVE_INFINITY};
        }
        float best = Float.POSITIVE_INFINITY;
        float bs = 0f;
        float bm = 0f;
        int ratios = mse ? RATIOS.length : 1;
        for (int a = 0; a < ratios; a++) {
            for (int c = 0; c < ratios; c++) {
                float l = lo * RATIOS[a];
                float h = hi * RATIOS[c];
                float s = (h - l) / 15f;
                float m = -l;
                if (mse) {
                    float inv = inverse(s);
                    float swq = 0f;
                    float swqq = 0f;
                    float swxq = 0f;
                    for (int i = 0; i < SUB; i++) {
                        float q = codeReference(y[i], m, inv);
                        swq += w[i] * q;
                        swqq += w[i] * (q * q);
                        swxq += (w[i] * y[i]) * q;
                    }
                    float det = sw * swqq - swq * swq; // unweighted: integers below 2^24, exact
                    if (det > 0f) {
                        float s2 = (sw * swxq - swq * swx) / det;
                        float c2 = (swx - s2 * swq) / sw;
                        s = s2 > 0f ? s2 : 0f;
                        m = -c2 > 0f ? -c2 : 0f;
                    }
                }
                float inv = inverse(s);
                float e = 0f;
                for (int i = 0; i < SUB; i++) {
                    float diff = y[i] - (s * codeReference(y[i], m, inv) - m);
                    e += w[i] * (diff * diff);
                }
                if (e < best) {
                    best = e;
                    bs = s;
                    bm = m;
                }
            }
        }
        return new float[] {bs, bm};
    }

    @Override
    public void dequantizeReference(byte[] codes, byte[] scales, byte[] zeros, RowLayout layout, float[] out) {
        for (int i = 0; i < out.length; i++) {
            int g = i / SUB;
            out[i] = subScale(scales, g) * layout.code(codes, i) - subMin(scales, g);
        }
    }

    // ---------------------------------------------------------------- fast

    @Override
    public QuantizedRow quantizeScalar(String tensor, long row, float[] x, RowLayout layout, Clip clip) {
        return quantizeReference(tensor, row, x, layout, clip);
    }

    @Override
    public QuantizedRow quantizeVector(String tensor, long row, float[] x, RowLayout layout, Clip clip) {
        return SuperBlockVector.quantize(tensor, row, x, layout);
    }

    @Override
    public void dequantize(byte[] codes, byte[] scales, byte[] zeros, RowLayout layout, float[] out) {
        decodeNibbles(codes, scales, zeros, layout, out);
    }

    @Override
    public void nibbleTable(RowLayout layout, byte[] scales, byte[] zeros, int g, float[] lut) {
        float d1 = subScale(scales, g);
        float m1 = subMin(scales, g);
        for (int q = 0; q < 16; q++) {
            lut[q] = d1 * q - m1;
        }
    }
}
