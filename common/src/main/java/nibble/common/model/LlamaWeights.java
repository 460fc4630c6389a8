package nibble.common.model;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import nibble.common.InvalidInputException;

/**
 * All weights of a Llama model, behind {@link Embedding} and {@link Linear} so the model code does not
 * depend on how they are stored. A tied model's {@code lmHead} is a view over the embedding matrix.
 */
public record LlamaWeights(Embedding embedding, List<LayerWeights> layers, float[] finalNorm, Linear lmHead) {

    public LlamaWeights {
        layers = List.copyOf(layers);
    }

    /**
     * Loads dense weights by their Hugging Face names ({@code model.embed_tokens.weight},
     * {@code model.layers.{i}.self_attn.q_proj.weight}, ..., {@code model.norm.weight},
     * {@code lm_head.weight} unless tied).
     *
     * @throws InvalidInputException naming the tensor when one has the wrong number of values
     */
    public static LlamaWeights load(LlamaConfig c, TensorSource src) throws IOException {
        return load(c, WeightSource.dense(src));
    }

    /** Loads weights held however {@code src} holds them (dense, or packed quantized codes). */
    public static LlamaWeights load(LlamaConfig c, WeightSource src) throws IOException {
        int dim = c.hiddenSize();
        int hidden = c.intermediateSize();
        int kvDim = c.kvDim();
        Embedding embedding = src.embedding("model.embed_tokens.weight", c.vocabSize(), dim);
        List<LayerWeights> layers = new ArrayList<>();
        for (int i = 0; i < c.numLayers(); i++) {
            String p = "model.layers." + i + ".";
            layers.add(new LayerWeights(
                    src.vector(p + "input_layernorm.weight", dim),
                    src.linear(p + "self_attn.q_proj.weight", dim, dim),
                    src.linear(p + "self_attn.k_proj.weight", kvDim, dim),
                    src.linear(p + "self_attn.v_proj.weight", kvDim, dim),
                    src.linear(p + "self_attn.o_proj.weight", dim, dim),
                    src.vector(p + "post_attention_layernorm.weight", dim),
                    src.linear(p + "mlp.gate_proj.weight", hidden, dim),
                    src.linear(p + "mlp.up_proj.weight", hidden, dim),
                    src.linear(p + "mlp.down_proj.weight", dim, hidden)));
        }
        float[] norm = src.vector("model.norm.weight", dim);
        Linear head = c.tieWordEmbeddings() ? embedding.asLinear()
                : src.linear("lm_head.weight", c.vocabSize(), dim);
        return new LlamaWeights(embedding, layers, norm, head);
    }

    /**
     * Checks every weight's shape against {@code c}.
     *
     * @throws InvalidInputException naming the first weight that does not fit
     */
    public void check(LlamaConfig c) {
        int dim = c.hiddenSize();
        int hidden = c.intermediateSize();
        int kvDim = c.kvDim();
        if (embedding.vocabSize() != c.vocabSize() || embedding.dim() != dim) {
            throw bad("embedding is " + embedding.vocabSize() + " x " + embedding.dim() + ", expected "
                    + c.vocabSize() + " x " + dim);
        }
        if (layers.size() != c.numLayers()) {
            throw bad(layers.size() + " layers, expected " + c.numLayers());
        }
        for (int i = 0; i < layers.size(); i++) {
            LayerWeights l = layers.get(i);
            String p = "layer " + i + " ";
            checkVector(p + "input_layernorm", l.inputNorm(), dim);
            checkLinear(p + "q_proj", l.q(), dim, dim);
            checkLinear(p + "k_proj", l.k(), kvDim, dim);
            checkLinear(p + "v_proj", l.v(), kvDim, dim);
            checkLinear(p + "o_proj", l.o(), dim, dim);
            checkVector(p + "post_attention_layernorm", l.postAttentionNorm(), dim);
            checkLinear(p + "gate_proj", l.gate(), hidden, dim);
            checkLinear(p + "up_proj", l.up(), hidden, dim);
            checkLinear(p + "down_proj", l.down(), dim, hidden);
        }
        checkVector("final norm", finalNorm, dim);
        checkLinear("lm_head", lmHead, c.vocabSize(), dim);
    }

    private static void checkVector(String what, float[] v, int n) {
        if (v.length != n) {
            throw bad(what + " has " + v.length + " values, expected " + n);
        }
    }

    private static void checkLinear(String what, Linear l, int rows, int cols) {
        if (l.rows() != rows || l.cols() != cols) {
            throw bad(what + " is " + l.rows() + " x " + l.cols() + ", expected " + rows + " x " + cols);
        }
    }

    private static InvalidInputException bad(String problem) {
        return new InvalidInputException("model weights: " + problem);
    }
}
