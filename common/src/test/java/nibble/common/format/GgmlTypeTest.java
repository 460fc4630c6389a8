package nibble.common.format;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.util.SplittableRandom;
import nibble.common.Halfs;
import org.junit.jupiter.api.Test;

/** Each block dequantizer on hand-built blocks, against values worked out from the block layout. */
class GgmlTypeTest {
    private static final short HALF = 0x3800;       // 0.5
    private static final short QUARTER = 0x3400;    // 0.25
    private static final short MINUS_ONE = (short) 0xBC00;
    private static final short TWO = 0x4000;

    private static float[] decode(GgmlType t, byte[] block, int n) {
        float[] out = new float[n + 2];
        byte[] src = new byte[block.length + 3];
        System.arraycopy(block, 0, src, 3, block.length);
        t.dequantize(src, 3, n, out, 1);
        assertEquals(0f, out[0]);
        assertEquals(0f, out[n + 1]);
        float[] y = new float[n];
        System.arraycopy(out, 1, y, 0, n);
        return y;
    }

    private static void half(byte[] b, int at, short h) {
        b[at] = (byte) h;
        b[at + 1] = (byte) (h >> 8);
    }

    @Test
    void sizes() {
        assertEquals(18, GgmlType.Q4_0.blockBytes());
        assertEquals(20, GgmlType.Q4_1.blockBytes());
        assertEquals(22, GgmlType.Q5_0.blockBytes());
        assertEquals(24, GgmlType.Q5_1.blockBytes());
        assertEquals(34, GgmlType.Q8_0.blockBytes());
        assertEquals(34 * 18, GgmlType.Q8_0.bytesOf(576));
        assertEquals(2 * 576, GgmlType.BF16.bytesOf(576));
        assertEquals(GgmlType.BF16, GgmlType.byId(30));
        assertNull(GgmlType.byId(15));
        assertEquals("Q8_K (15)", GgmlType.describe(15));
        assertEquals("unknown (4000000000)", GgmlType.describe(4_000_000_000L));
    }

    @Test
    void q4_0() {
        byte[] b = new byte[18];
        half(b, 0, HALF);
        for (int j = 0; j < 16; j++) {
            b[2 + j] = (byte) (j | ((15 - j) << 4));
        }
        float[] y = decode(GgmlType.Q4_0, b, 32);
        for (int j = 0; j < 16; j++) {
            assertEquals((j - 8) * 0.5f, y[j], "low nibble " + j);
            assertEquals((7 - j) * 0.5f, y[j + 16], "high nibble " + j);
        }
    }

    @Test
    void q4_1() {
        byte[] b = new byte[20];
        half(b, 0, QUARTER);
        half(b, 2, MINUS_ONE);
        for (int j = 0; j < 16; j++) {
            b[4 + j] = (byte) (j | ((15 - j) << 4));
        }
        float[] y = decode(GgmlType.Q4_1, b, 32);
        for (int j = 0; j < 16; j++) {
            assertEquals(j * 0.25f - 1f, y[j]);
            assertEquals((15 - j) * 0.25f - 1f, y[j + 16]);
        }
    }

    @Test
    void q4_1RoundsTheProductBeforeTheAdd() {
        // d = f16 0x2E66 (0.0999755859375), m = f16 0x3555 (0.333251953125), q = 15: ggml computes
        // x*d + m as two float operations; a fused multiply-add could round differently.
        byte[] b = new byte[20];
        half(b, 0, (short) 0x2E66);
        half(b, 2, (short) 0x3555);
        for (int j = 0; j < 16; j++) {
            b[4 + j] = (byte) 0xFF;
        }
        float d = Halfs.f16ToFloat((short) 0x2E66);
        float m = Halfs.f16ToFloat((short) 0x3555);
        float product = 15 * d;
        float expected = product + m;
        float[] y = decode(GgmlType.Q4_1, b, 32);
        for (float v : y) {
            assertEquals(Float.floatToIntBits(expected), Float.floatToIntBits(v));
        }
    }

