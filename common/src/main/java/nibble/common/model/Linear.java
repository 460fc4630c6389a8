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

    /**
     * The product with a block of token rows: {@code out[t·rows() + r] = Σ_c W[r][c]·x[t·cols() + c]}
     * for {@code t < tokens}, as {@link MatMul} computes it (one fused multiply-add chain per element,
     * in column order): the batched forward pass's product. Each weight is read or decoded once per
     * call, whatever the number of tokens.
     */
    void matmul(float[] x, int tokens, float[] out);

    /** The plain definition of {@link #matmul} (same floats, slower): for tests. */
    void matmulReference(float[] x, int tokens, float[] out);
}
