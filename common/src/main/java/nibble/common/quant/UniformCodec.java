package nibble.common.quant;

/**
 * The uniform integer grid, 4 or 8 bits, {@code x' = (code - zp) * scale}.
 * <ul>
 * <li><b>symmetric</b> (llama.cpp Q4_0/Q8_0 style): {@code m} is the range end of larger magnitude
 * ({@code hi} on a tie), {@code scale = m / -2^(b-1)}, codes -8..7 / -128..127, zero-point 0: the
 * extreme lands exactly on code -8 and the opposite side saturates at 7 steps. This beats {@code
 * absmax/7}: it uses all 16 levels, a step 7/8 as long. The scale is negative when {@code m > 0}.
 * <li><b>asymmetric</b> (GPTQ / compressed-tensors style): {@code scale = (hi - lo) / (2^b - 1)},
 * integer zero-point {@code zp = clamp(rint(-lo / scale), 0, 2^b - 1)} (0 is exact, as in
 * compressed-tensors' {@code zero_point} and GPTQ's {@code qzeros}). A constant nonzero group
 * {@code c} gets {@code scale = |c|} so it reconstructs exactly (to the scale format).
 * </ul>
 * A code is {@code clamp(rint(x * inv) + zp, qmin, qmax)} with {@code inv = 1/scale} (0 when that is
 * infinite: a zero or subnormal scale makes every code zp). Rounding is half to even, as
 * llama.cpp's {@code nearest_int} and {@code torch.round} do.
 *
 * <p>The fast path clamps in float first (the same thing, since the bounds are integers), rounds
 * with the 1.5*2^23 trick (exact half-to-even for |v| < 2^22), finds min/max with {@link RangeScan}
 * and writes 4-bit codes straight into the packed row. (Ternaries, not Math.min/max: on JDK 17 the
 * float intrinsics cost about three times as much here.)
 */
final class UniformCodec implements Codec {
    static final UniformCodec INSTANCE = new UniformCodec();

    private UniformCodec() {
    }

    // ---------------------------------------------------------------- reference

    @Override
    public QuantizedRow quantizeReference(String tensor, long row, float[] x, RowLayout layout, Clip clip) {
        return quantizeReference(tensor, row, x, layout, clip, null);
    }

    @Override
    public QuantizedRow quantizeReference(String tensor, long row, float[] x, RowLayout layout, Clip clip, double[] w) {
        Quantizer.requireFinite(tensor, row, x);
        Scheme s = layout.scheme();
        int qmin = s.symmetric() ? -(1 << (s.bits() - 1)) : 0;
        int qmax = s.symmetric() ? (1 << (s.bits() - 1)) - 1 : (1 << s.bits()) - 1;
        int[] codes = new int[x.length];
        byte[] scales = layout.newScales();
        byte[] zeros = layout.newZeros();
        for (int g = 0; g < layout.groupCount(); g++) {
            int from = layout.groupStart(g);
            int to = layout.groupEnd(g);
            ReferenceGroup range = ReferenceGroup.range(x, from, to, s, clip);
            float lo = range.lo();
            float hi = range.hi();
            boolean constant = range.constant();
            float scale = referenceScale(s, lo, hi, constant);
            if (!Float.isFinite(scale)) {
                throw Quantizer.scaleOverflow(tensor, row, g, lo, hi, s.scaleFormat());
            }
            int zp = referenceZeroPoint(s, lo, scale, qmax);
            if (s.range() == RangeMethod.MSE) {
                double best = referenceError(x, w, from, to, scale, zp, qmin, qmax);
                for (int k = 1; k <= 25; k++) {
                    float r = (50 - k) / 50f;
                    float cScale = referenceScale(s, lo * r, hi * r, constant);
                    int cZp = referenceZeroPoint(s, lo * r, cScale, qmax);
                    double e = referenceError(x, w, from, to, cScale, cZp, qmin, qmax);
                    if (e < best) {
                        best = e;
                        scale = cScale;
                        zp = cZp;
                    }
                }
            }
            float inv = ReferenceGroup.inverse(scale);
            for (int i = from; i < to; i++) {
                codes[i] = referenceCode(x[i], inv, zp, qmin, qmax);
            }
            layout.putScale(scales, g, scale);
            if (zeros != null) {
                layout.putZeroPoint(zeros, g, zp);
            }
        }
        return new QuantizedRow(layout.packCodes(codes), scales, zeros);
    }

    @Override
    public void dequantizeReference(byte[] codes, byte[] scales, byte[] zeros, RowLayout layout, float[] out) {
        for (int g = 0; g < layout.groupCount(); g++) {
            float scale = layout.scale(scales, g);
            int zp = layout.hasZeros() ? layout.zeroPoint(zeros, g) : 0;
            for (int i = layout.groupStart(g); i < layout.groupEnd(g); i++) {
                out[i] = (float) (layout.code(codes, i) - zp) * scale;
            }
        }
    }

