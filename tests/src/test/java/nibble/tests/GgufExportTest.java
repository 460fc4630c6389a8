package nibble.tests;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.zip.CRC32;
import org.apache.hadoop.conf.Configuration;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import nibble.common.DType;
import nibble.common.Floats;
import nibble.common.format.GgmlType;
import nibble.common.format.GgufExport;
import nibble.common.format.GgufRows;
import nibble.common.quant.Quantizer;
import nibble.common.quant.Scheme;
import nibble.common.table.Manifest;
import nibble.common.table.TensorEntry;
import nibble.jobs.table.OrderedRows;

/**
 * {@code nibble export}, judged by llama.cpp's own {@code gguf} package: every weight it dequantizes
 * from the exported file equals, bit for bit, the value Nibble's table holds (through CRC-32 of the
 * float32 values in GGUF row order), the tensor types and names are llama.cpp's, the metadata keys
 * have llama.cpp's types, and a GGUF → table → GGUF round trip gives the source's values and
 * metadata back.
 */
class GgufExportTest {
    /** Every way a tensor can carry into GGUF on stories260K (dim 64, hidden 172). */
    private static final String MIXED_RECIPE = """
            {"keep_1d": true, "default": {"bits": 4, "symmetric": true, "group_size": 32},
             "overrides": [
               {"match": "(?i).*norm.*", "keep": true},
               {"match": ".*q_proj.*", "bits": 8, "symmetric": true, "group_size": 32},
               {"match": ".*k_proj.*", "bits": 4, "symmetric": false, "group_size": 32},
               {"match": ".*v_proj.*", "bits": 4, "group_size": 32, "codebook": "nf4"},
               {"match": ".*o_proj.*", "bits": 4, "group_size": 32, "range": "mse"}]}
            """;

    @TempDir
    Path tmp;

    @Test
    void everyCarryOfStories260KReadsBackBitExactInGguf() throws Exception {
        Path model = TestSpark.stories260K();
        Assumptions.assumeTrue(model != null && Files.exists(model), "../shared/models/stories260K.bin is absent");
        requirePython();
        Path table = tmp.resolve("t");
        Path q = tmp.resolve("q");
        Path recipe = Files.writeString(tmp.resolve("mixed.json"), MIXED_RECIPE);
        run("shard", "--input", model.toString(), "--output", table.toString());
        run("quantize", "--input", table.toString(), "--output", q.toString(), "--recipe", recipe.toString());
        Path gguf = tmp.resolve("q.gguf");
        TestSpark.Run r = run("export", "--input", q.toString(), "--output", gguf.toString());
        assertTrue(r.err().contains("re-quantize") || r.err().contains("requantize"), "a note per re-quantized tensor: " + r.err());

        Map<String, GgmlType> types = assertMatchesTable(q, gguf, tmp);
        assertEquals(GgmlType.Q4_0, types.get("token_embd.weight"));
        assertEquals(GgmlType.Q8_0, types.get("blk.0.attn_q.weight"));
        assertEquals(GgmlType.Q4_1, types.get("blk.0.attn_k.weight"));
        assertEquals(GgmlType.Q4_0, types.get("blk.0.attn_v.weight"), "nf4 has no ggml type: re-quantized");
        assertEquals(GgmlType.Q4_0, types.get("blk.0.attn_output.weight"), "an mse clip is still Q4_0's layout");
        assertEquals(GgmlType.F32, types.get("blk.0.ffn_down.weight"), "rows of 172 fit no block type");
        assertEquals(GgmlType.F32, types.get("blk.0.attn_norm.weight"));

        JsonNode ref = GgufShardTest.reference(gguf, tmp.resolve("ref.json"));
        JsonNode t = ref.get("types");
        assertEquals("STRING", t.get("general.architecture").asText());
        assertEquals("UINT32", t.get("llama.block_count").asText());
        assertEquals("FLOAT32", t.get("llama.attention.layer_norm_rms_epsilon").asText());
        assertEquals(5, ref.get("metadata").get("llama.block_count").asInt());
        assertEquals(8, ref.get("metadata").get("llama.rope.dimension_count").asInt());

        Path again = tmp.resolve("again.gguf");
        run("export", "--input", q.toString(), "--output", again.toString());
        assertArrayEquals(Files.readAllBytes(gguf), Files.readAllBytes(again), "same table, same bytes");
    }

