package nibble.common.format;

import nibble.common.json.Json;
import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import nibble.common.DType;
import nibble.common.InvalidInputException;
import nibble.common.TensorInfo;
import nibble.common.io.ByteSource;

/**
 * Reads the header of a safetensors file: an 8-byte little-endian header length N, N bytes of UTF-8
 * JSON naming each tensor's dtype, shape and byte range, then the data section. Every field is
 * validated against the file's length before anything is allocated, so a corrupt or hostile header
 * fails with one clear line instead of an out-of-memory or a silent misread.
 */
public final class SafetensorsReader {

    /** Largest header accepted (the reference implementation's limit). */
    public static final long MAX_HEADER_BYTES = 100L << 20;

    private static final String METADATA = "__metadata__";

    private SafetensorsReader() {
    }

    /**
     * Returns the file's tensors ordered by offset (ties by name).
     *
     * @param fileName the name recorded in each {@link SourceTensor#file()} and used in error messages
     * @throws InvalidInputException when the header is malformed or disagrees with the file's length
     */
    public static List<SourceTensor> read(ByteSource src, String fileName) throws IOException {
        long length = src.length();
        if (length < 8) {
            throw new InvalidInputException(fileName + ": file is " + length
                    + " bytes, too short for the 8-byte safetensors header length");
        }
        long n = ByteBuffer.wrap(src.read(0, 8)).order(ByteOrder.LITTLE_ENDIAN).getLong();
        if (n < 0 || n > length - 8) {
            throw new InvalidInputException(fileName + ": header length " + Long.toUnsignedString(n)
                    + " runs past the end of the file (" + length + " bytes); the file is truncated or not safetensors");
        }
        if (n > MAX_HEADER_BYTES) {
            throw new InvalidInputException(fileName + ": header length " + n + " exceeds the "
                    + MAX_HEADER_BYTES + "-byte limit");
        }
        long dataStart = 8 + n;
        long dataLength = length - dataStart;
        JsonNode root = Json.parseObject(src.read(8, (int) n), fileName + ": header");

        List<Entry> entries = new ArrayList<>();
        Iterator<Map.Entry<String, JsonNode>> fields = root.fields();
        while (fields.hasNext()) {
            Map.Entry<String, JsonNode> f = fields.next();
            if (f.getKey().equals(METADATA)) {
                if (!f.getValue().isObject()) {
                    throw new InvalidInputException(fileName + ": " + METADATA + " must be an object, found "
                            + Json.kind(f.getValue()));
                }
                continue;
            }
            entries.add(parseEntry(fileName, f.getKey(), f.getValue(), dataLength));
        }
        entries.sort(Comparator.comparingLong((Entry e) -> e.begin).thenComparing(e -> e.info.name()));
        checkNoOverlap(fileName, entries);

        List<SourceTensor> out = new ArrayList<>(entries.size());
        for (Entry e : entries) {
            out.add(new SourceTensor(e.info, fileName, dataStart + e.begin, e.info.name()));
        }
        return out;
    }

    private record Entry(TensorInfo info, long begin, long end) {
    }

    private static Entry parseEntry(String fileName, String name, JsonNode node, long dataLength) {
        String where = fileName + ": tensor '" + name + "'";
        if (!node.isObject()) {
            throw new InvalidInputException(where + ": expected an object with dtype, shape and data_offsets, found "
                    + Json.kind(node));
        }
        Iterator<String> keys = node.fieldNames();
        while (keys.hasNext()) {
            String k = keys.next();
            if (!k.equals("dtype") && !k.equals("shape") && !k.equals("data_offsets")) {
                throw new InvalidInputException(where + ": unknown key '" + k
                        + "' (expected dtype, shape, data_offsets)");
            }
        }
        JsonNode dtypeNode = required(node, "dtype", where);
        if (!dtypeNode.isTextual()) {
            throw new InvalidInputException(where + ": dtype must be a string, found " + Json.kind(dtypeNode));
        }
        DType dtype = DType.parse(dtypeNode.asText(), where);

        JsonNode shapeNode = required(node, "shape", where);
        if (!shapeNode.isArray()) {
            throw new InvalidInputException(where + ": shape must be an array, found " + Json.kind(shapeNode));
        }
        long[] shape = new long[shapeNode.size()];
        for (int i = 0; i < shape.length; i++) {
            shape[i] = nonNegativeLong(shapeNode.get(i), where + ": shape[" + i + "]");
        }
        TensorInfo info;
        try {
            info = new TensorInfo(name, dtype, shape);
        } catch (InvalidInputException e) {
            throw new InvalidInputException(fileName + ": " + e.getMessage(), e);
        }

        JsonNode offs = required(node, "data_offsets", where);
        if (!offs.isArray() || offs.size() != 2) {
            throw new InvalidInputException(where + ": data_offsets must be an array of two integers, found "
                    + Json.kind(offs) + (offs.isArray() ? " of " + offs.size() : ""));
        }
        long begin = nonNegativeLong(offs.get(0), where + ": data_offsets[0]");
        long end = nonNegativeLong(offs.get(1), where + ": data_offsets[1]");
        String range = "data_offsets [" + begin + ", " + end + "]";
        if (begin > end) {
            throw new InvalidInputException(where + ": " + range + " begin after end");
        }
        if (end > dataLength) {
            throw new InvalidInputException(where + ": " + range + " end past the data section (" + dataLength
                    + " bytes)");
        }
        long needed = info.byteLength();
        if (end - begin != needed) {
            throw new InvalidInputException(where + ": shape " + Arrays.toString(shape) + " " + dtype + " needs "
                    + needed + " bytes, " + range + " give " + (end - begin));
        }
        return new Entry(info, begin, end);
    }

    private static JsonNode required(JsonNode node, String key, String where) {
        JsonNode v = node.get(key);
        if (v == null) {
            throw new InvalidInputException(where + ": missing '" + key + "'");
        }
        return v;
    }

    private static long nonNegativeLong(JsonNode v, String where) {
        if (v == null || !v.isIntegralNumber()) {
            throw new InvalidInputException(where + ": expected a non-negative integer, found " + Json.kind(v));
        }
        if (!v.canConvertToLong()) {
            throw new InvalidInputException(where + ": " + v.asText() + " is out of range");
        }
        long x = v.longValue();
        if (x < 0) {
            throw new InvalidInputException(where + ": " + x + " is negative");
        }
        return x;
    }

    private static void checkNoOverlap(String fileName, List<Entry> sorted) {
        Entry reach = null;
        for (Entry e : sorted) {
            if (e.begin == e.end) {
                continue;
            }
            if (reach != null && e.begin < reach.end) {
                throw new InvalidInputException(fileName + ": tensors '" + reach.info.name() + "' (data_offsets ["
                        + reach.begin + ", " + reach.end + "]) and '" + e.info.name() + "' (data_offsets [" + e.begin
                        + ", " + e.end + "]) overlap");
            }
            if (reach == null || e.end > reach.end) {
                reach = e;
            }
        }
    }
}
