package nibble.common.table;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import nibble.common.DType;
import nibble.common.InvalidInputException;
import nibble.common.TensorInfo;
import nibble.common.json.Json;

/**
 * A tensor table's {@code manifest.json} (format v1, see docs/FORMAT.md): what the table holds and
 * the checksums that let any later stage prove nothing was lost. It is written last; a directory
 * without it is not a table. Its bytes depend only on its content (no timestamps), so re-runs give
 * identical manifests.
 *
 * @param source where the table came from: open-ended ({@code format}, {@code uri}, {@code files},
 *        {@code origin}, {@code recipe}, ...), written as given
 * @param architecture the model's Hugging Face {@code config.json} keys, or null when unknown
 */
public record Manifest(Kind kind, Map<String, Object> source, Map<String, Object> architecture,
                       List<TensorEntry> tensors, List<FileEntry> files) {

    public static final String FORMAT = "nibble-tensor-table";
    public static final int FORMAT_VERSION = 1;
    public static final String FILE_NAME = "manifest.json";
    public static final String DATA_DIR = "tensors";
    public static final String CHECKSUM_ALGORITHM = "crc32c";
    /** Manifests larger than this are refused before they are read. */
    public static final long MAX_BYTES = 256L << 20;

    /** What the rows hold: source values ({@code data}), or quantized codes, scales and zero-points. */
    public enum Kind {
        DENSE, QUANTIZED;

        /** The manifest's spelling: {@code dense}, {@code quantized}. */
        public String label() {
            return name().toLowerCase(Locale.ROOT);
        }

        static Kind parse(String s, String where) {
            for (Kind k : values()) {
                if (k.label().equals(s)) {
                    return k;
                }
            }
            throw new InvalidInputException(where + ": field 'kind' is '" + s + "', expected dense or quantized");
        }
    }

    public Manifest {
        tensors = List.copyOf(tensors);
        files = List.copyOf(files);
    }

    public List<TensorInfo> tensorInfos() {
        List<TensorInfo> infos = new ArrayList<>(tensors.size());
        for (TensorEntry e : tensors) {
            infos.add(e.info());
        }
        return infos;
    }

    /** Each tensor's checksum by name, in manifest order. */
    public Map<String, String> checksums() {
        Map<String, String> c = new LinkedHashMap<>();
        tensors.forEach(e -> c.put(e.info().name(), e.checksum()));
        return c;
    }

    public long totalRows() {
        long n = 0;
        for (TensorEntry e : tensors) {
            n += e.info().rows();
        }
        return n;
    }

    public long totalElements() {
        long n = 0;
        for (TensorEntry e : tensors) {
            n += e.info().elementCount();
        }
        return n;
    }

    /** Bytes of the tensors' values in their dtype (what the source held). */
    public long totalDataBytes() {
        long n = 0;
        for (TensorEntry e : tensors) {
            n += e.info().byteLength();
        }
        return n;
    }

    /** Bytes the rows take as stored: values, or codes, scales and zero-points. */
    public long storedBytes() {
        long total = 0;
        for (TensorEntry e : tensors) {
            total += e.quant() == null ? e.info().byteLength() : e.quant().storedBytes(e.info());
        }
        return total;
    }

    /** Tensors stored quantized (not kept). */
    public long quantizedCount() {
        return tensors.stream().filter(e -> e.quant() != null && e.quant().scheme() != null).count();
    }

    /** The manifest as UTF-8 JSON, keys in a fixed order, ending with a newline. */
    public byte[] toJson() {
        ObjectNode root = Json.object();
        root.put("format", FORMAT);
        root.put("format_version", FORMAT_VERSION);
        root.put("kind", kind.label());
        root.put("checksum_algorithm", CHECKSUM_ALGORITHM);
        root.set("source", Json.tree(source));
        root.set("architecture", Json.tree(architecture));
        ObjectNode totals = root.putObject("totals");
        totals.put("tensors", tensors.size());
        totals.put("rows", totalRows());
        totals.put("elements", totalElements());
        totals.put("data_bytes", totalDataBytes());
        ArrayNode ts = root.putArray("tensors");
        tensors.forEach(e -> e.writeTo(ts.addObject()));
        ArrayNode fs = root.putArray("files");
        for (FileEntry f : files) {
            fs.addObject().put("path", f.path()).put("rows", f.rows()).put("bytes", f.bytes());
        }
        return Json.write(root);
    }

    /**
     * Parses and validates a manifest.
     *
     * @param where the manifest's path, for error messages
     */
    public static Manifest parse(byte[] json, String where) {
        JsonNode root = Json.parseObject(json, where);
        if (!FORMAT.equals(root.path("format").asText())) {
            throw new InvalidInputException(where + ": field 'format' is not '" + FORMAT + "'");
        }
        if (root.path("format_version").asInt(-1) != FORMAT_VERSION) {
            throw new InvalidInputException(where + ": unsupported format_version " + root.path("format_version")
                    + " (this Nibble reads " + FORMAT_VERSION + ")");
        }
        if (!CHECKSUM_ALGORITHM.equals(root.path("checksum_algorithm").asText())) {
            throw new InvalidInputException(where + ": unsupported checksum_algorithm " + root.path("checksum_algorithm"));
        }
        Kind kind = Kind.parse(text(root, "kind", where), where);
        List<TensorEntry> tensors = new ArrayList<>();
        for (JsonNode t : array(root, "tensors", where)) {
            tensors.add(TensorEntry.read(t, kind, where));
        }
        List<FileEntry> files = new ArrayList<>();
        for (JsonNode f : array(root, "files", where)) {
            files.add(new FileEntry(text(f, "path", where), f.path("rows").asLong(), f.path("bytes").asLong()));
        }
        return new Manifest(kind, Json.plainObject(root.get("source")), Json.plainObject(root.get("architecture")), tensors, files);
    }

    static TensorInfo info(JsonNode t, String at, String name) {
        DType dtype = DType.parse(text(t, "dtype", at), at);
        JsonNode shapeNode = t.get("shape");
        if (shapeNode == null || !shapeNode.isArray()) {
            throw new InvalidInputException(at + ": field 'shape' is missing or not an array");
        }
        long[] shape = new long[shapeNode.size()];
        for (int i = 0; i < shape.length; i++) {
            if (!shapeNode.get(i).canConvertToExactIntegral() || shapeNode.get(i).asLong() < 0) {
                throw new InvalidInputException(at + ": field 'shape' holds " + shapeNode.get(i) + ", not a size");
            }
            shape[i] = shapeNode.get(i).asLong();
        }
        TensorInfo info = new TensorInfo(name, dtype, shape);
        if (t.path("rows").asLong(-1) != info.rows() || t.path("row_length").asLong(-1) != info.rowLength()) {
            throw new InvalidInputException(at + ": fields 'rows'/'row_length' do not match shape");
        }
        return info;
    }

    private static Iterable<JsonNode> array(JsonNode root, String field, String where) {
        JsonNode n = root.get(field);
        if (n == null || !n.isArray()) {
            throw new InvalidInputException(where + ": field '" + field + "' is missing or not an array");
        }
        return n;
    }

    static String text(JsonNode n, String field, String where) {
        JsonNode v = n.get(field);
        if (v == null || !v.isTextual()) {
            throw new InvalidInputException(where + ": field '" + field + "' is missing or not a string");
        }
        return v.asText();
    }
}