    @Test
    void q5_0AndQ5_1TakeTheFifthBitFromQh() {
        SplittableRandom r = new SplittableRandom(5);
        for (GgmlType t : new GgmlType[] {GgmlType.Q5_0, GgmlType.Q5_1}) {
            boolean offset = t == GgmlType.Q5_1;
            byte[] b = new byte[t.blockBytes()];
            half(b, 0, offset ? QUARTER : HALF);
            if (offset) {
                half(b, 2, MINUS_ONE);
            }
            int qhAt = offset ? 4 : 2;
            int qh = r.nextInt();
            for (int i = 0; i < 4; i++) {
                b[qhAt + i] = (byte) (qh >>> (8 * i));
            }
            for (int j = 0; j < 16; j++) {
                b[qhAt + 4 + j] = (byte) r.nextInt(256);
            }
            float[] y = decode(t, b, 32);
            for (int i = 0; i < 32; i++) {
                int qs = b[qhAt + 4 + (i % 16)] & 0xff;
                int low = i < 16 ? qs & 15 : qs >> 4;
                int q = low + 16 * ((qh >>> i) & 1);
                float want = offset ? q * 0.25f - 1f : (q - 16) * 0.5f;
                assertEquals(want, y[i], t + " value " + i);
            }
        }
    }

    @Test
    void q8_0SeveralBlocks() {
        byte[] b = new byte[2 * 34];
        half(b, 0, TWO);
        half(b, 34, MINUS_ONE);
        for (int j = 0; j < 32; j++) {
            b[2 + j] = (byte) (j * 8 - 128);
            b[36 + j] = (byte) (127 - j);
        }
        float[] y = decode(GgmlType.Q8_0, b, 64);
        for (int j = 0; j < 32; j++) {
            assertEquals((j * 8 - 128) * 2f, y[j]);
            assertEquals(-(127 - j), y[32 + j]);
        }
    }

    @Test
    void plainFloats() {
        byte[] f32 = {0, 0, (byte) 0x80, 0x3f, 0, 0, 0, (byte) 0xc0};
        assertArrayEquals(new float[] {1f, -2f}, decode(GgmlType.F32, f32, 2));
        byte[] f16 = {0, 0x3c, 0, (byte) 0xc0, 1, 0};
        assertArrayEquals(new float[] {1f, -2f, 0x1p-24f}, decode(GgmlType.F16, f16, 3));
        byte[] bf16 = {(byte) 0x80, 0x3f, 0, (byte) 0xc0};
        assertArrayEquals(new float[] {1f, -2f}, decode(GgmlType.BF16, bf16, 2));
    }

    @Test
    void q4_KSixBitScalesAndMinimums() {
        byte[] b = new byte[144];
        half(b, 0, HALF);
        half(b, 2, QUARTER);
        for (int i = 0; i < 4; i++) {
            b[4 + i] = (byte) (i + 1);                     // scales 0..3: 1..4
            b[8 + i] = (byte) (i + 5);                     // minimums 0..3: 5..8
            b[12 + i] = (byte) ((i + 1) | ((i + 2) << 4)); // scales 4..7: 1..4, minimums 4..7: 2..5
        }
        b[4] |= (byte) 0x40;                               // high bits of scale 4: +16
        b[8] |= (byte) 0x80;                               // high bits of minimum 4: +32
        int[] sc = {1, 2, 3, 4, 1 + 16, 2, 3, 4};
        int[] mn = {5, 6, 7, 8, 2 + 32, 3, 4, 5};
        for (int l = 0; l < 128; l++) {
            b[16 + l] = (byte) ((l % 16) | ((15 - l % 16) << 4));
        }
        float[] y = decode(GgmlType.Q4_K, b, 256);
        for (int i = 0; i < 256; i++) {
            int sub = i / 32;
            int l = i % 32;
            int q = sub % 2 == 0 ? l % 16 : 15 - l % 16;
            assertEquals(0.5f * sc[sub] * q - 0.25f * mn[sub], y[i], "value " + i);
        }
    }

    @Test
    void q6_KSixBitCodesAndSignedScales() {
        SplittableRandom r = new SplittableRandom(6);
        byte[] b = new byte[210];
        for (int i = 0; i < 192; i++) {
            b[i] = (byte) r.nextInt(256);
        }
        for (int i = 0; i < 16; i++) {
            b[192 + i] = (byte) ((i % 2 == 0 ? 1 : -1) * (i + 1));
        }
        half(b, 208, HALF);
        float[] y = decode(GgmlType.Q6_K, b, 256);
        for (int i = 0; i < 256; i++) {
            int n = i / 128;
            int quarter = (i % 128) / 32;
            int l = i % 32;
            int lowByte = b[64 * n + l + 32 * (quarter % 2)] & 0xff;
            int low = quarter < 2 ? lowByte & 15 : lowByte >> 4;
            int high = ((b[128 + 32 * n + l] & 0xff) >> (2 * quarter)) & 3;
            int q = (low | high << 4) - 32;
            int scale = b[192 + 8 * n + l / 16 + 2 * quarter];
            assertEquals(0.5f * scale * q, y[i], "value " + i);
        }
    }
}
