package nibble.common.format;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import nibble.common.DType;
import nibble.common.TensorInfo;
import nibble.common.io.FileByteSource;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SafetensorsWriterTest {

    @Test
    void headerIsCompactOrderedAndPaddedToEightBytes() {
        List<TensorInfo> ts = List.of(
                new TensorInfo("z", DType.F32, new long[] {2, 2}),
                new TensorInfo("a", DType.BF16, new long[] {3}));
        Map<String, String> meta = new LinkedHashMap<>();
        meta.put("format", "pt");
        byte[] h = SafetensorsWriter.header(ts, meta);
        long n = ByteBuffer.wrap(h).order(ByteOrder.LITTLE_ENDIAN).getLong();
        assertEquals(h.length - 8, n);
        assertEquals(0, n % 8);
        String json = new String(h, 8, h.length - 8, StandardCharsets.UTF_8);
        String expected = "{\"__metadata__\":{\"format\":\"pt\"},"
                + "\"z\":{\"dtype\":\"F32\",\"shape\":[2,2],\"data_offsets\":[0,16]},"
                + "\"a\":{\"dtype\":\"BF16\",\"shape\":[3],\"data_offsets\":[16,22]}}";
        assertEquals(expected, json.stripTrailing());
        assertEquals(expected.length() + (8 - expected.length() % 8) % 8, json.length());
        assertEquals(h.length + 22, SafetensorsWriter.fileLength(ts, meta));
    }

    @Test
    void rejectsDuplicateNames() {
        TensorInfo t = new TensorInfo("w", DType.F32, new long[] {1});
        assertThrows(IllegalArgumentException.class, () -> SafetensorsWriter.header(List.of(t, t), null));
    }

    @Test
    void writesRowsThatReadBack(@TempDir Path dir) throws Exception {
        TensorInfo a = new TensorInfo("a", DType.F32, new long[] {3, 5});
        TensorInfo b = new TensorInfo("b", DType.F16, new long[] {7});
        Path out = dir.resolve("x.safetensors");
        SafetensorsWriter.write(out, List.of(a, b), null, (t, row, dst) -> {
            for (int i = 0; i < t.rowLength(); i++) {
                if (t.dtype() == DType.F32) {
                    dst.putFloat(row * 100 + i);
                } else {
                    dst.putShort((short) (row * 100 + i));
                }
            }
        });
        assertEquals(List.of("x.safetensors"), Arrays.stream(dir.toFile().list()).toList(), "no temp file left");
        byte[] bytes = Files.readAllBytes(out);
        List<SourceTensor> read;
        try (FileByteSource src = new FileByteSource(out)) {
            read = SafetensorsReader.read(src, "x.safetensors");
        }
        assertEquals(List.of(a, b), read.stream().map(SourceTensor::info).toList());
        ByteBuffer bb = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
        assertEquals(204f, bb.getFloat((int) read.get(0).offset() + (2 * 5 + 4) * 4));
        assertEquals((short) 6, bb.getShort((int) read.get(1).offset() + 12));
        assertEquals(read.get(1).offset() + 14, bytes.length);
    }

    @Test
    void shortRowIsAnErrorAndLeavesNoFile(@TempDir Path dir) {
        TensorInfo a = new TensorInfo("a", DType.F32, new long[] {2, 2});
        Path out = dir.resolve("x.safetensors");
        assertThrows(IllegalStateException.class,
                () -> SafetensorsWriter.write(out, List.of(a), null, (t, row, dst) -> dst.putFloat(1f)));
        assertArrayEquals(new String[0], dir.toFile().list());
    }
}
