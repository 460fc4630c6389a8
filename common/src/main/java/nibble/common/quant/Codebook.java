package nibble.common.quant;

/**
 * The values a code stands for. {@link #UNIFORM} is the integer grid (symmetric or asymmetric, 4 or
 * 8 bits); {@link #NF4} and {@link #LOG2} are 4-bit symmetric tables in [-1, 1] scaled by the group
 * absmax (see {@link Nf4} and {@link Log2Code}).
 */
public enum Codebook {
    UNIFORM, NF4, LOG2
}
