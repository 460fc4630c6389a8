package nibble.common.model;

import nibble.common.Halfs;

/**
 * How the model treats the input vector of each {@link Linear} before multiplying: to measure what
 * weight-and-activation (W8A8-style) quantization would cost, or to compute what llama.cpp computes,
 * without an int8 kernel.
 */
public enum ActivationQuant {
    /** Inputs stay float. */
    NONE("none"),
    /**
     * Per token, the input vector is rounded to int8 with one absmax scale ({@code absmax / 127},
     * round half away from zero, clamp to [-127, 127]) and dequantized. The q/k/v projections share one
     * input, as do gate/up; o and down each have their own. The output head's input stays float.
     */
    INT8_DYNAMIC("int8-dynamic"),
    /**
     * What llama.cpp's CPU backend does before a Q4_0, Q4_1, Q5_0, Q5_1 or Q8_0 dot product: the input of
     * every linear layer whose weights are quantized (the output head too) is rounded to Q8_0 blocks of
     * 32 values ({@link #q8_0RoundTrip}) and dequantized; inputs of dense layers stay float. With it,
     * Nibble's perplexity of a quantized table is the perplexity llama.cpp computes for its GGUF export.
     * The input of a K-quant matrix (Q4_K) is rounded to Q8_K blocks of 256 instead ({@link #q8_KRoundTrip}), as
     * llama.cpp does for Q4_K; when layers sharing one input differ, the first one's (q of q/k/v, gate of
     * gate/up) decides.
     */
    Q8_0("q8_0");

    private final String label;

    ActivationQuant(String label) {
        this.label = label;
    }

    /** The name used by {@code --activations} and in reports. */
    public String label() {
        return label;
    }

    /** The mode whose {@link #label} is {@code label}, or null. */
    public static ActivationQuant ofLabel(String label) {
        for (ActivationQuant q : values()) {
            if (q.label.equals(label)) {
                return q;
            }
        }
        return null;
    }

    /** Whether the input of {@code layer} is rounded before {@code layer} reads it. */
    boolean rounds(Linear layer, boolean head) {
        return switch (this) {
            case NONE -> false;
            case INT8_DYNAMIC -> !head;
            case Q8_0 -> layer instanceof QuantizedMatrix;
        };
    }

    /**
     * Rounds {@code x[0..n)}, the input of {@code layer} (and of the layers sharing it), into {@code out} as this
     * mode does (not {@link #NONE}). Under {@link #Q8_0} the input of a K-quant matrix (GGUF Q4_K) is rounded to
     * Q8_K instead, as llama.cpp does ({@link #q8_KRoundTrip}).
     */
    void roundTrip(Linear layer, float[] x, int n, float[] out) {
        if (this == Q8_0 && layer instanceof QuantizedMatrix m && m.kQuant()) {
            q8_KRoundTrip(x, n, out);
        } else if (this == Q8_0) {
            q8_0RoundTrip(x, n, out);
        } else {
            int8RoundTrip(x, n, out);
        }
    }

    /**
     * Rounds {@code x[0..n)} into {@code out} as ggml's x86 (AVX2) {@code quantize_row_q8_0} does, block
     * by block of 32 (a shorter last block is its own block): {@code amax} the block's largest
     * magnitude, codes {@code rint(x * (127 / amax))} (ties to even, in float), the scale
     * {@code amax / 127} stored as F16; the value is code times stored scale. A zero block stays zero.
     * (ggml's portable reference differs only in rounding ties away from zero and multiplying by
     * {@code 1 / (amax / 127)}.)
     */
    public static void q8_0RoundTrip(float[] x, int n, float[] out) {
        for (int start = 0; start < n; start += 32) {
            int end = Math.min(n, start + 32);
            float amax = 0;
            for (int i = start; i < end; i++) {
                amax = Math.max(amax, Math.abs(x[i]));
            }
            float d = Halfs.roundToF16(amax / 127f);
            float id = amax != 0 ? 127f / amax : 0f;
            for (int i = start; i < end; i++) {
                out[i] = (float) Math.rint(x[i] * id) * d;
            }
        }
    }

    /**
     * Rounds {@code x[0..n)} into {@code out} as ggml's {@code quantize_row_q8_K} does before a K-quant dot product,
     * block by block of 256 (a shorter last block is its own block): {@code max} the block's value of largest
     * magnitude (the first on ties), {@code iscale = -127 / max}, codes {@code min(127, rint(iscale * x))} (ties to
     * even), the value code times {@code 1 / iscale} (an F32 scale). A zero block stays zero.
     */
    public static void q8_KRoundTrip(float[] x, int n, float[] out) {
        for (int start = 0; start < n; start += 256) {
            int end = Math.min(n, start + 256);
            float max = 0;
            float amax = 0;
            for (int i = start; i < end; i++) {
                float ax = Math.abs(x[i]);
                if (ax > amax) {
                    amax = ax;
                    max = x[i];
                }
            }
            if (amax == 0) {
                for (int i = start; i < end; i++) {
                    out[i] = 0f;
                }
                continue;
            }
            float iscale = -127f / max;
            float d = 1f / iscale;
            for (int i = start; i < end; i++) {
                out[i] = Math.min(127f, (float) Math.rint(iscale * x[i])) * d;
            }
        }
    }

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
