package nibble.common.quant;

import java.util.Locale;

import nibble.common.InvalidInputException;

/**
 * A quantization scheme: code width, symmetric or asymmetric, how many values share a scale, the
 * codebook, how the range is chosen and how scales are stored.
 *
 * <p>Uniform symmetric codes are {@code -2^(b-1) .. 2^(b-1)-1} with zero-point 0; uniform asymmetric
 * codes are {@code 0 .. 2^b-1} with an integer zero-point per group (see {@link Quantizer}). NF4 and
 * LOG2 are 4-bit, symmetric only. {@code groupSize} is the group length for {@link Granularity#GROUP}
 * and 0 otherwise; {@code percentile} (e.g. 99.9) only means something with
 * {@link RangeMethod#PERCENTILE}, where it tells the driver which |w| percentile to pass as the clip,
 * and is 0 otherwise. {@code importance} ({@link Importance}) weighs the MSE search's squared errors
 * by the input channels' activation statistics (only with range mse; any codebook), or
 * quantizes with GPTQ against the layer input's Hessian ({@link Importance#HESSIAN}).
 */
public record Scheme(int bits, boolean symmetric, Granularity granularity, int groupSize, Codebook codebook,
        RangeMethod range, double percentile, ScaleFormat scaleFormat, Importance importance) implements Treatment {

    public Scheme {
        if (importance == null) {
            importance = Importance.NONE;
        }
        if (importance == Importance.ACTIVATIONS && range != RangeMethod.MSE) {
            throw new InvalidInputException("importance activations needs range mse");
        }
        if (importance == Importance.HESSIAN && (range == RangeMethod.PERCENTILE || codebook != Codebook.UNIFORM
                || granularity == Granularity.TENSOR)) {
            throw new InvalidInputException("importance hessian (GPTQ) needs range minmax or mse, codebook uniform and granularity "
                    + "channel or group");
        }
        if (granularity == Granularity.SUPERBLOCK && (bits != 4 || symmetric || codebook != Codebook.UNIFORM
                || range == RangeMethod.PERCENTILE || scaleFormat != ScaleFormat.F16 || importance == Importance.HESSIAN)) {
            throw new InvalidInputException("granularity superblock (the K-quant layout, GGUF Q4_K) needs bits 4, symmetric false, "
                    + "codebook uniform, range minmax or mse, scale_dtype F16 and importance none or activations");
        }
        if (bits != 4 && bits != 8) {
            throw new InvalidInputException("bits must be 4 or 8, got " + bits);
        }
        if (granularity == Granularity.GROUP ? groupSize <= 0 : groupSize != 0) {
            throw new InvalidInputException(granularity == Granularity.GROUP
                    ? "group_size must be positive, got " + groupSize
                    : "group_size only applies to granularity group");
        }
        if (codebook != Codebook.UNIFORM && (bits != 4 || !symmetric)) {
            throw new InvalidInputException("codebook " + codebook.name().toLowerCase(Locale.ROOT) + " needs bits 4 and symmetric true");
        }
        if (range == RangeMethod.MSE && granularity == Granularity.TENSOR) {
            throw new InvalidInputException("range mse needs granularity channel or group (a per-tensor range comes from statistics)");
        }
        if (range == RangeMethod.PERCENTILE ? !(percentile > 0 && percentile <= 100) : percentile != 0) {
            throw new InvalidInputException(range == RangeMethod.PERCENTILE
                    ? "percentile must be in (0, 100], got " + percentile
                    : "percentile only applies to range percentile");
        }
    }

    /** A scheme whose search weighs every element alike. */
    public Scheme(int bits, boolean symmetric, Granularity granularity, int groupSize, Codebook codebook, RangeMethod range,
                  double percentile, ScaleFormat scaleFormat) {
        this(bits, symmetric, granularity, groupSize, codebook, range, percentile, scaleFormat, Importance.NONE);
    }

    /** Round-to-nearest on min/max groups of {@code groupSize}, F16 scales. */
    public static Scheme group(int bits, boolean symmetric, int groupSize) {
        return new Scheme(bits, symmetric, Granularity.GROUP, groupSize, Codebook.UNIFORM, RangeMethod.MINMAX, 0, ScaleFormat.F16);
    }

    /** One scale per row. */
    public static Scheme channel(int bits, boolean symmetric) {
        return new Scheme(bits, symmetric, Granularity.CHANNEL, 0, Codebook.UNIFORM, RangeMethod.MINMAX, 0, ScaleFormat.F16);
    }

    /** One scale per tensor; the caller passes the tensor range as a {@link Clip}. */
    public static Scheme tensor(int bits, boolean symmetric) {
        return new Scheme(bits, symmetric, Granularity.TENSOR, 0, Codebook.UNIFORM, RangeMethod.MINMAX, 0, ScaleFormat.F16);
    }

    public Scheme withCodebook(Codebook c) {
        return new Scheme(bits, symmetric, granularity, groupSize, c, range, percentile, scaleFormat, importance);
    }

    public Scheme withRange(RangeMethod r) {
        return new Scheme(bits, symmetric, granularity, groupSize, codebook, r, r == RangeMethod.PERCENTILE ? 99.9 : 0, scaleFormat,
                importance);
    }

    public Scheme withPercentile(double p) {
        return new Scheme(bits, symmetric, granularity, groupSize, codebook, RangeMethod.PERCENTILE, p, scaleFormat, importance);
    }

    public Scheme withScaleFormat(ScaleFormat f) {
        return new Scheme(bits, symmetric, granularity, groupSize, codebook, range, percentile, f, importance);
    }

    public Scheme withImportance(Importance i) {
        return new Scheme(bits, symmetric, granularity, groupSize, codebook, range, percentile, scaleFormat, i);
    }

    /** Smallest code: -8 / -128 symmetric uniform, else 0. */
    public int qmin() {
        return symmetric && codebook == Codebook.UNIFORM ? -(1 << (bits - 1)) : 0;
    }

    /** Largest code: 7 / 127 symmetric uniform, else 15 / 255. */
    public int qmax() {
        return symmetric && codebook == Codebook.UNIFORM ? (1 << (bits - 1)) - 1 : (1 << bits) - 1;
    }

    /** The scheme as one line of recipe JSON ({@link SchemeJson}), for messages and plans. */
    @Override
    public String toString() {
        return nibble.common.json.Json.text(SchemeJson.write(this));
    }
}
