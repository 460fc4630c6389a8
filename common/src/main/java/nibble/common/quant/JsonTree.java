package nibble.common.quant;

import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParseException;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;

import nibble.common.InvalidInputException;

/**
 * A JSON tree that remembers line numbers, read with Jackson's streaming parser, so recipe errors
 * can name the line. An object member's node carries the line of its key.
 */
final class JsonTree {
    private JsonTree() {
    }

    /** A value (Map, List, String, Number, Boolean or null) and the line it starts on. */
    record Node(Object value, int line) {

        @SuppressWarnings("unchecked")
        Map<String, Node> object(String file, String key) {
            return (Map<String, Node>) as(Map.class, file, key, "an object");
        }

        @SuppressWarnings("unchecked")
        List<Node> array(String file, String key) {
            return (List<Node>) as(List.class, file, key, "an array");
        }

        String string(String file, String key) {
            return (String) as(String.class, file, key, "a string");
        }

        boolean bool(String file, String key) {
            return (Boolean) as(Boolean.class, file, key, "true or false");
        }

        double number(String file, String key) {
            return ((Number) as(Number.class, file, key, "a number")).doubleValue();
        }

        int integer(String file, String key) {
            Object v = as(Number.class, file, key, "an integer");
            if (!(v instanceof Integer)) {
                throw Recipe.error(file, this, key + " must be an integer, got " + v);
            }
            return (Integer) v;
        }

        private Object as(Class<?> type, String file, String key, String what) {
            if (!type.isInstance(value)) {
                throw Recipe.error(file, this, key + " must be " + what + ", got " + (value instanceof String ? "'" + value + "'" : value));
            }
            return value;
        }
    }

    private static final JsonFactory FACTORY = new JsonFactory();

    static Node parse(String json, String file) {
        try (JsonParser p = FACTORY.createParser(json)) {
            JsonToken t = p.nextToken();
            if (t == null) {
                throw new InvalidInputException("recipe " + file + " line 1: empty file");
            }
            Node root = read(p, file, p.currentTokenLocation().getLineNr());
            if (p.nextToken() != null) {
                throw new InvalidInputException("recipe " + file + " line " + p.currentTokenLocation().getLineNr() + ": text after the recipe object");
            }
            return root;
        } catch (JsonParseException e) {
            String msg = e.getOriginalMessage().split("\n", 2)[0];
            throw new InvalidInputException("recipe " + file + " line " + e.getLocation().getLineNr() + ": bad JSON: " + msg, e);
        } catch (IOException e) {
            throw new InvalidInputException("recipe " + file + ": " + e.getMessage(), e);
        }
    }

    /** A tree already parsed (e.g. part of a manifest): its nodes carry no line numbers (line 0). */
    static Node of(com.fasterxml.jackson.databind.JsonNode node, String where) {
        try (JsonParser p = node.traverse()) {
            p.nextToken();
            return read(p, where, 0);
        } catch (IOException e) {
            throw new InvalidInputException(where + ": " + e.getMessage(), e);
        }
    }

    private static Node read(JsonParser p, String file, int line) throws IOException {
        switch (p.currentToken()) {
            case START_OBJECT: {
                Map<String, Node> m = new LinkedHashMap<>();
                while (p.nextToken() == JsonToken.FIELD_NAME) {
                    String key = p.currentName();
                    int keyLine = Math.max(0, p.currentTokenLocation().getLineNr());
                    p.nextToken();
                    if (m.put(key, read(p, file, keyLine)) != null) {
                        throw new InvalidInputException("recipe " + file + " line " + keyLine + ": duplicate key '" + key + "'");
                    }
                }
                return new Node(m, line);
            }
            case START_ARRAY: {
                List<Node> list = new ArrayList<>();
                while (p.nextToken() != JsonToken.END_ARRAY) {
                    list.add(read(p, file, p.currentTokenLocation().getLineNr()));
                }
                return new Node(list, line);
            }
            case VALUE_STRING:
                return new Node(p.getText(), line);
            case VALUE_NUMBER_INT:
                return new Node(p.getNumberType() == JsonParser.NumberType.INT ? (Object) p.getIntValue() : (Object) p.getLongValue(), line);
            case VALUE_NUMBER_FLOAT:
                return new Node(p.getDoubleValue(), line);
            case VALUE_TRUE:
                return new Node(Boolean.TRUE, line);
            case VALUE_FALSE:
                return new Node(Boolean.FALSE, line);
            default:
                return new Node(null, line);
        }
    }
}