    /**
     * The K-quant layout on the synthetic demo model (hidden 256, intermediate 688): rows of 256 become Q4_K with
     * their bytes carried over (gguf's dequantization gives the table's values bit for bit, under {@code --strict});
     * the down projections' rows of 688 fit no ggml block (not a multiple of 32) and are written as their F32 values.
     */
    @Test
    void kQuantLayoutExportsAsQ4K() throws Exception {
        requirePython();
        Path ckpt = tmp.resolve("ckpt");
        run("synth", "--preset", "demo", "--output", ckpt.toString());
        Path table = tmp.resolve("t");
        run("shard", "--input", ckpt.toString(), "--output", table.toString());
        Path q = tmp.resolve("q");
        run("quantize", "--input", table.toString(), "--output", q.toString(), "--recipe", "int4-k256-mse");
        Path gguf = tmp.resolve("q.gguf");
        run("export", "--input", q.toString(), "--output", gguf.toString(), "--strict");
        Map<String, GgmlType> types = assertMatchesTable(q, gguf, tmp);
        assertEquals(GgmlType.Q4_K, types.get("blk.0.attn_q.weight"));
        assertEquals(GgmlType.Q4_K, types.get("blk.3.ffn_up.weight"));
        assertEquals(GgmlType.F32, types.get("blk.0.ffn_down.weight"), "rows of 688 fit no block type");
        assertEquals(GgmlType.Q8_0, types.get("token_embd.weight"));
    }

    @Test
    void huggingFaceQkRowsArePermutedToLlamaCppsLayout() throws Exception {
        requirePython();
        Path ckpt = ShardRoundTripTest.tinyCheckpoint(tmp.resolve("ckpt"), DType.F32, 0);
        Path table = tmp.resolve("t");
        run("shard", "--input", ckpt.toString(), "--output", table.toString());
        Path gguf = tmp.resolve("t.gguf");
        run("export", "--input", table.toString(), "--output", gguf.toString());
        Manifest m = Tables.manifest(table);
        GgufExport.Plan plan = GgufExport.plan(m, table.toString());
        GgufExport.Tensor q = plan.tensors().stream().filter(x -> x.slot().name().equals("blk.0.attn_q.weight")).findFirst().orElseThrow();
        assertEquals(4, q.ropeHeads(), "a Hugging Face checkpoint's q rows are permuted per head");
        assertEquals(8, q.sourceRow(1), "GGUF row 1 is the second half's first row (head dim 16)");
        assertMatchesTable(table, gguf, tmp);
    }

    @Test
    void smolLm2RoundTripGivesTheSourceBack() throws Exception {
        Path source = GgufShardTest.smolLm2();
        Assumptions.assumeTrue(source != null, "SmolLM2 GGUF absent (.ci/venv installs it)");
        requirePython();
        Path table = tmp.resolve("smollm2");
        run("shard", "--input", source.toString(), "--output", table.toString());
        Path gguf = tmp.resolve("smollm2-f32.gguf");
        run("export", "--input", table.toString(), "--output", gguf.toString());
        JsonNode before = GgufShardTest.reference(source, tmp.resolve("before.json"));
        JsonNode after = GgufShardTest.reference(gguf, tmp.resolve("after.json"));
        Files.delete(gguf);

        Map<String, Long> crcBefore = crcs(before);
        Map<String, Long> crcAfter = crcs(after);
        assertEquals(crcBefore, crcAfter, "every tensor's dequantized values, by name, are the source's");
        for (JsonNode tensor : after.get("tensors")) {
            assertEquals("F32", tensor.get("type").asText(), "a dense table exports as F32");
        }
        for (String part : List.of("types", "arrays", "metadata")) {
            Map<String, String> b = fields(before.get(part));
            Map<String, String> a = fields(after.get(part));
            b.remove("general.file_type");
            a.remove("general.file_type");
            b.remove("general.alignment");
            assertEquals(b, a, part + " of the metadata carry over (tokenizer included)");
        }
    }

    private static Map<String, Long> crcs(JsonNode ref) {
        Map<String, Long> out = new HashMap<>();
        ref.get("tensors").forEach(t -> out.put(t.get("name").asText(), t.get("crc32").asLong()));
        return out;
    }

