package nibble.common.format;

import nibble.common.Halfs;

/**
 * The ggml tensor types Nibble reads from GGUF files, with their ids, block sizes and bytes per
 * block, and a dequantizer per type that turns one row of blocks into floats exactly as ggml's
 * reference dequantizers ({@code dequantize_row_*} in {@code ggml-quants.c}) and the {@code gguf}
 * Python package's {@code gguf.quants.dequantize} do: the same float operations in the same order,
 * each rounded to float (Java never fuses a multiply and an add), so the floats are bit-identical.
 *
 * <p>Block layouts (little-endian, {@code d}/{@code m} are IEEE half floats):
 * <ul>
 *   <li>Q4_0: 32 values in 18 bytes, {@code d, qs[16]}; value {@code j} is the low nibble of
 *       {@code qs[j]} (j &lt; 16) or the high nibble of {@code qs[j-16]}, {@code y = (q - 8) * d}.</li>
 *   <li>Q4_1: 32 values in 20 bytes, {@code d, m, qs[16]}; same nibbles, {@code y = q * d + m}.</li>
 *   <li>Q5_0: 32 values in 22 bytes, {@code d, qh[4], qs[16]}; bit {@code j} of {@code qh} is the
 *       fifth bit of value {@code j}, {@code y = (q - 16) * d}.</li>
 *   <li>Q5_1: 32 values in 24 bytes, {@code d, m, qh[4], qs[16]}, {@code y = q * d + m}.</li>
 *   <li>Q8_0: 32 values in 34 bytes, {@code d, qs[32]} (signed bytes), {@code y = q * d}.</li>
 * </ul>
 */
public enum GgmlType {
    F32(0, 1, 4),
    F16(1, 1, 2),
    Q4_0(2, 32, 18),
    Q4_1(3, 32, 20),
    Q5_0(6, 32, 22),
    Q5_1(7, 32, 24),
    Q8_0(8, 32, 34),
    BF16(30, 1, 2);

    private final int id;
    private final int blockSize;
    private final int blockBytes;

    GgmlType(int id, int blockSize, int blockBytes) {
        this.id = id;
        this.blockSize = blockSize;
        this.blockBytes = blockBytes;
    }

    /** The type's number in GGUF tensor infos ({@code enum ggml_type}). */
    public int id() {
        return id;
    }

    /** Values per block (1 for the plain float types). */
    public int blockSize() {
        return blockSize;
    }

    /** Bytes per block. */
    public int blockBytes() {
        return blockBytes;
    }

    /** Whether the values are stored as blocks of codes with scales (not plain floats). */
    public boolean quantized() {
        return blockSize > 1;
    }

    /** The type with this GGUF id, or null when Nibble does not read it. */
    public static GgmlType byId(long id) {
        for (GgmlType t : values()) {
            if (t.id == id) {
                return t;
            }
        }
        return null;
    }

    /** The name of a ggml type id, also for ids Nibble does not read (for messages). */
    public static String describe(long id) {
        GgmlType t = byId(id);
        if (t != null) {
            return t.name();
        }
        String[] names = {"F32", "F16", "Q4_0", "Q4_1", "Q4_2 (removed)", "Q4_3 (removed)", "Q5_0", "Q5_1", "Q8_0",
            "Q8_1", "Q2_K", "Q3_K", "Q4_K", "Q5_K", "Q6_K", "Q8_K", "IQ2_XXS", "IQ2_XS", "IQ3_XXS", "IQ1_S", "IQ4_NL",
            "IQ3_S", "IQ2_S", "IQ4_XS", "I8", "I16", "I32", "I64", "F64", "IQ1_M", "BF16", "Q4_0_4_4 (removed)",
            "Q4_0_4_8 (removed)", "Q4_0_8_8 (removed)", "TQ1_0", "TQ2_0", "IQ4_NL_4_4 (removed)",
            "IQ4_NL_4_8 (removed)", "IQ4_NL_8_8 (removed)", "MXFP4"};
        return id >= 0 && id < names.length ? names[(int) id] + " (" + id + ")" : "unknown (" + id + ")";
    }

    /** The names of the readable types, for messages. */
    public static String supported() {
        StringBuilder sb = new StringBuilder();
        for (GgmlType t : values()) {
            sb.append(sb.length() == 0 ? "" : ", ").append(t.name());
        }
        return sb.toString();
    }

