package nibble.common.quant;

import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.LongVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShuffle;
import jdk.incubator.vector.VectorSpecies;

/**
 * Symmetric round-to-nearest groups (llama.cpp's Q4_0 / Q8_0 layouts and their larger groups), eight
 * groups at a time with one group per lane, for {@link UniformVector}. Going group by group, a
 * 32-value group spent most of its time on per-group scalar work (two lane reductions for min/max,
 * F16 rounding of the scale through {@code Halfs}, one OR reduction per eight codes); here that
 * work is done once per eight groups in vector lanes. The error-minimising range ({@link #runMse})
 * shares the range, scale and code steps, with {@link UniformVector#search} per group in between.
 *
 * <p>Same bytes as the reference, step by step:
 * <ul>
 * <li><b>range</b>: per group, lane-wise signed int max of the raw float bits (the largest
 * non-negative float wins; a group without one gives a negative int, clamped to +0) and lane-wise
 * min of the bits xor {@code 0x7fffffff} (which orders the negative floats, -0 included, by
 * magnitude below every non-negative one; a group without a negative gives +0). That is {@code hi =
 * max(gmax, 0)} and {@code lo = min(gmin, 0)} as {@code Math.max}/{@code Math.min} give them. The
 * eight groups' lane vectors are folded into one vector, group {@code j} in lane {@code j}, by three
 * levels of pairwise swap-and-combine (the groups are fed in bit-reversed order, which the three
 * levels undo). NaN and infinities show up as keys beyond infinity's and leave the block to the
 * group-by-group path, which reports them.
 * <li><b>scale</b>: {@code m = hi >= -lo ? hi : lo}, {@code m * -2^-(b-1) + 0}, rounded to F16 by
 * {@link HalfVector}; an overflowing scale also leaves the block to the group-by-group path, which
 * reports it. {@code inv = 1/scale}, 0 where infinite.
 * <li><b>codes</b>: {@link UniformVector#encodePacked}'s arithmetic; the nibbles of 64 codes are
 * packed with shifts and ors over int and long lanes and put in order with one byte shuffle.
 * </ul>
 */
final class UniformBlocks {
    private UniformBlocks() {
    }

    private static final VectorSpecies<Float> FS = UniformVector.FS;
    private static final VectorSpecies<Integer> IS = UniformVector.IS;
    private static final VectorSpecies<Byte> BS = ByteVector.SPECIES_256;
    private static final VectorSpecies<Long> LS = LongVector.SPECIES_256;
    private static final int LANES = UniformVector.LANES;
    private static final int GROUPS = 8;
    private static final float MAGIC = UniformCodec.MAGIC;
    private static final int MAGIC_BITS = UniformCodec.MAGIC_BITS;

    private static final VectorShuffle<Integer> SWAP4 = VectorShuffle.fromValues(IS, 4, 5, 6, 7, 0, 1, 2, 3);
    private static final VectorShuffle<Integer> SWAP2 = VectorShuffle.fromValues(IS, 2, 3, 0, 1, 6, 7, 4, 5);
    private static final VectorShuffle<Integer> SWAP1 = VectorShuffle.fromValues(IS, 1, 0, 3, 2, 5, 4, 7, 6);
    private static final VectorMask<Integer> HIGH4 = VectorMask.fromValues(IS, false, false, false, false, true, true, true, true);
    private static final VectorMask<Integer> HIGH2 = VectorMask.fromValues(IS, false, false, true, true, false, false, true, true);
    private static final VectorMask<Integer> HIGH1 = VectorMask.fromValues(IS, false, true, false, true, false, true, false, true);
    /** Output byte {@code j} of 64 packed codes comes from byte {@code 8*(j%4) + j/4} of the or-ed lanes ({@link #pack64}). */
    private static final VectorShuffle<Byte> NIBBLE_ORDER = VectorShuffle.fromOp(BS, j -> 8 * (j & 3) + (j >> 2));
    private static final int NEG_INF_FLIPPED = 0xff800000 ^ 0x7fffffff;

    /** True when {@link #run} applies: symmetric uniform groups of a multiple of 8 values, min/max range, no clip. */
    static boolean applies(Scheme s, Clip clip) {
        return clip == null && s.symmetric() && s.codebook() == Codebook.UNIFORM && s.granularity() == Granularity.GROUP
                && s.groupSize() % LANES == 0 && s.range() != RangeMethod.MSE;
    }

    /**
     * True when {@link #runMse} applies: the same groups as {@link #applies} with the error-minimising
     * range ({@link RangeMethod#MSE}).
     */
    static boolean appliesMse(Scheme s, Clip clip) {
        return clip == null && s.symmetric() && s.codebook() == Codebook.UNIFORM && s.granularity() == Granularity.GROUP
                && s.groupSize() % LANES == 0 && s.range() == RangeMethod.MSE;
    }

