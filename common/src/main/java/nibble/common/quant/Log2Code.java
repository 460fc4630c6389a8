package nibble.common.quant;

/**
 * A 4-bit logarithmic code: bit 3 is the sign, bits 0-2 an exponent {@code e}; {@code e = 0} is
 * zero and {@code e = 1..7} is {@code 2^(e-7)}, so the magnitudes are 0, 1/64, 1/32, ..., 1/2, 1,
 * scaled by the group absmax. It spends its levels near zero where bell-shaped weights are dense,
 * and dequantizes with a shift. Code 8 ("-0") decodes to zero and is never produced: a value nearest
 * zero gets code 0.
 */
public final class Log2Code {
    private Log2Code() {
    }

    /** The table, indexed by code. */
    public static final float[] TABLE = new float[16];

    static {
        for (int c = 0; c < 16; c++) {
            int e = c & 7;
            float mag = e == 0 ? 0f : Math.scalb(1f, e - 7);
            TABLE[c] = (c & 8) != 0 ? -mag : mag;
        }
    }

    static final TableCodec CODEC = new TableCodec(TABLE);

    /** The code of the table entry nearest {@code v} (clamped to [-1, 1]; ties to the lower code). */
    public static int encode(float v) {
        return CODEC.nearest(v);
    }

    public static float decode(int code) {
        return TABLE[code];
    }
}
