package nibble.common.quant;

import nibble.common.InvalidInputException;

/**
 * Quantizes one row of a tensor under a {@link Scheme}, and dequantizes it back.
 *
 * <p>A row is cut into groups along its length ({@link Scheme#groupLength}); the last group is
 * shorter when the length is not a multiple of the group size. Each group gets a range {@code [lo,
 * hi]} that always contains 0: its own min/max widened to 0, capped by the {@link Clip} when one is
 * given; for {@link Granularity#TENSOR} the clip itself is the range. From the range:
 * <ul>
 * <li><b>uniform symmetric</b> (llama.cpp Q4_0/Q8_0 style): {@code m} is the range end of larger
 * magnitude ({@code hi} on a tie), {@code scale = m / -2^(b-1)}, codes -8..7 / -128..127, so the
 * extreme lands exactly on code -8 and the opposite side saturates at 7 steps. This beats
 * {@code absmax/7}: it uses all 16 levels, a step 7/8 as long; {@code SchemeChoiceTest} checks it
 * gives lower error on Gaussian and heavy-tailed groups. The scale is negative when {@code m > 0}.
 * <li><b>uniform asymmetric</b> (GPTQ / compressed-tensors style): {@code scale = (hi - lo) / (2^b -
 * 1)}, integer zero-point {@code zp = clamp(rint(-lo / scale), 0, 2^b - 1)} stored as one unsigned
 * byte per group, {@code x' = (code - zp) * scale}. An integer zero-point makes 0 exact and is what
 * compressed-tensors' {@code zero_point} and GPTQ's {@code qzeros} hold. A constant nonzero group
 * {@code c} gets {@code scale = |c|} so it reconstructs exactly (to the scale format).
 * <li><b>NF4 / log2</b>: {@code scale = max(-lo, hi)} (absmax), the nearest table entry to
 * {@code x / scale}.
 * </ul>
 * Scales are rounded to the {@link ScaleFormat} first and codes computed from the rounded scale, so
 * {@link #dequantize} reproduces what was optimised. {@link RangeMethod#MSE} tries {@link
 * #CLIP_RATIOS} (range {@code [r*lo, r*hi]}), measures each group's squared error with the stored
 * scale and keeps the least, the first (largest ratio) on ties; ratio 1 is min/max, so the search
 * never does worse than min/max. An all-zero group has scale 0 (stored +0) and reconstructs to
 * zeros.
 *
 * <p>{@link #quantizeReference} is the plain definition; {@link #quantize} is the fast path, which
 * produces identical bytes (tested on random rows). Both reject NaN and infinities naming tensor,
 * row and column.
 */
public final class Quantizer {
    private Quantizer() {
    }

    /** Clip ratios the MSE search tries, in order: 1.0, 0.98, ..., 0.5 (26 candidates). */
    public static final float[] CLIP_RATIOS = new float[26];

    static {
        for (int k = 0; k < CLIP_RATIOS.length; k++) {
            CLIP_RATIOS[k] = (50 - k) / 50f;
        }
    }

    /** Quantizes a row with its own range (channel and group granularity, min/max or mse range). */
    public static QuantizedRow quantize(String tensor, long row, float[] values, Scheme scheme) {
        return run(tensor, row, values, scheme, null, false);
    }

    /**
     * Quantizes a row; {@code clip} is the tensor range for per-tensor schemes, or a cap on each
     * group's range (required for {@link RangeMethod#PERCENTILE}); null for none.
     */
    public static QuantizedRow quantize(String tensor, long row, float[] values, Scheme scheme, Clip clip) {
        return run(tensor, row, values, scheme, clip, false);
    }

    /** The reference implementation of {@link #quantize(String, long, float[], Scheme, Clip)}. */
    public static QuantizedRow quantizeReference(String tensor, long row, float[] values, Scheme scheme, Clip clip) {
        return run(tensor, row, values, scheme, clip, true);
    }

