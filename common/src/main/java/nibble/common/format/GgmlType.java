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
 *   <li>K-quants, super-blocks of 256 values in 16 sub-blocks of 16 (Q2_K, Q3_K, Q6_K) or 8 of 32
 *       (Q4_K, Q5_K), with quantized sub-block scales (and minimums):
 *       Q2_K {@code scales[16], qs[64], d, dmin}: {@code y = (d * (sc & 15)) * q - dmin * (sc >> 4)},
 *       2-bit {@code q};
 *       Q3_K {@code hmask[32], qs[64], scales[12], d}: 6-bit signed scales, {@code q} 2 low bits
 *       minus 4 unless the {@code hmask} bit is set, {@code y = (d * (sc - 32)) * q};
 *       Q4_K {@code d, dmin, scales[12], qs[128]}: 6-bit scale and minimum per 32,
 *       {@code y = (d * sc) * q - dmin * m};
 *       Q5_K {@code d, dmin, scales[12], qh[32], qs[128]}: as Q4_K with a fifth bit from {@code qh};
 *       Q6_K {@code ql[128], qh[64], scales[16] (int8), d}: {@code y = (d * sc) * (q - 32)}.</li>
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
    Q2_K(10, 256, 84),
    Q3_K(11, 256, 110),
    Q4_K(12, 256, 144),
    Q5_K(13, 256, 176),
    Q6_K(14, 256, 210),
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
            case Q2_K -> {
                for (int b = 0; b < blocks; b++) {
                    q2k(src, srcOff + b * 84, out, outOff + b * 256);
                }
            }
            case Q3_K -> {
                for (int b = 0; b < blocks; b++) {
                    q3k(src, srcOff + b * 110, out, outOff + b * 256);
                }
            }
            case Q4_K -> {
                for (int b = 0; b < blocks; b++) {
                    q45k(src, srcOff + b * 144, false, out, outOff + b * 256);
                }
            }
            case Q5_K -> {
                for (int b = 0; b < blocks; b++) {
                    q45k(src, srcOff + b * 176, true, out, outOff + b * 256);
                }
            }
            case Q6_K -> {
                for (int b = 0; b < blocks; b++) {
                    q6k(src, srcOff + b * 210, out, outOff + b * 256);
                }
            }
            default -> throw new IllegalStateException(name());
        }
    }

    /** Q2_K: scales[16] at 0, qs[64] at 16, d at 80, dmin at 82. */
    private static void q2k(byte[] x, int p, float[] y, int o) {
        float d = half(x, p + 80);
        float min = half(x, p + 82);
        int is = 0;
        for (int n = 0; n < 2; n++) {
            int q = p + 16 + 32 * n;
            for (int shift = 0; shift < 8; shift += 2) {
                for (int part = 0; part < 2; part++) {
                    int sc = x[p + is++] & 0xff;
                    float dl = d * (sc & 0x0f);
                    float ml = min * (sc >>> 4);
                    for (int l = 0; l < 16; l++) {
                        y[o++] = dl * (((x[q + 16 * part + l] & 0xff) >>> shift) & 3) - ml;
                    }
                }
            }
        }
    }

    /** Q3_K: hmask[32] at 0, qs[64] at 32, scales[12] at 96, d at 108. */
    private static void q3k(byte[] x, int p, float[] y, int o) {
        float dAll = half(x, p + 108);
        int is = 0;
        int bit = 0;
        for (int n = 0; n < 2; n++) {
            int q = p + 32 + 32 * n;
            for (int shift = 0; shift < 8; shift += 2) {
                for (int part = 0; part < 2; part++) {
                    float dl = dAll * (q3Scale(x, p + 96, is++) - 32);
                    for (int l = 0; l < 16; l++) {
                        int i = 16 * part + l;
                        int low = ((x[q + i] & 0xff) >>> shift) & 3;
                        int high = ((x[p + i] >>> bit) & 1) != 0 ? 0 : 4;
                        y[o++] = dl * (low - high);
                    }
                }
                bit++;
            }
        }
    }

    /** The {@code k}-th (0..15) 6-bit scale of a Q3_K block: low 4 bits from bytes 0..7, high 2 from 8..11. */
    private static int q3Scale(byte[] x, int s, int k) {
        int low = k < 8 ? x[s + k] & 0x0f : (x[s + k - 8] & 0xff) >>> 4;
        int high = ((x[s + 8 + (k & 3)] & 0xff) >>> (2 * (k >>> 2))) & 3;
        return low | (high << 4);
    }

    /** Q4_K (d, dmin, scales[12], qs[128]) and Q5_K (d, dmin, scales[12], qh[32], qs[128]). */
    private static void q45k(byte[] x, int p, boolean five, float[] y, int o) {
        float d = half(x, p);
        float min = half(x, p + 2);
        int scales = p + 4;
        int qh = p + 16;
        int ql = five ? p + 48 : p + 16;
        for (int j = 0; j < 4; j++) {
            float d1 = d * kScale(x, scales, 2 * j);
            float m1 = min * kMin(x, scales, 2 * j);
            float d2 = d * kScale(x, scales, 2 * j + 1);
            float m2 = min * kMin(x, scales, 2 * j + 1);
            int q = ql + 32 * j;
            for (int l = 0; l < 32; l++) {
                int v = x[q + l] & 0x0f;
                if (five) {
                    v += ((x[qh + l] >>> (2 * j)) & 1) != 0 ? 16 : 0;
                }
                y[o++] = d1 * v - m1;
            }
            for (int l = 0; l < 32; l++) {
                int v = (x[q + l] & 0xff) >>> 4;
                if (five) {
                    v += ((x[qh + l] >>> (2 * j + 1)) & 1) != 0 ? 16 : 0;
                }
                y[o++] = d2 * v - m2;
            }
        }
    }

    /** ggml's {@code get_scale_min_k4}: the {@code j}-th 6-bit scale of a Q4_K/Q5_K block. */
    private static int kScale(byte[] x, int s, int j) {
        if (j < 4) {
            return x[s + j] & 63;
        }
        return (x[s + j + 4] & 0x0f) | (((x[s + j - 4] & 0xff) >>> 6) << 4);
    }

    /** ggml's {@code get_scale_min_k4}: the {@code j}-th 6-bit minimum of a Q4_K/Q5_K block. */
    private static int kMin(byte[] x, int s, int j) {
        if (j < 4) {
            return x[s + j + 4] & 63;
        }
        return ((x[s + j + 4] & 0xff) >>> 4) | (((x[s + j] & 0xff) >>> 6) << 4);
    }

    /** Q6_K: ql[128] at 0, qh[64] at 128, scales[16] (int8) at 192, d at 208. */
    private static void q6k(byte[] x, int p, float[] y, int o) {
        float d = half(x, p + 208);
        for (int n = 0; n < 2; n++) {
            int ql = p + 64 * n;
            int qh = p + 128 + 32 * n;
            int sc = p + 192 + 8 * n;
            int base = o + 128 * n;
            for (int l = 0; l < 32; l++) {
                int is = l / 16;
                int h = x[qh + l] & 0xff;
                int a = x[ql + l] & 0xff;
                int b = x[ql + l + 32] & 0xff;
                int q1 = ((a & 0x0f) | ((h & 3) << 4)) - 32;
                int q2 = ((b & 0x0f) | (((h >>> 2) & 3) << 4)) - 32;
                int q3 = ((a >>> 4) | (((h >>> 4) & 3) << 4)) - 32;
                int q4 = ((b >>> 4) | (((h >>> 6) & 3) << 4)) - 32;
                y[base + l] = d * x[sc + is] * q1;
                y[base + l + 32] = d * x[sc + is + 2] * q2;
                y[base + l + 64] = d * x[sc + is + 4] * q3;
                y[base + l + 96] = d * x[sc + is + 6] * q4;
            }
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
