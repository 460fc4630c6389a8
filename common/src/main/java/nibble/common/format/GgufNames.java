package nibble.common.format;

import java.util.HashMap;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * llama.cpp's tensor names for the Llama architecture ({@code blk.0.attn_q.weight}) and their Hugging
 * Face names ({@code model.layers.0.self_attn.q_proj.weight}), both ways: {@code shard} of a GGUF file
 * names tables the Hugging Face way, {@code export} writes llama.cpp's names back. Names outside the
 * map stay as they are in both directions.
 */
public final class GgufNames {
    private static final Pattern GGUF_BLOCK = Pattern.compile("blk\\.(\\d+)\\.(.+)");
    private static final Pattern HF_LAYER = Pattern.compile("model\\.layers\\.(\\d+)\\.(.+)");
    private static final Map<String, String> GLOBAL = Map.of(
            "token_embd.weight", "model.embed_tokens.weight",
            "output_norm.weight", "model.norm.weight",
            "output.weight", "lm_head.weight");
    private static final Map<String, String> LAYER = Map.of(
            "attn_norm.weight", "input_layernorm.weight",
            "attn_q.weight", "self_attn.q_proj.weight",
            "attn_k.weight", "self_attn.k_proj.weight",
            "attn_v.weight", "self_attn.v_proj.weight",
            "attn_output.weight", "self_attn.o_proj.weight",
            "ffn_norm.weight", "post_attention_layernorm.weight",
            "ffn_gate.weight", "mlp.gate_proj.weight",
            "ffn_up.weight", "mlp.up_proj.weight",
            "ffn_down.weight", "mlp.down_proj.weight");
    private static final Map<String, String> GLOBAL_BACK = invert(GLOBAL);
    private static final Map<String, String> LAYER_BACK = invert(LAYER);

    private GgufNames() {
    }

    /** The Hugging Face Llama name of a llama.cpp tensor name. */
    public static String hf(String ggufName) {
        return rename(ggufName, GLOBAL, GGUF_BLOCK, LAYER, "model.layers.");
    }

    /** The llama.cpp name of a Hugging Face Llama tensor name. */
    public static String gguf(String hfName) {
        return rename(hfName, GLOBAL_BACK, HF_LAYER, LAYER_BACK, "blk.");
    }

    private static String rename(String name, Map<String, String> global, Pattern block, Map<String, String> layer,
                                 String prefix) {
        String g = global.get(name);
        if (g != null) {
            return g;
        }
        Matcher m = block.matcher(name);
        if (m.matches()) {
            String l = layer.get(m.group(2));
            if (l != null) {
                return prefix + Integer.parseInt(m.group(1)) + "." + l;
            }
        }
        return name;
    }

    private static Map<String, String> invert(Map<String, String> m) {
        Map<String, String> out = new HashMap<>();
        m.forEach((k, v) -> out.put(v, k));
        return out;
    }
}
