package nibble.common.format;

import java.util.Locale;

/**
 * The value types of GGUF metadata (ggml's {@code docs/gguf.md}, {@code gguf_metadata_value_type}),
 * by their file ids. A metadata key's type is part of the format: llama.cpp refuses a key of the
 * wrong type ({@code llama.block_count} must be UINT32), so a table records the types of the GGUF
 * metadata it carries and {@code nibble export} writes them back unchanged.
 */
public enum GgufValueType {
    UINT8(0, 1), INT8(1, 1), UINT16(2, 2), INT16(3, 2), UINT32(4, 4), INT32(5, 4), FLOAT32(6, 4), BOOL(7, 1),
    STRING(8, 0), ARRAY(9, 0), UINT64(10, 8), INT64(11, 8), FLOAT64(12, 8);

    private final int id;
    private final int bytes;

    GgufValueType(int id, int bytes) {
        this.id = id;
        this.bytes = bytes;
    }

    /** The id stored in the file. */
    public int id() {
        return id;
    }

    /** Bytes of one value; 0 for the variable-length STRING and ARRAY. */
    public int bytes() {
        return bytes;
    }

    /** The type with file id {@code id}, or null when there is none. */
    public static GgufValueType byId(long id) {
        for (GgufValueType t : values()) {
            if (t.id == id) {
                return t;
            }
        }
        return null;
    }

    /** The type named {@code name} (as {@link #name()}), or null. */
    public static GgufValueType byName(String name) {
        try {
            return valueOf(name.toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            return null;
        }
    }

    /** How a manifest records a key's type: {@code UINT32}, or {@code ARRAY[STRING]} for arrays. */
    public static String label(GgufValueType type, GgufValueType element) {
        return type == ARRAY ? "ARRAY[" + element.name() + "]" : type.name();
    }
}
