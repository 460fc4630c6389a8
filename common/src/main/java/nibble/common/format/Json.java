package nibble.common.format;

import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.util.Map;
import nibble.common.InvalidInputException;
import nibble.common.io.ByteSource;

/** The JSON parsing the checkpoint readers share: strict (duplicate keys rejected), one-line errors. */
final class Json {
    static final ObjectMapper MAPPER = new ObjectMapper().enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION);

    private Json() {
    }

    /** Parses a JSON object to a tree. */
    static JsonNode parseObject(byte[] bytes, String where) {
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
    @SuppressWarnings("unchecked")
    static Map<String, Object> parseObjectToMap(byte[] bytes, String where) {
        return MAPPER.convertValue(parseObject(bytes, where), java.util.LinkedHashMap.class);
    }

    /** Reads a whole small file, refusing one longer than {@code maxBytes} before allocating. */
    static byte[] readBounded(ByteSource src, String fileName, long maxBytes) throws IOException {
        long length = src.length();
        if (length > maxBytes) {
            throw new InvalidInputException(fileName + ": " + length + " bytes, more than the " + maxBytes
                    + "-byte limit for this file");
        }
        return src.read(0, (int) length);
    }

    static String kind(JsonNode n) {
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
            default -> n.getNodeType().toString().toLowerCase(java.util.Locale.ROOT);
        };
    }

    private static String describe(JsonProcessingException e) {
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
