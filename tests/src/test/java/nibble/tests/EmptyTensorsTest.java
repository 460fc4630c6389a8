package nibble.tests;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import nibble.common.DType;
import nibble.common.format.CheckpointReader;
import nibble.common.table.Manifest;
import nibble.common.table.TensorEntry;

/**
 * Tensors without elements (shapes [4, 0], [0, 4] and [0]) beside the tiny model's, through every
 * stage: shard, calibrate, quantize, evaluate, sample, export and pipeline all succeed; the empty
 * tensors are kept (32 bits per weight for F32, no error figures), and no written JSON holds NaN.
 */
class EmptyTensorsTest {
    private static final Map<String, long[]> EMPTY = Map.of(
            "model.extra.cols0.weight", new long[] {4, 0},
            "model.extra.rows0.weight", new long[] {0, 4},
            "model.extra.none", new long[] {0});

    @TempDir
    Path dir;

    /** The tiny checkpoint with the empty tensors added to its safetensors header (the data is unchanged). */
    private Path checkpoint() throws Exception {
        Path ckpt = ShardRoundTripTest.tinyCheckpoint(dir.resolve("ckpt"), DType.F32, 0);
        Path file = ckpt.resolve("model.safetensors");
        byte[] all = Files.readAllBytes(file);
        long headerLength = ByteBuffer.wrap(all, 0, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
        ObjectMapper json = new ObjectMapper();
        ObjectNode header = (ObjectNode) json.readTree(new String(all, 8, (int) headerLength, StandardCharsets.UTF_8));
        long end = all.length - 8 - headerLength;
        EMPTY.forEach((name, shape) -> {
            ObjectNode t = header.putObject(name);
            t.put("dtype", "F32");
            var s = t.putArray("shape");
            Arrays.stream(shape).forEach(s::add);
            t.putArray("data_offsets").add(end).add(end);
        });
        byte[] h = json.writeValueAsBytes(header);
        ByteBuffer out = ByteBuffer.allocate(8 + h.length + (int) end).order(ByteOrder.LITTLE_ENDIAN);
        out.putLong(h.length).put(h).put(all, 8 + (int) headerLength, (int) end);
        Files.write(file, out.array());
        return ckpt;
    }

    private static void ok(String... args) {
        TestSpark.Run r = TestSpark.nibble(args);
        assertEquals(0, r.code(), String.join(" ", args) + ": " + r.err());
    }

    @Test
    void everyStageHandlesTensorsWithoutElements() throws Exception {
        Path ckpt = checkpoint();
        Path table = dir.resolve("table");
        Path q = dir.resolve("q");
        ok("shard", "--input", ckpt.toString(), "--output", table.toString());
        ok("calibrate", "--input", table.toString());
        // a re-shard into small files: plans whose ranges include the empty tensors, checksums unchanged
        Path reshard = dir.resolve("reshard");
        ok("shard", "--input", table.toString(), "--output", reshard.toString(), "--target-file-mb", "0.001");
        assertEquals(Tables.manifest(table).checksums(), Tables.manifest(reshard).checksums());
        assertEquals(Tables.manifest(table).tensors(), Tables.manifest(reshard).tensors());
        ok("quantize", "--input", table.toString(), "--output", q.toString(), "--recipe", "int4-g32");
        ok("evaluate", "--original", table.toString(), "--quantized", q.toString(), "--output", dir.resolve("eval").toString(),
                "--sequences", "2", "--sequence-length", "8");
        ok("sample", "--model", table.toString(), "--output", dir.resolve("seqs").toString(), "--sequences", "2",
                "--sequence-length", "8");
        ok("export", "--input", q.toString(), "--output", dir.resolve("model.gguf").toString());
        ok("pipeline", "--input", ckpt.toString(), "--output", dir.resolve("registry").toString(), "--recipe", "int4-g32",
                "--sequences", "2", "--sequence-length", "8");

        Manifest m = Tables.manifest(q);
        for (String name : EMPTY.keySet()) {
            TensorEntry e = m.tensors().stream().filter(t -> t.info().name().equals(name)).findFirst().orElseThrow();
            assertArrayEquals(EMPTY.get(name), e.info().shape(), name);
            assertEquals("keep", e.quant().label(), name);
            assertEquals(32.0, e.quant().bitsPerWeight(), name);
            assertNull(e.quant().error(), name);
        }
        try (Stream<Path> files = Files.walk(dir)) {
            for (Path f : files.filter(p -> p.toString().endsWith(".json")).toList()) {
                String text = Files.readString(f);
                assertFalse(text.contains("NaN") || text.contains("Infinity"), f + " holds a non-finite number");
            }
        }
        List<String> inGguf = CheckpointReader.read(dir.resolve("model.gguf")).tensors().stream()
                .flatMap(t -> Stream.of(t.info().name(), t.sourceName())).toList();
        for (String name : EMPTY.keySet()) {
            assertEquals(true, inGguf.contains(name), name + " in the GGUF file: " + inGguf);
        }
    }
}