    /** The stored (rounded) scale for range [lo, hi]. */
    private static float referenceScale(Scheme s, float lo, float hi, boolean constant) {
        if (s.symmetric()) {
            float m = hi >= -lo ? hi : lo;
            return s.scaleFormat().round(m / -(float) (1 << (s.bits() - 1)) + 0f); // + 0f stores +0, not -0
        }
        return s.scaleFormat().round(constant ? Math.max(-lo, hi) : (hi - lo) / ((1 << s.bits()) - 1));
    }

    private static int referenceZeroPoint(Scheme s, float lo, float scale, int qmax) {
        if (s.symmetric()) {
            return 0;
        }
        double zp = Math.rint(-lo * ReferenceGroup.inverse(scale));
        return (int) Math.max(0, Math.min(qmax, zp));
    }

    private static int referenceCode(float x, float inv, int zp, int qmin, int qmax) {
        double q = Math.rint(x * inv) + zp;
        return (int) Math.max(qmin, Math.min(qmax, q));
    }

    /** Squared reconstruction error of a group under one candidate scale and zero-point, each term times {@code w[i]} when given. */
    private static double referenceError(float[] x, double[] w, int from, int to, float scale, int zp, int qmin, int qmax) {
        float inv = ReferenceGroup.inverse(scale);
        double err = 0;
        for (int i = from; i < to; i++) {
            double d = (double) x[i] - (float) (referenceCode(x[i], inv, zp, qmin, qmax) - zp) * scale;
            err += w == null ? d * d : w[i] * d * d;
        }
        return err;
    }

    // ---------------------------------------------------------------- fast

    static final float MAGIC = 12582912f; // 1.5 * 2^23: adding it leaves rint(v) in the low mantissa bits
    static final int MAGIC_BITS = 0x4B400000;

    @Override
    public QuantizedRow quantizeVector(String tensor, long row, float[] x, RowLayout layout, Clip clip) {
        return UniformVector.quantize(tensor, row, x, layout, clip);
    }

    @Override
    public QuantizedRow quantizeScalar(String tensor, long row, float[] x, RowLayout layout, Clip clip) {
        return quantizeScalar(tensor, row, x, layout, clip, null);
    }

