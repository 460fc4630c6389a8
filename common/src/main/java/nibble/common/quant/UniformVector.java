package nibble.common.quant;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;

import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * {@link UniformCodec}'s fast path with the Vector API ({@code jdk.incubator.vector}, 256-bit
 * vectors of 8 lanes): the same per-group steps and helpers as {@link UniformCodec#quantizeScalar},
 * with vector loops for the min/max scan, the codes and the error-minimising search. Loaded only
 * when {@link VectorSupport} has found the module.
 *
 * <p><b>Same bytes as the reference.</b> Every value that reaches the output is computed by the same
 * IEEE operations on the same operands as in the scalar code, only several lanes at a time:
 * <ul>
 * <li>min/max: the scalar path's int-key scan ({@link RangeScan}), as lane-wise int min/max and a
 * reduction; min and max are order-free, so the result is the same.
 * <li>codes: {@code t = x * inv + 1.5*2^23} in float, then the bits of {@code t} clamped as ints to
 * the bits of {@code 1.5*2^23 + qmin - zp} and {@code 1.5*2^23 + qmax - zp}. For {@code |x * inv|
 * < 2^22} the bits of {@code t} are those of {@code 1.5*2^23 + rint(x * inv)} (half to even), and
 * the float-to-bits map is increasing over positive floats while every non-positive {@code t}
 * clamps to the low end, so this equals the scalar "clamp in float, then round" for every finite
 * {@code x * inv}. Codes are packed to nibbles with lane shifts and an OR-reduction (order-free).
 * <li>the MSE search: see {@link #search}.
 * </ul>
 */
final class UniformVector {
    private UniformVector() {
    }

    static final VectorSpecies<Float> FS = FloatVector.SPECIES_256;
    static final VectorSpecies<Integer> IS = IntVector.SPECIES_256;
    static final int LANES = 8;
    /** Lane {@code i}'s shift to its nibble of a packed int: element {@code 2j} low, {@code 2j+1} high nibble of byte {@code j}. */
    private static final IntVector NIBBLE_SHIFTS = IntVector.fromArray(IS, new int[] {0, 4, 8, 12, 16, 20, 24, 28}, 0);
    private static final VarHandle INT_LE = MethodHandles.byteArrayViewVarHandle(int[].class, ByteOrder.LITTLE_ENDIAN);
    private static final float MAGIC = UniformCodec.MAGIC;
    private static final int MAGIC_BITS = UniformCodec.MAGIC_BITS;
    /** Candidates of the MSE search, padded to whole vectors. */
    static final int CANDIDATES = Quantizer.CLIP_RATIOS.length;
    static final int PADDED = (CANDIDATES + 2 * LANES - 1) / (2 * LANES) * (2 * LANES);

    /**
     * The vector shape, or null when this machine's preferred vectors are narrower than 256 bits (a
     * 256-bit species would then run in Java code, far slower than the scalar path).
     */
    static String shape() {
        if (FloatVector.SPECIES_PREFERRED.vectorBitSize() < 256) {
            return null;
        }
        return FS.vectorBitSize() + "-bit, " + LANES + " float lanes";
    }

    static QuantizedRow quantize(String tensor, long row, float[] x, RowLayout layout, Clip clip) {
        Scheme s = layout.scheme();
        int qmin = s.qmin();
        int qmax = s.qmax();
        int bias = layout.codeBias();
        boolean nibbles = s.bits() == 4;
        boolean tensorRange = s.granularity() == Granularity.TENSOR;
        boolean mse = s.range() == RangeMethod.MSE;
        byte[] codes = layout.newCodes();
        byte[] scales = layout.newScales();
        byte[] zeros = layout.newZeros();
        RangeScan scan = new RangeScan();
        Candidates cands = mse ? new Candidates() : null;
        int groups = layout.groupCount();
        int len = layout.groupLength();
        for (int g = 0; g < groups; g++) {
            int from = layout.groupStart(g);
            int to = Math.min(from + len, x.length);
            float gmin = 0f;
            float gmax = 0f;
            if (from < to) {
                scan(x, from, to, scan);
                if (scan.nan || scan.min == Float.NEGATIVE_INFINITY || scan.max == Float.POSITIVE_INFINITY) {
                    Quantizer.requireFinite(tensor, row, x);
                }
                gmin = scan.min;
                gmax = scan.max;
            }
            float lo;
            float hi;
            boolean constant = false;
            if (tensorRange) {
                lo = clip.min();
                hi = clip.max();
            } else {
                lo = Math.min(gmin, 0f);
                hi = Math.max(gmax, 0f);
                if (clip != null) {
                    lo = Math.max(lo, clip.min());
                    hi = Math.min(hi, clip.max());
                }
                constant = gmin == gmax && gmin != 0f && (hi == gmax || lo == gmin);
            }
            float scale = UniformCodec.scale(s, lo, hi, constant);
            if (!Float.isFinite(scale)) {
                throw Quantizer.scaleOverflow(tensor, row, g, lo, hi, s.scaleFormat());
            }
            int zp = UniformCodec.zeroPoint(s, lo, scale);
            if (mse && (lo != 0f || hi != 0f)) { // an all-zero group: every candidate's error is 0, the first wins
                int k = search(x, from, to, s, lo, hi, constant, cands);
                scale = cands.scale[k];
                zp = cands.zp[k];
            }
            if (nibbles) {
                encodePacked(x, from, to, scale, zp, qmin, qmax, bias, codes);
            } else {
                encode(x, from, to, scale, zp, qmin, qmax, codes);
            }
            layout.putScale(scales, g, scale);
            if (zeros != null) {
                layout.putZeroPoint(zeros, g, zp);
            }
        }
        return new QuantizedRow(codes, scales, zeros);
    }

    /** {@link RangeScan#run} with lane-wise int min/max over the same keys. */
    static void scan(float[] x, int from, int to, RangeScan out) {
        int mn = Integer.MAX_VALUE;
        int mx = Integer.MIN_VALUE;
        int i = from;
        if (to - from >= LANES) {
            IntVector vmn = IntVector.broadcast(IS, Integer.MAX_VALUE);
            IntVector vmx = IntVector.broadcast(IS, Integer.MIN_VALUE);
            for (; i + LANES <= to; i += LANES) {
                IntVector b = FloatVector.fromArray(FS, x, i).reinterpretAsInts();
                IntVector k = b.lanewise(VectorOperators.XOR, b.lanewise(VectorOperators.ASHR, 31).lanewise(VectorOperators.AND, 0x7fffffff));
                vmn = vmn.min(k);
                vmx = vmx.max(k);
            }
            mn = vmn.reduceLanes(VectorOperators.MIN);
            mx = vmx.reduceLanes(VectorOperators.MAX);
        }
        for (; i < to; i++) {
            int k = RangeScan.key(Float.floatToRawIntBits(x[i]));
            mn = Math.min(mn, k);
            mx = Math.max(mx, k);
        }
        out.finish(mn, mx);
    }

    /** 8-bit codes, one byte each: {@link UniformCodec#encode} eight at a time. */
    static void encode(float[] x, int from, int to, float scale, int zp, int qmin, int qmax, byte[] out) {
        float inv = UniformCodec.inverse(scale);
        FloatVector vinv = FloatVector.broadcast(FS, inv);
        IntVector lo = IntVector.broadcast(IS, MAGIC_BITS + qmin - zp);
        IntVector hi = IntVector.broadcast(IS, MAGIC_BITS + qmax - zp);
        int add = zp - MAGIC_BITS;
        int i = from;
        for (; i + LANES <= to; i += LANES) {
            IntVector c = FloatVector.fromArray(FS, x, i).mul(vinv).add(MAGIC).reinterpretAsInts().max(lo).min(hi).add(add);
            ((ByteVector) c.convertShape(VectorOperators.I2B, ByteVector.SPECIES_64, 0)).intoArray(out, i);
        }
        if (i < to) {
            UniformCodec.encode(x, i, to, scale, zp, qmin, qmax, out);
        }
    }

    /** 4-bit codes straight into the packed row: {@link UniformCodec#encodePacked}, eight codes (four bytes) at a time. */
    static void encodePacked(float[] x, int from, int to, float scale, int zp, int qmin, int qmax, int bias, byte[] out) {
        float inv = UniformCodec.inverse(scale);
        int i = from;
        if ((i & 1) == 1 && i < to) { // a group starting on a high nibble
            UniformCodec.encodePacked(x, i, i + 1, scale, zp, qmin, qmax, bias, out);
            i++;
        }
        FloatVector vinv = FloatVector.broadcast(FS, inv);
        IntVector lo = IntVector.broadcast(IS, MAGIC_BITS + qmin - zp);
        IntVector hi = IntVector.broadcast(IS, MAGIC_BITS + qmax - zp);
        int add = zp + bias - MAGIC_BITS;
        for (; i + LANES <= to; i += LANES) {
            IntVector c = FloatVector.fromArray(FS, x, i).mul(vinv).add(MAGIC).reinterpretAsInts().max(lo).min(hi).add(add);
            INT_LE.set(out, i >> 1, c.lanewise(VectorOperators.LSHL, NIBBLE_SHIFTS).reduceLanes(VectorOperators.OR));
        }
        if (i < to) {
            UniformCodec.encodePacked(x, i, to, scale, zp, qmin, qmax, bias, out);
        }
    }

    /** The MSE search's candidates for one group: stored scale, zero-point, and the lanes' operands. */
    static final class Candidates {
        final float[] scale = new float[PADDED];
        final int[] zp = new int[PADDED];
        final float[] inv = new float[PADDED];
        final int[] loBits = new int[PADDED];
        final int[] hiBits = new int[PADDED];
        final float[] err = new float[PADDED];
    }

    /**
     * The error-minimising search: the index into {@link Quantizer#CLIP_RATIOS} of the candidate the
     * reference keeps (its least squared error in double, summed in element order, the first on
     * ties), found without computing that double sum for most candidates.
     *
     * <p>Each lane is one candidate (26, padded to 32): for every element the lanes quantize it with
     * their own scale, exactly as the reference does (so each candidate's reconstruction {@code xr}
     * is the reference's, bit for bit), and add {@code (x - xr)^2} to a float accumulator. That float
     * error {@code E'} differs from the reference's double error {@code E} by at most {@code
     * delta = (n+4) 2^-22 E' + (n+4) 2^-146}: {@code x - xr} is exact in double and one rounding off
     * in float, the fused multiply-add rounds once per element, the double sum is within {@code
     * (n+1) 2^-53} of exact, and the absolute term covers float underflow; the bound is four times
     * that sum. A candidate whose {@code E' - delta} exceeds the least {@code E' + delta} cannot be
     * the reference's choice, nor tie with it. When one candidate is left it is the choice; otherwise
     * the ones left get the reference's double error ({@link UniformCodec#error}, the same
     * arithmetic in the same order) and the first least wins. Non-finite float errors (overflow)
     * and very long groups ({@code n > 2^20}, where the bound grows loose) take that exact path for
     * every candidate.
     */
    static int search(float[] x, int from, int to, Scheme s, float lo, float hi, boolean constant, Candidates c) {
        int qmin = s.qmin();
        int qmax = s.qmax();
        for (int k = 0; k < CANDIDATES; k++) {
            float r = Quantizer.CLIP_RATIOS[k];
            float sc = UniformCodec.scale(s, lo * r, hi * r, constant);
            int zp = UniformCodec.zeroPoint(s, lo * r, sc);
            c.scale[k] = sc;
            c.zp[k] = zp;
            c.inv[k] = UniformCodec.inverse(sc);
            c.loBits[k] = MAGIC_BITS + qmin - zp;
            c.hiBits[k] = MAGIC_BITS + qmax - zp;
        }
        for (int k = CANDIDATES; k < PADDED; k++) { // padding lanes repeat candidate 0 and are never read
            c.scale[k] = c.scale[0];
            c.zp[k] = c.zp[0];
            c.inv[k] = c.inv[0];
            c.loBits[k] = c.loBits[0];
            c.hiBits[k] = c.hiBits[0];
        }
        int n = to - from;
        if (n > (1 << 20)) {
            return exactChoice(x, from, to, c, qmin, qmax, null, null, 0);
        }
        FloatVector magic = FloatVector.broadcast(FS, MAGIC);
        for (int k = 0; k < PADDED; k += 2 * LANES) {
            FloatVector inv0 = FloatVector.fromArray(FS, c.inv, k);
            FloatVector sc0 = FloatVector.fromArray(FS, c.scale, k);
            IntVector lo0 = IntVector.fromArray(IS, c.loBits, k);
            IntVector hi0 = IntVector.fromArray(IS, c.hiBits, k);
            FloatVector inv1 = FloatVector.fromArray(FS, c.inv, k + LANES);
            FloatVector sc1 = FloatVector.fromArray(FS, c.scale, k + LANES);
            IntVector lo1 = IntVector.fromArray(IS, c.loBits, k + LANES);
            IntVector hi1 = IntVector.fromArray(IS, c.hiBits, k + LANES);
            FloatVector acc0 = FloatVector.zero(FS);
            FloatVector acc1 = FloatVector.zero(FS);
            for (int i = from; i < to; i++) {
                FloatVector xv = FloatVector.broadcast(FS, x[i]);
                FloatVector q0 = xv.mul(inv0).add(magic).reinterpretAsInts().max(lo0).min(hi0).reinterpretAsFloats().sub(magic);
                FloatVector q1 = xv.mul(inv1).add(magic).reinterpretAsInts().max(lo1).min(hi1).reinterpretAsFloats().sub(magic);
                FloatVector d0 = xv.sub(q0.mul(sc0));
                FloatVector d1 = xv.sub(q1.mul(sc1));
                acc0 = d0.fma(d0, acc0);
                acc1 = d1.fma(d1, acc1);
            }
            acc0.intoArray(c.err, k);
            acc1.intoArray(c.err, k + LANES);
        }
        return choose(x, from, to, c, qmin, qmax, null);
    }

    /**
     * Picks the reference's candidate from the float errors in {@code c.err}, as {@link #search}
     * describes; the exact errors are {@link UniformCodec#error}'s, or {@code table}'s when not null.
     */
    static int choose(float[] x, int from, int to, Candidates c, int qmin, int qmax, TableCodec table) {
        int n = to - from;
        double rel = (n + 4) * 0x1p-22;
        double abs = (n + 4) * 0x1p-146;
        double upper = Double.POSITIVE_INFINITY;
        for (int k = 0; k < CANDIDATES; k++) {
            double e = c.err[k];
            if (!(e < Double.POSITIVE_INFINITY)) { // a float sum overflowed: no bound
                return exactChoice(x, from, to, c, qmin, qmax, table, null, 0);
            }
            upper = Math.min(upper, e + e * rel + abs);
        }
        int first = -1;
        int left = 0;
        for (int k = 0; k < CANDIDATES; k++) {
            double e = c.err[k];
            if (e - e * rel - abs <= upper) {
                if (first < 0) {
                    first = k;
                }
                left++;
            }
        }
        return left == 1 ? first : exactChoice(x, from, to, c, qmin, qmax, table, c.err, upper);
    }

    /**
     * The reference's choice among the candidates still in the running ({@code err[k] - delta <=
     * upper}; every candidate when {@code err} is null): their double errors in element order, the
     * first least.
     */
    private static int exactChoice(float[] x, int from, int to, Candidates c, int qmin, int qmax, TableCodec table, float[] err,
            double upper) {
        int n = to - from;
        double rel = (n + 4) * 0x1p-22;
        double abs = (n + 4) * 0x1p-146;
        int best = -1;
        double bestErr = Double.POSITIVE_INFINITY;
        for (int k = 0; k < CANDIDATES; k++) {
            if (err != null && err[k] - err[k] * rel - abs > upper) {
                continue;
            }
            double e = table == null ? UniformCodec.error(x, from, to, c.scale[k], c.zp[k], qmin, qmax) : table.error(x, from, to, c.scale[k]);
            if (best < 0 || e < bestErr) {
                best = k;
                bestErr = e;
            }
        }
        return best;
    }
}
