package nibble.common.model;

import java.util.Locale;
import java.util.Map;
import nibble.common.InvalidInputException;

/**
 * The shape of a Llama model, read from an architecture map in Hugging Face {@code config.json} keys
 * (as a checkpoint header or a table manifest carries it), so the runtime can run any checkpoint the
 * readers accept.
 */
public record LlamaConfig(int hiddenSize, int intermediateSize, int numLayers, int numHeads, int numKvHeads,
                          int vocabSize, int maxPositions, boolean tieWordEmbeddings, double rmsNormEps,
                          double ropeTheta, RopeLayout ropeLayout) {

    public static final double DEFAULT_RMS_NORM_EPS = 1e-5;
    public static final double DEFAULT_ROPE_THETA = 10000.0;

    public LlamaConfig {
        positive("hidden_size", hiddenSize);
        positive("intermediate_size", intermediateSize);
        positive("num_hidden_layers", numLayers);
        positive("num_attention_heads", numHeads);
        positive("num_key_value_heads", numKvHeads);
        positive("vocab_size", vocabSize);
        positive("max_position_embeddings", maxPositions);
        if (hiddenSize % numHeads != 0) {
            throw bad("num_attention_heads=" + numHeads + " does not divide hidden_size=" + hiddenSize);
        }
        if (numHeads % numKvHeads != 0) {
            throw bad("num_key_value_heads=" + numKvHeads + " does not divide num_attention_heads=" + numHeads);
        }
        if ((hiddenSize / numHeads) % 2 != 0) {
            throw bad("head size " + hiddenSize / numHeads + " is odd (RoPE needs it even)");
        }
        if (!(rmsNormEps > 0) || Double.isInfinite(rmsNormEps)) {
            throw bad("rms_norm_eps=" + rmsNormEps + " must be positive");
        }
        if (!(ropeTheta > 0) || Double.isInfinite(ropeTheta)) {
            throw bad("rope_theta=" + ropeTheta + " must be positive");
        }
        if (ropeLayout == null) {
            throw bad("rope layout is required");
        }
    }

    /**
     * Reads the architecture keys. Required: {@code hidden_size}, {@code intermediate_size},
     * {@code num_hidden_layers}, {@code num_attention_heads}, {@code vocab_size},
     * {@code max_position_embeddings}. Defaults as Hugging Face's {@code LlamaConfig}:
     * {@code num_key_value_heads} = heads, {@code tie_word_embeddings} false; {@code rms_norm_eps}
     * 1e-5, {@code rope_theta} 10000. {@code nibble_rope_layout} "interleaved" (llama2.c) or "half"
     * (the default, Hugging Face).
     *
     * @throws InvalidInputException naming the key when one is missing, mistyped or out of range, or
     *     when the map describes a model this runtime does not run (another model_type, rope_scaling,
     *     a head_dim other than hidden_size/heads)
     */
    public static LlamaConfig fromArchitecture(Map<String, Object> a) {
        if (a == null) {
            throw bad("no architecture (a safetensors checkpoint needs its config.json)");
        }
        Object type = a.get("model_type");
        if (type == null) {
            throw bad("missing key 'model_type'");
        }
        if (!"llama".equals(type)) {
            throw bad("model_type '" + type + "' is not supported (supported: llama)");
        }
        Object scaling = a.get("rope_scaling");
        if (scaling != null) {
            throw bad("rope_scaling " + scaling + " is not supported");
        }
        int hidden = intKey(a, "hidden_size", null);
        int heads = intKey(a, "num_attention_heads", null);
        Object headDim = a.get("head_dim");
        if (headDim != null && heads > 0 && intKey(a, "head_dim", null) * heads != hidden) {
            throw bad("head_dim=" + headDim + " is not hidden_size/num_attention_heads (not supported)");
        }
        return new LlamaConfig(hidden,
                intKey(a, "intermediate_size", null),
                intKey(a, "num_hidden_layers", null),
                heads,
                intKey(a, "num_key_value_heads", heads),
                intKey(a, "vocab_size", null),
                intKey(a, "max_position_embeddings", null),
                boolKey(a, "tie_word_embeddings", false),
                doubleKey(a, "rms_norm_eps", DEFAULT_RMS_NORM_EPS),
                doubleKey(a, "rope_theta", DEFAULT_ROPE_THETA),
                layout(a.get("nibble_rope_layout")));
    }

    /** Values per attention head. */
    public int headDim() {
        return hiddenSize / numHeads;
    }

    /** Width of the key and value projections: {@code numKvHeads * headDim}. */
    public int kvDim() {
        return numKvHeads * headDim();
    }

    /** Query heads per key/value head. */
    public int groupSize() {
        return numHeads / numKvHeads;
    }

    public LlamaConfig withRopeLayout(RopeLayout layout) {
        return new LlamaConfig(hiddenSize, intermediateSize, numLayers, numHeads, numKvHeads, vocabSize, maxPositions,
                tieWordEmbeddings, rmsNormEps, ropeTheta, layout);
    }

    private static RopeLayout layout(Object v) {
        if (v == null) {
            return RopeLayout.HALF;
        }
        return switch (v.toString().toLowerCase(Locale.ROOT)) {
            case "interleaved" -> RopeLayout.INTERLEAVED;
            case "half" -> RopeLayout.HALF;
            default -> throw bad("nibble_rope_layout '" + v + "' is not 'interleaved' or 'half'");
        };
    }

    private static int intKey(Map<String, Object> a, String key, Integer dflt) {
        Object v = a.get(key);
        if (v == null) {
            if (dflt == null) {
                throw bad("missing key '" + key + "'");
            }
            return dflt;
        }
        if (v instanceof Number n) {
            double d = n.doubleValue();
            if (d == Math.rint(d) && Math.abs(d) <= Integer.MAX_VALUE) {
                return (int) d;
            }
        }
        throw bad("key '" + key + "' must be an integer, found " + v);
    }

    private static double doubleKey(Map<String, Object> a, String key, double dflt) {
        Object v = a.get(key);
        if (v == null) {
            return dflt;
        }
        if (v instanceof Number n) {
            return n.doubleValue();
        }
        throw bad("key '" + key + "' must be a number, found " + v);
    }

    private static boolean boolKey(Map<String, Object> a, String key, boolean dflt) {
        Object v = a.get(key);
        if (v == null) {
            return dflt;
        }
        if (v instanceof Boolean b) {
            return b;
        }
        throw bad("key '" + key + "' must be true or false, found " + v);
    }

    private static void positive(String key, int v) {
        if (v <= 0) {
            throw bad(key + "=" + v + " must be positive");
        }
    }

    private static InvalidInputException bad(String problem) {
        return new InvalidInputException("model architecture: " + problem);
    }
}
