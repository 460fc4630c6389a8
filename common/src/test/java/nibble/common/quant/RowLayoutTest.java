package nibble.common.quant;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.SplittableRandom;

import org.junit.jupiter.api.Test;

import nibble.common.InvalidInputException;

class RowLayoutTest {

    @Test
    void sizesAreThoseOfTheQuantizedColumns() {
        SplittableRandom r = new SplittableRandom(9);
        for (Scheme s : QuantizerGoldenTest.schemes()) {
            for (int n : new int[] {1, 2, 7, 31, 32, 33, 64, 127, 129, 300}) {
                RowLayout layout = RowLayout.of(s, n);
                QuantizedRow q = Quantizer.quantize("t", 0, Rows.gaussian(r, n, 0.1), s, Clip.abs(0.2f));
                assertEquals(layout.codeBytes(), q.codes().length, s + " " + n);
                assertEquals(layout.scaleBytes(), q.scales().length, s + " " + n);
                assertEquals(layout.zeroBytes(), q.zeros() == null ? 0 : q.zeros().length, s + " " + n);
                assertEquals(layout.hasZeros(), q.zeros() != null);
                assertEquals(layout.storedBytes(), q.codes().length + q.scales().length + layout.zeroBytes());
                assertEquals(8.0 * layout.storedBytes() / n, layout.bitsPerWeight(), 1e-12);
                layout.requireStored(q.codes(), q.scales(), q.zeros());
            }
        }
    }

    @Test
    void groupsCoverTheRowInOrderWithTheLastOneShorter() {
        for (Scheme s : new Scheme[] {Scheme.group(4, true, 7), Scheme.group(8, false, 32), Scheme.channel(4, true), Scheme.tensor(8, true)}) {
            for (int n = 0; n <= 100; n++) {
                RowLayout layout = RowLayout.of(s, n);
                int next = 0;
                for (int g = 0; g < layout.groupCount(); g++) {
                    assertEquals(next, layout.groupStart(g));
                    assertTrue(layout.groupEnd(g) - layout.groupStart(g) <= layout.groupLength());
                    assertTrue(layout.groupEnd(g) > layout.groupStart(g) || n == 0);
                    next = layout.groupEnd(g);
                }
                assertEquals(n, next, s + " " + n);
            }
        }
    }

    @Test
    void codesScalesAndZeroPointsRoundTrip() {
        for (Scheme s : QuantizerGoldenTest.schemes()) {
            RowLayout layout = RowLayout.of(s, 9);
            int lo = s.qmin();
            int[] codes = new int[9];
            for (int i = 0; i < 9; i++) {
                codes[i] = lo + (i * 37) % (s.qmax() - lo + 1);
            }
            byte[] packed = layout.packCodes(codes);
            assertEquals(layout.codeBytes(), packed.length);
            for (int i = 0; i < 9; i++) {
                assertEquals(codes[i], layout.code(packed, i), s + " code " + i);
            }
            if (s.bits() == 4) {
                assertEquals(0, packed[4] & 0xf0, "odd count pads the high nibble with 0");
            }
            byte[] scales = layout.newScales();
            layout.putScale(scales, 0, -0.375f);
            assertEquals(-0.375f, layout.scale(scales, 0));
            byte[] zeros = layout.newZeros();
            if (s.symmetric()) {
                assertNull(zeros);
            } else {
                layout.putZeroPoint(zeros, 0, s.qmax());
                assertEquals(s.qmax(), layout.zeroPoint(zeros, 0));
            }
        }
        byte[] f16 = new byte[2];
        RowLayout.of(Scheme.channel(4, true), 1).putScale(f16, 0, 1f);
        assertArrayEquals(new byte[] {0x00, 0x3C}, f16);
        byte[] f32 = new byte[4];
        RowLayout.of(Scheme.channel(4, true).withScaleFormat(ScaleFormat.F32), 1).putScale(f32, 0, 1f);
        assertArrayEquals(new byte[] {0, 0, (byte) 0x80, 0x3F}, f32);
        assertEquals(8, RowLayout.of(Scheme.channel(4, true), 1).codeBias());
        assertEquals(0, RowLayout.of(Scheme.channel(4, false), 1).codeBias());
        assertEquals(0, RowLayout.of(Scheme.channel(8, true), 1).codeBias());
        assertEquals(0, RowLayout.of(Scheme.channel(4, true).withCodebook(Codebook.NF4), 1).codeBias());
    }

    @Test
    void columnsThatDoNotFitAreRejectedNamingTheirSizes() {
        RowLayout layout = RowLayout.of(Scheme.group(4, false, 32), 64);
        layout.requireStored(new byte[32], new byte[4], new byte[2]);
        InvalidInputException e = assertThrows(InvalidInputException.class, () -> layout.requireStored(new byte[32], new byte[4], null));
        assertEquals("quantized row: 32 code bytes, 4 scale bytes, no zero bytes do not fit row length 64 under " + layout.scheme(), e.getMessage());
        assertThrows(InvalidInputException.class, () -> layout.requireStored(new byte[31], new byte[4], new byte[2]));
        assertThrows(InvalidInputException.class, () -> layout.requireStored(new byte[32], new byte[8], new byte[2]));
        assertThrows(InvalidInputException.class, () -> layout.requireStored(new byte[32], new byte[4], new byte[1]));
        assertThrows(IllegalArgumentException.class, () -> RowLayout.of(Scheme.channel(4, true), -1));
    }
}
