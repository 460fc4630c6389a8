package nibble.common.quant;

/**
 * Element kernels for the 4-bit tables (NF4, log2): {@code code = nearest(x * inv)} and
 * {@code x' = TABLE[code] * scale}, scale = group absmax. Reference and fast differ only in the
 * table search ({@link CodeTable#nearestReference} vs {@link CodeTable#nearest}).
 */
final class TableKernel {
    private TableKernel() {
    }

    static double errorReference(float[] x, int from, int to, float scale, CodeTable t) {
        float inv = UniformKernel.inverse(scale);
        double err = 0;
        for (int i = from; i < to; i++) {
            double d = (double) x[i] - t.value(t.nearestReference(x[i] * inv)) * scale;
            err += d * d;
        }
        return err;
    }

    static void encodeReference(float[] x, int from, int to, float scale, CodeTable t, int[] codes) {
        float inv = UniformKernel.inverse(scale);
        for (int i = from; i < to; i++) {
            codes[i] = t.nearestReference(x[i] * inv);
        }
    }

    static double error(float[] x, int from, int to, float scale, CodeTable t) {
        float inv = UniformKernel.inverse(scale);
        double err = 0;
        for (int i = from; i < to; i++) {
            double d = (double) x[i] - t.value(t.nearest(x[i] * inv)) * scale;
            err += d * d;
        }
        return err;
    }

    static void encode(float[] x, int from, int to, float scale, CodeTable t, byte[] out) {
        float inv = UniformKernel.inverse(scale);
        for (int i = from; i < to; i++) {
            out[i] = (byte) t.nearest(x[i] * inv);
        }
    }
}