    /** Reconstructs a row from the stored columns. */
    public static float[] dequantize(QuantizedRow q, Scheme scheme, int rowLength) {
        return dequantize(q.codes(), q.scales(), q.zeros(), scheme, rowLength);
    }

    /** Reconstructs a row from the stored columns ({@code zeros} null for symmetric schemes). */
    public static float[] dequantize(byte[] codes, byte[] scales, byte[] zeros, Scheme scheme, int rowLength) {
        float[] out = new float[rowLength];
        dequantize(codes, scales, zeros, scheme, out);
        return out;
    }

    /**
     * Reconstructs a row of {@code out.length} values into {@code out}: the fast path of {@link
     * #dequantizeReference}, with identical results. For 4-bit schemes each group first fills a
     * 16-entry table of its decoded values (the same float operations as the reference, once per
     * code instead of once per element), then every element is a table look-up by nibble.
     */
    public static void dequantize(byte[] codes, byte[] scales, byte[] zeros, Scheme scheme, float[] out) {
        requireStored(codes, scales, zeros, scheme, out.length);
        if (scheme.bits() != 4) {
            decodeReference(codes, scales, zeros, scheme, out);
            return;
        }
        int rowLength = out.length;
        int len = scheme.groupLength(rowLength);
        int groups = scheme.groupCount(rowLength);
        float[] lut = new float[16];
        for (int g = 0; g < groups; g++) {
            nibbleTable(scheme, scales, zeros, g, lut);
            int i = g * len;
            int to = Math.min(rowLength, i + len);
            if ((i & 1) == 1) {
                out[i] = lut[(codes[i >> 1] >> 4) & 0xf];
                i++;
            }
            for (; i + 1 < to; i += 2) {
                int b = codes[i >> 1];
                out[i] = lut[b & 0xf];
                out[i + 1] = lut[(b >> 4) & 0xf];
            }
            if (i < to) {
                out[i] = lut[codes[i >> 1] & 0xf];
            }
        }
    }

    /** The plain definition of {@link #dequantize}: every element decoded on its own. */
    public static void dequantizeReference(byte[] codes, byte[] scales, byte[] zeros, Scheme scheme, float[] out) {
        requireStored(codes, scales, zeros, scheme, out.length);
        decodeReference(codes, scales, zeros, scheme, out);
    }

    /** Throws when stored columns do not fit a row of {@code rowLength} values under {@code scheme}. */
    public static void requireStored(byte[] codes, byte[] scales, byte[] zeros, Scheme scheme, int rowLength) {
        int groups = scheme.groupCount(rowLength);
        if (codes.length != scheme.codeBytes(rowLength) || scales.length != groups * scheme.scaleFormat().bytes()
                || (zeros == null) == scheme.hasZeros() || (zeros != null && zeros.length != groups)) {
            throw new InvalidInputException("quantized row: " + codes.length + " code bytes, " + scales.length + " scale bytes, "
                    + (zeros == null ? "no" : zeros.length) + " zero bytes do not fit row length " + rowLength + " under " + scheme);
        }
    }

    private static void decodeReference(byte[] codes, byte[] scales, byte[] zeros, Scheme scheme, float[] out) {
        int rowLength = out.length;
        int groups = scheme.groupCount(rowLength);
        int len = scheme.groupLength(rowLength);
        ScaleFormat fmt = scheme.scaleFormat();
        CodeTable table = scheme.codebook().table();
        boolean nibbles = scheme.bits() == 4;
        int offset = storeOffset(scheme);
        boolean signed = scheme.symmetric();
        for (int g = 0; g < groups; g++) {
            float scale = fmt.read(scales, g);
            int zp = zeros == null ? 0 : zeros[g] & 0xff;
            int to = Math.min(rowLength, (g + 1) * len);
            for (int i = g * len; i < to; i++) {
                // the same codes Nibbles.unpack4/unpack8 give, decoded in place
                int c = nibbles ? ((codes[i >> 1] >> ((i & 1) << 2)) & 0xf) - offset : signed ? codes[i] : codes[i] & 0xff;
                out[i] = decode(c, zp, scale, table);
            }
        }
    }

