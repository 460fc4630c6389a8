package nibble.common.format;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import nibble.common.InvalidInputException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CheckpointReaderTest {

    static void put(Path dir, String name, String json, int dataBytes) throws Exception {
        Files.write(dir.resolve(name), SafetensorsReaderTest.file(json, dataBytes));
    }

    static String one(String name, int begin) {
        return "\"" + name + "\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[" + begin + "," + (begin + 4) + "]}";
    }

    static InvalidInputException fails(Path dir, String... mustMention) {
        InvalidInputException e = assertThrows(InvalidInputException.class, () -> CheckpointReader.read(dir));
        assertFalse(e.getMessage().contains("\n"), e.getMessage());
        for (String s : mustMention) {
            assertTrue(e.getMessage().contains(s), "message should mention '" + s + "': " + e.getMessage());
        }
        return e;
    }

    @Test
    void severalSafetensorsFilesInNameOrderWithConfig(@TempDir Path dir) throws Exception {
        put(dir, "b.safetensors", "{" + one("x", 0) + "}", 4);
        put(dir, "a.safetensors", "{" + one("z", 4) + "," + one("y", 0) + "}", 8);
        Files.writeString(dir.resolve("config.json"),
                "{\"model_type\":\"llama\",\"hidden_size\":64,\"rope_scaling\":{\"type\":\"linear\",\"factor\":2.0},"
                        + "\"architectures\":[\"LlamaForCausalLM\"],\"rms_norm_eps\":1e-5}");
        Files.writeString(dir.resolve("README.md"), "not a checkpoint");
        CheckpointHeader h = CheckpointReader.read(dir);
        assertEquals("safetensors", h.format());
        assertEquals(List.of("a.safetensors", "b.safetensors"), h.files());
        assertEquals(List.of("y", "z", "x"), h.tensors().stream().map(t -> t.info().name()).toList());
        assertEquals("b.safetensors", h.tensors().get(2).file());
        Map<String, Object> a = h.architecture();
        assertInstanceOf(LinkedHashMap.class, a);
        assertEquals(List.of("model_type", "hidden_size", "rope_scaling", "architectures", "rms_norm_eps"),
                List.copyOf(a.keySet()));
        assertEquals(64, a.get("hidden_size"));
        assertEquals(1e-5, a.get("rms_norm_eps"));
        assertInstanceOf(LinkedHashMap.class, a.get("rope_scaling"));
        assertEquals(List.of("LlamaForCausalLM"), a.get("architectures"));
    }

    @Test
    void singleFileCheckpointWithoutConfig(@TempDir Path dir) throws Exception {
        put(dir, "model.safetensors", "{" + one("x", 0) + "}", 4);
        CheckpointHeader h = CheckpointReader.read(dir.resolve("model.safetensors"));
        assertEquals(List.of("model.safetensors"), h.files());
        assertNull(h.architecture());
    }

    @Test
    void duplicateNameAcrossFiles(@TempDir Path dir) throws Exception {
        put(dir, "a.safetensors", "{" + one("w", 0) + "}", 4);
        put(dir, "b.safetensors", "{" + one("w", 0) + "}", 4);
        fails(dir, "'w'", "a.safetensors", "b.safetensors");
    }

    @Test
    void nothingToRead(@TempDir Path dir) throws Exception {
        Files.writeString(dir.resolve("notes.txt"), "x");
        fails(dir, dir.toString(), "no checkpoint found");
    }

    @Test
    void badConfigJson(@TempDir Path dir) throws Exception {
        put(dir, "model.safetensors", "{" + one("x", 0) + "}", 4);
        Files.writeString(dir.resolve("config.json"), "{\"a\": ");
        fails(dir, "config.json", "not valid JSON");
    }

    private static void index(Path dir, String weightMap) throws Exception {
        Files.write(dir.resolve("model.safetensors.index.json"),
                ("{\"metadata\":{\"total_size\":12},\"weight_map\":{" + weightMap + "}}")
                        .getBytes(StandardCharsets.UTF_8));
    }

    @Test
    void shardedReadsOnlyIndexedShards(@TempDir Path dir) throws Exception {
        put(dir, "s-1.safetensors", "{" + one("a", 0) + "," + one("b", 4) + "}", 8);
        put(dir, "s-2.safetensors", "{" + one("c", 0) + "}", 4);
        put(dir, "stray.safetensors", "{" + one("a", 0) + "}", 4);
        index(dir, "\"c\":\"s-2.safetensors\",\"a\":\"s-1.safetensors\",\"b\":\"s-1.safetensors\"");
        CheckpointHeader h = CheckpointReader.read(dir);
        assertEquals(List.of("s-1.safetensors", "s-2.safetensors"), h.files());
        assertEquals(List.of("a", "b", "c"), h.tensors().stream().map(t -> t.info().name()).toList());
    }

    @Test
    void indexNamesMissingTensor(@TempDir Path dir) throws Exception {
        put(dir, "s-1.safetensors", "{" + one("a", 0) + "}", 4);
        index(dir, "\"a\":\"s-1.safetensors\",\"ghost\":\"s-1.safetensors\"");
        fails(dir, "model.safetensors.index.json", "'ghost'", "s-1.safetensors");
    }

    @Test
    void indexNamesMissingShard(@TempDir Path dir) throws Exception {
        put(dir, "s-1.safetensors", "{" + one("a", 0) + "}", 4);
        index(dir, "\"a\":\"s-1.safetensors\",\"b\":\"s-9.safetensors\"");
        fails(dir, "model.safetensors.index.json", "'b'", "s-9.safetensors");
    }

    @Test
    void shardTensorNotInIndex(@TempDir Path dir) throws Exception {
        put(dir, "s-1.safetensors", "{" + one("a", 0) + "," + one("extra", 4) + "}", 8);
        index(dir, "\"a\":\"s-1.safetensors\"");
        fails(dir, "s-1.safetensors", "'extra'", "weight_map");
    }

    @Test
    void tensorInWrongShard(@TempDir Path dir) throws Exception {
        put(dir, "s-1.safetensors", "{" + one("a", 0) + "," + one("b", 4) + "}", 8);
        put(dir, "s-2.safetensors", "{" + one("c", 0) + "}", 4);
        index(dir, "\"a\":\"s-1.safetensors\",\"b\":\"s-2.safetensors\",\"c\":\"s-2.safetensors\"");
        fails(dir, "s-1.safetensors", "'b'", "s-2.safetensors");
    }

    @Test
    void badIndex(@TempDir Path dir) throws Exception {
        put(dir, "s-1.safetensors", "{" + one("a", 0) + "}", 4);
        Files.writeString(dir.resolve("model.safetensors.index.json"), "{\"weight_map\":[]}");
        fails(dir, "model.safetensors.index.json", "weight_map must be an object");
    }
}
