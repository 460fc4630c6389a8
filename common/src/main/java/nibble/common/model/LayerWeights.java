package nibble.common.model;

/** One decoder layer's weights: the two RMSNorm gains and the seven projections. */
public record LayerWeights(float[] inputNorm, Linear q, Linear k, Linear v, Linear o, float[] postAttentionNorm,
                           Linear gate, Linear up, Linear down) {
}
