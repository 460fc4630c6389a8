package nibble.tests;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import nibble.common.DType;
import nibble.common.synth.SyntheticCheckpoint;
import nibble.common.synth.SyntheticSpec;
import nibble.common.table.Manifest;
import nibble.common.table.TensorEntry;

class ShardRoundTripTest {
    @TempDir
    Path tmp;

    static Path tinyCheckpoint(Path dir, DType dtype, long shardBytes) throws Exception {
        SyntheticCheckpoint.write(dir, SyntheticSpec.preset("tiny").withDtype(dtype).withSeed(7), shardBytes);
        return dir;
    }

    @ParameterizedTest(name = "{0}, shard bytes {1}")
    @CsvSource({"F32, 0", "F16, 0", "BF16, 0", "F32, 100000", "F16, 60000", "BF16, 60000"})
    void safetensorsRoundTripIsBitExact(DType dtype, long shardBytes) throws Exception {
        Path ckpt = tinyCheckpoint(tmp.resolve("ckpt"), dtype, shardBytes);
        if (shardBytes > 0) {
            assertTrue(Files.exists(ckpt.resolve("model.safetensors.index.json")), "sharded checkpoint");
        }
        Path table = tmp.resolve("table");
        TestSpark.Run r = TestSpark.nibble("shard", "--input", ckpt.toString(), "--output", table.toString(),
                "--target-file-mb", "1");
        assertEquals(0, r.code(), r.err());
        Tables.assertBitExact(table, ckpt);
        Manifest m = Tables.manifest(table);
        assertEquals("safetensors", m.source().get("format"));
        assertEquals("llama", m.architecture().get("model_type"));
        for (TensorEntry e : m.tensors()) {
            assertEquals(dtype, e.info().dtype());
        }
    }

    @Test
    void stories260KRoundTripIsBitExact() throws Exception {
        Path model = TestSpark.stories260K();
        Assumptions.assumeTrue(model != null && Files.exists(model), "../shared/models/stories260K.bin is absent");
        Path table = tmp.resolve("stories");
        TestSpark.Run r = TestSpark.nibble("shard", "--input", model.toString(), "--output", table.toString());
        assertEquals(0, r.code(), r.err());
        Tables.assertBitExact(table, model);
        Manifest m = Tables.manifest(table);
        assertEquals(260_032, m.totalElements());
        assertEquals(47, m.tensors().size());
        assertEquals(64, ((Number) m.architecture().get("hidden_size")).intValue());
        assertEquals(4, ((Number) m.architecture().get("num_key_value_heads")).intValue());
        TensorEntry embed = m.tensors().get(0);
        assertEquals("model.embed_tokens.weight", embed.info().name());
        assertEquals("token_embedding_table", embed.sourceName());
        assertArrayEquals(new long[] {512, 64}, embed.info().shape());
        // The first weight of the file (after the 28-byte header) is row 0, value 0 of the embedding.
        byte[] first = Tables.slice(model, 28, 4);
        byte[] row0 = Tables.tensorBytes(table).get("model.embed_tokens.weight");
        assertEquals(ByteBuffer.wrap(first).order(ByteOrder.LITTLE_ENDIAN).getFloat(),
                ByteBuffer.wrap(row0).order(ByteOrder.LITTLE_ENDIAN).getFloat());
        // The final norm sits right before the 4,096 RoPE floats at the end of the file.
        long normOffset = Files.size(model) - 4096L * 4 - 64L * 4;
        assertEquals(Tables.crc(Tables.slice(model, normOffset, 64 * 4)),
                m.tensors().stream().filter(e -> e.info().name().equals("model.norm.weight")).findFirst().orElseThrow().checksum());
    }

    @Test
    void reshardKeepsChecksumsAndSameTargetReproducesFilesByteForByte() throws Exception {
        Path ckpt = tinyCheckpoint(tmp.resolve("ckpt"), DType.BF16, 0);
        Path a = tmp.resolve("a");
        assertEquals(0, TestSpark.nibble("shard", "--input", ckpt.toString(), "--output", a.toString(),
                "--target-file-mb", "0.05").code());
        Path b = tmp.resolve("b");
        assertEquals(0, TestSpark.nibble("shard", "--input", a.toString(), "--output", b.toString(),
                "--target-file-mb", "0.2").code());
        Path c = tmp.resolve("c");
        assertEquals(0, TestSpark.nibble("shard", "--input", b.toString(), "--output", c.toString(),
                "--target-file-mb", "0.05").code());
        Manifest ma = Tables.manifest(a);
        Manifest mb = Tables.manifest(b);
        assertEquals(checksums(ma), checksums(mb));
        assertTrue(ma.files().size() > mb.files().size(), ma.files().size() + " vs " + mb.files().size() + " files");
        Map<String, byte[]> fa = Tables.files(a.resolve("tensors"));
        Map<String, byte[]> fc = Tables.files(c.resolve("tensors"));
        assertEquals(fa.keySet(), fc.keySet());
        fa.forEach((k, v) -> assertArrayEquals(v, fc.get(k), k));
        Tables.assertBitExact(b, ckpt);
    }

    @Test
    void sameInputGivesByteIdenticalOutput() throws Exception {
        Path ckpt = tinyCheckpoint(tmp.resolve("ckpt"), DType.F16, 0);
        Path a = tmp.resolve("a");
        Path b = tmp.resolve("b");
        assertEquals(0, TestSpark.nibble("shard", "--input", ckpt.toString(), "--output", a.toString(), "--target-file-mb", "1").code());
        assertEquals(0, TestSpark.nibble("shard", "--input", ckpt.toString(), "--output", b.toString(), "--target-file-mb", "1").code());
        Map<String, byte[]> fa = Tables.files(a);
        Map<String, byte[]> fb = Tables.files(b);
        assertEquals(fa.keySet(), fb.keySet());
        assertTrue(fa.containsKey("manifest.json"));
        fa.forEach((k, v) -> assertArrayEquals(v, fb.get(k), k));
    }

    private static List<String> checksums(Manifest m) {
        return m.tensors().stream().map(e -> e.info().name() + "=" + e.checksum()).toList();
    }
}
