package nibble.common.json;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import nibble.common.InvalidInputException;

/**
 * The one JSON codec of Nibble: every file it reads or writes (manifests, statistics records,
 * reports, markers, checkpoint headers, recipes) goes through Jackson configured here. Reading is
 * strict (duplicate keys are bad input, reported in one line naming the file); writing is
 * deterministic: keys in the order the tree was built (insertion-ordered nodes and maps), Jackson's
 * two-space pretty printer, numbers as {@link Double#toString}, a newline at the end.
 */
public final class Json {
    private static final ObjectMapper MAPPER = JsonMapper.builder()
            .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
            .enable(SerializationFeature.INDENT_OUTPUT)
            .build();

    private Json() {
    }

    /** An empty object node to build a document in key order. */
    public static ObjectNode object() {
        return MAPPER.createObjectNode();
    }

    /** A tree of plain values (maps, lists, strings, numbers, booleans, null). */
    public static JsonNode tree(Object value) {
        return MAPPER.valueToTree(value);
    }

    /** An object node as an insertion-ordered map of plain values; null for a missing or null node. */
    @SuppressWarnings("unchecked")
    public static Map<String, Object> plainObject(JsonNode node) {
        return node == null || node.isNull() || node.isMissingNode() ? null : MAPPER.convertValue(node, LinkedHashMap.class);
    }

    /** {@code value} (a tree or plain values) as pretty UTF-8 JSON ending with a newline. */
    public static byte[] write(Object value) {
        try {
            return (MAPPER.writeValueAsString(value) + "\n").getBytes(StandardCharsets.UTF_8);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot write JSON: " + e.getOriginalMessage(), e);
        }
    }

    /** {@code value} as compact one-line JSON, for messages and plans. */
    public static String text(Object value) {
        try {
            return MAPPER.writer().without(SerializationFeature.INDENT_OUTPUT).writeValueAsString(value);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot write JSON: " + e.getOriginalMessage(), e);
        }
    }

    /** A compact generator (no indentation) for formats that fix their own layout, such as safetensors headers. */
    public static JsonGenerator compactGenerator(OutputStream out) {
        try {
            return MAPPER.getFactory().createGenerator(out);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Parses a JSON object; anything else, or broken JSON, is bad input named by {@code where}. */
    public static JsonNode parseObject(byte[] bytes, String where) {
        JsonNode node;
        try {
            node = MAPPER.readTree(bytes);
        } catch (JsonProcessingException e) {
            throw new InvalidInputException(where + ": not valid JSON: " + describe(e), e);
        } catch (IOException e) {
            throw new InvalidInputException(where + ": not valid JSON: " + oneLine(e.getMessage()), e);
        }
        if (node == null || !node.isObject()) {
            throw new InvalidInputException(where + ": expected a JSON object, found " + kind(node));
        }
        return node;
    }

    /** Parses a JSON object to insertion-ordered maps (nested objects too) and lists. */
    public static Map<String, Object> parseObjectToMap(byte[] bytes, String where) {
        return plainObject(parseObject(bytes, where));
    }

    /** A finite number, or null: JSON has no NaN or infinity. */
    public static Double finite(double v) {
        return Double.isFinite(v) ? v : null;
    }

    /** What a node is, for error messages: "an array", "a number 3", "nothing", ... */
    public static String kind(JsonNode n) {
        if (n == null || n.isMissingNode()) {
            return "nothing";
        }
        return switch (n.getNodeType()) {
            case ARRAY -> "an array";
            case OBJECT -> "an object";
            case STRING -> "a string";
            case NUMBER -> "a number " + n.asText();
            case BOOLEAN -> "a boolean";
            case NULL -> "null";
            default -> n.getNodeType().toString().toLowerCase(Locale.ROOT);
        };
    }

    /** A parser's message on one line, with the position when it has one. */
    public static String describe(JsonProcessingException e) {
        String msg = oneLine(e.getOriginalMessage());
        JsonLocation loc = e.getLocation();
        if (loc != null && loc.getLineNr() > 0) {
            msg += " (line " + loc.getLineNr() + ", column " + loc.getColumnNr() + ")";
        }
        return msg;
    }

    static String oneLine(String s) {
        return s == null ? "" : s.replaceAll("\\s*[\\r\\n]+\\s*", " ").trim();
    }
}
