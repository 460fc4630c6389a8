package nibble.common.quant;

import nibble.common.Halfs;
import nibble.common.InvalidInputException;

/**
 * How one stored row of {@code rowLength} values is laid out under a {@link Scheme}: the bytes of
 * the quantized table's {@code codes}, {@code scales} and {@code zeros} columns (docs/FORMAT.md).
 * This is the definition of that layout, and the only place that states it:
 * <ul>
 * <li>The row is cut into {@link #groupCount} groups of {@link #groupLength} values along its
 * length; the last group is shorter when the length is not a multiple of the group size. A channel
 * or tensor scheme has one group, the whole row.
 * <li><b>codes</b>, 4-bit: two per byte, element {@code 2i} in the low nibble of byte {@code i} and
 * {@code 2i+1} in the high nibble; an odd count leaves the last high nibble 0. Symmetric uniform
 * codes -8..7 are stored as {@code code + 8} (0..15, as llama.cpp's Q4_0), asymmetric and table
 * codes 0..15 as they are. 8-bit: one byte per code, symmetric as two's-complement int8,
 * asymmetric as unsigned 0..255.
 * <li><b>scales</b>: one per group, little-endian F16 or F32 ({@link ScaleFormat}).
 * <li><b>zeros</b>: asymmetric schemes only, one unsigned zero-point byte per group; null otherwise.
 * <li>{@link Granularity#SUPERBLOCK} (the K-quant layout, {@link SuperBlockCodec}): groups are the
 * sub-blocks of 32 values (codes 0..15 packed as above); <b>scales</b> holds per super-block of 256
 * values the 16 bytes {@code d}, {@code dmin} (F16) and 12 bytes of 6-bit sub-block scales and
 * minimums, as GGUF's {@code block_q4_K}; there are no zero-points.
 * </ul>
 * The codecs' reference paths store and read codes only through {@link #packCodes} and {@link
 * #code}. Their fast paths write and read the 4-bit packing directly, two nibbles at a time, and
 * are tested bit-identical to the reference.
 */
public record RowLayout(Scheme scheme, int rowLength) {

    public RowLayout {
        if (rowLength < 0) {
            throw new IllegalArgumentException("row length must not be negative, got " + rowLength);
        }
    }

    /** The layout of a row of {@code rowLength} values under {@code scheme}. */
    public static RowLayout of(Scheme scheme, int rowLength) {
        return new RowLayout(scheme, rowLength);
    }

    /** Values per group; the last group may be shorter. */
    public int groupLength() {
        if (scheme.granularity() == Granularity.SUPERBLOCK) {
            return SuperBlockCodec.SUB;
        }
        return scheme.granularity() == Granularity.GROUP ? scheme.groupSize() : Math.max(rowLength, 1);
    }

    /** Groups (= scales) per row: {@code ceil(rowLength / groupSize)}, or 1. */
    public int groupCount() {
        if (scheme.granularity() == Granularity.SUPERBLOCK) {
            return (rowLength + SuperBlockCodec.SUB - 1) / SuperBlockCodec.SUB;
        }
        return scheme.granularity() == Granularity.GROUP ? (rowLength + scheme.groupSize() - 1) / scheme.groupSize() : 1;
    }

    /** Index of group {@code g}'s first value. */
    public int groupStart(int g) {
        return g * groupLength();
    }

    /** Index one past group {@code g}'s last value. */
    public int groupEnd(int g) {
        return Math.min(rowLength, (g + 1) * groupLength());
    }

    /** Bytes of packed codes. */
    public int codeBytes() {
        return scheme.bits() == 4 ? (rowLength + 1) / 2 : rowLength;
    }

    /** Bytes of scales. */
    public int scaleBytes() {
        if (scheme.granularity() == Granularity.SUPERBLOCK) {
            return SuperBlockCodec.superBlocks(rowLength) * SuperBlockCodec.HEADER;
        }
        return groupCount() * scheme.scaleFormat().bytes();
    }

    /** True when the row stores a zero-point per group (asymmetric schemes). */
    public boolean hasZeros() {
        return !scheme.symmetric() && scheme.granularity() != Granularity.SUPERBLOCK;
    }

    /** Bytes of zero-points: one per group, or 0. */
    public int zeroBytes() {
        return hasZeros() ? groupCount() : 0;
    }

    /** Bytes the stored row takes: codes, scales and zero-points. */
    public long storedBytes() {
        if (scheme.granularity() == Granularity.SUPERBLOCK) {
            return codeBytes() + scaleBytes();
        }
        long groups = groupCount();
        return codeBytes() + groups * scheme.scaleFormat().bytes() + (hasZeros() ? groups : 0);
    }

    /**
     * Stored bits per weight: packed codes (with the odd-length pad nibble) plus every scale and
     * zero-point byte the row carries. A per-tensor scale is counted once per row, as the table
     * stores it.
     */
    public double bitsPerWeight() {
        if (rowLength <= 0) {
            throw new IllegalArgumentException("row length must be positive, got " + rowLength);
        }
        if (scheme.granularity() == Granularity.SUPERBLOCK) {
            return (8.0 * codeBytes() + 8.0 * scaleBytes()) / rowLength;
        }
        long perGroup = 8L * scheme.scaleFormat().bytes() + (hasZeros() ? 8 : 0);
        return (8.0 * codeBytes() + perGroup * groupCount()) / rowLength;
    }

