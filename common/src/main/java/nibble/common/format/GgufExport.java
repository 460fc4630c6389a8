package nibble.common.format;

import java.math.BigInteger;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import nibble.common.DType;
import nibble.common.InvalidInputException;
import nibble.common.TensorInfo;
import nibble.common.model.LlamaConfig;
import nibble.common.model.RopeLayout;
import nibble.common.quant.Codebook;
import nibble.common.quant.Granularity;
import nibble.common.quant.ScaleFormat;
import nibble.common.quant.Scheme;
import nibble.common.table.Manifest;
import nibble.common.table.TensorEntry;

/**
 * How a tensor table becomes a GGUF file for llama.cpp: each tensor's llama.cpp name, ggml type and
 * row order, and the file's metadata. Pure: {@code nibble export} streams the rows through this plan.
 *
 * <p>Types: a dense or kept tensor keeps its dtype (F32, F16, BF16). A quantized tensor whose scheme
 * is a ggml block type carries its codes and scales over ({@link Carry#REPACK}): symmetric int4 g32 →
 * Q4_0, symmetric int8 g32 → Q8_0, asymmetric int4 g32 → Q4_1 (all with F16 scales, rows a multiple
 * of 32), the K-quant layout (superblock granularity) → Q4_K (rows a multiple of 256). Any other 4- or 8-bit scheme is re-quantized from its dequantized values to Q4_0 or Q8_0
 * ({@link Carry#REQUANTIZE}, refused under {@code --strict}); a row length that is not a multiple of
 * 32 fits no block type and is written as the F32 of its dequantized values ({@link Carry#DEQUANTIZE}:
 * the values are exact, the file is larger).
 *
 * <p>Rows: llama.cpp computes rotary embeddings on adjacent pairs, so a table in Hugging Face's
 * {@code half} layout has its q/k rows permuted back, head by head, as llama.cpp's converter does.
 *
 * <p>Metadata: a table that came from a GGUF file gets that file's metadata back, key order and value
 * types as recorded at import (the tokenizer included); {@code general.file_type} is recomputed and
 * {@code general.alignment} left at its default. Other tables get {@code llama.*} keys from the
 * architecture and no tokenizer.
 */
public final class GgufExport {
    /** What happens to a tensor's stored values on the way into GGUF. */
    public enum Carry {
        /** Rows copied as stored (dense and kept tensors). */
        COPY,
        /** Codes and scales re-laid into ggml blocks; values unchanged (Q4_1 only up to F16 rounding of the minimum). */
        REPACK,
        /** Dequantized and rounded again to the nearest ggml type: adds error. */
        REQUANTIZE,
        /** Dequantized to F32: values unchanged, no block type fits the row length. */
        DEQUANTIZE
    }

    /** One tensor's plan: its table entry, its GGUF slot, how its values carry, and its q/k head count (0: rows in order). */
    public record Tensor(TensorEntry entry, GgufWriter.Slot slot, Carry carry, int ropeHeads) {
        /** The table row written as GGUF row {@code r}. */
        public int sourceRow(int r) {
            if (ropeHeads == 0) {
                return r;
            }
            int headDim = (int) (entry.info().rows() / ropeHeads);
            int h = r / headDim;
            int k = r % headDim;
            return h * headDim + (k % 2) * (headDim / 2) + k / 2;
        }

        /** Bytes one row takes in GGUF. */
        public int rowBytes() {
            return Math.toIntExact(slot.type().bytesOf(entry.info().rowLength()));
        }
    }

    /** The whole file: metadata in order, tensors in table order. */
    public record Plan(List<GgufWriter.Kv> metadata, List<Tensor> tensors) {
        public List<GgufWriter.Slot> slots() {
            return tensors.stream().map(Tensor::slot).toList();
        }
    }

    private static final Set<String> RECOMPUTED = Set.of("general.alignment", "general.file_type", "general.quantization_version");

    private GgufExport() {
    }

    /**
     * Plans the export of {@code m}, read from {@code where}.
     *
     * @throws InvalidInputException when the table is not a Llama model this writer can lay out
     */
    public static Plan plan(Manifest m, String where) {
        LlamaConfig cfg;
        try {
            cfg = LlamaConfig.fromArchitecture(m.architecture());
        } catch (InvalidInputException e) {
            throw new InvalidInputException(where + ": cannot export to GGUF: " + e.getMessage(), e);
        }
        List<Tensor> tensors = new ArrayList<>();
        for (TensorEntry e : m.tensors()) {
            tensors.add(tensor(e, cfg));
        }
        Map<String, Object> gguf = ggufSource(m.source());
        List<GgufWriter.Kv> kvs = gguf != null ? copiedMetadata(gguf, where) : llamaMetadata(cfg, m.source());
        kvs.add(new GgufWriter.Kv("general.quantization_version", GgufValueType.UINT32, null, 2L));
        kvs.add(new GgufWriter.Kv("general.file_type", GgufValueType.UINT32, null, (long) fileType(tensors)));
        return new Plan(kvs, tensors);
    }

