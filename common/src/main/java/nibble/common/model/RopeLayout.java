package nibble.common.model;

/**
 * Which dimensions of a head rotary position embedding rotates together. The two layouts are the
 * same model with q/k rows permuted, so a runtime must know which one a checkpoint's rows follow.
 */
public enum RopeLayout {
    /** Adjacent pairs {@code (2i, 2i+1)}: Meta's original layout, kept by llama2.c. */
    INTERLEAVED,
    /** Pairs {@code (i, i + headDim/2)}: Hugging Face's {@code rotate_half}. */
    HALF
}
