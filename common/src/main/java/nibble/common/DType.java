package nibble.common;

import java.util.Locale;

/** The element types a tensor table holds: the float formats LLM checkpoints ship in. */
public enum DType {
    F32(4), F16(2), BF16(2);

    private final int bytes;

    DType(int bytes) {
        this.bytes = bytes;
    }

    /** Bytes per element. */
    public int bytes() {
        return bytes;
    }

    /**
     * Parses a dtype name as safetensors and the tensor table spell it.
     *
     * @param where names the input and tensor, for the error message
     * @throws InvalidInputException naming {@code where} and the dtype when it is not supported
     */
    public static DType parse(String name, String where) {
        if (name != null) {
            switch (name.toUpperCase(Locale.ROOT)) {
                case "F32": return F32;
                case "F16": return F16;
                case "BF16": return BF16;
                default: break;
            }
        }
        throw new InvalidInputException(where + ": unsupported dtype '" + name + "' (supported: F32, F16, BF16)");
    }
}
