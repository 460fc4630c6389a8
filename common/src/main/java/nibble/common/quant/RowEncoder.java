package nibble.common.quant;

import nibble.common.DType;
import nibble.common.Halfs;

/**
 * The reverse of {@link RowDecoder}: floats to little-endian F32, F16 or BF16 bytes (16-bit formats
 * round to nearest even), e.g. to write a kept tensor or a dequantized row.
 */
public final class RowEncoder {
    private RowEncoder() {
    }

    public static byte[] toBytes(float[] values, DType dtype) {
        byte[] out = new byte[values.length * dtype.bytes()];
        switch (dtype) {
            case F32:
                for (int i = 0; i < values.length; i++) {
                    RowDecoder.INT_LE.set(out, 4 * i, Float.floatToRawIntBits(values[i]));
                }
                break;
            case F16:
                for (int i = 0; i < values.length; i++) {
                    RowDecoder.SHORT_LE.set(out, 2 * i, Halfs.floatToF16(values[i]));
                }
                break;
            default:
                for (int i = 0; i < values.length; i++) {
                    RowDecoder.SHORT_LE.set(out, 2 * i, Halfs.floatToBf16(values[i]));
                }
                break;
        }
        return out;
    }
}