    /** Working memory for {@link #run}, one per row (or reused by one thread). */
    static final class Scratch {
        /** Lane vectors of the range keys: max at [0, 64), min at [64, 128), one group per row of 8. */
        final int[] keys = new int[128];
        final float[] scale = new float[LANES];
        /** The groups' ranges {@code min(gmin, 0)} and {@code max(gmax, 0)} ({@link #runMse}). */
        final float[] lo = new float[LANES];
        final float[] hi = new float[LANES];
        final float[] inv = new float[LANES];
        final int[] bits = new int[LANES];
        /** 64 codes, shifted to their byte of the or-ed lanes. */
        final int[] codes = new int[64];
    }

    /**
     * Quantizes the row's leading whole blocks of eight groups into {@code codes} and {@code scales};
     * returns the number of groups done. It stops early at a block holding a NaN, an infinity or a
     * group whose scale overflows, for the caller's group-by-group path to report.
     *
     * <p>(No vector crosses a call of ours: each step reads and writes {@link Scratch}'s arrays.
     * C2 stops inlining our methods once a compilation passes a fixed node count, and the Vector
     * API's operations parse into many nodes each; a helper that takes or returns a vector and is
     * then not inlined boxes the vector, an allocation per call. The API's own methods are
     * force-inlined and unaffected.)
     */
    static int run(float[] x, RowLayout layout, byte[] codes, byte[] scales, Scratch w) {
        Scheme s = layout.scheme();
        int len = s.groupSize();
        int block = GROUPS * len;
        boolean f16 = s.scaleFormat() == ScaleFormat.F16;
        boolean nibbles = s.bits() == 4;
        float step = nibbles ? -0.125f : -0.0078125f;
        int g = 0;
        for (int from = 0; from + block <= x.length; from += block, g += GROUPS) {
            if (!minMaxScales(x, from, len, step, f16, w)) {
                return g; // NaN or infinity, or a scale overflows
            }
            store(x, from, g, layout, codes, scales, w);
        }
        return g;
    }

    /**
     * {@link #run} for the error-minimising range: per block of eight groups, the range scan, the
     * min/max scale (only to find an overflowing block, which the group-by-group path then
     * reports: every candidate's scale is no larger), then per group {@link UniformVector#search}
     * (an all-zero group keeps scale 0, as the group path does), then the codes and F16 scales of
     * the eight chosen scales together. The search gets {@code lo} and {@code hi} as the extremes
     * for its pruning bounds: where one is 0 instead of an element, it adds a bound of 0, still a
     * lower bound; the choice does not depend on them.
     */
    static int runMse(float[] x, RowLayout layout, byte[] codes, byte[] scales, Scratch w, UniformVector.Candidates cands) {
        Scheme s = layout.scheme();
        int len = s.groupSize();
        int block = GROUPS * len;
        boolean f16 = s.scaleFormat() == ScaleFormat.F16;
        boolean nibbles = s.bits() == 4;
        float step = nibbles ? -0.125f : -0.0078125f;
        int g = 0;
        for (int from = 0; from + block <= x.length; from += block, g += GROUPS) {
            if (!minMaxScales(x, from, len, step, f16, w)) {
                return g; // NaN or infinity, or a scale overflows
            }
            range(w.keys, w.lo, w.hi);
            for (int j = 0; j < GROUPS; j++) {
                float lo = w.lo[j];
                float hi = w.hi[j];
                if (lo != 0f || hi != 0f) {
                    int start = from + j * len;
                    w.scale[j] = cands.scale[UniformVector.search(x, start, start + len, s, lo, hi, false, lo, hi, cands)];
                }
            }
            inverse(w.scale, w.inv);
            store(x, from, g, layout, codes, scales, w);
        }
        return g;
    }

    /**
     * The eight groups' range scan and min/max scales from {@code from}, into {@code w.scale}
     * (rounded to F16 when {@code f16}) and {@code w.inv}; false for a NaN or an infinity, or a
     * scale that overflows.
     */
    private static boolean minMaxScales(float[] x, int from, int len, float step, boolean f16, Scratch w) {
        keys(x, from, len, w.keys);
        foldMax(w.keys);
        foldMin(w.keys);
        if (!scale(w.keys, step, w.scale)) {
            return false;
        }
        if (f16) {
            HalfVector.round(w.scale);
        }
        return inverse(w.scale, w.inv);
    }

