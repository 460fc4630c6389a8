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

    /**
     * The eight-bytes-at-a-time check, at every row offset and length around a long, with the bad
     * value at every column: the bytes around the row are all ones (NaN in every dtype), so a read
     * past either end would be seen; the finite values include each dtype's largest.
     */
    @Test
    void theWordCheckFindsEveryColumnAtEveryOffsetAndNothingOutsideTheRow() {
        float[] bads = {Float.NaN, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY};
        for (DType t : DType.values()) {
            float largest = t == DType.F16 ? 65504f : t == DType.BF16 ? 3e38f : Float.MAX_VALUE;
            for (int off = 0; off < 8; off++) {
                for (int n = 1; n <= 19; n++) {
                    for (int bad = -1; bad < n; bad++) {
                        float[] v = new float[n];
                        for (int i = 0; i < n; i++) {
                            v[i] = i % 3 == 0 ? -largest : i % 3 == 1 ? 1.5f * i : -0f;
                        }
                        if (bad >= 0) {
                            v[bad] = bads[(bad + n) % bads.length];
                        }
                        byte[] row = Floats.encode(v, t);
                        byte[] buf = new byte[off + row.length + 9];
                        java.util.Arrays.fill(buf, (byte) 0xff);
                        System.arraycopy(row, 0, buf, off, row.length);
                        assertEquals(bad, FiniteRows.firstNonFinite(buf, off, row.length, t), t + " off " + off + " n " + n);
                    }
                }
            }
        }
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
