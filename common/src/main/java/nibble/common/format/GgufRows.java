package nibble.common.format;

import nibble.common.Halfs;
import nibble.common.quant.QuantizedRow;
import nibble.common.quant.Quantizer;
import nibble.common.quant.Scheme;

/**
 * One quantized table row re-laid as ggml blocks of 32 values. Nibble's symmetric int4 g32 row with F16
 * scales and llama.cpp's {@code Q4_0} define the same values ({@code (q - 8) · d}); only the nibble
 * order differs: Nibble packs elements {@code 2i, 2i+1} into byte {@code i}, a Q4_0 block packs
 * element {@code j} in the low and {@code j + 16} in the high nibble of byte {@code j}. int8 g32
 * symmetric is {@code Q8_0} byte for byte. Asymmetric int4 g32 is {@code Q4_1} with
 * {@code m = -zero · scale} rounded to F16: exact when that product fits F16, which
 * {@link #q4_1} reports per row. The K-quant layout is {@code Q4_K} with the nibbles reordered ({@link #q4_K}).
 */
public final class GgufRows {
    /** The scheme of {@code Q4_0}: symmetric int4, groups of 32, min/max range, F16 scales. */
    public static final Scheme Q4_0_SCHEME = Scheme.group(4, true, 32);
    /** The scheme of {@code Q8_0}. */
    public static final Scheme Q8_0_SCHEME = Scheme.group(8, true, 32);

    private GgufRows() {
    }

    /** Writes the {@code Q4_0} blocks of a row of {@code n} values (a multiple of 32) into {@code out} at {@code off}. */
    public static void q4_0(byte[] codes, byte[] scales, int n, byte[] out, int off) {
        for (int b = 0; b < n / 32; b++) {
            int p = off + 18 * b;
            out[p] = scales[2 * b];
            out[p + 1] = scales[2 * b + 1];
            for (int j = 0; j < 16; j++) {
                int lo = nibble(codes, 32 * b + j);
                int hi = nibble(codes, 32 * b + j + 16);
                out[p + 2 + j] = (byte) (lo | hi << 4);
            }
        }
    }

    /** Writes the {@code Q8_0} blocks of a row of {@code n} values (a multiple of 32). */
    public static void q8_0(byte[] codes, byte[] scales, int n, byte[] out, int off) {
        for (int b = 0; b < n / 32; b++) {
            int p = off + 34 * b;
            out[p] = scales[2 * b];
            out[p + 1] = scales[2 * b + 1];
            System.arraycopy(codes, 32 * b, out, p + 2, 32);
        }
    }

    /**
     * Writes the {@code Q4_1} blocks of an asymmetric int4 g32 row with F16 scales, and returns the
     * number of blocks whose minimum {@code -zero · scale} does not fit F16 (so their values move by
     * at most half an F16 step of the minimum); 0 means every value is carried over exactly.
     */
    public static int q4_1(byte[] codes, byte[] scales, byte[] zeros, int n, byte[] out, int off) {
        int inexact = 0;
        for (int b = 0; b < n / 32; b++) {
            int p = off + 20 * b;
            float d = Halfs.f16ToFloat((short) (scales[2 * b] & 0xff | scales[2 * b + 1] << 8));
            float min = -(zeros[b] & 0xff) * d;
            short m = Halfs.floatToF16(min);
            if (Halfs.f16ToFloat(m) != min) {
                inexact++;
            }
            out[p] = scales[2 * b];
            out[p + 1] = scales[2 * b + 1];
            out[p + 2] = (byte) m;
            out[p + 3] = (byte) (m >>> 8);
            for (int j = 0; j < 16; j++) {
                out[p + 4 + j] = (byte) (nibble(codes, 32 * b + j) | nibble(codes, 32 * b + j + 16) << 4);
            }
        }
        return inexact;
    }

    /**
     * Writes the {@code Q4_K} blocks of a K-quant row ({@link nibble.common.quant.Granularity#SUPERBLOCK}) of {@code n}
     * values (a multiple of 256): each block's first 16 bytes ({@code d}, {@code dmin}, the 12 bytes of 6-bit scales and
     * minimums) are the row's {@code scales} bytes as stored; its {@code qs[128]} holds, per 64 values, element {@code l}
     * in the low and {@code l + 32} in the high nibble of byte {@code l}. The values are unchanged.
     */
    public static void q4_K(byte[] codes, byte[] scales, int n, byte[] out, int off) {
        for (int b = 0; b < n / 256; b++) {
            int p = off + 144 * b;
            System.arraycopy(scales, 16 * b, out, p, 16);
            for (int c = 0; c < 4; c++) {
                int e = 256 * b + 64 * c;
                for (int l = 0; l < 32; l++) {
                    out[p + 16 + 32 * c + l] = (byte) (nibble(codes, e + l) | nibble(codes, e + l + 32) << 4);
                }
            }
        }
    }

    /** Quantizes {@code values} (a multiple of 32) to {@code Q4_0} or {@code Q8_0} blocks with Nibble's round-to-nearest. */
    public static void quantize(GgmlType type, String tensor, long row, float[] values, byte[] out, int off) {
        if (type == GgmlType.Q4_0) {
            QuantizedRow q = Quantizer.quantize(tensor, row, values, Q4_0_SCHEME);
            q4_0(q.codes(), q.scales(), values.length, out, off);
        } else if (type == GgmlType.Q8_0) {
            QuantizedRow q = Quantizer.quantize(tensor, row, values, Q8_0_SCHEME);
            q8_0(q.codes(), q.scales(), values.length, out, off);
        } else {
            throw new IllegalArgumentException("cannot quantize to " + type);
        }
    }

    /** Writes {@code values} as little-endian F32. */
    public static void f32(float[] values, byte[] out, int off) {
        for (int i = 0; i < values.length; i++) {
            int bits = Float.floatToRawIntBits(values[i]);
            out[off + 4 * i] = (byte) bits;
            out[off + 4 * i + 1] = (byte) (bits >>> 8);
            out[off + 4 * i + 2] = (byte) (bits >>> 16);
            out[off + 4 * i + 3] = (byte) (bits >>> 24);
        }
    }

    private static int nibble(byte[] codes, int e) {
        return (codes[e >>> 1] >>> ((e & 1) << 2)) & 0x0f;
    }
}
