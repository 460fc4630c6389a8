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
}
