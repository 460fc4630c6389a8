package nibble.common.table;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.Iterator;
import java.util.Set;
import nibble.common.InvalidInputException;
import nibble.common.TensorInfo;

/**
 * One tensor in a manifest: name, dtype and shape, the CRC-32C of its stored rows in row order
 * (hex), the name it had in the source when that differs, the source's element type when the rows
 * were decoded from another type ({@code source_type}, e.g. GGUF's {@code Q4_1}; null otherwise), and,
 * in a quantized table, how it was stored ({@link QuantDetails}; null in a dense table).
 */
public record TensorEntry(TensorInfo info, String checksum, String sourceName, String sourceType, QuantDetails quant) {
    private static final Set<String> FIELDS = Set.of("name", "dtype", "shape", "rows", "row_length", "checksum",
            "source_name", "source_type");

    /** An entry whose rows hold the source's values as they were stored (no {@code source_type}). */
    public TensorEntry(TensorInfo info, String checksum, String sourceName, QuantDetails quant) {
        this(info, checksum, sourceName, null, quant);
    }

    void writeTo(ObjectNode t) {
        t.put("name", info.name());
        t.put("dtype", info.dtype().name());
        ArrayNode shape = t.putArray("shape");
        for (long d : info.shape()) {
            shape.add(d);
        }
        t.put("rows", info.rows());
        t.put("row_length", info.rowLength());
        t.put("checksum", checksum);
        if (sourceName != null && !sourceName.equals(info.name())) {
            t.put("source_name", sourceName);
        }
        if (sourceType != null) {
            t.put("source_type", sourceType);
        }
        if (quant != null) {
            quant.writeTo(t);
        }
    }

    static TensorEntry read(JsonNode t, Manifest.Kind kind, String where) {
        String name = Manifest.text(t, "name", where);
        String at = where + ": tensor '" + name + "'";
        TensorInfo info = Manifest.info(t, at, name);
        String checksum = Manifest.text(t, "checksum", at);
        if (!checksum.matches("[0-9a-f]{8}")) {
            throw new InvalidInputException(at + ": field 'checksum' is not 8 hex digits");
        }
        String sourceName = t.hasNonNull("source_name") ? t.get("source_name").asText() : name;
        String sourceType = null;
        if (t.has("source_type")) {
            sourceType = Manifest.text(t, "source_type", at);
        }
        QuantDetails quant = kind == Manifest.Kind.QUANTIZED ? QuantDetails.read(t, at) : null;
        for (Iterator<String> it = t.fieldNames(); it.hasNext(); ) {
            String field = it.next();
            if (!FIELDS.contains(field) && !(quant != null && QuantDetails.FIELDS.contains(field))) {
                throw new InvalidInputException(at + ": unknown field '" + field + "' in a " + kind.label() + " table");
            }
        }
        return new TensorEntry(info, checksum, sourceName, sourceType, quant);
    }
}
