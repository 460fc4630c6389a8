package nibble.common.quant;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;

/**
 * F16 rounding of eight floats at once with integer lane operations, for the vector kernels' scales
 * (eight groups' scales at a time, in a {@code float[8]}: vectors do not cross method calls, see
 * {@link UniformBlocks#run}):
 * the same floats and bits as {@link nibble.common.Halfs#roundToF16} and {@link
 * nibble.common.Halfs#floatToF16} lane by lane (Java 17 has no {@code Float.floatToFloat16}, and
 * calling {@code Halfs} per lane costs a lane extraction and a branchy scalar conversion per group).
 * <ul>
 * <li>F16 normal range ({@code |v| >= 2^-14}): round the float's mantissa to 10 bits, half to even,
 * by adding {@code 0xfff} plus the kept mantissa's last bit and clearing the low 13 bits; a carry
 * moves into the exponent as it should. A result of {@code 2^16} or more (inputs from 65520 up)
 * is infinity.
 * <li>F16 subnormals ({@code |v| < 2^-14}): {@code (|v| + 0.5) - 0.5}, where the float ulp is
 * {@code 2^-24}, the F16 subnormal step: one IEEE rounding, half to even.
 * <li>Infinities stay; a NaN stays a NaN with the quiet bit set and its low 13 mantissa bits
 * cleared, as {@code Halfs} gives it.
 * </ul>
 * Tested against {@code Halfs} on every exponent with edge mantissas and exhaustively near the
 * subnormal and overflow boundaries ({@code VectorKernelsTest}).
 */
final class HalfVector {
    private HalfVector() {
    }

    private static final int ABS = 0x7fffffff;
    private static final int F16_MIN_NORMAL = 0x38800000; // 2^-14
    private static final int F16_OVERFLOW = 0x47800000; // 2^16: the first float past F16's range after rounding
    private static final int INF = 0x7f800000;

    /** Rounds {@code v[0, 8)} in place to the nearest F16 values (half to even), as floats. */
    static void round(float[] v) {
        IntVector b = FloatVector.fromArray(UniformVector.FS, v, 0).reinterpretAsInts();
        IntVector a = b.lanewise(VectorOperators.AND, ABS);
        IntVector lsb = a.lanewise(VectorOperators.LSHR, 13).lanewise(VectorOperators.AND, 1);
        IntVector r = a.add(0xfff).add(lsb).lanewise(VectorOperators.AND, 0xffffe000);
        r = r.blend(INF, r.compare(VectorOperators.GE, F16_OVERFLOW));
        FloatVector sub = a.reinterpretAsFloats().add(0.5f).sub(0.5f);
        r = r.blend(sub.reinterpretAsInts(), a.compare(VectorOperators.LT, F16_MIN_NORMAL));
        IntVector special = a.lanewise(VectorOperators.AND, 0xffffe000);
        special = special.blend(special.lanewise(VectorOperators.OR, 0x400000), a.compare(VectorOperators.GT, INF)); // NaN: quiet
        r = r.blend(special, a.compare(VectorOperators.GE, INF));
        r.lanewise(VectorOperators.OR, b.lanewise(VectorOperators.AND, ~ABS)).reinterpretAsFloats().intoArray(v, 0);
    }

    /**
     * The F16 bits of {@code v[0, 8)}, finite F16 values (as {@link #round} leaves them), into the
     * low 16 bits of {@code out[0, 8)}, as {@code Halfs.floatToF16} gives them.
     */
    static void bits(float[] v, int[] out) {
        IntVector b = FloatVector.fromArray(UniformVector.FS, v, 0).reinterpretAsInts();
        IntVector a = b.lanewise(VectorOperators.AND, ABS);
        IntVector normal = a.lanewise(VectorOperators.LSHR, 13).sub(112 << 10);
        // subnormal: |v| * 2^24 is an integer below 2^10; adding 1.5*2^23 leaves it in the low mantissa bits
        IntVector sub = a.reinterpretAsFloats().mul(0x1p24f).add(UniformCodec.MAGIC).reinterpretAsInts().sub(UniformCodec.MAGIC_BITS);
        IntVector h = normal.blend(sub, a.compare(VectorOperators.LT, F16_MIN_NORMAL));
        h.lanewise(VectorOperators.OR, b.lanewise(VectorOperators.LSHR, 16).lanewise(VectorOperators.AND, 0x8000)).intoArray(out, 0);
    }

    /** Stores eight finite F16 values ({@link #round}'s) as little-endian F16 at {@code out[at, at+16)}; {@code tmp} holds 8 ints. */
    static void store(float[] v, int[] tmp, byte[] out, int at) {
        bits(v, tmp);
        for (int k = 0; k < 8; k++) {
            out[at + 2 * k] = (byte) tmp[k];
            out[at + 2 * k + 1] = (byte) (tmp[k] >>> 8);
        }
    }
}
