package nibble.common.quant;

import nibble.common.Halfs;

/**
 * How scales are stored: little-endian F16 (default, as llama.cpp and compressed-tensors ship
 * them) or F32. Quantization always uses the scale rounded to this format, so what is stored is
 * what was optimised.
 */
public enum ScaleFormat {
    F16(2), F32(4);

    private final int bytes;

    ScaleFormat(int bytes) {
        this.bytes = bytes;
    }

    public int bytes() {
        return bytes;
    }

    /** The value as stored, back as a float. */
    public float round(float scale) {
        return this == F16 ? Halfs.roundToF16(scale) : scale;
    }

    void write(byte[] out, int index, float scale) {
        if (this == F16) {
            short h = Halfs.floatToF16(scale);
            out[2 * index] = (byte) h;
            out[2 * index + 1] = (byte) (h >>> 8);
        } else {
            int b = Float.floatToRawIntBits(scale);
            int o = 4 * index;
            out[o] = (byte) b;
            out[o + 1] = (byte) (b >>> 8);
            out[o + 2] = (byte) (b >>> 16);
            out[o + 3] = (byte) (b >>> 24);
        }
    }

    float read(byte[] in, int index) {
        if (this == F16) {
            return Halfs.f16ToFloat((short) ((in[2 * index] & 0xff) | (in[2 * index + 1] << 8)));
        }
        int o = 4 * index;
        return Float.intBitsToFloat((in[o] & 0xff) | (in[o + 1] & 0xff) << 8 | (in[o + 2] & 0xff) << 16 | in[o + 3] << 24);
    }
}
