package nibble.common.quant;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;

import nibble.common.DType;
import nibble.common.Halfs;
import nibble.common.InvalidInputException;

/** Decodes a row as the tensor table stores it (little-endian F32, F16 or BF16 bytes) to floats, exactly. */
public final class RowDecoder {
    private RowDecoder() {
    }

    static final VarHandle INT_LE = MethodHandles.byteArrayViewVarHandle(int[].class, ByteOrder.LITTLE_ENDIAN);
    static final VarHandle SHORT_LE = MethodHandles.byteArrayViewVarHandle(short[].class, ByteOrder.LITTLE_ENDIAN);

    public static float[] toFloats(byte[] data, DType dtype) {
        return toFloats(data, dtype, "row");
    }

    /** @param where names tensor and row for the error when the byte count is not a whole number of elements */
    public static float[] toFloats(byte[] data, DType dtype, String where) {
        int w = dtype.bytes();
        if (data.length % w != 0) {
            throw new InvalidInputException(where + ": " + data.length + " bytes is not a whole number of " + dtype + " values");
        }
        float[] out = new float[data.length / w];
        switch (dtype) {
            case F32:
                for (int i = 0; i < out.length; i++) {
                    out[i] = Float.intBitsToFloat((int) INT_LE.get(data, 4 * i));
                }
                break;
            case F16:
                for (int i = 0; i < out.length; i++) {
                    out[i] = Halfs.f16ToFloat((short) SHORT_LE.get(data, 2 * i));
                }
                break;
            default:
                for (int i = 0; i < out.length; i++) {
                    out[i] = Halfs.bf16ToFloat((short) SHORT_LE.get(data, 2 * i));
                }
                break;
        }
        return out;
    }
}
