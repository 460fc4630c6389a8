package nibble.common.quant;

/**
 * How many values share one scale: the whole tensor, one row ("channel": an output channel of a
 * weight matrix), consecutive groups of {@code group_size} values along a row, or {@link #SUPERBLOCK}:
 * ggml's K-quant layout (super-blocks of 256 values, 8 sub-blocks of 32 with 6-bit scales and
 * minimums under two F16 factors; {@link SuperBlockCodec}), 4-bit asymmetric only.
 */
public enum Granularity {
    TENSOR, CHANNEL, GROUP, SUPERBLOCK
}
