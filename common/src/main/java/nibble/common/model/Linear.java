package nibble.common.model;

/**
 * A linear layer without bias, {@code out = W x} with {@code W} of shape {@code [rows, cols]} =
 * {@code [out_features, in_features]} as in {@code nn.Linear}. The model only multiplies, so the same
 * model code runs dense and quantized weights.
 */
public interface Linear {

    /** Output features. */
    int rows();

    /** Input features. */
    int cols();

    /** {@code out[r] = sum_c W[r][c] * x[c]}; {@code x} has at least {@code cols()} and {@code out} {@code rows()} values. */
    void matvec(float[] x, float[] out);
}
