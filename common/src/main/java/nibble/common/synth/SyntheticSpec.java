package nibble.common.synth;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import nibble.common.DType;
import nibble.common.InvalidInputException;
import nibble.common.TensorInfo;

/**
 * The shape and contents of a synthetic Llama-family checkpoint: enough to produce realistic test
 * and benchmark inputs of any size without shipping model weights. Named presets cover unit tests
 * ({@code tiny}), demos ({@code demo}) and multi-gigabyte benchmarks ({@code bench-2g}, 2.6 GiB; {@code bench-4g}, 4.3 GiB).
 */
public record SyntheticSpec(int hiddenSize, int intermediateSize, int numLayers, int numHeads, int numKvHeads,
                            int vocabSize, DType dtype, long seed, boolean tieWordEmbeddings) {

    private static final Map<String, SyntheticSpec> PRESETS = new TreeMap<>(Map.of(
            "tiny", new SyntheticSpec(64, 176, 2, 4, 2, 256, DType.F32, 1, false),
            "demo", new SyntheticSpec(256, 688, 4, 8, 4, 2048, DType.F32, 1, false),
            "bench-2g", new SyntheticSpec(2048, 5632, 14, 16, 4, 32000, DType.F32, 1, true),
            "bench-4g", new SyntheticSpec(2048, 5632, 24, 16, 4, 32000, DType.F32, 1, true)));

    public SyntheticSpec {
        positive("hiddenSize", hiddenSize);
        positive("intermediateSize", intermediateSize);
        positive("numLayers", numLayers);
        positive("numHeads", numHeads);
        positive("numKvHeads", numKvHeads);
        positive("vocabSize", vocabSize);
        if (dtype == null) {
            throw new InvalidInputException("synthetic spec: dtype is required");
        }
        if (hiddenSize % numHeads != 0) {
            throw new InvalidInputException("synthetic spec: numHeads=" + numHeads + " does not divide hiddenSize="
                    + hiddenSize);
        }
        if (numHeads % numKvHeads != 0) {
            throw new InvalidInputException("synthetic spec: numKvHeads=" + numKvHeads + " does not divide numHeads="
                    + numHeads);
        }
    }

    private static void positive(String field, int v) {
        if (v <= 0) {
            throw new InvalidInputException("synthetic spec: " + field + "=" + v + " must be positive");
        }
    }

    /** The preset names, sorted. */
    public static List<String> presetNames() {
        return List.copyOf(PRESETS.keySet());
    }

    /**
     * The named preset (F32, seed 1).
     *
     * @throws InvalidInputException naming the known presets when {@code name} is not one
     */
    public static SyntheticSpec preset(String name) {
        SyntheticSpec s = name == null ? null : PRESETS.get(name.toLowerCase(Locale.ROOT));
        if (s == null) {
            throw new InvalidInputException("unknown synthetic preset '" + name + "' (known: "
                    + String.join(", ", PRESETS.keySet()) + ")");
        }
        return s;
    }

    public SyntheticSpec withDtype(DType d) {
        return new SyntheticSpec(hiddenSize, intermediateSize, numLayers, numHeads, numKvHeads, vocabSize, d, seed,
                tieWordEmbeddings);
    }

    public SyntheticSpec withSeed(long s) {
        return new SyntheticSpec(hiddenSize, intermediateSize, numLayers, numHeads, numKvHeads, vocabSize, dtype, s,
                tieWordEmbeddings);
    }

    public SyntheticSpec withTieWordEmbeddings(boolean tie) {
        return new SyntheticSpec(hiddenSize, intermediateSize, numLayers, numHeads, numKvHeads, vocabSize, dtype, seed,
                tie);
    }

    public int headDim() {
        return hiddenSize / numHeads;
    }

    /** The checkpoint's tensors with Hugging Face Llama names, in the order they are written. */
    public List<TensorInfo> tensors() {
        long h = hiddenSize;
        long inter = intermediateSize;
        long kv = (long) numKvHeads * headDim();
        List<TensorInfo> t = new ArrayList<>();
        t.add(new TensorInfo("model.embed_tokens.weight", dtype, new long[] {vocabSize, h}));
        for (int i = 0; i < numLayers; i++) {
            String p = "model.layers." + i + ".";
            t.add(new TensorInfo(p + "self_attn.q_proj.weight", dtype, new long[] {h, h}));
            t.add(new TensorInfo(p + "self_attn.k_proj.weight", dtype, new long[] {kv, h}));
            t.add(new TensorInfo(p + "self_attn.v_proj.weight", dtype, new long[] {kv, h}));
            t.add(new TensorInfo(p + "self_attn.o_proj.weight", dtype, new long[] {h, h}));
            t.add(new TensorInfo(p + "mlp.gate_proj.weight", dtype, new long[] {inter, h}));
            t.add(new TensorInfo(p + "mlp.up_proj.weight", dtype, new long[] {inter, h}));
            t.add(new TensorInfo(p + "mlp.down_proj.weight", dtype, new long[] {h, inter}));
            t.add(new TensorInfo(p + "input_layernorm.weight", dtype, new long[] {h}));
            t.add(new TensorInfo(p + "post_attention_layernorm.weight", dtype, new long[] {h}));
        }
        t.add(new TensorInfo("model.norm.weight", dtype, new long[] {h}));
        if (!tieWordEmbeddings) {
            t.add(new TensorInfo("lm_head.weight", dtype, new long[] {vocabSize, h}));
        }
        return t;
    }

    /** Bytes of tensor data (excluding headers). */
    public long dataBytes() {
        long n = 0;
        for (TensorInfo t : tensors()) {
            n += t.byteLength();
        }
        return n;
    }
}
