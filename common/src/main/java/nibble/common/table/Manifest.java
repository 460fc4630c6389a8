package nibble.common.table;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import nibble.common.DType;
import nibble.common.InvalidInputException;
import nibble.common.TensorInfo;

/**
 * A tensor table's {@code manifest.json} (format v1, see docs/FORMAT.md): what the table holds and
 * the checksums that let any later stage prove nothing was lost. It is written last; a directory
 * without it is not a table. Its bytes depend only on its content (no timestamps), so re-runs give
 * identical manifests.
 */
public record Manifest(String kind, Map<String, Object> source, Map<String, Object> architecture,
                       List<TensorEntry> tensors, List<FileEntry> files) {

    public static final String FORMAT = "nibble-tensor-table";
    public static final int FORMAT_VERSION = 1;
    public static final String FILE_NAME = "manifest.json";
    public static final String DATA_DIR = "tensors";
    public static final String CHECKSUM_ALGORITHM = "crc32c";
    /** Manifests larger than this are refused before they are read. */
    public static final long MAX_BYTES = 256L << 20;

    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    public List<TensorInfo> tensorInfos() {
        List<TensorInfo> infos = new ArrayList<>(tensors.size());
        for (TensorEntry e : tensors) {
            infos.add(e.info());
        }
        return infos;
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

    public long totalDataBytes() {
        long n = 0;
        for (TensorEntry e : tensors) {
            n += e.info().byteLength();
        }
        return n;
    }

    /** The manifest as UTF-8 JSON, keys in a fixed order, ending with a newline. */
    public byte[] toJson() {
        ObjectNode root = JSON.createObjectNode();
        root.put("format", FORMAT);
        root.put("format_version", FORMAT_VERSION);
        root.put("kind", kind);
        root.put("checksum_algorithm", CHECKSUM_ALGORITHM);
        root.set("source", JSON.valueToTree(source));
        root.set("architecture", JSON.valueToTree(architecture));
        ObjectNode totals = root.putObject("totals");
        totals.put("tensors", tensors.size());
        totals.put("rows", totalRows());
        totals.put("elements", totalElements());
        totals.put("data_bytes", totalDataBytes());
        ArrayNode ts = root.putArray("tensors");
        for (TensorEntry e : tensors) {
            ObjectNode t = ts.addObject();
            TensorInfo info = e.info();
            t.put("name", info.name());
            t.put("dtype", info.dtype().name());
            ArrayNode shape = t.putArray("shape");
            for (long d : info.shape()) {
                shape.add(d);
            }
            t.put("rows", info.rows());
            t.put("row_length", info.rowLength());
            t.put("checksum", e.checksum());
            if (e.sourceName() != null && !e.sourceName().equals(info.name())) {
                t.put("source_name", e.sourceName());
            }
            if (e.details() != null) {
                e.details().forEach((k, v) -> t.set(k, JSON.valueToTree(v)));
            }
        }
        ArrayNode fs = root.putArray("files");
        for (FileEntry f : files) {
            fs.addObject().put("path", f.path()).put("rows", f.rows()).put("bytes", f.bytes());
        }
        try {
            return (JSON.writeValueAsString(root) + "\n").getBytes(StandardCharsets.UTF_8);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    /**
     * Parses and validates a manifest.
     *
     * @param where the manifest's path, for error messages
     */
    public static Manifest parse(byte[] json, String where) {
        JsonNode root;
        try {
            root = JSON.readTree(json);
        } catch (java.io.IOException e) {
            throw new InvalidInputException(where + ": not valid JSON (" + firstLine(e.getMessage()) + ")");
        }
        if (root == null || !root.isObject()) {
            throw new InvalidInputException(where + ": not a JSON object");
        }
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
        List<TensorEntry> tensors = new ArrayList<>();
        for (JsonNode t : array(root, "tensors", where)) {
            tensors.add(tensor(t, where));
        }
        List<FileEntry> files = new ArrayList<>();
        for (JsonNode f : array(root, "files", where)) {
            files.add(new FileEntry(text(f, "path", where), f.path("rows").asLong(), f.path("bytes").asLong()));
        }
        return new Manifest(text(root, "kind", where), map(root.get("source")), map(root.get("architecture")),
                tensors, files);
    }

    private static TensorEntry tensor(JsonNode t, String where) {
        String name = text(t, "name", where);
        String at = where + ": tensor '" + name + "'";
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
        String checksum = text(t, "checksum", at);
        if (!checksum.matches("[0-9a-f]{8}")) {
            throw new InvalidInputException(at + ": field 'checksum' is not 8 hex digits");
        }
        Map<String, Object> details = new LinkedHashMap<>();
        t.fields().forEachRemaining(f -> {
            if (!List.of("name", "dtype", "shape", "rows", "row_length", "checksum", "source_name").contains(f.getKey())) {
                details.put(f.getKey(), JSON.convertValue(f.getValue(), Object.class));
            }
        });
        String sourceName = t.hasNonNull("source_name") ? t.get("source_name").asText() : name;
        return new TensorEntry(info, checksum, sourceName, details.isEmpty() ? null : details);
    }

    private static Iterable<JsonNode> array(JsonNode root, String field, String where) {
        JsonNode n = root.get(field);
        if (n == null || !n.isArray()) {
            throw new InvalidInputException(where + ": field '" + field + "' is missing or not an array");
        }
        return n;
    }

    private static String text(JsonNode n, String field, String where) {
        JsonNode v = n.get(field);
        if (v == null || !v.isTextual()) {
            throw new InvalidInputException(where + ": field '" + field + "' is missing or not a string");
        }
        return v.asText();
    }

    private static Map<String, Object> map(JsonNode n) {
        if (n == null || n.isNull()) {
            return null;
        }
        return JSON.convertValue(n, new TypeReference<LinkedHashMap<String, Object>>() { });
    }

    private static String firstLine(String s) {
        if (s == null) {
            return "parse error";
        }
        int nl = s.indexOf('\n');
        return nl < 0 ? s : s.substring(0, nl);
    }
}
