package nibble.common.quant;

import java.io.Serializable;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;
import nibble.common.model.LlamaConfig;

/**
 * Where {@link Awq}'s scales go in a Llama model, so that the stored model is still a plain Llama of
 * the same architecture. Per layer, four scale groups, each one input read by some matrices whose
 * columns are multiplied by {@code s}, and one place that divides that input by {@code s}:
 * <ul>
 *   <li>{@code attn}: q, k, v read the attention norm's output: {@code input_layernorm.weight[c] / s[c]};
 *   <li>{@code ffn}: gate, up read the feed-forward norm's output: {@code post_attention_layernorm.weight[c] / s[c]};
 *   <li>{@code down}: down reads {@code silu(gate·x) ⊙ (up·x)}, linear in up's rows: {@code up_proj} row {@code j / s[j]};
 *   <li>{@code o}: o reads the heads' outputs, each a mix of v rows of its key-value head: {@code v_proj} row
 *       {@code j / t[j]}. Under grouped-query attention the heads sharing a key-value head see the same v
 *       rows, so {@code t} has one scale per key-value channel ({@code kv_dim} of them) and o's column
 *       {@code h·head_dim + d} takes {@code t[(h / (heads / kv_heads))·head_dim + d]}; the magnitude of a
 *       key-value channel is the mean of its heads' mean |x|. This is exact.
 * </ul>
 * The final norm and the output head are never scaled (the head may be tied to the embedding). A group
 * is scaled only when every matrix in it is quantized by a scheme that the recipe's AWQ applies to.
 */
public final class AwqFolds {
    private AwqFolds() {
    }

    /** The four inputs of a layer that get scales. */
    public enum Site {
        ATTN("attn"), O("o"), FFN("ffn"), DOWN("down");

        private final String label;

        Site(String label) {
            this.label = label;
        }

        public String label() {
            return label;
        }
    }

    /**
     * One scale group: its matrices (Hugging Face names), the tensor whose activation statistics
     * describe the input, the number of scales, the column-to-scale map (null: one scale per column),
     * the tensor the division is folded into and whether into its elements (a norm) or its rows.
     */
    public record Group(int layer, Site site, List<String> tensors, String statsTensor, int columns, int scales, int[] channelOf,
                        String foldInto, boolean foldIntoRows) implements Serializable {
        public Group {
            tensors = List.copyOf(tensors);
        }

        /** The per-scale mean |x| from the input's per-column mean |x| (the mean over columns sharing a scale). */
        public double[] scaleMagnitudes(double[] meanAbs) {
            if (channelOf == null) {
                return meanAbs;
            }
            double[] sum = new double[scales];
            int[] n = new int[scales];
            for (int c = 0; c < columns; c++) {
                sum[channelOf[c]] += meanAbs[c];
                n[channelOf[c]]++;
            }
            for (int j = 0; j < scales; j++) {
                sum[j] /= n[j];
            }
            return sum;
        }
    }

    /**
     * A tensor's changes, applied to row {@code r} as {@code ((v[c] · columnScale[c]) / columnDivisor[c]) /
     * rowDivisor[r]} in float, each factor skipped when its array is null.
     */
    public record TensorFold(float[] columnScale, float[] columnDivisor, float[] rowDivisor) implements Serializable {
        /** The row's values with the fold applied (a new array). */
        public float[] apply(long row, float[] values) {
            float[] out = values.clone();
            for (int c = 0; c < out.length; c++) {
                float v = out[c];
                if (columnScale != null) {
                    v = v * columnScale[c];
                }
                if (columnDivisor != null) {
                    v = v / columnDivisor[c];
                }
                if (rowDivisor != null) {
                    v = v / rowDivisor[(int) row];
                }
                out[c] = v;
            }
            return out;
        }

        TensorFold with(float[] cs, float[] cd, float[] rd) {
            return new TensorFold(cs != null ? cs : columnScale, cd != null ? cd : columnDivisor, rd != null ? rd : rowDivisor);
        }
    }

    /** The scale groups of a model, in layer order (attn, o, ffn, down), of those whose matrices all satisfy {@code scaled}. */
    public static List<Group> groups(LlamaConfig c, Predicate<String> scaled) {
        int dim = c.hiddenSize();
        int hd = c.headDim();
        int perKv = c.numHeads() / c.numKvHeads();
        int[] kvChannel = new int[dim];
        for (int col = 0; col < dim; col++) {
            kvChannel[col] = (col / hd / perKv) * hd + col % hd;
        }
        List<Group> out = new ArrayList<>();
        for (int i = 0; i < c.numLayers(); i++) {
            String p = "model.layers." + i + ".";
            String q = p + "self_attn.q_proj.weight";
            String o = p + "self_attn.o_proj.weight";
            String gate = p + "mlp.gate_proj.weight";
            String down = p + "mlp.down_proj.weight";
            List<Group> layer = List.of(
                    new Group(i, Site.ATTN, List.of(q, p + "self_attn.k_proj.weight", p + "self_attn.v_proj.weight"), q, dim, dim, null,
                            p + "input_layernorm.weight", false),
                    new Group(i, Site.O, List.of(o), o, dim, c.kvDim(), perKv == 1 ? null : kvChannel, p + "self_attn.v_proj.weight", true),
                    new Group(i, Site.FFN, List.of(gate, p + "mlp.up_proj.weight"), gate, dim, dim, null,
                            p + "post_attention_layernorm.weight", false),
                    new Group(i, Site.DOWN, List.of(down), down, c.intermediateSize(), c.intermediateSize(), null,
                            p + "mlp.up_proj.weight", true));
            for (Group g : layer) {
                if (g.tensors().stream().allMatch(scaled)) {
                    out.add(g);
                }
            }
        }
        return out;
    }

    /** Each changed tensor's fold, from the groups and their chosen scales ({@code scales.get(i)} for {@code groups.get(i)}). */
    public static Map<String, TensorFold> folds(List<Group> groups, List<float[]> scales) {
        Map<String, TensorFold> out = new LinkedHashMap<>();
        TensorFold none = new TensorFold(null, null, null);
        for (int i = 0; i < groups.size(); i++) {
            Group g = groups.get(i);
            float[] s = scales.get(i);
            if (s.length != g.scales()) {
                throw new IllegalArgumentException(g.site().label() + " of layer " + g.layer() + ": " + s.length + " scales, expected "
                        + g.scales());
            }
            float[] columns = Awq.expand(s, g.channelOf(), g.columns());
            for (String t : g.tensors()) {
                out.put(t, out.getOrDefault(t, none).with(columns, null, null));
            }
            TensorFold f = out.getOrDefault(g.foldInto(), none);
            out.put(g.foldInto(), g.foldIntoRows() ? f.with(null, null, s) : f.with(null, s, null));
        }
        return out;
    }
}