    static Tensor tensor(TensorEntry e, LlamaConfig cfg) {
        TensorInfo info = e.info();
        long[] shape = info.shape();
        long[] ne = new long[shape.length];
        for (int i = 0; i < shape.length; i++) {
            ne[i] = shape[shape.length - 1 - i];
        }
        String name = GgufNames.gguf(info.name());
        Scheme s = e.quant() == null ? null : e.quant().scheme();
        GgmlType type;
        Carry carry;
        if (s == null) {
            type = dense(info.dtype());
            carry = Carry.COPY;
        } else if (s.granularity() == Granularity.SUPERBLOCK && info.rowLength() % 256 == 0 && info.rowLength() > 0) {
            type = GgmlType.Q4_K;
            carry = Carry.REPACK;
        } else if (info.rowLength() % 32 != 0 || info.rowLength() == 0) {
            type = GgmlType.F32;
            carry = Carry.DEQUANTIZE;
        } else {
            type = exactType(s);
            carry = type != null ? Carry.REPACK : Carry.REQUANTIZE;
            if (type == null) {
                type = s.bits() == 4 ? GgmlType.Q4_0 : GgmlType.Q8_0;
            }
        }
        int ropeHeads = 0;
        if (cfg.ropeLayout() == RopeLayout.HALF && shape.length == 2) {
            if (info.name().endsWith("self_attn.q_proj.weight")) {
                ropeHeads = cfg.numHeads();
            } else if (info.name().endsWith("self_attn.k_proj.weight")) {
                ropeHeads = cfg.numKvHeads();
            }
        }
        return new Tensor(e, new GgufWriter.Slot(name, ne, type), carry, ropeHeads);
    }

    /** The ggml type that stores {@code s} unchanged, or null. */
    static GgmlType exactType(Scheme s) {
        if (s.codebook() != Codebook.UNIFORM || s.granularity() != Granularity.GROUP || s.groupSize() != 32
                || s.scaleFormat() != ScaleFormat.F16) {
            return null;
        }
        if (s.bits() == 4) {
            return s.symmetric() ? GgmlType.Q4_0 : GgmlType.Q4_1;
        }
        return s.symmetric() ? GgmlType.Q8_0 : null;
    }

    private static GgmlType dense(DType d) {
        return switch (d) {
            case F32 -> GgmlType.F32;
            case F16 -> GgmlType.F16;
            case BF16 -> GgmlType.BF16;
        };
    }

    /** llama.cpp's {@code llama_ftype} of the type holding the most values. */
    static int fileType(List<Tensor> tensors) {
        Map<GgmlType, Long> counts = new LinkedHashMap<>();
        for (Tensor t : tensors) {
            if (t.slot().ne().length > 1) {
                counts.merge(t.slot().type(), t.slot().elements(), Long::sum);
            }
        }
        GgmlType most = counts.entrySet().stream().max(Map.Entry.comparingByValue()).map(Map.Entry::getKey).orElse(GgmlType.F32);
        return switch (most) {
            case F16 -> 1;
            case Q4_0 -> 2;
            case Q4_1 -> 3;
            case Q8_0 -> 7;
            case Q4_K -> 14;
            case BF16 -> 32;
            default -> 0;
        };
    }

    /** The GGUF source the table descends from (following {@code origin}), or null. */
    @SuppressWarnings("unchecked")
    public static Map<String, Object> ggufSource(Map<String, Object> source) {
        for (Map<String, Object> s = source; s != null; s = s.get("origin") instanceof Map<?, ?> o ? (Map<String, Object>) o : null) {
            if ("gguf".equals(s.get("format"))) {
                return s;
            }
        }
        return null;
    }

