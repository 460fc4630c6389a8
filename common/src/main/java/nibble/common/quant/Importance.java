package nibble.common.quant;

/**
 * What weights each element's squared error in the error-minimising search ({@link RangeMethod#MSE}):
 * nothing (every element alike), or the mean x² of the element's input channel measured by
 * {@code calibrate} on calibration data (llama.cpp's importance matrix idea): an error in a weight
 * that multiplies large activations costs more.
 */
public enum Importance {
    NONE, ACTIVATIONS
}
