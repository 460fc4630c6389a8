package nibble.common;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;

/**
 * Refuses NaN and infinities in one tensor row before it is written into a table. {@code shard}
 * calls it for every row it reads from a checkpoint (all source formats, after a GGUF row is
 * dequantized), {@code quantize} for every row of a tensor it keeps unquantized; so nothing non-finite
 * is ever silently written into a tensor table. A pure function of the row's bytes, called per row,
 * so that it can move with whatever code writes the rows.
 *
 * <p>{@link #firstNonFinite} tests the exponent bits of the little-endian encoding directly (all ones
 * means NaN or an infinity in F32, F16 and BF16 alike), eight bytes at a time until it finds one;
 * {@link #firstNonFiniteReference} decodes with {@link Floats#decode} and asks {@link Float#isFinite}.
 * FiniteRowsTest checks that they agree.
 */
public final class FiniteRows {
    /** Why shard refuses, and how to keep them anyway. */
    public static final String SHARD_HINT = "shard refuses NaN and infinite weights; --allow-non-finite writes them";
    /** Why quantize refuses them in a tensor it keeps. */
    public static final String KEEP_HINT = "quantize keeps this tensor unquantized and does not write NaN or infinite values";

    private FiniteRows() {
    }

    /** The column of the first NaN or infinity in a row of little-endian {@code dtype} values, or -1. */
    public static int firstNonFinite(byte[] le, DType dtype) {
        return firstNonFinite(le, 0, le.length, dtype);
    }

    /** {@link #firstNonFinite(byte[], DType)} of the row {@code le[off, off + len)}. */
    public static int firstNonFinite(byte[] le, int off, int len, DType dtype) {
        return anyNonFinite(le, off, len, dtype) ? scan(le, off, len, dtype) : -1;
    }

    /**
     * Whether the row holds a NaN or an infinity, eight bytes at a time: in each little-endian long,
     * every value's exponent field is masked out and one added at its lowest bit, which carries into
     * the value's top bit exactly when the field is all ones, and never beyond it. The fast check
     * before {@link #scan} looks for the column (shard and quantize pass every row through it).
     */
    static boolean anyNonFinite(byte[] le, int off, int len, DType dtype) {
        long exponents;
        long lowestBits;
        long topBits;
        switch (dtype) {
            case F32 -> {
                exponents = 0x7F8000007F800000L;
                lowestBits = 0x0080000000800000L;
                topBits = 0x8000000080000000L;
            }
            case F16 -> {
                exponents = 0x7C007C007C007C00L;
                lowestBits = 0x0400040004000400L;
                topBits = 0x8000800080008000L;
            }
            case BF16 -> {
                exponents = 0x7F807F807F807F80L;
                lowestBits = 0x0080008000800080L;
                topBits = 0x8000800080008000L;
            }
            default -> throw new IllegalArgumentException(String.valueOf(dtype));
        }
        int whole = off + (len & ~7);
        long carries = 0;
        for (int i = off; i < whole; i += 8) {
            carries |= ((long) LONGS.get(le, i) & exponents) + lowestBits;
        }
        return (carries & topBits) != 0 || scan(le, whole, off + len - whole, dtype) >= 0;
    }

    private static final VarHandle LONGS = MethodHandles.byteArrayViewVarHandle(long[].class, ByteOrder.LITTLE_ENDIAN);

    /** The column of the first non-finite value, testing each value's exponent bytes. */
    static int scan(byte[] le, int off, int len, DType dtype) {
        switch (dtype) {
            case F32: {
                int n = len / 4;
                for (int i = 0; i < n; i++) {
                    // bits 23-30 of the value: bits 7-14 of its top two bytes
                    int hi = ((le[off + 4 * i + 3] & 0xff) << 8) | (le[off + 4 * i + 2] & 0xff);
                    if ((hi & 0x7f80) == 0x7f80) {
                        return i;
                    }
                }
                return -1;
            }
            case F16: {
                int n = len / 2;
                for (int i = 0; i < n; i++) {
                    if ((le[off + 2 * i + 1] & 0x7c) == 0x7c) { // exponent bits 10-14
                        return i;
                    }
                }
                return -1;
            }
            case BF16: {
                int n = len / 2;
                for (int i = 0; i < n; i++) {
                    int bits = ((le[off + 2 * i + 1] & 0xff) << 8) | (le[off + 2 * i] & 0xff);
                    if ((bits & 0x7f80) == 0x7f80) { // exponent bits 7-14
                        return i;
                    }
                }
                return -1;
            }
            default:
                throw new IllegalArgumentException(String.valueOf(dtype));
        }
    }

    /** The definition of {@link #firstNonFinite}: decode, then {@link Float#isFinite}. */
    public static int firstNonFiniteReference(byte[] le, DType dtype) {
        float[] v = Floats.decode(le, dtype);
        for (int i = 0; i < v.length; i++) {
            if (!Float.isFinite(v[i])) {
                return i;
            }
        }
        return -1;
    }

    /**
     * Throws when the row holds a NaN or an infinity.
     *
     * @param where the input, e.g. the checkpoint or table URI (already free of credentials)
     * @throws InvalidInputException "{@code <where>: tensor '<t>' row <r> holds a non-finite value NaN at
     *     column <c> (<why>)}"
     */
    public static void require(String where, String tensor, long row, byte[] le, DType dtype, String why) {
        require(where, tensor, row, le, 0, le.length, dtype, why);
    }

    /** {@link #require(String, String, long, byte[], DType, String)} of the row {@code le[off, off + len)}. */
    public static void require(String where, String tensor, long row, byte[] le, int off, int len, DType dtype, String why) {
        int c = firstNonFinite(le, off, len, dtype);
        if (c >= 0) {
            byte[] one = java.util.Arrays.copyOfRange(le, off + c * dtype.bytes(), off + (c + 1) * dtype.bytes());
            float v = Floats.decode(one, dtype)[0];
            throw new InvalidInputException(where + ": tensor '" + tensor + "' row " + row + " holds a non-finite value "
                    + v + " at column " + c + " (" + why + ")");
        }
    }
}