    @SuppressWarnings("unchecked")
    private static List<GgufWriter.Kv> copiedMetadata(Map<String, Object> gguf, String where) {
        Map<String, Object> types = gguf.get("gguf_types") instanceof Map<?, ?> t ? (Map<String, Object>) t : Map.of();
        List<GgufWriter.Kv> out = new ArrayList<>();
        for (String part : List.of("gguf_metadata", "tokenizer")) {
            if (!(gguf.get(part) instanceof Map<?, ?> kvs)) {
                continue;
            }
            for (Map.Entry<String, Object> e : ((Map<String, Object>) kvs).entrySet()) {
                if (!RECOMPUTED.contains(e.getKey())) {
                    out.add(kv(e.getKey(), e.getValue(), types.get(e.getKey()), where));
                }
            }
        }
        return out;
    }

    private static GgufWriter.Kv kv(String key, Object value, Object recorded, String where) {
        GgufValueType type;
        GgufValueType element = null;
        if (recorded instanceof String label) {
            boolean array = label.startsWith("ARRAY[") && label.endsWith("]");
            type = array ? GgufValueType.ARRAY : GgufValueType.byName(label);
            element = array ? GgufValueType.byName(label.substring(6, label.length() - 1)) : null;
            if (type == null || array && (element == null || element == GgufValueType.ARRAY)) {
                throw new InvalidInputException(where + ": GGUF metadata '" + key + "' has unknown recorded type '" + label + "'");
            }
        } else {
            type = inferred(key, value);
            if (type == GgufValueType.ARRAY) {
                List<?> list = (List<?>) value;
                element = key.equals("tokenizer.ggml.token_type") ? GgufValueType.INT32
                        : list.isEmpty() ? GgufValueType.UINT8 : inferred(key, list.get(0));
            }
        }
        return new GgufWriter.Kv(key, type, element, value);
    }

    /** The type of a value whose GGUF type was not recorded (tables written before types were): by its JSON kind. */
    private static GgufValueType inferred(String key, Object v) {
        if (v instanceof String) {
            return GgufValueType.STRING;
        }
        if (v instanceof Boolean) {
            return GgufValueType.BOOL;
        }
        if (v instanceof List<?>) {
            return GgufValueType.ARRAY;
        }
        if (v instanceof Float || v instanceof Double) {
            return GgufValueType.FLOAT32;
        }
        if (v instanceof Number n) {
            BigInteger x = n instanceof BigInteger b ? b : BigInteger.valueOf(n.longValue());
            if (x.signum() >= 0) {
                return x.bitLength() <= 32 ? GgufValueType.UINT32 : GgufValueType.UINT64;
            }
            return x.bitLength() < 32 ? GgufValueType.INT32 : GgufValueType.INT64;
        }
        throw new InvalidInputException("GGUF metadata '" + key + "': value " + v + " has no GGUF type");
    }

    private static List<GgufWriter.Kv> llamaMetadata(LlamaConfig c, Map<String, Object> source) {
        List<GgufWriter.Kv> out = new ArrayList<>();
        out.add(new GgufWriter.Kv("general.architecture", GgufValueType.STRING, null, "llama"));
        out.add(new GgufWriter.Kv("general.name", GgufValueType.STRING, null, name(source)));
        u32(out, "llama.context_length", c.maxPositions());
        u32(out, "llama.embedding_length", c.hiddenSize());
        u32(out, "llama.block_count", c.numLayers());
        u32(out, "llama.feed_forward_length", c.intermediateSize());
        u32(out, "llama.rope.dimension_count", c.headDim());
        u32(out, "llama.attention.head_count", c.numHeads());
        u32(out, "llama.attention.head_count_kv", c.numKvHeads());
        out.add(new GgufWriter.Kv("llama.attention.layer_norm_rms_epsilon", GgufValueType.FLOAT32, null, c.rmsNormEps()));
        out.add(new GgufWriter.Kv("llama.rope.freq_base", GgufValueType.FLOAT32, null, c.ropeTheta()));
        u32(out, "llama.vocab_size", c.vocabSize());
        return out;
    }

    private static void u32(List<GgufWriter.Kv> out, String key, int v) {
        out.add(new GgufWriter.Kv(key, GgufValueType.UINT32, null, (long) v));
    }

    /** A model name for {@code general.name}: the innermost source file's name without extension. */
    @SuppressWarnings("unchecked")
    private static String name(Map<String, Object> source) {
        Map<String, Object> s = source;
        while (s.get("origin") instanceof Map<?, ?> o) {
            s = (Map<String, Object>) o;
        }
        Object uri = s.get("uri");
        String path = uri == null ? "model" : uri.toString().replaceAll("/+$", "");
        String file = path.substring(path.lastIndexOf('/') + 1);
        int dot = file.lastIndexOf('.');
        return dot > 0 ? file.substring(0, dot) : file;
    }
}
