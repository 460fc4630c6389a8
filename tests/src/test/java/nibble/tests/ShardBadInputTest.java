package nibble.tests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import nibble.common.DType;

/** Each bad input: exit code 3, one line naming the input and the problem, and no output directory. */
class ShardBadInputTest {
    @TempDir
    Path tmp;

    /** A safetensors file with the given header JSON and {@code dataBytes} zero bytes of data. */
    private Path safetensors(String name, String header, int dataBytes) throws Exception {
        byte[] h = header.getBytes(StandardCharsets.UTF_8);
        ByteBuffer b = ByteBuffer.allocate(8 + h.length + dataBytes).order(ByteOrder.LITTLE_ENDIAN);
        b.putLong(h.length).put(h);
        Path p = tmp.resolve(name);
        Files.write(p, b.array());
        return p;
    }

    private void assertRejected(Path input, String... fragments) {
        Path out = tmp.resolve("out-" + input.getFileName());
        TestSpark.Run r = TestSpark.nibble("shard", "--input", input.toString(), "--output", out.toString());
        assertEquals(3, r.code(), r.err());
        String line = r.err().strip();
        assertEquals(1, line.lines().filter(l -> l.startsWith("nibble shard: error:")).count(), line);
        assertTrue(line.contains(input.getFileName().toString()), "names the file: " + line);
        for (String f : fragments) {
            assertTrue(line.contains(f), "mentions '" + f + "': " + line);
        }
        assertFalse(Files.exists(out), "no output directory");
        try (var siblings = Files.list(tmp)) {
            String hidden = ".out-" + input.getFileName() + ".nibble-";
            assertEquals(java.util.List.of(), siblings.map(p -> p.getFileName().toString()).filter(n -> n.startsWith(hidden)).toList(),
                    "no temporary directory and no claim left");
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    @Test
    void truncatedFile() throws Exception {
        Path p = tmp.resolve("short.safetensors");
        Files.write(p, new byte[] {1, 2, 3});
        assertRejected(p);
    }

    @Test
    void truncatedData() throws Exception {
        assertRejected(safetensors("cut.safetensors",
                "{\"w\":{\"dtype\":\"F32\",\"shape\":[4,4],\"data_offsets\":[0,64]}}", 40), "'w'");
    }

    @Test
    void headerLengthPastEndOfFile() throws Exception {
        ByteBuffer b = ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN).putLong(1_000_000).putLong(0);
        Path p = tmp.resolve("longheader.safetensors");
        Files.write(p, b.array());
        assertRejected(p);
    }

    @Test
    void offsetsPastTheEnd() throws Exception {
        assertRejected(safetensors("past.safetensors",
                "{\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[8,16]}}", 8), "'w'");
    }

    @Test
    void overlappingTensors() throws Exception {
        assertRejected(safetensors("overlap.safetensors",
                "{\"a\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,16]},"
                        + "\"b\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[8,24]}}", 24), "'a'", "'b'");
    }

    @Test
    void shapeNotMatchingByteLength() throws Exception {
        assertRejected(safetensors("shape.safetensors",
                "{\"w\":{\"dtype\":\"F16\",\"shape\":[3,3],\"data_offsets\":[0,20]}}", 20), "'w'");
    }

    @Test
    void unknownDtype() throws Exception {
        assertRejected(safetensors("dtype.safetensors",
                "{\"ids\":{\"dtype\":\"I64\",\"shape\":[2],\"data_offsets\":[0,16]}}", 16), "'ids'", "I64");
    }

    @Test
    void llama2cHeaderWithImpossibleDimensions() throws Exception {
        // dim 60 is not a multiple of 8 heads.
        ByteBuffer b = ByteBuffer.allocate(28 + 4096).order(ByteOrder.LITTLE_ENDIAN);
        b.putInt(60).putInt(172).putInt(5).putInt(8).putInt(4).putInt(512).putInt(512);
        Path p = tmp.resolve("bad.bin");
        Files.write(p, b.array());
        assertRejected(p);
    }

    @Test
    void outputThatAlreadyHoldsATable() throws Exception {
        Path ckpt = ShardRoundTripTest.tinyCheckpoint(tmp.resolve("ckpt"), DType.F32, 0);
        Path out = tmp.resolve("table");
        assertEquals(0, TestSpark.nibble("shard", "--input", ckpt.toString(), "--output", out.toString()).code());
        byte[] manifest = Files.readAllBytes(out.resolve("manifest.json"));
        TestSpark.Run again = TestSpark.nibble("shard", "--input", ckpt.toString(), "--output", out.toString());
        assertEquals(3, again.code());
        assertTrue(again.err().contains("already holds a complete result"), again.err());
        assertTrue(java.util.Arrays.equals(manifest, Files.readAllBytes(out.resolve("manifest.json"))), "table untouched");
        TestSpark.Run forced = TestSpark.nibble("shard", "--input", ckpt.toString(), "--output", out.toString(),
                "--overwrite", "--target-file-mb", "1");
        assertEquals(0, forced.code(), forced.err());
        Tables.assertBitExact(out, ckpt);
    }

    @Test
    void missingInputAndBadOptions() {
        TestSpark.Run missing = TestSpark.nibble("shard", "--input", tmp.resolve("nope").toString(),
                "--output", tmp.resolve("o").toString());
        assertEquals(3, missing.code());
        assertTrue(missing.err().contains("nope"), missing.err());
        assertEquals(2, TestSpark.nibble("shard", "--input", "x").code());
        assertEquals(2, TestSpark.nibble("shard", "--bogus", "1").code());
        assertEquals(2, TestSpark.nibble("frobnicate").code());
        TestSpark.Run help = TestSpark.nibble("shard", "--help");
        assertEquals(0, help.code());
        assertTrue(help.out().contains("--target-file-mb"), help.out());
    }

    /** A GGUF v3 file: header with {@code tensorCount}, no metadata, one F32 tensor info "w" of {@code n} values, {@code dataBytes} of data. */
    private Path gguf(String name, long tensorCount, long n, int dataBytes) throws Exception {
        ByteBuffer b = ByteBuffer.allocate(256 + dataBytes).order(ByteOrder.LITTLE_ENDIAN);
        b.putInt(0x46554747).putInt(3).putLong(tensorCount).putLong(0);
        b.putLong(1).put((byte) 'w').putInt(1).putLong(n).putInt(0).putLong(0);
        while (b.position() % 32 != 0) {
            b.put((byte) 0);
        }
        b.position(b.position() + dataBytes);
        Path p = tmp.resolve(name);
        Files.write(p, java.util.Arrays.copyOf(b.array(), b.position()));
        return p;
    }

    @Test
    void ggufAbsurdTensorCount() throws Exception {
        assertRejected(gguf("count.gguf", 1L << 60, 4, 16), "tensor count 1152921504606846976");
    }

    @Test
    void ggufTensorDataPastTheEnd() throws Exception {
        assertRejected(gguf("cut.gguf", 1, 1000, 16), "tensor 'w'", "truncated");
    }

    @Test
    void ggufIsRead() throws Exception {
        Path p = gguf("ok.gguf", 1, 4, 16);
        Path out = tmp.resolve("ok-table");
        TestSpark.Run r = TestSpark.nibble("shard", "--input", p.toString(), "--output", out.toString());
        assertEquals(0, r.code(), r.err());
        assertTrue(Files.readString(out.resolve("manifest.json")).contains("\"source_type\" : \"F32\""));
    }
}
