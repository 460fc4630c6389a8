package nibble.common.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** {@link ActivationQuant#q8_KRoundTrip}: llama.cpp's Q8_K rounding of a K-quant layer's input, block by block of 256. */
class Q8KRoundTripTest {

    @Test
    void blocksOf256RoundToTheirOwnScale() {
        SplittableRandom r = new SplittableRandom(8);
        float[] x = new float[600];
        for (int i = 0; i < x.length; i++) {
            x[i] = (float) r.nextGaussian();
        }
        x[10] = -9f; // block 0's largest magnitude, negative: code +127 maps it back (iscale = -127 / max)
        java.util.Arrays.fill(x, 256, 512, 0f); // a zero block
        float[] out = new float[x.length];
        ActivationQuant.q8_KRoundTrip(x, x.length, out);
        float d0 = 1f / (-127f / -9f);
        assertEquals(-127 * d0, out[10], 0f);
        for (int i = 0; i < 256; i++) {
            assertTrue(Math.abs(out[i] - x[i]) <= d0 / 2 * 1.0001f, "element " + i);
            float q = out[i] / d0;
            assertEquals(Math.rint(q), q, 1e-3, "a whole code times the block's scale: " + i);
        }
        for (int i = 256; i < 512; i++) {
            assertEquals(0f, out[i]);
        }
        float max = 0;
        for (int i = 512; i < 600; i++) {
            max = Math.max(max, Math.abs(x[i]));
        }
        for (int i = 512; i < 600; i++) { // the short last block has its own scale
            assertTrue(Math.abs(out[i] - x[i]) <= max / 127 / 2 * 1.0001f, "element " + i);
        }
        float[] same = x.clone();
        ActivationQuant.q8_KRoundTrip(same, same.length, same);
        assertArrayEquals(out, same, "in place gives the same values");
    }
}
