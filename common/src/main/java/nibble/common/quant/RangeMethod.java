package nibble.common.quant;

/**
 * How a group's quantization range is chosen: the group's own min/max; min/max capped by a clip
 * value the caller supplies per row (e.g. p99.9 of |w| from statistics); or the error-minimising
 * search over a grid of clip ratios (see {@link Quantizer#CLIP_RATIOS}).
 */
public enum RangeMethod {
    MINMAX, PERCENTILE, MSE
}
