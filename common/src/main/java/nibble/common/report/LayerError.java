package nibble.common.report;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The reconstruction error of one decoder layer's tensors taken together: the report's per-layer row.
 * Computed from the tensors' energies, not by averaging their metrics, so a large tensor weighs as much as
 * its elements: mse = Σ noise / Σ elements and SQNR = 10·log10(Σ signal / Σ noise).
 *
 * @param layer the decoder layer index
 * @param elements elements over the layer's tensors
 * @param mse mean squared error over those elements
 * @param sqnrDb the layer SQNR in dB; null when not finite (no noise at all)
 */
public record LayerError(int layer, long elements, double mse, Double sqnrDb) {

    /**
     * One row per layer index that occurs in {@code tensors}, in increasing order; tensors without a layer
     * are left out. A tensor whose signal energy is unknown (NaN) adds only its noise and elements.
     */
    public static List<LayerError> of(List<TensorError> tensors) {
        Map<Integer, Sums> byLayer = new TreeMap<>();
        for (TensorError t : tensors) {
            if (t.layer() == null) {
                continue;
            }
            Sums s = byLayer.computeIfAbsent(t.layer(), k -> new Sums());
            if (!Double.isNaN(t.sumSqSignal())) {
                s.signal += t.sumSqSignal();
            }
            s.noise += t.sumSqError();
            s.elements += t.elements();
        }
        List<LayerError> out = new ArrayList<>(byLayer.size());
        for (Map.Entry<Integer, Sums> e : byLayer.entrySet()) {
            Sums s = e.getValue();
            double sqnr = 10 * Math.log10(s.signal / s.noise);
            out.add(new LayerError(e.getKey(), s.elements, s.elements == 0 ? Double.NaN : s.noise / s.elements,
                    Double.isFinite(sqnr) ? sqnr : null));
        }
        return List.copyOf(out);
    }

    private static final class Sums {
        double signal;
        double noise;
        long elements;
    }
}