    /**
     * Fills {@code lut[n]} with the value stored nibble {@code n} decodes to in group {@code g} of a
     * 4-bit row: the same float operations as {@link #dequantizeReference}.
     */
    public static void nibbleTable(Scheme scheme, byte[] scales, byte[] zeros, int g, float[] lut) {
        float scale = scheme.scaleFormat().read(scales, g);
        int zp = zeros == null ? 0 : zeros[g] & 0xff;
        CodeTable table = scheme.codebook().table();
        int offset = storeOffset(scheme);
        for (int n = 0; n < 16; n++) {
            lut[n] = decode(n - offset, zp, scale, table);
        }
    }

    private static float decode(int code, int zp, float scale, CodeTable table) {
        return table != null ? table.value(code) * scale : UniformKernel.decode(code, zp, scale);
    }

    /**
     * The index of the first group whose stored scale is NaN or infinite, or -1. Codes and zero-points
     * are integers, so a row whose scales are finite dequantizes to finite values (bar overflow of the
     * largest F32 scales).
     */
    public static int firstNonFiniteScale(byte[] scales, Scheme scheme) {
        ScaleFormat fmt = scheme.scaleFormat();
        for (int g = 0, n = scales.length / fmt.bytes(); g < n; g++) {
            if (!Float.isFinite(fmt.read(scales, g))) {
                return g;
            }
        }
        return -1;
    }

    /** Throws naming tensor, row and column at the first NaN or infinity. */
    public static void requireFinite(String tensor, long row, float[] values) {
        for (int i = 0; i < values.length; i++) {
            if (!Float.isFinite(values[i])) {
                throw new InvalidInputException("tensor '" + tensor + "' row " + row + ": non-finite value " + values[i] + " at column " + i);
            }
        }
    }

    static int storeOffset(Scheme s) {
        return s.bits() == 4 && s.symmetric() && s.codebook() == Codebook.UNIFORM ? 8 : 0;
    }

