package nibble.common.quant;

import nibble.common.Halfs;

/**
 * How scales are stored: F16 (default, as llama.cpp and compressed-tensors ship them) or F32.
 * Quantization always uses the scale rounded to this format, so what is stored is what was
 * optimised; {@link RowLayout} reads and writes the bytes.
 */
public enum ScaleFormat {
    F16(2), F32(4);

    private final int bytes;

    ScaleFormat(int bytes) {
        this.bytes = bytes;
    }

    /** Bytes one stored scale takes. */
    public int bytes() {
        return bytes;
    }

    /** The value as stored, back as a float. */
    public float round(float scale) {
        return this == F16 ? Halfs.roundToF16(scale) : scale;
    }
}
