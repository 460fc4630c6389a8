package nibble.common;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import org.junit.jupiter.api.Test;

class FloatsTest {
    private static final float[] VALUES = {0f, -1.5f, 3.25f, 65504f, -0.0078125f};

    private static byte[] encode(DType t) {
        ByteBuffer b = ByteBuffer.allocate(VALUES.length * t.bytes()).order(ByteOrder.LITTLE_ENDIAN);
        for (float v : VALUES) {
            switch (t) {
                case F32 -> b.putFloat(v);
                case F16 -> b.putShort(Halfs.floatToF16(v));
                case BF16 -> b.putShort(Halfs.floatToBf16(v));
                default -> throw new AssertionError();
            }
        }
        return b.array();
    }

    @Test
    void decodesEachDtype() {
        // Every value is exact in F16; BF16 rounds 65504 to 65536.
        assertArrayEquals(VALUES, Floats.decode(encode(DType.F32), DType.F32));
        assertArrayEquals(VALUES, Floats.decode(encode(DType.F16), DType.F16));
        assertArrayEquals(new float[] {0f, -1.5f, 3.25f, 65536f, -0.0078125f}, Floats.decode(encode(DType.BF16), DType.BF16));
    }

    @Test
    void decodesIntoOffset() {
        float[] out = new float[7];
        Floats.decode(encode(DType.F16), 2, DType.F16, out, 3);
        assertArrayEquals(new float[] {0, 0, 0, 0f, -1.5f, 0, 0}, out);
    }

    @Test
    void refusesPartialElement() {
        assertThrows(IllegalArgumentException.class, () -> Floats.decode(new byte[3], DType.F16));
    }
}