    /** What is added to a code to store it: 8 for symmetric uniform 4-bit codes (-8..7 as 0..15), else 0. */
    public int codeBias() {
        return scheme.bits() == 4 && scheme.symmetric() && scheme.codebook() == Codebook.UNIFORM ? 8 : 0;
    }

    /** Throws when stored columns do not fit this layout. */
    public void requireStored(byte[] codes, byte[] scales, byte[] zeros) {
        if (codes.length != codeBytes() || scales.length != scaleBytes() || (zeros == null) == hasZeros()
                || (zeros != null && zeros.length != groupCount())) {
            throw new InvalidInputException("quantized row: " + codes.length + " code bytes, " + scales.length + " scale bytes, "
                    + (zeros == null ? "no" : zeros.length) + " zero bytes do not fit row length " + rowLength + " under " + scheme);
        }
    }

    /** An empty codes column. */
    public byte[] newCodes() {
        return new byte[codeBytes()];
    }

    /** An empty scales column. */
    public byte[] newScales() {
        return new byte[scaleBytes()];
    }

    /** An empty zeros column, or null when the scheme has no zero-points. */
    public byte[] newZeros() {
        return hasZeros() ? new byte[groupCount()] : null;
    }

    /** Packs one code per element ({@code codes.length == rowLength}) into the codes column. */
    public byte[] packCodes(int[] codes) {
        if (codes.length != rowLength) {
            throw new IllegalArgumentException(codes.length + " codes for a row of " + rowLength);
        }
        byte[] out = newCodes();
        if (scheme.bits() == 4) {
            int bias = codeBias();
            for (int i = 0; i < codes.length; i++) {
                int u = codes[i] + bias;
                if (u < 0 || u > 15) {
                    throw new IllegalArgumentException("code " + codes[i] + " at " + i + " does not fit a nibble with offset " + bias);
                }
                out[i >> 1] |= (byte) ((i & 1) == 0 ? u : u << 4);
            }
        } else {
            int lo = scheme.symmetric() ? -128 : 0;
            for (int i = 0; i < codes.length; i++) {
                if (codes[i] < lo || codes[i] > lo + 255) {
                    throw new IllegalArgumentException("code " + codes[i] + " at " + i + " does not fit a byte");
                }
                out[i] = (byte) codes[i];
            }
        }
        return out;
    }

    /** The code of element {@code i}, read from the codes column. */
    public int code(byte[] codes, int i) {
        if (scheme.bits() == 4) {
            return ((codes[i >> 1] >> ((i & 1) << 2)) & 0xf) - codeBias();
        }
        return scheme.symmetric() ? codes[i] : codes[i] & 0xff;
    }

    /** The scale of group {@code g}, read from the scales column. */
    public float scale(byte[] scales, int g) {
        if (scheme.granularity() == Granularity.SUPERBLOCK) {
            return SuperBlockCodec.subScale(scales, g);
        }
        if (scheme.scaleFormat() == ScaleFormat.F16) {
            return Halfs.f16ToFloat((short) ((scales[2 * g] & 0xff) | (scales[2 * g + 1] << 8)));
        }
        int o = 4 * g;
        return Float.intBitsToFloat((scales[o] & 0xff) | (scales[o + 1] & 0xff) << 8 | (scales[o + 2] & 0xff) << 16 | scales[o + 3] << 24);
    }

    /**
     * The first group whose stored scale is NaN or infinite, or -1. Codes and zero-points are
     * integers, so a row whose scales are finite dequantizes to finite values (bar overflow of the
     * largest F32 scales).
     */
    public int firstNonFiniteScale(byte[] scales) {
        if (scheme.granularity() == Granularity.SUPERBLOCK) {
            for (int b = 0; b < SuperBlockCodec.superBlocks(rowLength); b++) {
                int o = b * SuperBlockCodec.HEADER;
                if (!Float.isFinite(SuperBlockCodec.half(scales, o)) || !Float.isFinite(SuperBlockCodec.half(scales, o + 2))) {
                    return b * SuperBlockCodec.SUBS;
                }
            }
            return -1;
        }
        for (int g = 0; g < groupCount(); g++) {
            if (!Float.isFinite(scale(scales, g))) {
                return g;
            }
        }
        return -1;
    }

    /** Stores {@code scale} (already rounded to the scale format) as group {@code g}'s. */
    public void putScale(byte[] scales, int g, float scale) {
        if (scheme.granularity() == Granularity.SUPERBLOCK) {
            throw new IllegalStateException("a K-quant row's scales are written by its codec");
        }
        if (scheme.scaleFormat() == ScaleFormat.F16) {
            short h = Halfs.floatToF16(scale);
            scales[2 * g] = (byte) h;
            scales[2 * g + 1] = (byte) (h >>> 8);
        } else {
            int b = Float.floatToRawIntBits(scale);
            int o = 4 * g;
            scales[o] = (byte) b;
            scales[o + 1] = (byte) (b >>> 8);
            scales[o + 2] = (byte) (b >>> 16);
            scales[o + 3] = (byte) (b >>> 24);
        }
    }

    /** The zero-point of group {@code g}, read from the zeros column. */
    public int zeroPoint(byte[] zeros, int g) {
        return zeros[g] & 0xff;
    }

    /** Stores zero-point {@code zp} (0..2^bits-1) as group {@code g}'s. */
    public void putZeroPoint(byte[] zeros, int g, int zp) {
        zeros[g] = (byte) zp;
    }
}
