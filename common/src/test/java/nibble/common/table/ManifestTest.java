package nibble.common.table;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import nibble.common.DType;
import nibble.common.InvalidInputException;
import nibble.common.TensorInfo;
import nibble.common.quant.RangeMethod;
import nibble.common.quant.Scheme;
import nibble.common.quant.Treatment;
import org.junit.jupiter.api.Test;

class ManifestTest {
    static Manifest sample() {
        Map<String, Object> arch = new LinkedHashMap<>();
        arch.put("model_type", "llama");
        arch.put("hidden_size", 64);
        return new Manifest(Manifest.Kind.DENSE, Map.of("format", "llama2c", "uri", "m.bin"), arch,
                List.of(new TensorEntry(new TensorInfo("model.norm.weight", DType.F32, new long[] {64}), "0badcafe", "rms_final_weight", null),
                        new TensorEntry(new TensorInfo("w", DType.BF16, new long[] {3, 4, 5}), "00000001", "w", null)),
                List.of(new FileEntry("tensors/part-00000.parquet", 4, 1234)));
    }

    @Test
    void roundTripsAndIsStable() {
        Manifest m = sample();
        byte[] json = m.toJson();
        Manifest back = Manifest.parse(json, "manifest.json");
        assertEquals(m, back);
        assertArrayEquals(json, back.toJson());
        String text = new String(json, StandardCharsets.UTF_8);
        assertTrue(text.contains("\"row_length\" : 20"), text);
        assertTrue(text.contains("\"source_name\" : \"rms_final_weight\""), text);
        assertEquals(4, m.totalRows());
        assertEquals(64 + 60, m.totalElements());
    }

    @Test
    void sourceTypeIsWrittenOnlyWhenPresentAndRoundTrips() {
        TensorInfo q = new TensorInfo("model.layers.0.self_attn.q_proj.weight", DType.F32, new long[] {2, 32});
        Map<String, Object> src = new LinkedHashMap<>();
        src.put("format", "gguf");
        src.put("tokenizer", Map.of("tokenizer.ggml.tokens", List.of("a", "b")));
        Manifest m = new Manifest(Manifest.Kind.DENSE, src, null,
                List.of(new TensorEntry(q, "0000000b", "blk.0.attn_q.weight", "Q4_1", null)), List.of());
        byte[] json = m.toJson();
        String text = new String(json, StandardCharsets.UTF_8);
        assertTrue(text.contains("\"source_type\" : \"Q4_1\""), text);
        Manifest back = Manifest.parse(json, "manifest.json");
        assertEquals(m, back);
        assertEquals("Q4_1", back.tensors().get(0).sourceType());
        assertArrayEquals(json, back.toJson());
        String old = new String(sample().toJson(), StandardCharsets.UTF_8);
        assertFalse(old.contains("source_type"), old);
        assertEquals(null, Manifest.parse(old.getBytes(StandardCharsets.UTF_8), "m").tensors().get(0).sourceType());
        assertMessage(text.replace("\"source_type\" : \"Q4_1\"", "\"source_type\" : 4"), "source_type");
    }

    @Test
    void rejectsBadManifestsNamingTheField() {
        String good = new String(sample().toJson(), StandardCharsets.UTF_8);
        assertMessage(good.replace("\"format_version\" : 1", "\"format_version\" : 9"), "format_version");
        assertMessage(good.replace("0badcafe", "xyz"), "checksum");
        assertMessage(good.replace("\"rows\" : 3", "\"rows\" : 4"), "'w'");
        assertMessage(good.replace("\"BF16\"", "\"I8\""), "I8");
        assertMessage("{not json", "not valid JSON");
    }

    @Test
    void quantizedEntriesRoundTripWithTheirScheme() {
        TensorInfo w = new TensorInfo("w", DType.F32, new long[] {4, 64});
        TensorInfo n = new TensorInfo("n", DType.F32, new long[] {64});
        Scheme scheme = Scheme.group(4, false, 32).withRange(RangeMethod.MSE);
        QuantDetails q = new QuantDetails(scheme, 5.0, new QuantDetails.ErrorSummary(0.25, 18.5, 1.5, 0.99), "0000000a");
        QuantDetails kept = new QuantDetails(Treatment.KEEP, 32.0, null, "0000000b");
        Manifest m = new Manifest(Manifest.Kind.QUANTIZED, Map.of("recipe", "r"), null,
                List.of(new TensorEntry(w, "00000001", "w", q), new TensorEntry(n, "00000002", "n", kept)), List.of());
        byte[] json = m.toJson();
        Manifest back = Manifest.parse(json, "q/manifest.json");
        assertEquals(m, back);
        assertArrayEquals(json, back.toJson());
        assertEquals(scheme, back.tensors().get(0).quant().scheme());
        assertEquals("int4 asym g32 mse", back.tensors().get(0).quant().label());
        assertEquals("keep", back.tensors().get(1).quant().label());
        assertEquals(1, back.quantizedCount());
        assertEquals(4 * 64 * 5 / 8 + 64 * 4, back.storedBytes());
        String text = new String(json, StandardCharsets.UTF_8);
        assertTrue(text.contains("\"scheme\" : {\n      \"bits\" : 4,\n      \"symmetric\" : false,"), text);
        assertMessage(text.replace("\"bits\" : 4,", "\"bits\" : 3,"), "bits must be 4 or 8");
        assertMessage(text.replace("\"treatment\" : \"keep\"", "\"treatment\" : \"drop\""), "treatment");
    }

    @Test
    void rejectsDuplicateAndUnknownKeys() {
        String good = new String(sample().toJson(), StandardCharsets.UTF_8);
        assertMessage(good.replace("\"kind\" : \"dense\",", "\"kind\" : \"dense\", \"kind\" : \"quantized\","), "Duplicate field 'kind'");
        assertMessage(good.replace("\"row_length\" : 20,", "\"row_length\" : 20, \"colour\" : 1,"), "unknown field 'colour'");
        assertMessage(good.replace("\"kind\" : \"dense\"", "\"kind\" : \"sparse\""), "'kind'");
    }

    private static void assertMessage(String json, String fragment) {
        InvalidInputException e = assertThrows(InvalidInputException.class,
                () -> Manifest.parse(json.getBytes(StandardCharsets.UTF_8), "t/manifest.json"));
        assertTrue(e.getMessage().startsWith("t/manifest.json"), e.getMessage());
        assertTrue(e.getMessage().contains(fragment), e.getMessage());
    }
}
