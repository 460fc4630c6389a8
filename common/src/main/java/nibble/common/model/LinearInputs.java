package nibble.common.model;

/**
 * An observer of the vectors a {@link LlamaModel} feeds its linear layers, called once per token and
 * input before the layers that read it (calibration). q, k and v read one input, gate and up one;
 * the vector must not be changed or kept. The decoder ({@link LlamaModel#forward}) shows one token's
 * inputs site after site; the batched pass ({@link LlamaModel#prefill}) shows one site's rows for
 * every token, in position order, then the next site. Either way each site sees its tokens in
 * position order.
 */
public interface LinearInputs {

    /** Where in the model a linear input is. */
    enum Site {
        /** The attention norm's output, read by q_proj, k_proj and v_proj. */
        ATTENTION_IN,
        /** The attention's output, read by o_proj. */
        ATTENTION_OUT,
        /** The MLP norm's output, read by gate_proj and up_proj. */
        MLP_IN,
        /** SwiGLU's product, read by down_proj. */
        MLP_HIDDEN,
        /** The final norm's output, read by the output head (layer -1). */
        HEAD_IN
    }

    /** {@code x[0, n)} is about to be multiplied by the linear layers at {@code site} of {@code layer} (-1 for the head). */
    void observe(int layer, Site site, float[] x, int n);
}
