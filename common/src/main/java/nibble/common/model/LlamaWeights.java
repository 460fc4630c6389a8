package nibble.common.model;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
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
     * These weights with the matrix {@code name} (a projection by its Hugging Face name, the embedding,
     * or an untied {@code lm_head.weight}) replaced by dense {@code values} of the same shape; the
     * others are shared, not copied. A tied head follows the embedding.
     *
     * @throws IllegalArgumentException when {@code name} is not such a matrix or the size differs
     */
    public LlamaWeights replacing(String name, float[] values, LlamaConfig c) {
        if (name.equals("model.embed_tokens.weight")) {
            requireSize(name, values, (long) embedding.vocabSize() * embedding.dim());
            Embedding e = new DenseEmbedding(values, embedding.vocabSize(), embedding.dim());
            return new LlamaWeights(e, layers, finalNorm, c.tieWordEmbeddings() ? e.asLinear() : lmHead);
        }
        if (name.equals("lm_head.weight") && !c.tieWordEmbeddings()) {
            return new LlamaWeights(embedding, layers, finalNorm, dense(name, values, lmHead));
        }
        Matcher m = PROJECTION.matcher(name);
        if (!m.matches() || Integer.parseInt(m.group(1)) >= layers.size()) {
            throw new IllegalArgumentException("'" + name + "' is not a matrix of this model");
        }
        List<LayerWeights> out = new ArrayList<>(layers);
        int i = Integer.parseInt(m.group(1));
        LayerWeights l = layers.get(i);
        out.set(i, switch (m.group(2)) {
            case "self_attn.q" -> new LayerWeights(l.inputNorm(), dense(name, values, l.q()), l.k(), l.v(), l.o(),
                    l.postAttentionNorm(), l.gate(), l.up(), l.down());
            case "self_attn.k" -> new LayerWeights(l.inputNorm(), l.q(), dense(name, values, l.k()), l.v(), l.o(),
                    l.postAttentionNorm(), l.gate(), l.up(), l.down());
            case "self_attn.v" -> new LayerWeights(l.inputNorm(), l.q(), l.k(), dense(name, values, l.v()), l.o(),
                    l.postAttentionNorm(), l.gate(), l.up(), l.down());
            case "self_attn.o" -> new LayerWeights(l.inputNorm(), l.q(), l.k(), l.v(), dense(name, values, l.o()),
                    l.postAttentionNorm(), l.gate(), l.up(), l.down());
            case "mlp.gate" -> new LayerWeights(l.inputNorm(), l.q(), l.k(), l.v(), l.o(), l.postAttentionNorm(),
                    dense(name, values, l.gate()), l.up(), l.down());
            case "mlp.up" -> new LayerWeights(l.inputNorm(), l.q(), l.k(), l.v(), l.o(), l.postAttentionNorm(), l.gate(),
                    dense(name, values, l.up()), l.down());
            case "mlp.down" -> new LayerWeights(l.inputNorm(), l.q(), l.k(), l.v(), l.o(), l.postAttentionNorm(), l.gate(),
                    l.up(), dense(name, values, l.down()));
            default -> throw new IllegalArgumentException("'" + name + "' is not a matrix of this model");
        });
        return new LlamaWeights(embedding, out, finalNorm, lmHead);
    }

    /** Whether {@code name} is a matrix that {@link #replacing} replaces (for an untied head, {@code lm_head.weight} too). */
    public static boolean isMatrix(String name) {
        return name.equals("model.embed_tokens.weight") || name.equals("lm_head.weight") || PROJECTION.matcher(name).matches();
    }

    private static final Pattern PROJECTION = Pattern.compile(
            "model\\.layers\\.(\\d{1,6})\\.(self_attn\\.[qkvo]|mlp\\.(?:gate|up|down))_proj\\.weight");

    private static Linear dense(String name, float[] values, Linear like) {
        requireSize(name, values, (long) like.rows() * like.cols());
        return new DenseLinear(values, like.rows(), like.cols());
    }

    private static void requireSize(String name, float[] values, long expected) {
        if (values.length != expected) {
            throw new IllegalArgumentException("'" + name + "' has " + expected + " values, not " + values.length);
        }
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
