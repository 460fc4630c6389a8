package nibble.common.quant;

/**
 * One codebook's quantization of a row, written as ggml's {@code quantize_row_*_ref} beside its
 * fast versions: a reference that is the plain definition, and fast paths that must give the same
 * bytes and the same floats. The reference and the fast paths share no helper, only the {@link
 * RowLayout} (the definition of what is stored) and the {@link ScaleFormat} rounding, so testing
 * one against the other checks every helper of each. The fast path comes twice: in scalar Java
 * ({@link #quantizeScalar}), and with the Vector API ({@link #quantizeVector}, in {@link
 * UniformVector} and {@link TableVector}), which reuses the scalar path's per-group helpers and
 * replaces its loops; {@link #quantize} picks one per JVM ({@link VectorSupport}). {@link
 * Quantizer} checks the clip and the stored sizes first.
 */
interface Codec {

    /** The definition: rejects non-finite values, then quantizes group by group. */
    QuantizedRow quantizeReference(String tensor, long row, float[] x, RowLayout layout, Clip clip);

    /** The same bytes as {@link #quantizeReference}, fast, in scalar Java. */
    QuantizedRow quantizeScalar(String tensor, long row, float[] x, RowLayout layout, Clip clip);

    /**
     * The definition with the MSE search's squared errors weighted by {@code w} (one non-negative
     * weight per element, or null for none): {@code sum w[i]·(x[i] - x'[i])²}.
     */
    QuantizedRow quantizeReference(String tensor, long row, float[] x, RowLayout layout, Clip clip, double[] w);

    /**
     * The same bytes as the weighted {@link #quantizeReference(String, long, float[], RowLayout, Clip,
     * double[])}, fast, in scalar Java. There is no weighted Vector API path: weighted rows take this one.
     */
    QuantizedRow quantizeScalar(String tensor, long row, float[] x, RowLayout layout, Clip clip, double[] w);

    /**
     * The same bytes as {@link #quantizeReference}, with the Vector API. Only call when {@link
     * VectorSupport#enabled()}: it loads classes of {@code jdk.incubator.vector}.
     */
    QuantizedRow quantizeVector(String tensor, long row, float[] x, RowLayout layout, Clip clip);

    /** The fast path this JVM runs: {@link #quantizeVector} when the Vector API is there, else {@link #quantizeScalar}. */
    default QuantizedRow quantize(String tensor, long row, float[] x, RowLayout layout, Clip clip) {
        return VectorSupport.enabled() ? quantizeVector(tensor, row, x, layout, clip) : quantizeScalar(tensor, row, x, layout, clip);
    }

    /** The definition: every element decoded on its own. */
    void dequantizeReference(byte[] codes, byte[] scales, byte[] zeros, RowLayout layout, float[] out);

    /** The same floats as {@link #dequantizeReference}, fast. */
    void dequantize(byte[] codes, byte[] scales, byte[] zeros, RowLayout layout, float[] out);

    /**
     * Fast path, 4-bit schemes: fills {@code lut[n]} with the value stored nibble {@code n} decodes
     * to in group {@code g}, by the same float operations as {@link #dequantizeReference}.
     */
    void nibbleTable(RowLayout layout, byte[] scales, byte[] zeros, int g, float[] lut);

    /**
     * Fast path, 4-bit schemes: each group fills its {@link #nibbleTable} (the decoding done once
     * per code instead of once per element), then every element is a look-up by nibble.
     */
    default void decodeNibbles(byte[] codes, byte[] scales, byte[] zeros, RowLayout layout, float[] out) {
        float[] lut = new float[16];
        int len = layout.groupLength();
        for (int g = 0; g < layout.groupCount(); g++) {
            nibbleTable(layout, scales, zeros, g, lut);
            int i = layout.groupStart(g);
            int to = Math.min(i + len, out.length); // layout.groupEnd(g) in the form C2 optimises best
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
}
