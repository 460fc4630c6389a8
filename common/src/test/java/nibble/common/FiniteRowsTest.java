package nibble.common;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.Random;
import org.junit.jupiter.api.Test;

class FiniteRowsTest {
    /** Random bytes hit NaN and infinities often in F16 and BF16 (1 in 32 / 256 values), rarely in F32: both agree. */
    @Test
    void bitTestAgreesWithTheDecodingReferenceOnRandomRows() {
        Random r = new Random(13);
        int found = 0;
        for (DType t : DType.values()) {
            for (int trial = 0; trial < 3000; trial++) {
                byte[] row = new byte[t.bytes() * (1 + r.nextInt(64))];
                r.nextBytes(row);
                if (t == DType.F32 && r.nextInt(4) == 0) { // plant an F32 NaN or infinity at a random column
                    int c = r.nextInt(row.length / 4);
                    row[4 * c + 3] = (byte) (r.nextBoolean() ? 0x7f : 0xff);
                    row[4 * c + 2] |= (byte) 0x80;
                }
                int expected = FiniteRows.firstNonFiniteReference(row, t);
                assertEquals(expected, FiniteRows.firstNonFinite(row, t), t + " trial " + trial);
                found += expected >= 0 ? 1 : 0;
            }
        }
        assertEquals(true, found > 1000, found + " rows with a non-finite value");
    }

    @Test
    void eachKindOfNonFiniteValueIsFoundInEachDtype() {
        for (DType t : DType.values()) {
            for (float bad : new float[] {Float.NaN, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY}) {
                float[] v = {1f, -2f, 0f, -0f, 65504f, bad, 3f};
                assertEquals(5, FiniteRows.firstNonFinite(Floats.encode(v, t), t), t + " " + bad);
            }
            float[] fine = {1f, -2f, 0f, 65504f, Float.MIN_VALUE, -1e-5f};
            assertEquals(-1, FiniteRows.firstNonFinite(Floats.encode(fine, t), t), t.name());
        }
        // the largest finite F32 and BF16 values are finite; F16 overflows 65520 to infinity
        assertEquals(-1, FiniteRows.firstNonFinite(Floats.encode(new float[] {Float.MAX_VALUE, -3e38f}, DType.F32), DType.F32));
        assertEquals(-1, FiniteRows.firstNonFinite(Floats.encode(new float[] {3e38f}, DType.BF16), DType.BF16));
    }

    @Test
    void requireNamesTheInputTensorRowColumnAndValue() {
        byte[] row = Floats.encode(new float[] {1f, 2f, Float.NEGATIVE_INFINITY}, DType.BF16);
        InvalidInputException e = assertThrows(InvalidInputException.class,
                () -> FiniteRows.require("ckpt.safetensors", "model.norm.weight", 7, row, DType.BF16, "why"));
        assertEquals("ckpt.safetensors: tensor 'model.norm.weight' row 7 holds a non-finite value -Infinity at column 2 (why)",
                e.getMessage());
        FiniteRows.require("x", "t", 0, Floats.encode(new float[] {1f, 2f}, DType.F16), DType.F16, "why");
    }
}
