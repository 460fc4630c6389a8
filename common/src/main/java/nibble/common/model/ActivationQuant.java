package nibble.common.model;

/**
 * How the model treats the input vector of each decoder {@link Linear} before multiplying: to measure
 * what weight-and-activation (W8A8-style) quantization would cost, without an int8 kernel.
 */
public enum ActivationQuant {
    /** Inputs stay float. */
    NONE,
    /**
     * Per token, the input vector is rounded to int8 with one absmax scale ({@code absmax / 127},
     * round half away from zero, clamp to [-127, 127]) and dequantized. The q/k/v projections share one
     * input, as do gate/up; o and down each have their own. The output head's input stays float.
     */
    INT8_DYNAMIC;

    /**
     * Rounds {@code x[0..n)} into {@code out} as {@link #INT8_DYNAMIC} describes; an all-zero vector stays
     * zero.
     */
    public static void int8RoundTrip(float[] x, int n, float[] out) {
        float absmax = 0;
        for (int i = 0; i < n; i++) {
            absmax = Math.max(absmax, Math.abs(x[i]));
        }
        if (absmax == 0 || !Float.isFinite(absmax)) {
            System.arraycopy(x, 0, out, 0, n);
            return;
        }
        float scale = absmax / 127f;
        for (int i = 0; i < n; i++) {
            float r = x[i] / scale;
            // In double, |r| + 0.5 is exact, so halves round away from zero and nothing else does.
            float q = (float) Math.floor(Math.abs((double) r) + 0.5);
            q = Math.min(q, 127f);
            out[i] = Math.copySign(q, r) * scale;
        }
    }
}
