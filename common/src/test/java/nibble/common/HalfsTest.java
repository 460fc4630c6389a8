package nibble.common;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

class HalfsTest {

    @Test
    void everyF16RoundTripsThroughFloat() {
        for (int h = 0; h < 0x10000; h++) {
            float f = Halfs.f16ToFloat((short) h);
            if (Float.isNaN(f)) {
                continue;
            }
            assertEquals((short) h, Halfs.floatToF16(f), "f16 bits " + Integer.toHexString(h));
        }
    }

    @Test
    void f16RoundsToNearestEven() {
        assertEquals(1.0f, Halfs.roundToF16(1.0f + 0x1p-11f));            // tie, 1.0 is even
        assertEquals(1.0f + 0x1p-9f, Halfs.roundToF16(1.0f + 0x1p-9f + 0x1p-11f)); // tie, up to even
        assertEquals(65504f, Halfs.roundToF16(65519f));
        assertEquals(Float.POSITIVE_INFINITY, Halfs.roundToF16(65520f));
        assertEquals(0x1p-24f, Halfs.roundToF16(0x1p-24f));
        assertEquals(0f, Halfs.roundToF16(0x1p-26f));
        assertEquals(0x1p-24f, Halfs.roundToF16(0x1.8p-25f));
    }

    @Test
    void everyBf16RoundTripsAndRoundsToNearestEven() {
        for (int h = 0; h < 0x10000; h++) {
            float f = Halfs.bf16ToFloat((short) h);
            if (!Float.isNaN(f)) {
                assertEquals((short) h, Halfs.floatToBf16(f));
            }
        }
        assertEquals(1.0f, Halfs.bf16ToFloat(Halfs.floatToBf16(Float.intBitsToFloat(0x3f808000))));
        assertEquals(Float.intBitsToFloat(0x3f820000), Halfs.bf16ToFloat(Halfs.floatToBf16(Float.intBitsToFloat(0x3f818000))));
    }
}
