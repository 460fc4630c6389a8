package nibble.common.quant;

import nibble.common.InvalidInputException;

/**
 * Quantizes one row of a tensor under a {@link Scheme}, and dequantizes it back: the entry point,
 * which checks its input and hands the row to the codebook's codec ({@link UniformCodec}, or a
 * {@link TableCodec} for NF4 and log2). {@link RowLayout} says how the result is stored.
 *
 * <p>Each group of a row gets a range {@code [lo, hi]} that always contains 0: its own min/max
 * widened to 0, capped by the {@link Clip} when one is given; for {@link Granularity#TENSOR} the
 * clip itself is the range. The codec turns the range into a scale (and zero-point), rounded to
 * the {@link ScaleFormat} first, and computes the codes from the rounded scale, so {@link
 * #dequantize} reproduces what was optimised. {@link RangeMethod#MSE} tries {@link #CLIP_RATIOS}
 * (range {@code [r*lo, r*hi]}), measures each group's squared error with the stored scale and
 * keeps the least, the first (largest ratio) on ties; ratio 1 is min/max, so the search never does
 * worse than min/max. An all-zero group has scale 0 (stored +0) and reconstructs to zeros.
 *
 * <p>{@link #quantizeReference} and {@link #dequantizeReference} are the codecs' plain definitions;
 * {@link #quantize} and {@link #dequantize} their fast paths, which give identical bytes and floats
 * (tested on random rows). {@link #quantize} runs the Vector API path when {@code
 * jdk.incubator.vector} is in the boot layer and the scalar fast path otherwise ({@link
 * VectorSupport}); both give the same bytes. All reject NaN and infinities naming tensor, row and
 * column.
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
        return quantize(tensor, row, values, scheme, null);
    }

    /**
     * Quantizes a row; {@code clip} is the tensor range for per-tensor schemes, or a cap on each
     * group's range (required for {@link RangeMethod#PERCENTILE}); null for none.
     */
    public static QuantizedRow quantize(String tensor, long row, float[] values, Scheme scheme, Clip clip) {
        requireClip(tensor, row, scheme, clip);
        return codec(scheme).quantize(tensor, row, values, RowLayout.of(scheme, values.length), clip);
    }

    /**
     * Quantizes a row whose scheme weighs the MSE search by importance ({@link Scheme#importance()}):
     * {@code importance[c]} (non-negative, finite, one per column: the mean x² of input channel
     * {@code c}) multiplies the squared error of column {@code c}. Schemes without importance ignore
     * {@code importance} and quantize as {@link #quantize(String, long, float[], Scheme, Clip)}.
     * Weighted rows run the scalar fast path.
     */
    public static QuantizedRow quantize(String tensor, long row, float[] values, Scheme scheme, Clip clip, double[] importance) {
        if (scheme.importance() == Importance.NONE) {
            return quantize(tensor, row, values, scheme, clip);
        }
        requireClip(tensor, row, scheme, clip);
        requireImportance(tensor, row, values, importance);
        return codec(scheme).quantizeScalar(tensor, row, values, RowLayout.of(scheme, values.length), clip, importance);
    }

    /** The reference implementation of {@link #quantize(String, long, float[], Scheme, Clip, double[])}. */
    public static QuantizedRow quantizeReference(String tensor, long row, float[] values, Scheme scheme, Clip clip,
                                                 double[] importance) {
        if (scheme.importance() == Importance.NONE) {
            return quantizeReference(tensor, row, values, scheme, clip);
        }
        requireClip(tensor, row, scheme, clip);
        requireImportance(tensor, row, values, importance);
        return codec(scheme).quantizeReference(tensor, row, values, RowLayout.of(scheme, values.length), clip, importance);
    }

    private static void requireImportance(String tensor, long row, float[] values, double[] w) {
        if (w == null || w.length != values.length) {
            throw new InvalidInputException("tensor '" + tensor + "' row " + row + ": the scheme weighs errors by activation statistics and "
                    + (w == null ? "there are none for this tensor" : "they have " + w.length + " channels, the row " + values.length));
        }
        for (int i = 0; i < w.length; i++) {
            if (!(w[i] >= 0) || Double.isInfinite(w[i])) {
                throw new InvalidInputException("tensor '" + tensor + "' row " + row + ": importance " + w[i] + " of channel " + i
                        + " is not a finite non-negative number");
            }
        }
    }

    /** The scalar fast path of {@link #quantize(String, long, float[], Scheme, Clip)}, whatever {@link VectorSupport} says. */
    static QuantizedRow quantizeScalar(String tensor, long row, float[] values, Scheme scheme, Clip clip) {
        requireClip(tensor, row, scheme, clip);
        return codec(scheme).quantizeScalar(tensor, row, values, RowLayout.of(scheme, values.length), clip);
    }

    /** The Vector API path of {@link #quantize(String, long, float[], Scheme, Clip)}; only when {@link VectorSupport#enabled()}. */
    static QuantizedRow quantizeVector(String tensor, long row, float[] values, Scheme scheme, Clip clip) {
        if (!VectorSupport.enabled()) {
            throw new IllegalStateException("the Vector API path is not available: " + VectorSupport.describe());
        }
        requireClip(tensor, row, scheme, clip);
        return codec(scheme).quantizeVector(tensor, row, values, RowLayout.of(scheme, values.length), clip);
    }

    /** The reference implementation of {@link #quantize(String, long, float[], Scheme, Clip)}. */
    public static QuantizedRow quantizeReference(String tensor, long row, float[] values, Scheme scheme, Clip clip) {
        requireClip(tensor, row, scheme, clip);
        return codec(scheme).quantizeReference(tensor, row, values, RowLayout.of(scheme, values.length), clip);
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
     * #dequantizeReference}, with identical results. Throws when the columns do not fit the row.
     */
    public static void dequantize(byte[] codes, byte[] scales, byte[] zeros, Scheme scheme, float[] out) {
        RowLayout layout = RowLayout.of(scheme, out.length);
        layout.requireStored(codes, scales, zeros);
        codec(scheme).dequantize(codes, scales, zeros, layout, out);
    }

    /** The plain definition of {@link #dequantize}: every element decoded on its own. */
    public static void dequantizeReference(byte[] codes, byte[] scales, byte[] zeros, Scheme scheme, float[] out) {
        RowLayout layout = RowLayout.of(scheme, out.length);
        layout.requireStored(codes, scales, zeros);
        codec(scheme).dequantizeReference(codes, scales, zeros, layout, out);
    }

    /**
     * For 4-bit schemes, fills {@code lut[n]} with the value stored nibble {@code n} decodes to in
     * group {@code g}: the same floats as {@link #dequantize}, for kernels that decode nibbles inside
     * a product. The columns must fit the layout ({@link RowLayout#requireStored}).
     */
    public static void nibbleTable(RowLayout layout, byte[] scales, byte[] zeros, int g, float[] lut) {
        if (layout.scheme().bits() != 4) {
            throw new IllegalArgumentException("nibble tables are for 4-bit schemes, not " + layout.scheme());
        }
        codec(layout.scheme()).nibbleTable(layout, scales, zeros, g, lut);
    }

    /** Throws naming tensor, row and column at the first NaN or infinity. */
    public static void requireFinite(String tensor, long row, float[] values) {
        for (int i = 0; i < values.length; i++) {
            if (!Float.isFinite(values[i])) {
                throw new InvalidInputException("tensor '" + tensor + "' row " + row + ": non-finite value " + values[i] + " at column " + i);
            }
        }
    }

    /** The error for a group whose scale does not fit the scale format. */
    static InvalidInputException scaleOverflow(String tensor, long row, int g, float lo, float hi, ScaleFormat fmt) {
        return new InvalidInputException("tensor '" + tensor + "' row " + row + ": scale of group " + g + " (range [" + lo + ", " + hi
                + "]) overflows " + fmt + "; use scale_dtype F32");
    }

    private static void requireClip(String tensor, long row, Scheme s, Clip clip) {
        if (clip == null && (s.granularity() == Granularity.TENSOR || s.range() == RangeMethod.PERCENTILE)) {
            throw new InvalidInputException("tensor '" + tensor + "' row " + row + ": scheme " + s + " needs a clip range from statistics");
        }
    }

    private static Codec codec(Scheme s) {
        if (s.granularity() == Granularity.SUPERBLOCK) {
            return SuperBlockCodec.INSTANCE;
        }
        switch (s.codebook()) {
            case NF4: return Nf4.CODEC;
            case LOG2: return Log2Code.CODEC;
            default: return UniformCodec.INSTANCE;
        }
    }
}