    private static QuantizedRow run(String tensor, long row, float[] x, Scheme s, Clip clip, boolean reference) {
        if (clip == null && (s.granularity() == Granularity.TENSOR || s.range() == RangeMethod.PERCENTILE)) {
            throw new InvalidInputException("tensor '" + tensor + "' row " + row + ": scheme " + s + " needs a clip range from statistics");
        }
        if (reference) {
            requireFinite(tensor, row, x);
        }
        int n = x.length;
        int groups = s.groupCount(n);
        int len = s.groupLength(n);
        ScaleFormat fmt = s.scaleFormat();
        CodeTable table = s.codebook().table();
        int qmin = s.qmin();
        int qmax = s.qmax();
        int offset = storeOffset(s);
        int[] codes = reference ? new int[n] : null;
        boolean packedUniform = !reference && s.bits() == 4 && table == null;
        byte[] stored = reference ? null : new byte[packedUniform ? (n + 1) / 2 : n];
        byte[] scales = new byte[groups * fmt.bytes()];
        byte[] zeros = s.hasZeros() ? new byte[groups] : null;
        RangeScan scan = reference ? null : new RangeScan();
        for (int g = 0; g < groups; g++) {
            int from = g * len;
            int to = Math.min(n, from + len);
            float gmin = 0f;
            float gmax = 0f;
            if (from < to) {
                gmin = Float.POSITIVE_INFINITY;
                gmax = Float.NEGATIVE_INFINITY;
                if (reference) {
                    for (int i = from; i < to; i++) {
                        gmin = Math.min(gmin, x[i]);
                        gmax = Math.max(gmax, x[i]);
                    }
                } else {
                    scan.run(x, from, to);
                    if (scan.nan || scan.min == Float.NEGATIVE_INFINITY || scan.max == Float.POSITIVE_INFINITY) {
                        requireFinite(tensor, row, x);
                    }
                    gmin = scan.min;
                    gmax = scan.max;
                }
            }
            float lo;
            float hi;
            boolean constant = false;
            if (s.granularity() == Granularity.TENSOR) {
                lo = clip.min();
                hi = clip.max();
            } else {
                lo = Math.min(gmin, 0f);
                hi = Math.max(gmax, 0f);
                if (clip != null) {
                    lo = Math.max(lo, clip.min());
                    hi = Math.min(hi, clip.max());
                }
                constant = gmin == gmax && gmin != 0f && (hi == gmax || lo == gmin);
            }
            float scale = scale(s, lo, hi, constant);
            if (!Float.isFinite(scale)) {
                throw new InvalidInputException("tensor '" + tensor + "' row " + row + ": scale of group " + g + " (range [" + lo + ", " + hi
                        + "]) overflows " + fmt + "; use scale_dtype F32");
            }
            int zp = zeroPoint(s, lo, scale);
            if (s.range() == RangeMethod.MSE) {
                double best = error(x, from, to, scale, zp, qmin, qmax, table, reference);
                for (int k = 1; k < CLIP_RATIOS.length; k++) {
                    float r = CLIP_RATIOS[k];
                    float cScale = scale(s, lo * r, hi * r, constant);
                    int cZp = zeroPoint(s, lo * r, cScale);
                    double e = error(x, from, to, cScale, cZp, qmin, qmax, table, reference);
                    if (e < best) {
                        best = e;
                        scale = cScale;
                        zp = cZp;
                    }
                }
            }
            if (table != null) {
                if (reference) {
                    TableKernel.encodeReference(x, from, to, scale, table, codes);
                } else {
                    TableKernel.encode(x, from, to, scale, table, stored);
                }
            } else if (reference) {
                UniformKernel.encodeReference(x, from, to, scale, zp, qmin, qmax, codes);
            } else if (packedUniform) {
                UniformKernel.encodePacked(x, from, to, scale, zp, qmin, qmax, offset, stored);
            } else {
                UniformKernel.encode(x, from, to, scale, zp, qmin, qmax, offset, stored);
            }
            fmt.write(scales, g, scale);
            if (zeros != null) {
                zeros[g] = (byte) zp;
            }
        }
        byte[] packed;
        if (reference) {
            packed = s.bits() == 4 ? Nibbles.pack4(codes, offset) : Nibbles.pack8(codes, s.symmetric());
        } else {
            packed = packedUniform || s.bits() == 8 ? stored : Nibbles.pack4Stored(stored, n);
        }
        return new QuantizedRow(packed, scales, zeros);
    }

    /** The stored (rounded) scale for range [lo, hi]; see the class comment. */
    static float scale(Scheme s, float lo, float hi, boolean constant) {
        ScaleFormat fmt = s.scaleFormat();
        if (s.codebook() != Codebook.UNIFORM) {
            return fmt.round(Math.max(-lo, hi));
        }
        if (s.symmetric()) {
            float m = hi >= -lo ? hi : lo;
            return fmt.round(m * (s.bits() == 4 ? -0.125f : -0.0078125f) + 0f); // = m / -2^(b-1) exactly; + 0f stores +0, not -0
        }
        return fmt.round(constant ? Math.max(-lo, hi) : (hi - lo) / s.qmax());
    }

    static int zeroPoint(Scheme s, float lo, float scale) {
        if (!s.hasZeros()) {
            return 0;
        }
        double zp = Math.rint(-lo * UniformKernel.inverse(scale));
        return (int) Math.max(0, Math.min(s.qmax(), zp));
    }

    private static double error(float[] x, int from, int to, float scale, int zp, int qmin, int qmax, CodeTable table, boolean reference) {
        if (table != null) {
            return reference ? TableKernel.errorReference(x, from, to, scale, table) : TableKernel.error(x, from, to, scale, table);
        }
        return reference ? UniformKernel.errorReference(x, from, to, scale, zp, qmin, qmax)
                : UniformKernel.error(x, from, to, scale, zp, qmin, qmax);
    }
}
