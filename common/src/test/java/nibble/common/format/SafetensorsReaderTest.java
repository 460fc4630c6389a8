package nibble.common.format;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;
import nibble.common.DType;
import nibble.common.InvalidInputException;
import org.junit.jupiter.api.Test;

class SafetensorsReaderTest {
    private static final String FILE = "model.safetensors";

    /** 8-byte length, the JSON header as given, then {@code dataBytes} zero bytes. */
    static byte[] file(String json, int dataBytes) {
        byte[] h = json.getBytes(StandardCharsets.UTF_8);
        ByteBuffer b = ByteBuffer.allocate(8 + h.length + dataBytes).order(ByteOrder.LITTLE_ENDIAN);
        b.putLong(h.length).put(h);
        return b.array();
    }

    static List<SourceTensor> read(byte[] bytes) throws Exception {
        return SafetensorsReader.read(new BytesSource(FILE, bytes), FILE);
    }

    static InvalidInputException fails(byte[] bytes, String... mustMention) {
        InvalidInputException e = assertThrows(InvalidInputException.class, () -> read(bytes));
        String m = e.getMessage();
        assertFalse(m.contains("\n"), "one line: " + m);
        assertTrue(m.startsWith(FILE + ":"), "names the file: " + m);
        for (String s : mustMention) {
            assertTrue(m.contains(s), "message should mention '" + s + "': " + m);
        }
        return e;
    }

    @Test
    void readsTensorsInOffsetOrderWithAbsoluteOffsets() throws Exception {
        String json = "{\"__metadata__\":{\"format\":\"pt\"},"
                + "\"b\":{\"dtype\":\"F16\",\"shape\":[2,3],\"data_offsets\":[16,28]},"
                + "\"a\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,16]},"
                + "\"z\":{\"dtype\":\"BF16\",\"shape\":[0],\"data_offsets\":[16,16]}}";
        byte[] bytes = file(json, 28);
        List<SourceTensor> ts = read(bytes);
        long dataStart = 8 + json.getBytes(StandardCharsets.UTF_8).length;
        assertEquals(List.of("a", "b", "z"), ts.stream().map(t -> t.info().name()).toList());
        assertEquals(dataStart, ts.get(0).offset());
        assertEquals(dataStart + 16, ts.get(1).offset());
        assertEquals(DType.F16, ts.get(1).info().dtype());
        assertTrue(Arrays.equals(new long[] {2, 3}, ts.get(1).info().shape()));
        assertEquals(FILE, ts.get(1).file());
        assertEquals("b", ts.get(1).sourceName());
    }

    @Test
    void fileShorterThanLengthPrefix() {
        fails(new byte[5], "5 bytes", "8-byte");
    }

    @Test
    void headerCutShort() {
        byte[] whole = file("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}", 4);
        fails(Arrays.copyOf(whole, 30), "header length", "30 bytes");
    }

    @Test
    void headerLengthPastEndOfFile() {
        byte[] b = file("{}", 0);
        ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN).putLong(0, Long.MAX_VALUE);
        fails(b, "header length " + Long.MAX_VALUE, "past the end");
        ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN).putLong(0, -1L);
        fails(b, "header length 18446744073709551615");
    }

    @Test
    void dataOffsetsPastEnd() {
        fails(file("{\"model.layers.0.mlp.up_proj.weight\":{\"dtype\":\"F32\",\"shape\":[250],"
                        + "\"data_offsets\":[0,1000]}}", 900),
                "tensor 'model.layers.0.mlp.up_proj.weight'", "data_offsets [0, 1000]", "900 bytes");
    }

    @Test
    void overlappingTensors() {
        fails(file("{\"first\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,16]},"
                + "\"second\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[8,24]}}", 24),
                "'first'", "'second'", "overlap");
    }

    @Test
    void shapeNotMatchingByteLength() {
        fails(file("{\"w\":{\"dtype\":\"F16\",\"shape\":[2,3],\"data_offsets\":[0,24]}}", 24),
                "tensor 'w'", "shape [2, 3] F16 needs 12 bytes", "give 24");
    }

    @Test
    void unsupportedDtype() {
        fails(file("{\"ids\":{\"dtype\":\"I64\",\"shape\":[2],\"data_offsets\":[0,16]}}", 16),
                "tensor 'ids'", "I64");
        fails(file("{\"f8\":{\"dtype\":\"F8_E4M3\",\"shape\":[2],\"data_offsets\":[0,2]}}", 2),
                "tensor 'f8'", "F8_E4M3");
    }

    @Test
    void malformedJson() {
        fails(file("{\"w\":{\"dtype\":\"F32\",", 0), "header", "not valid JSON");
        fails(file("[1,2]", 0), "header", "JSON object");
        fails(file("{\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},"
                + "\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}", 8), "Duplicate field 'w'");
    }

    @Test
    void badFields() {
        fails(file("{\"w\":{\"dtype\":\"F32\",\"shape\":[1.5],\"data_offsets\":[0,4]}}", 4),
                "tensor 'w'", "shape[0]", "non-negative integer");
        fails(file("{\"w\":{\"dtype\":\"F32\",\"shape\":[-1],\"data_offsets\":[0,4]}}", 4),
                "tensor 'w'", "shape[0]", "negative");
        fails(file("{\"w\":{\"dtype\":\"F32\",\"shape\":[4294967296,4294967296],\"data_offsets\":[0,4]}}", 4),
                "tensor 'w'", "overflows");
        fails(file("{\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0]}}", 4),
                "tensor 'w'", "data_offsets");
        fails(file("{\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,0]}}", 4),
                "tensor 'w'", "begin after end");
        fails(file("{\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4],\"extra\":1}}", 4),
                "tensor 'w'", "unknown key 'extra'");
        fails(file("{\"w\":{\"dtype\":\"F32\",\"data_offsets\":[0,4]}}", 4), "tensor 'w'", "missing 'shape'");
        fails(file("{\"w\":[1]}", 4), "tensor 'w'", "expected an object");
    }
}
