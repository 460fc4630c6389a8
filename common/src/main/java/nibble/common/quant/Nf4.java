package nibble.common.quant;

/**
 * NF4, the 4-bit NormalFloat code of QLoRA (Dettmers et al. 2023): 16 quantiles of a standard
 * normal scaled to [-1, 1], with an exact zero. A group stores its absmax as the scale; a weight is
 * {@code TABLE[code] * scale}. The constants are bitsandbytes' table (csrc/kernels.cu), so codes
 * read the same as a bitsandbytes {@code quant_type="nf4"} tensor's. Code 7 is zero.
 */
public final class Nf4 {
    private Nf4() {
    }

    /** The table, indexed by code, ascending. */
    public static final float[] TABLE = {
        -1.0f, -0.6961928009986877f, -0.5250730514526367f, -0.39491748809814453f,
        -0.28444138169288635f, -0.18477343022823334f, -0.09105003625154495f, 0.0f,
        0.07958029955625534f, 0.16093020141124725f, 0.24611230194568634f, 0.33791524171829224f,
        0.44070982933044434f, 0.5626170039176941f, 0.7229568362236023f, 1.0f,
    };

    static final TableCodec CODEC = new TableCodec(TABLE);

    /** The code of the table entry nearest {@code v} (clamped to [-1, 1]; ties to the lower code). */
    public static int encode(float v) {
        return CODEC.nearest(v);
    }

    public static float decode(int code) {
        return TABLE[code];
    }
}
