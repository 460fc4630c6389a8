package nibble.tests;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.zip.CRC32;
import nibble.common.format.CheckpointHeader;
import nibble.common.format.CheckpointReader;
import nibble.common.format.GgmlType;
import nibble.common.format.SourceTensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Every ggml type Nibble reads, on random blocks (finite random scales) in a GGUF file written by the
 * {@code gguf} package's own {@code GGUFWriter}: Nibble's dequantization equals
 * {@code gguf.quants.dequantize} bit for bit. Needs {@code .venv} like {@link GgufShardTest}; no Spark.
 */
class GgufTypesTest {
    @TempDir
    Path tmp;

    @Test
    void everyTypeEqualsGgufDequantizationBitForBit() throws Exception {
        Path python = GgufShardTest.venvPython();
        GgufShardTest.requireOrSkip(Files.isExecutable(python) ? null : python + " not found");
        for (int seed = 1; seed <= 3; seed++) {
            Path file = tmp.resolve("random-" + seed + ".gguf");
            Path ref = tmp.resolve("random-" + seed + ".json");
            run(python.toString(), script("gguf_random.py"), file.toString(), Integer.toString(seed));
            run(python.toString(), script("gguf_reference.py"), file.toString(), ref.toString());
            JsonNode tensors = new ObjectMapper().readTree(ref.toFile()).get("tensors");
            CheckpointHeader h = CheckpointReader.read(file);
            assertEquals(GgmlType.values().length, h.tensors().size());
            List<String> types = new ArrayList<>();
            for (int i = 0; i < tensors.size(); i++) {
                SourceTensor t = h.tensors().get(i);
                JsonNode r = tensors.get(i);
                assertEquals(r.get("name").asText(), t.sourceName());
                assertEquals(r.get("type").asText(), t.sourceType().name());
                assertArrayEquals(new ObjectMapper().convertValue(r.get("shape"), long[].class), t.info().shape());
                byte[] raw = Tables.slice(file, t.offset(), t.sourceByteLength());
                float[] values = new float[(int) t.info().elementCount()];
                t.decodeRows(raw, (int) t.info().rows(), values, 0);
                ByteBuffer le = ByteBuffer.allocate(values.length * 4).order(ByteOrder.LITTLE_ENDIAN);
                le.asFloatBuffer().put(values);
                CRC32 crc = new CRC32();
                crc.update(le.array());
                assertEquals(r.get("crc32").asLong(), crc.getValue(), t.sourceType() + " (seed " + seed + ")");
                types.add(t.sourceType().name());
            }
            System.out.println("GgufTypesTest: seed " + seed + ": " + String.join(", ", types)
                    + " equal gguf.quants.dequantize bit for bit");
        }
    }

    private static String script(String name) {
        return GgufShardTest.project().resolve("tests/src/test/python").resolve(name).toString();
    }

    private static void run(String... cmd) throws Exception {
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String log = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(5, TimeUnit.MINUTES)) {
            p.destroyForcibly();
            fail(String.join(" ", cmd) + " timed out");
        }
        assertEquals(0, p.exitValue(), String.join(" ", cmd) + " failed:\n" + log);
    }
}
