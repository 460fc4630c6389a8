package nibble.common.report;

import java.util.List;
import java.util.Objects;
import nibble.common.model.ActivationQuant;

/**
 * Everything one evaluation of a quantized table against its original found, in one immutable value that
 * {@link ReportWriter} renders as JSON, Markdown or HTML. Tensor-level errors are always there; the
 * model-level half is null when the architecture is unknown.
 *
 * @param original the original table's URI
 * @param quantized the quantized table's URI
 * @param recipe the recipe name, or null when unknown
 * @param activations how activations were treated during the model-level run
 * @param gate the thresholds and the verdict
 * @param model model-level metrics, or null
 * @param layers per-layer aggregates of {@code tensors} ({@link LayerError#of})
 * @param tensors one row per tensor, in the order given
 */
public record EvalReport(String original, String quantized, String recipe, ActivationQuant activations, Gate gate,
                         ModelLevel model, List<LayerError> layers, List<TensorError> tensors) {

    public EvalReport {
        Objects.requireNonNull(original, "original");
        Objects.requireNonNull(quantized, "quantized");
        Objects.requireNonNull(activations, "activations");
        Objects.requireNonNull(gate, "gate");
        layers = List.copyOf(layers);
        tensors = List.copyOf(tensors);
    }

    /** A report whose gate verdict and layer rows are computed from the other parts. */
    public static EvalReport of(String original, String quantized, String recipe, ActivationQuant activations,
                                Gate.Thresholds thresholds, ModelLevel model, List<TensorError> tensors) {
        Gate gate = Gate.check(model == null ? null : model.summary(), thresholds);
        return new EvalReport(original, quantized, recipe, activations, gate, model, LayerError.of(tensors), tensors);
    }

    /** How {@link #activations} is written: {@link ActivationQuant#label}. */
    public String activationsLabel() {
        return activations.label();
    }
}
