package nibble.common.synth;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import nibble.common.TensorInfo;
import nibble.common.json.Json;
import nibble.common.format.SafetensorsWriter;

/**
 * Writes a synthetic Hugging Face Llama checkpoint ({@code config.json} plus one safetensors file, or
 * shards with a {@code model.safetensors.index.json}) from a {@link SyntheticSpec}. Streams row by row
 * in bounded memory; the same spec always gives byte-identical files.
 */
public final class SyntheticCheckpoint {

    private SyntheticCheckpoint() {
    }

    /**
     * Writes the checkpoint into {@code dir} (created if absent; it should hold no other checkpoint).
     *
     * @param maxShardBytes 0 or less: a single {@code model.safetensors}; else shards of at most this many
     *     data bytes each (a tensor larger than this gets a shard of its own; a tensor never spans shards)
     * @return the names of the files written, sorted
     */
    public static List<String> write(Path dir, SyntheticSpec spec, long maxShardBytes) throws IOException {
        Files.createDirectories(dir);
        List<List<TensorInfo>> shards = shard(spec.tensors(), maxShardBytes);
        Map<String, String> metadata = Map.of("format", "pt");
        List<String> written = new ArrayList<>();
        if (maxShardBytes <= 0) {
            writeShard(dir.resolve("model.safetensors"), shards.get(0), metadata, spec);
            written.add("model.safetensors");
        } else {
            Map<String, String> weightMap = new TreeMap<>();
            long total = 0;
            for (int i = 0; i < shards.size(); i++) {
                String name = String.format(Locale.ROOT, "model-%05d-of-%05d.safetensors", i + 1, shards.size());
                writeShard(dir.resolve(name), shards.get(i), metadata, spec);
                for (TensorInfo t : shards.get(i)) {
                    weightMap.put(t.name(), name);
                    total += t.byteLength();
                }
                written.add(name);
            }
            Map<String, Object> index = new LinkedHashMap<>();
            index.put("metadata", Map.of("total_size", total));
            index.put("weight_map", weightMap);
            writeJson(dir.resolve("model.safetensors.index.json"), index);
            written.add("model.safetensors.index.json");
        }
        writeJson(dir.resolve("config.json"), config(spec));
        written.add("config.json");
        written.sort(null);
        return written;
    }

    /** The Hugging Face {@code config.json} contents for {@code spec}. */
    public static Map<String, Object> config(SyntheticSpec spec) {
        Map<String, Object> c = new LinkedHashMap<>();
        c.put("architectures", List.of("LlamaForCausalLM"));
        c.put("model_type", "llama");
        c.put("hidden_size", spec.hiddenSize());
        c.put("intermediate_size", spec.intermediateSize());
        c.put("num_hidden_layers", spec.numLayers());
        c.put("num_attention_heads", spec.numHeads());
        c.put("num_key_value_heads", spec.numKvHeads());
        c.put("vocab_size", spec.vocabSize());
        c.put("max_position_embeddings", 2048);
        c.put("rms_norm_eps", 1e-5);
        c.put("rope_theta", 10000.0);
        c.put("tie_word_embeddings", spec.tieWordEmbeddings());
        c.put("torch_dtype", switch (spec.dtype()) {
            case F32 -> "float32";
            case F16 -> "float16";
            case BF16 -> "bfloat16";
        });
        return c;
    }

    /** Groups tensors, in order, into shards of at most {@code maxShardBytes} data bytes. */
    static List<List<TensorInfo>> shard(List<TensorInfo> tensors, long maxShardBytes) {
        List<List<TensorInfo>> shards = new ArrayList<>();
        List<TensorInfo> cur = new ArrayList<>();
        long bytes = 0;
        for (TensorInfo t : tensors) {
            if (maxShardBytes > 0 && !cur.isEmpty() && bytes + t.byteLength() > maxShardBytes) {
                shards.add(cur);
                cur = new ArrayList<>();
                bytes = 0;
            }
            cur.add(t);
            bytes += t.byteLength();
        }
        shards.add(cur);
        return shards;
    }

    private static void writeShard(Path out, List<TensorInfo> tensors, Map<String, String> metadata,
                                   SyntheticSpec spec) throws IOException {
        SafetensorsWriter.write(out, tensors, metadata, new SafetensorsWriter.RowSource() {
            private SyntheticValues values;
            private float[] scratch = new float[0];

            @Override
            public void writeRow(TensorInfo tensor, long row, ByteBuffer dst) {
                if (values == null || !values.tensor().equals(tensor)) {
                    values = SyntheticValues.of(spec, tensor);
                    if (scratch.length < tensor.rowLength()) {
                        scratch = new float[(int) tensor.rowLength()];
                    }
                }
                values.writeRow(row, scratch, dst);
            }
        });
    }

    private static void writeJson(Path out, Object value) throws IOException {
        Path tmp = out.resolveSibling("." + out.getFileName() + ".tmp");
        Files.write(tmp, Json.write(value));
        Files.move(tmp, out, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }
}