    /**
     * Bytes of {@code n} values; {@code n} must be a whole number of blocks.
     *
     * @throws ArithmeticException on overflow
     */
    public long bytesOf(long n) {
        return Math.multiplyExact(n / blockSize, (long) blockBytes);
    }

    /**
     * Dequantizes {@code n} values (a whole number of blocks) from {@code src} at {@code srcOff} into
     * {@code out} from {@code outOff}.
     */
    public void dequantize(byte[] src, int srcOff, int n, float[] out, int outOff) {
        if (n % blockSize != 0) {
            throw new IllegalArgumentException(n + " values is not a whole number of " + name() + " blocks");
        }
        int blocks = n / blockSize;
        switch (this) {
            case F32 -> {
                for (int i = 0; i < n; i++) {
                    out[outOff + i] = Float.intBitsToFloat(i32(src, srcOff + 4 * i));
                }
            }
            case F16 -> {
                for (int i = 0; i < n; i++) {
                    out[outOff + i] = Halfs.f16ToFloat(i16(src, srcOff + 2 * i));
                }
            }
            case BF16 -> {
                for (int i = 0; i < n; i++) {
                    out[outOff + i] = Halfs.bf16ToFloat(i16(src, srcOff + 2 * i));
                }
            }
            case Q4_0 -> {
                for (int b = 0; b < blocks; b++) {
                    int p = srcOff + b * 18;
                    int o = outOff + b * 32;
                    float d = half(src, p);
                    for (int j = 0; j < 16; j++) {
                        int q = src[p + 2 + j] & 0xff;
                        out[o + j] = ((q & 0x0f) - 8) * d;
                        out[o + j + 16] = ((q >>> 4) - 8) * d;
                    }
                }
            }
            case Q4_1 -> {
                for (int b = 0; b < blocks; b++) {
                    int p = srcOff + b * 20;
                    int o = outOff + b * 32;
                    float d = half(src, p);
                    float m = half(src, p + 2);
                    for (int j = 0; j < 16; j++) {
                        int q = src[p + 4 + j] & 0xff;
                        out[o + j] = (q & 0x0f) * d + m;
                        out[o + j + 16] = (q >>> 4) * d + m;
                    }
                }
            }
            case Q5_0 -> {
                for (int b = 0; b < blocks; b++) {
                    int p = srcOff + b * 22;
                    int o = outOff + b * 32;
                    float d = half(src, p);
                    int qh = i32(src, p + 2);
                    for (int j = 0; j < 16; j++) {
                        int q = src[p + 6 + j] & 0xff;
                        int h0 = ((qh >>> j) << 4) & 0x10;
                        int h1 = (qh >>> (j + 12)) & 0x10;
                        out[o + j] = (((q & 0x0f) | h0) - 16) * d;
                        out[o + j + 16] = (((q >>> 4) | h1) - 16) * d;
                    }
                }
            }
            case Q5_1 -> {
                for (int b = 0; b < blocks; b++) {
                    int p = srcOff + b * 24;
                    int o = outOff + b * 32;
                    float d = half(src, p);
                    float m = half(src, p + 2);
                    int qh = i32(src, p + 4);
                    for (int j = 0; j < 16; j++) {
                        int q = src[p + 8 + j] & 0xff;
                        int h0 = ((qh >>> j) << 4) & 0x10;
                        int h1 = (qh >>> (j + 12)) & 0x10;
                        out[o + j] = ((q & 0x0f) | h0) * d + m;
                        out[o + j + 16] = ((q >>> 4) | h1) * d + m;
                    }
                }
            }
            case Q8_0 -> {
                for (int b = 0; b < blocks; b++) {
                    int p = srcOff + b * 34;
                    int o = outOff + b * 32;
                    float d = half(src, p);
                    for (int j = 0; j < 32; j++) {
                        out[o + j] = src[p + 2 + j] * d;
                    }
                }
            }
            default -> throw new IllegalStateException(name());
        }
    }

    private static float half(byte[] b, int p) {
        return Halfs.f16ToFloat(i16(b, p));
    }

    private static short i16(byte[] b, int p) {
        return (short) ((b[p] & 0xff) | (b[p + 1] << 8));
    }

    private static int i32(byte[] b, int p) {
        return (b[p] & 0xff) | ((b[p + 1] & 0xff) << 8) | ((b[p + 2] & 0xff) << 16) | (b[p + 3] << 24);
    }
}