    /** The eight groups' scales ({@code w.scale}) and codes (from {@code w.inv}) from group {@code g} at {@code from}. */
    private static void store(float[] x, int from, int g, RowLayout layout, byte[] codes, byte[] scales, Scratch w) {
        Scheme s = layout.scheme();
        int len = s.groupSize();
        if (s.scaleFormat() == ScaleFormat.F16) {
            HalfVector.store(w.scale, w.bits, scales, 2 * g);
        } else {
            for (int j = 0; j < GROUPS; j++) {
                layout.putScale(scales, g + j, w.scale[j]);
            }
        }
        if (s.bits() == 4) {
            for (int e = 0; e < GROUPS * len; e += 8 * LANES) {
                codes64(x, from, e, w.inv, len, w.codes);
                pack64(w.codes, codes, (from + e) >> 1);
            }
        } else {
            for (int j = 0; j < GROUPS; j++) {
                UniformVector.encode(x, from + j * len, from + (j + 1) * len, w.scale[j], 0, -128, 127, codes);
            }
        }
    }

    /** The eight groups' {@code lo = min(gmin, 0)} and {@code hi = max(gmax, 0)} from the folded keys, as {@link #scale} takes them. */
    private static void range(int[] keys, float[] lo, float[] hi) {
        IntVector hiKey = IntVector.fromArray(IS, keys, 0);
        IntVector loKey = IntVector.fromArray(IS, keys, 64);
        hiKey.max(0).reinterpretAsFloats().intoArray(hi, 0);
        loKey.lanewise(VectorOperators.XOR, 0x7fffffff).blend(0, loKey.compare(VectorOperators.GE, 0)).reinterpretAsFloats().intoArray(lo, 0);
    }

    /**
     * Per group, the lane-wise max of the raw bits and min of the bits xor {@code 0x7fffffff}, into
     * rows of {@code keys} in bit-reversed group order (row {@code s} holds group bitreverse(s)), so
     * that the folds leave group {@code j} in lane {@code j}.
     */
    private static void keys(float[] x, int from, int len, int[] keys) {
        for (int slot = 0; slot < GROUPS; slot++) {
            int o = from + (Integer.reverse(slot) >>> 29) * len;
            IntVector mx = FloatVector.fromArray(FS, x, o).reinterpretAsInts();
            IntVector mn = mx.lanewise(VectorOperators.XOR, 0x7fffffff);
            for (int i = o + LANES; i < o + len; i += LANES) {
                IntVector b = FloatVector.fromArray(FS, x, i).reinterpretAsInts();
                mx = mx.max(b);
                mn = mn.min(b.lanewise(VectorOperators.XOR, 0x7fffffff));
            }
            mx.intoArray(keys, 8 * slot);
            mn.intoArray(keys, 64 + 8 * slot);
        }
    }

    /**
     * Folds the eight rows of {@code keys[0, 64)} to one, max, in place: at each level, row pair
     * {@code (a, b)} becomes {@code max(a with b's lanes moved into the high part, the rest)}, so
     * each half of the result folds one of the two; three levels leave one lane per row.
     */
    private static void foldMax(int[] keys) {
        for (int k = 0; k < 4; k++) {
            IntVector a = IntVector.fromArray(IS, keys, 16 * k);
            IntVector b = IntVector.fromArray(IS, keys, 16 * k + 8);
            a.blend(b.rearrange(SWAP4), HIGH4).max(a.rearrange(SWAP4).blend(b, HIGH4)).intoArray(keys, 8 * k);
        }
        for (int k = 0; k < 2; k++) {
            IntVector a = IntVector.fromArray(IS, keys, 16 * k);
            IntVector b = IntVector.fromArray(IS, keys, 16 * k + 8);
            a.blend(b.rearrange(SWAP2), HIGH2).max(a.rearrange(SWAP2).blend(b, HIGH2)).intoArray(keys, 8 * k);
        }
        IntVector a = IntVector.fromArray(IS, keys, 0);
        IntVector b = IntVector.fromArray(IS, keys, 8);
        a.blend(b.rearrange(SWAP1), HIGH1).max(a.rearrange(SWAP1).blend(b, HIGH1)).intoArray(keys, 0);
    }

    /** {@link #foldMax} with min, over {@code keys[64, 128)}. */
    private static void foldMin(int[] keys) {
        for (int k = 0; k < 4; k++) {
            IntVector a = IntVector.fromArray(IS, keys, 64 + 16 * k);
            IntVector b = IntVector.fromArray(IS, keys, 64 + 16 * k + 8);
            a.blend(b.rearrange(SWAP4), HIGH4).min(a.rearrange(SWAP4).blend(b, HIGH4)).intoArray(keys, 64 + 8 * k);
        }
        for (int k = 0; k < 2; k++) {
            IntVector a = IntVector.fromArray(IS, keys, 64 + 16 * k);
            IntVector b = IntVector.fromArray(IS, keys, 64 + 16 * k + 8);
            a.blend(b.rearrange(SWAP2), HIGH2).min(a.rearrange(SWAP2).blend(b, HIGH2)).intoArray(keys, 64 + 8 * k);
        }
        IntVector a = IntVector.fromArray(IS, keys, 64);
        IntVector b = IntVector.fromArray(IS, keys, 72);
        a.blend(b.rearrange(SWAP1), HIGH1).min(a.rearrange(SWAP1).blend(b, HIGH1)).intoArray(keys, 64);
    }