    private static Map<String, String> fields(JsonNode o) {
        Map<String, String> out = new HashMap<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = o.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            out.put(e.getKey(), e.getValue().toString());
        }
        return out;
    }

    /**
     * Asserts that gguf's dequantization of every tensor of {@code gguf} equals what the table holds:
     * its values bit for bit where they carry over, or its values re-encoded where the export changed
     * them; returns each tensor's GGUF type by GGUF name. {@code work} holds the reference's JSON.
     */
    static Map<String, GgmlType> assertMatchesTable(Path table, Path gguf, Path work) throws Exception {
        JsonNode ref = GgufShardTest.reference(gguf, work.resolve(gguf.getFileName() + ".json"));
        Manifest m = Tables.manifest(table);
        GgufExport.Plan plan = GgufExport.plan(m, table.toString());
        Map<String, CRC32> expected = expectedCrcs(table, m, plan);
        Map<String, GgmlType> types = new HashMap<>();
        assertEquals(plan.tensors().size(), ref.get("tensors").size());
        for (JsonNode t : ref.get("tensors")) {
            String name = t.get("name").asText();
            types.put(name, GgmlType.valueOf(t.get("type").asText()));
            assertEquals(expected.get(name).getValue(), t.get("crc32").asLong(), name + ": gguf's values are the table's");
        }
        return types;
    }

    /** CRC-32 of each tensor's float32 values as the export must write them, in GGUF row order. */
    private static Map<String, CRC32> expectedCrcs(Path table, Manifest m, GgufExport.Plan plan) throws IOException {
        Map<String, GgufExport.Tensor> byName = new HashMap<>();
        plan.tensors().forEach(t -> byName.put(t.entry().info().name(), t));
        Map<String, CRC32> out = new HashMap<>();
        Map<String, float[][]> rows = new HashMap<>();
        OrderedRows.read(table.toString(), m, new Configuration(), new OrderedRows.Visitor() {
            @Override
            public void row(OrderedRows.StoredRow r) {
                GgufExport.Tensor t = byName.get(r.entry().info().name());
                rows.computeIfAbsent(t.slot().name(), k -> new float[(int) r.entry().info().rows()][])[r.row()] = written(t, r);
            }

            @Override
            public void endTensor(TensorEntry e) {
                GgufExport.Tensor t = byName.get(e.info().name());
                float[][] values = rows.remove(t.slot().name());
                CRC32 crc = new CRC32();
                for (int r = 0; r < values.length; r++) {
                    float[] v = values[t.sourceRow(r)];
                    byte[] b = new byte[4 * v.length];
                    GgufRows.f32(v, b, 0);
                    crc.update(b);
                }
                out.put(t.slot().name(), crc);
            }
        });
        return out;
    }

    /** The values the export writes for a row: the table's own, except where re-quantized or Q4_1-rounded. */
    private static float[] written(GgufExport.Tensor t, OrderedRows.StoredRow r) {
        int n = (int) r.entry().info().rowLength();
        if (t.carry() == GgufExport.Carry.COPY) {
            return Floats.decode(r.data(), r.entry().info().dtype());
        }
        Scheme s = r.entry().quant().scheme();
        float[] table = Quantizer.dequantize(r.codes(), r.scales(), r.zeros(), s, n);
        GgmlType type = t.slot().type();
        if (t.carry() == GgufExport.Carry.REQUANTIZE || type == GgmlType.Q4_1) {
            byte[] b = new byte[t.rowBytes()];
            if (type == GgmlType.Q4_1) {
                GgufRows.q4_1(r.codes(), r.scales(), r.zeros(), n, b, 0);
            } else {
                GgufRows.quantize(type, "t", r.row(), table, b, 0);
            }
            float[] v = new float[n];
            type.dequantize(b, 0, n, v, 0);
            return v;
        }
        return table;
    }

    private static TestSpark.Run run(String... args) {
        TestSpark.Run r = TestSpark.nibble(args);
        assertEquals(0, r.code(), String.join(" ", args) + ": " + r.err());
        return r;
    }

    private static void requirePython() {
        GgufShardTest.requireOrSkip(Files.isExecutable(GgufShardTest.venvPython()) ? null : GgufShardTest.venvPython() + " not found");
    }
}
