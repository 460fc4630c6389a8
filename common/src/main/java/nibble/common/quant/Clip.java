package nibble.common.quant;

/**
 * A range supplied from outside the row: for {@link Granularity#TENSOR} the tensor's range (so every
 * row gets the same scale), otherwise a cap on each group's own range (percentile clipping, e.g.
 * {@code Clip.abs(p999)}). The interval is widened to include 0 before use; values outside saturate.
 */
public record Clip(float min, float max) implements java.io.Serializable {

    public Clip {
        if (!Float.isFinite(min) || !Float.isFinite(max) || min > max) {
            throw new IllegalArgumentException("bad clip range [" + min + ", " + max + "]");
        }
        min = Math.min(min, 0f);
        max = Math.max(max, 0f);
    }

    /** The symmetric range [-c, c], as from a percentile of |w|. */
    public static Clip abs(float c) {
        return new Clip(-Math.abs(c), Math.abs(c));
    }
}
