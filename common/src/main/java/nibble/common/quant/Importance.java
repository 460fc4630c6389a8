package nibble.common.quant;

/**
 * What weights a row's quantization error: nothing (every element alike), the mean x² of the
 * element's input channel measured by {@code calibrate} on calibration data (llama.cpp's importance
 * matrix idea, in the clip search of {@link RangeMethod#MSE}: an error in a weight that multiplies
 * large activations costs more), or the layer input's whole {@code XᵀX} from {@code calibrate
 * --hessian}: the output error {@code (w - w')ᵀ H (w - w')}, which {@link Gptq} keeps small by
 * correcting later columns for each column's rounding error.
 */
public enum Importance {
    NONE, ACTIVATIONS, HESSIAN
}
