package nibble.common.report;

import java.util.Objects;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import nibble.common.json.Json;
import nibble.common.stats.ErrorStats;

/**
 * How well one quantized tensor reconstructs the original: the report's tensor-level row. It keeps the
 * signal and noise energies as well as the derived metrics so that {@link LayerError} can aggregate
 * tensors exactly (SQNR does not average).
 *
 * @param name the tensor name
 * @param layer the decoder layer index parsed from {@code model.layers.N.}, or null for non-layer tensors
 * @param scheme a short scheme label such as {@code "int4 g32 mse"} or {@code "keep"}
 * @param bitsPerWeight stored bits per element, codes plus scales and zero-points
 * @param elements the element count
 * @param mse mean squared error
 * @param sqnrDb signal-to-quantization-noise ratio in dB; null when not finite (exact reconstruction)
 * @param maxAbsError the largest absolute error
 * @param cosine cosine similarity of original and reconstruction
 * @param sumSqSignal Σ x²; NaN when unknown (see {@link #fromMetrics})
 * @param sumSqError Σ (x − x')²
 */
public record TensorError(String name, Integer layer, String scheme, double bitsPerWeight, long elements, double mse,
                          Double sqnrDb, double maxAbsError, double cosine, double sumSqSignal, double sumSqError) {

    private static final Pattern LAYER = Pattern.compile("(?:^|\\.)model\\.layers\\.(\\d+)\\.");

    public TensorError {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(scheme, "scheme");
        if (elements < 0) {
            throw new IllegalArgumentException("tensor '" + name + "': negative element count " + elements);
        }
        if (sqnrDb != null && !Double.isFinite(sqnrDb)) {
            sqnrDb = null;
        }
    }

    /** A tensor's row from its accumulated reconstruction error; the layer comes from the name. */
    public static TensorError of(String name, String scheme, double bitsPerWeight, ErrorStats e) {
        return new TensorError(name, layerOf(name), scheme, bitsPerWeight, e.count(), e.mse(),
                Json.finite(e.sqnrDb()), e.maxAbsError(), e.cosine(), e.sumSqSignal(), e.sumSqError());
    }

    /**
     * A tensor's row from the metrics a quantized manifest stores (mse, sqnr_db, max_abs_error, cosine).
     * The energies are recovered: noise = mse·elements and signal = noise·10^(sqnr/10). For an exact
     * tensor (sqnr null, mse 0) the signal is unknown and stored as NaN, which {@link LayerError} skips;
     * with sqnr null and mse > 0 (noise on a zero signal) it is 0.
     */
    public static TensorError fromMetrics(String name, String scheme, double bitsPerWeight, long elements,
                                          double mse, Double sqnrDb, double maxAbsError, double cosine) {
        double noise = mse * elements;
        double signal;
        if (sqnrDb != null && Double.isFinite(sqnrDb)) {
            signal = noise * Math.pow(10, sqnrDb / 10);
        } else {
            signal = noise == 0 ? Double.NaN : 0;
        }
        return new TensorError(name, layerOf(name), scheme, bitsPerWeight, elements, mse, sqnrDb, maxAbsError,
                cosine, signal, noise);
    }

    /** The N of {@code model.layers.N.} in a tensor name, or null when the name has none. */
    public static Integer layerOf(String name) {
        Matcher m = LAYER.matcher(name);
        if (!m.find()) {
            return null;
        }
        try {
            return Integer.valueOf(m.group(1));
        } catch (NumberFormatException e) {
            return null; // more digits than an int holds: not a layer index
        }
    }
}
