package nibble.common.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.Arrays;
import java.util.Random;
import nibble.common.Halfs;
import org.junit.jupiter.api.Test;

class DenseLinearTest {

    @Test
    void multipliesLikeNnLinear() {
        // W = [[1, 2, 3], [4, 5, 6]]: 2 outputs, 3 inputs.
        DenseLinear l = new DenseLinear(new float[] {1, 2, 3, 4, 5, 6}, 2, 3);
        float[] out = new float[2];
        l.matvec(new float[] {1, 0, -1}, out);
        assertArrayEquals(new float[] {-2, -2}, out);
        assertEquals(2, l.rows());
        assertEquals(3, l.cols());
    }

    @Test
    void matchesDoubleReferenceOnOddWidths() {
        Random r = new Random(7);
        for (int cols : new int[] {1, 3, 4, 5, 17, 64}) {
            int rows = 9;
            float[] w = new float[rows * cols];
            float[] x = new float[cols];
            for (int i = 0; i < w.length; i++) {
                w[i] = (float) r.nextGaussian();
            }
            for (int i = 0; i < cols; i++) {
                x[i] = (float) r.nextGaussian();
            }
            float[] out = new float[rows];
            new DenseLinear(w, rows, cols).matvec(x, out);
            for (int i = 0; i < rows; i++) {
                double s = 0;
                for (int c = 0; c < cols; c++) {
                    s += (double) w[i * cols + c] * x[c];
                }
                assertEquals(s, out[i], 1e-5 * Math.max(1, Math.abs(s)) * cols);
            }
        }
    }

    @Test
    void refusesWrongSize() {
        assertThrows(IllegalArgumentException.class, () -> new DenseLinear(new float[5], 2, 3));
    }

    @Test
    void int8RoundTripRoundsHalvesAwayFromZero() {
        // absmax 127 gives scale 1: values are rounded to integers.
        float[] x = {127f, 0.5f, -0.5f, 1.5f, -2.5f, 0.49f, -126.6f};
        float[] out = new float[x.length];
        ActivationQuant.int8RoundTrip(x, x.length, out);
        assertArrayEquals(new float[] {127f, 1f, -1f, 2f, -3f, 0f, -127f}, out);
        float[] zeros = new float[3];
        ActivationQuant.int8RoundTrip(zeros, 3, out);
        assertEquals(0f, out[0]);
        // absmax 2.54: scale 0.02, so 1.0 is 50 steps.
        float[] y = {2.54f, 1.0f};
        ActivationQuant.int8RoundTrip(y, 2, out);
        assertEquals(2.54f, out[0], 1e-6);
        assertEquals(1.0f, out[1], 1e-6);
    }

    @Test
    void q8_0RoundTripRoundsBlocksOf32LikeGgml() {
        // Block 1: amax 127, so 127/amax = 1 and the codes are rint(x), ties to even; the scale 1 is exact in F16.
        // Block 2 (a short last block of 3): amax 1, scale 1/127 stored as F16 (0.007873535..., not 1/127).
        float[] x = new float[35];
        x[0] = 127f;
        x[1] = 2.5f;
        x[2] = -3.5f;
        x[3] = 0.5f;
        x[4] = -126.6f;
        x[32] = 1f;
        x[33] = -0.5f;
        float[] out = new float[35];
        ActivationQuant.q8_0RoundTrip(x, 35, out);
        assertArrayEquals(new float[] {127f, 2f, -4f, 0f, -127f}, Arrays.copyOf(out, 5));
        float d = Halfs.roundToF16(1f / 127f);
        assertEquals(0.0078735352f, d);
        assertEquals(127f * d, out[32]);
        assertEquals(-64f * d, out[33]); // -0.5 * 127 = -63.5: ties to even
        assertEquals(0f, out[34]);
        float[] zeros = new float[35];
        ActivationQuant.q8_0RoundTrip(zeros, 35, out);
        assertEquals(0f, out[0]);
    }
}
