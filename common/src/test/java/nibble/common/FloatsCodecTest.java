package nibble.common;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.SplittableRandom;

import org.junit.jupiter.api.Test;

import nibble.common.DType;
import nibble.common.Floats;
import nibble.common.Halfs;
import nibble.common.InvalidInputException;

class FloatsCodecTest {

    @Test
    void decodesLittleEndianAndRoundTrips() {
        ByteBuffer b = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putFloat(1.5f).putFloat(-2.25e-3f);
        assertArrayEquals(new float[] {1.5f, -2.25e-3f}, Floats.decode(b.array(), DType.F32));
        assertArrayEquals(new float[] {1f, -2f}, Floats.decode(new byte[] {0x00, 0x3C, 0x00, (byte) 0xC0}, DType.F16));
        assertArrayEquals(new float[] {1f, -2f}, Floats.decode(new byte[] {(byte) 0x80, 0x3F, 0x00, (byte) 0xC0}, DType.BF16));
        SplittableRandom r = new SplittableRandom(10);
        float[] x = new float[1001];
        for (int i = 0; i < x.length; i++) {
            x[i] = (float) (r.nextGaussian() * 3);
        }
        assertArrayEquals(x, Floats.decode(Floats.encode(x, DType.F32), DType.F32));
        float[] h = Floats.decode(Floats.encode(x, DType.F16), DType.F16);
        float[] bf = Floats.decode(Floats.encode(x, DType.BF16), DType.BF16);
        for (int i = 0; i < x.length; i++) {
            assertTrue(h[i] == Halfs.roundToF16(x[i]));
            assertTrue(bf[i] == Halfs.bf16ToFloat(Halfs.floatToBf16(x[i])));
        }
        InvalidInputException e = assertThrows(InvalidInputException.class, () -> Floats.decode(new byte[5], DType.F32, "tensor 'w' row 2"));
        assertTrue(e.getMessage().startsWith("tensor 'w' row 2: 5 bytes"), e.getMessage());
    }
}