    @Override
    public QuantizedRow quantizeScalar(String tensor, long row, float[] x, RowLayout layout, Clip clip, double[] w) {
        Scheme s = layout.scheme();
        int qmin = s.qmin();
        int qmax = s.qmax();
        int bias = layout.codeBias();
        boolean nibbles = s.bits() == 4;
        boolean tensorRange = s.granularity() == Granularity.TENSOR;
        boolean mse = s.range() == RangeMethod.MSE;
        byte[] codes = layout.newCodes();
        byte[] scales = layout.newScales();
        byte[] zeros = layout.newZeros();
        RangeScan scan = new RangeScan();
        int groups = layout.groupCount();
        int len = layout.groupLength();
        for (int g = 0; g < groups; g++) {
            int from = layout.groupStart(g);
            int to = Math.min(from + len, x.length); // layout.groupEnd(g) in the form C2 optimises best (~20% at g128)
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
            boolean constant = false;
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
                constant = gmin == gmax && gmin != 0f && (hi == gmax || lo == gmin);
            }
            float scale = scale(s, lo, hi, constant);
            if (!Float.isFinite(scale)) {
                throw Quantizer.scaleOverflow(tensor, row, g, lo, hi, s.scaleFormat());
            }
            int zp = zeroPoint(s, lo, scale);
            if (mse) {
                double best = error(x, w, from, to, scale, zp, qmin, qmax);
                for (int k = 1; k < Quantizer.CLIP_RATIOS.length; k++) {
                    float r = Quantizer.CLIP_RATIOS[k];
                    float cScale = scale(s, lo * r, hi * r, constant);
                    int cZp = zeroPoint(s, lo * r, cScale);
                    double e = error(x, w, from, to, cScale, cZp, qmin, qmax);
                    if (e < best) {
                        best = e;
                        scale = cScale;
                        zp = cZp;
                    }
                }
            }
            if (nibbles) {
                encodePacked(x, from, to, scale, zp, qmin, qmax, bias, codes);
            } else {
                encode(x, from, to, scale, zp, qmin, qmax, codes);
            }
            layout.putScale(scales, g, scale);
            if (zeros != null) {
                layout.putZeroPoint(zeros, g, zp);
            }
        }
        return new QuantizedRow(codes, scales, zeros);
    }

    @Override
    public void dequantize(byte[] codes, byte[] scales, byte[] zeros, RowLayout layout, float[] out) {
        if (layout.scheme().bits() == 4) {
            if (VectorSupport.enabled()) {
                UniformVector.decodeNibbles(codes, scales, zeros, layout, out);
            } else {
                decodeNibbles(codes, scales, zeros, layout, out);
            }
            return;
        }
        boolean unsigned = layout.hasZeros();
        int len = layout.groupLength();
        for (int g = 0; g < layout.groupCount(); g++) {
            float scale = layout.scale(scales, g);
            int from = layout.groupStart(g);
            int to = Math.min(from + len, out.length); // layout.groupEnd(g) in the form C2 optimises best
            if (unsigned) {
                int zp = layout.zeroPoint(zeros, g);
                for (int i = from; i < to; i++) {
                    out[i] = (float) ((codes[i] & 0xff) - zp) * scale;
                }
            } else {
                for (int i = from; i < to; i++) {
                    out[i] = (float) codes[i] * scale;
                }
            }
        }
    }

    @Override
    public void nibbleTable(RowLayout layout, byte[] scales, byte[] zeros, int g, float[] lut) {
        float scale = layout.scale(scales, g);
        int first = -layout.codeBias() - (zeros == null ? 0 : layout.zeroPoint(zeros, g)); // code - zp of nibble 0
        for (int n = 0; n < 16; n++) {
            lut[n] = (float) (first + n) * scale;
        }
    }

    /** The stored (rounded) scale for range [lo, hi]. */
    static float scale(Scheme s, float lo, float hi, boolean constant) {
        ScaleFormat fmt = s.scaleFormat();
        if (s.symmetric()) {
            float m = hi >= -lo ? hi : lo;
            return fmt.round(m * (s.bits() == 4 ? -0.125f : -0.0078125f) + 0f); // = m / -2^(b-1) exactly
        }
        return fmt.round(constant ? Math.max(-lo, hi) : (hi - lo) / s.qmax());
    }

    static int zeroPoint(Scheme s, float lo, float scale) {
        if (s.symmetric()) {
            return 0;
        }
        double zp = Math.rint(-lo * inverse(scale));
        return (int) Math.max(0, Math.min(s.qmax(), zp));
    }

    /** {@code 1/scale}, or 0 when that is infinite. */
    static float inverse(float scale) {
        float inv = 1f / scale;
        return Float.isInfinite(inv) ? 0f : inv;
    }

    static double error(float[] x, int from, int to, float scale, int zp, int qmin, int qmax) {
        float inv = inverse(scale);
        float lo = qmin - zp;
        float hi = qmax - zp;
        double err = 0;
        for (int i = from; i < to; i++) {
            double d = roundTripError(x[i], inv, lo, hi, scale);
            err += d * d;
        }
        return err;
    }

    /** {@link #error}, each squared error times {@code w[i]} when {@code w} is not null. */
    static double error(float[] x, double[] w, int from, int to, float scale, int zp, int qmin, int qmax) {
        if (w == null) {
            return error(x, from, to, scale, zp, qmin, qmax);
        }
        float inv = inverse(scale);
        float lo = qmin - zp;
        float hi = qmax - zp;
        double err = 0;
        for (int i = from; i < to; i++) {
            double d = roundTripError(x[i], inv, lo, hi, scale);
            err += w[i] * d * d;
        }
        return err;
    }

    /** {@code x} minus its reconstruction, codes (relative to the zero-point) clamped to {@code [lo, hi]}. */
    private static double roundTripError(float x, float inv, float lo, float hi, float scale) {
        float v = x * inv;
        v = v < lo ? lo : (v > hi ? hi : v);
        int q = Float.floatToRawIntBits(v + MAGIC) - MAGIC_BITS;
        return (double) x - (float) q * scale;
    }

    /** 8-bit: one byte per code, int8 or unsigned alike as the low byte of {@code code}. */
    static void encode(float[] x, int from, int to, float scale, int zp, int qmin, int qmax, byte[] out) {
        float inv = inverse(scale);
        float lo = qmin - zp;
        float hi = qmax - zp;
        int add = zp - MAGIC_BITS;
        for (int i = from; i < to; i++) {
            float v = x[i] * inv;
            v = v < lo ? lo : (v > hi ? hi : v);
            out[i] = (byte) (Float.floatToRawIntBits(v + MAGIC) + add);
        }
    }

    /**
     * 4-bit: writes {@code code + bias} straight into the packed row, two nibbles per store. A group
     * may start on a high nibble (odd group sizes); its last element, when it lands on a low nibble,
     * leaves the high nibble 0 for the next group or the row's padding.
     */
    static void encodePacked(float[] x, int from, int to, float scale, int zp, int qmin, int qmax, int bias, byte[] out) {
        float inv = inverse(scale);
        float lo = qmin - zp;
        float hi = qmax - zp;
        int add = zp + bias - MAGIC_BITS;
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

    static int nibble(float x, float inv, float lo, float hi, int add) {
        float v = x * inv;
        v = v < lo ? lo : (v > hi ? hi : v);
        return Float.floatToRawIntBits(v + MAGIC) + add;
    }
}
