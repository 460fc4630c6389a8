package nibble.common.quant;

/**
 * The fast path's group min/max. Each float's bits are mapped to an int key that orders like the
 * float ({@code -0 < +0}, as {@code Math.min}/{@code Math.max} order them), so the loop is an int
 * min/max reduction, which C2 vectorizes; a float compare chain does not (about 5x slower on
 * 32-value groups). NaNs sort beyond the infinities and are flagged. Equals the reference's
 * {@code Math.min}/{@code Math.max} fold for finite input.
 */
final class RangeScan {
    private static final int NEG_INF_KEY = key(Float.floatToRawIntBits(Float.NEGATIVE_INFINITY));
    private static final int POS_INF_KEY = key(Float.floatToRawIntBits(Float.POSITIVE_INFINITY));

    float min;
    float max;
    boolean nan;

    void run(float[] x, int from, int to) {
        int mn = Integer.MAX_VALUE;
        int mx = Integer.MIN_VALUE;
        for (int i = from; i < to; i++) {
            int b = Float.floatToRawIntBits(x[i]);
            int k = b ^ ((b >> 31) & 0x7fffffff);
            mn = Math.min(mn, k);
            mx = Math.max(mx, k);
        }
        finish(mn, mx);
    }

    /** Sets the result from the least and greatest key of the scanned values (also for {@link UniformVector}'s scan). */
    void finish(int mn, int mx) {
        nan = mx > POS_INF_KEY || mn < NEG_INF_KEY;
        min = Float.intBitsToFloat(key(mn)); // the map is its own inverse
        max = Float.intBitsToFloat(key(mx));
    }

    /** The int that orders like the float with these bits. */
    static int key(int bits) {
        return bits ^ ((bits >> 31) & 0x7fffffff);
    }
}
