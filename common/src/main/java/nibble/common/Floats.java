package nibble.common;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/** Decodes little-endian F32/F16/BF16 bytes, as checkpoints and the tensor table store them, to floats. */
public final class Floats {
    private Floats() {
    }

    /**
     * Decodes all of {@code le} to floats.
     *
     * @throws IllegalArgumentException when the length is not a whole number of {@code dtype} elements
     */
    public static float[] decode(byte[] le, DType dtype) {
        if (le.length % dtype.bytes() != 0) {
            throw new IllegalArgumentException(le.length + " bytes is not a whole number of " + dtype + " values");
        }
        float[] out = new float[le.length / dtype.bytes()];
        decode(le, out.length, dtype, out, 0);
        return out;
    }

    /**
     * Decodes a stored row; {@code where} names tensor and row for the error when the byte count is
     * not a whole number of elements.
     */
    public static float[] decode(byte[] le, DType dtype, String where) {
        count(le, dtype, where);
        return decode(le, dtype);
    }

    /**
     * The number of {@code dtype} values in the stored row {@code le}; {@code where} names tensor and
     * row for the error when the byte count is not a whole number of elements.
     */
    public static int count(byte[] le, DType dtype, String where) {
        if (le.length % dtype.bytes() != 0) {
            throw new InvalidInputException(where + ": " + le.length + " bytes is not a whole number of " + dtype + " values");
        }
        return le.length / dtype.bytes();
    }

    /** Decodes the first {@code count} values of {@code le} into {@code out} from {@code outOffset}. */
    public static void decode(byte[] le, int count, DType dtype, float[] out, int outOffset) {
        ByteBuffer b = ByteBuffer.wrap(le, 0, Math.multiplyExact(count, dtype.bytes())).order(ByteOrder.LITTLE_ENDIAN);
        switch (dtype) {
            case F32 -> b.asFloatBuffer().get(out, outOffset, count);
            case F16 -> {
                for (int i = 0; i < count; i++) {
                    out[outOffset + i] = Halfs.f16ToFloat(b.getShort());
                }
            }
            case BF16 -> {
                for (int i = 0; i < count; i++) {
                    out[outOffset + i] = Halfs.bf16ToFloat(b.getShort());
                }
            }
            default -> throw new IllegalStateException(dtype.toString());
        }
    }

    /** The reverse of {@link #decode(byte[], DType)}: floats to little-endian bytes, 16-bit formats rounded to nearest even. */
    public static byte[] encode(float[] values, DType dtype) {
        ByteBuffer b = ByteBuffer.allocate(Math.multiplyExact(values.length, dtype.bytes())).order(ByteOrder.LITTLE_ENDIAN);
        switch (dtype) {
            case F32 -> b.asFloatBuffer().put(values);
            case F16 -> {
                for (float v : values) {
                    b.putShort(Halfs.floatToF16(v));
                }
            }
            case BF16 -> {
                for (float v : values) {
                    b.putShort(Halfs.floatToBf16(v));
                }
            }
            default -> throw new IllegalStateException(dtype.toString());
        }
        return b.array();
    }
}