    /** The eight groups' unrounded scales from the folded keys; false when a group holds a NaN or an infinity. */
    private static boolean scale(int[] keys, float step, float[] scale) {
        IntVector hiKey = IntVector.fromArray(IS, keys, 0);
        IntVector loKey = IntVector.fromArray(IS, keys, 64);
        if (hiKey.compare(VectorOperators.GE, 0x7f800000).or(loKey.compare(VectorOperators.LE, NEG_INF_FLIPPED)).anyTrue()) {
            return false;
        }
        FloatVector hi = hiKey.max(0).reinterpretAsFloats();
        FloatVector lo = loKey.lanewise(VectorOperators.XOR, 0x7fffffff).blend(0, loKey.compare(VectorOperators.GE, 0)).reinterpretAsFloats();
        lo.blend(hi, hi.compare(VectorOperators.GE, lo.neg())).mul(step).add(0f).intoArray(scale, 0);
        return true;
    }

    /** {@code inv = 1/scale}, 0 where infinite; false when a scale is infinite (F16 overflow). */
    private static boolean inverse(float[] scale, float[] inv) {
        FloatVector sc = FloatVector.fromArray(FS, scale, 0);
        if (sc.abs().compare(VectorOperators.EQ, Float.POSITIVE_INFINITY).anyTrue()) {
            return false;
        }
        FloatVector iv = FloatVector.broadcast(FS, 1f).div(sc);
        iv.blend(0f, iv.abs().compare(VectorOperators.EQ, Float.POSITIVE_INFINITY)).intoArray(inv, 0);
        return true;
    }

    /**
     * Biased 4-bit codes (0..15: {@link UniformVector#encodePacked}'s arithmetic with zero-point 0)
     * of {@code x[from+e, from+e+64)}, element {@code from+k} in group {@code k/len} ({@code inv}'s
     * index), each shifted left by {@code 8 * (its vector's index mod 4)} into {@code out}.
     */
    private static void codes64(float[] x, int from, int e, float[] inv, int len, int[] out) {
        for (int k = 0; k < 8; k++) {
            int o = e + LANES * k;
            FloatVector.fromArray(FS, x, from + o).mul(inv[o / len]).add(MAGIC).reinterpretAsInts()
                    .max(MAGIC_BITS - 8).min(MAGIC_BITS + 7).sub(MAGIC_BITS - 8)
                    .lanewise(VectorOperators.LSHL, 8 * (k & 3)).intoArray(out, LANES * k);
        }
    }

    /**
     * Packs the 64 codes of {@link #codes64} into 32 bytes at {@code out[at]}. Int lane {@code i} of
     * the or of the first four vectors holds elements {@code i, 8+i, 16+i, 24+i} in its bytes; a
     * long lane {@code k} then pairs elements {@code 2k} and {@code 2k+1} into one byte by shifting
     * the odd int lane down 28 bits. The bytes come out transposed (byte {@code 8k + v} is output
     * byte {@code 4v + k}) and one byte shuffle puts them in order.
     */
    private static void pack64(int[] c, byte[] out, int at) {
        LongVector lo = (LongVector) IntVector.fromArray(IS, c, 0).or(IntVector.fromArray(IS, c, 8))
                .or(IntVector.fromArray(IS, c, 16)).or(IntVector.fromArray(IS, c, 24)).reinterpretShape(LS, 0);
        LongVector hi = (LongVector) IntVector.fromArray(IS, c, 32).or(IntVector.fromArray(IS, c, 40))
                .or(IntVector.fromArray(IS, c, 48)).or(IntVector.fromArray(IS, c, 56)).reinterpretShape(LS, 0);
        lo = lo.and(0x0f0f0f0fL).or(lo.lanewise(VectorOperators.LSHR, 28).and(0xf0f0f0f0L));
        hi = hi.and(0x0f0f0f0fL).or(hi.lanewise(VectorOperators.LSHR, 28).and(0xf0f0f0f0L));
        ((ByteVector) lo.or(hi.lanewise(VectorOperators.LSHL, 32)).reinterpretShape(BS, 0)).rearrange(NIBBLE_ORDER).intoArray(out, at);
    }
}
