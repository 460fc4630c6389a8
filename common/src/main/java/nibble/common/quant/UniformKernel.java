package nibble.common.quant;

/**
 * Element kernels for the uniform integer grid: {@code code = clamp(rint(x * inv) + zp, qmin, qmax)}
 * with {@code inv = 1/scale} (0 for a zero scale) and {@code x' = (code - zp) * scale}. Rounding is
 * half to even ({@link Math#rint}), the IEEE default, as llama.cpp's {@code nearest_int} and
 * {@code torch.round} do. The reference computes each code on its own; the fast versions clamp in
 * float first (the same thing, since the bounds are integers) and round with the 1.5*2^23 trick,
 * which is exact half-to-even for |v| < 2^22. (Ternaries, not Math.min/max: on JDK 17 the float
 * intrinsics cost about three times as much here.)
 */
final class UniformKernel {
    private UniformKernel() {
    }

    private static final float MAGIC = 12582912f; // 1.5 * 2^23: adding it leaves rint(v) in the low mantissa bits
    private static final int MAGIC_BITS = 0x4B400000;

    /** {@code 1/scale}, or 0 when that is infinite (a zero or subnormal scale: every code is then zp). */
    static float inverse(float scale) {
        float inv = 1f / scale;
        return Float.isInfinite(inv) ? 0f : inv;
    }

    /** Reference: one value's code. */
    static int encodeReference(float x, float inv, int zp, int qmin, int qmax) {
        double q = Math.rint(x * inv) + zp;
        return (int) Math.max(qmin, Math.min(qmax, q));
    }

    static float decode(int code, int zp, float scale) {
        return (float) (code - zp) * scale;
    }

    /** Reference: squared reconstruction error of a group under one candidate scale. */
    static double errorReference(float[] x, int from, int to, float scale, int zp, int qmin, int qmax) {
        float inv = inverse(scale);
        double err = 0;
        for (int i = from; i < to; i++) {
            double d = (double) x[i] - decode(encodeReference(x[i], inv, zp, qmin, qmax), zp, scale);
            err += d * d;
        }
        return err;
    }

    static void encodeReference(float[] x, int from, int to, float scale, int zp, int qmin, int qmax, int[] codes) {
        float inv = inverse(scale);
        for (int i = from; i < to; i++) {
            codes[i] = encodeReference(x[i], inv, zp, qmin, qmax);
        }
    }

    /** Fast: the same errors as {@link #errorReference}. */
    static double error(float[] x, int from, int to, float scale, int zp, int qmin, int qmax) {
        float inv = inverse(scale);
        float lo = qmin - zp;
        float hi = qmax - zp;
        double err = 0;
        for (int i = from; i < to; i++) {
            float v = x[i] * inv;
            v = v < lo ? lo : (v > hi ? hi : v);
            int q = Float.floatToRawIntBits(v + MAGIC) - MAGIC_BITS;
            double d = (double) x[i] - (float) q * scale;
            err += d * d;
        }
        return err;
    }

    /** Fast: writes each code plus {@code storeOffset} as one byte (the nibble or int8 value to store). */
    static void encode(float[] x, int from, int to, float scale, int zp, int qmin, int qmax, int storeOffset, byte[] out) {
        float inv = inverse(scale);
        float lo = qmin - zp;
        float hi = qmax - zp;
        int add = zp + storeOffset - MAGIC_BITS;
        for (int i = from; i < to; i++) {
            float v = x[i] * inv;
            v = v < lo ? lo : (v > hi ? hi : v);
            out[i] = (byte) (Float.floatToRawIntBits(v + MAGIC) + add);
        }
    }

    /**
     * Fast, 4-bit: as {@link #encode}, but writes the nibbles straight into the packed row (element
     * {@code i} in byte {@code i/2}, low nibble first). A group may start on a high nibble (odd
     * group sizes); its last element, when it lands on a low nibble, leaves the high nibble 0 for
     * the next group or the row's padding.
     */
    static void encodePacked(float[] x, int from, int to, float scale, int zp, int qmin, int qmax, int storeOffset, byte[] out) {
        float inv = inverse(scale);
        float lo = qmin - zp;
        float hi = qmax - zp;
        int add = zp + storeOffset - MAGIC_BITS;
        int i = from;
        if ((i & 1) == 1 && i < to) {
            out[i >> 1] |= (byte) (nibble(x[i], inv, lo, hi, add) << 4);
            i++;
        }
        for (; i + 1 < to; i += 2) {
            out[i >> 1] = (byte) (nibble(x[i], inv, lo, hi, add) | nibble(x[i + 1], inv, lo, hi, add) << 4);
        }
        if (i < to) {
            out[i >> 1] = (byte) nibble(x[i], inv, lo, hi, add);
        }
    }

    private static int nibble(float x, float inv, float lo, float hi, int add) {
        float v = x * inv;
        v = v < lo ? lo : (v > hi ? hi : v);
        return Float.floatToRawIntBits(v + MAGIC) + add;
    }
}
