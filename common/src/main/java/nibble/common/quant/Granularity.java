package nibble.common.quant;

/**
 * How many values share one scale: the whole tensor, one row ("channel": an output channel of a
 * weight matrix), or consecutive groups of {@code group_size} values along a row.
 */
public enum Granularity {
    TENSOR, CHANNEL, GROUP
}
