package nibble.common.quant;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;

import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorMask;
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
        int g = 0;
        if (UniformBlocks.applies(s, clip)) {
            g = UniformBlocks.run(x, layout, codes, scales, new UniformBlocks.Scratch());
        } else if (UniformBlocks.appliesMse(s, clip)) {
            g = UniformBlocks.runMse(x, layout, codes, scales, new UniformBlocks.Scratch(), cands);
        }
        for (; g < groups; g++) {
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
            float scale = candidateScale(s, s.scaleFormat() == ScaleFormat.F16, lo, hi, constant); // = UniformCodec.scale, F16 by bits
            if (!Float.isFinite(scale)) {
                throw Quantizer.scaleOverflow(tensor, row, g, lo, hi, s.scaleFormat());
            }
            int zp = UniformCodec.zeroPoint(s, lo, scale);
            if (mse && (lo != 0f || hi != 0f)) { // an all-zero group: every candidate's error is 0, the first wins
                int k = search(x, from, to, s, lo, hi, constant, gmin, gmax, cands);
                scale = cands.scale[k];
                zp = cands.zp[k];
            }
            if (nibbles) {
                encodePacked(x, from, to, scale, zp, qmin, qmax, bias, codes);
            } else {
                encode(x, from, to, scale, zp, qmin, qmax, codes);
            }
            putScale(layout, scales, g, scale);
            if (zeros != null) {
                layout.putZeroPoint(zeros, g, zp);
            }
        }
        return new QuantizedRow(codes, scales, zeros);
    }

    /**
     * {@link RowLayout#putScale}, with an F16 scale in F16's normal range (already rounded: its low 13
     * mantissa bits are zero) converted by moving its bits, as {@code Halfs.floatToF16} would give them.
     */
    private static void putScale(RowLayout layout, byte[] scales, int g, float scale) {
        int b = Float.floatToRawIntBits(scale);
        int e = (b >>> 23) & 0xff;
        if (layout.scheme().scaleFormat() == ScaleFormat.F16 && e >= 113 && e <= 142 && (b & 0x1fff) == 0) {
            int h = ((b >>> 16) & 0x8000) | (((b & 0x7fffffff) >>> 13) - (112 << 10));
            scales[2 * g] = (byte) h;
            scales[2 * g + 1] = (byte) (h >>> 8);
            return;
        }
        layout.putScale(scales, g, scale);
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

    /**
     * 4-bit codes back to values, eight at a time: {@link Codec#decodeNibbles}, the same floats. Lane
     * {@code j} shifts its nibble out of the four bytes by {@link #NIBBLE_SHIFTS}, and nibble {@code n}
     * becomes {@code (float) (first + n) * scale}, the two operations that make its entry of
     * {@link UniformCodec#nibbleTable}.
     */
    static void decodeNibbles(byte[] codes, byte[] scales, byte[] zeros, RowLayout layout, float[] out) {
        int len = layout.groupLength();
        for (int g = 0; g < layout.groupCount(); g++) {
            float scale = layout.scale(scales, g);
            int zp = zeros == null ? 0 : layout.zeroPoint(zeros, g);
            int first = -layout.codeBias() - zp; // code - zp of nibble 0
            int i = layout.groupStart(g);
            int to = Math.min(i + len, out.length);
            if ((i & 1) == 1 && i < to) { // a group starting on a high nibble
                out[i] = (float) (layout.code(codes, i) - zp) * scale;
                i++;
            }
            IntVector base = IntVector.broadcast(IS, first);
            FloatVector vscale = FloatVector.broadcast(FS, scale);
            for (; i + LANES <= to; i += LANES) {
                IntVector n = IntVector.broadcast(IS, (int) INT_LE.get(codes, i >> 1))
                        .lanewise(VectorOperators.LSHR, NIBBLE_SHIFTS).lanewise(VectorOperators.AND, 0xf);
                ((FloatVector) n.add(base).convert(VectorOperators.I2F, 0)).mul(vscale).intoArray(out, i);
            }
            for (; i < to; i++) {
                out[i] = (float) (layout.code(codes, i) - zp) * scale;
            }
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
     * The error-minimising search over {@code x[from, to)}, whose least and greatest values are
     * {@code xa} and {@code xb}: the index into {@link Quantizer#CLIP_RATIOS} of the candidate the
     * reference keeps (its least squared error in double, summed in element order, the first on
     * ties), found without computing that double sum for most candidates.
     *
     * <p>Each lane is one candidate (26, in blocks of 8): for every element the lanes quantize it
     * with their own scale, exactly as the reference does (so each candidate's reconstruction {@code
     * xr} is the reference's, bit for bit), and add {@code (x - xr)^2} to float accumulators. That
     * float error {@code E'} differs from the reference's double error {@code E} by at most {@code
     * delta = (n+4) 2^-22 E' + (n+4) 2^-146}: {@code x - xr} is exact in double and one rounding off
     * in float (also as one fused multiply-add when the scale is F16, since {@code code * scale} is
     * then exact), the fused multiply-adds of the sum round once per element, in whatever order, the
     * double sum is within {@code (n+1) 2^-53} of exact, and the absolute term covers float
     * underflow; the bound is four times that. So {@code U = min(E' + delta)} bounds the chosen
     * candidate's {@code E} from above, and a candidate whose {@code E' - delta} exceeds {@code U}
     * can neither be the choice nor tie with it.
     *
     * <p>Pruning: before a block of 8 candidates after the first is evaluated, its lanes compute the
     * error of the group's two extreme elements alone, less a margin for float rounding: a lower
     * bound of the reference's sum of non-negative terms. A block whose every lane's bound exceeds
     * {@code U} is skipped (its small ratios clip the extremes by more than the best error so far);
     * a block that is evaluated is dropped as soon as every lane's partial sum, after any 8
     * elements, exceeds {@code U} likewise ({@link #blockErrors}). Symmetric candidates after the
     * first two blocks are not even made while {@link #clippedExceed}, a bound from the ratios
     * alone, prunes them with every later block. The candidates still in the running are those of
     * the evaluated blocks within the float bound of the least ({@link #pick}). When one is left,
     * it is the choice; otherwise the ones left get the reference's double error ({@link
     * UniformCodec#error}, the same arithmetic in the same order) and the first least wins.
     * Overflowing float errors and very long groups ({@code n > 2^20}, where the bound grows loose)
     * take that exact path for every candidate.
     */
    static int search(float[] x, int from, int to, Scheme s, float lo, float hi, boolean constant, float xa, float xb, Candidates c) {
        int qmin = s.qmin();
        int qmax = s.qmax();
        boolean f16 = s.scaleFormat() == ScaleFormat.F16;
        // candidates [0, ready) have their scales and inverses; the symmetric ones after are made when a block needs them
        int ready = s.symmetric() && symmetricBlock(s, f16, lo, hi, 0, c) && symmetricBlock(s, f16, lo, hi, LANES, c) ? 2 * LANES : -1;
        if (ready < 0) {
            scalarCandidates(s, f16, lo, hi, constant, c);
            ready = PADDED;
        }
        int n = to - from;
        if (n > (1 << 20)) {
            for (int k = ready; k < PADDED; k += LANES) { // the exact path reads every candidate: make the rest
                if (!symmetricBlock(s, f16, lo, hi, k, c)) {
                    scalarBlock(s, f16, lo, hi, k, c);
                }
            }
            return exactChoice(x, from, to, c, qmin, qmax, null, null, 0);
        }
        double rel = (n + 4) * 0x1p-22;
        double abs = (n + 4) * 0x1p-146;
        double upper = Double.POSITIVE_INFINITY;
        float least = Float.POSITIVE_INFINITY;
        int done = 0; // bit k/8: block k's errors are in c.err
        for (int k = 0; k < PADDED; k += LANES) {
            boolean bounded = k > 0 && upper < 0x1p126;
            float limit = Math.nextUp((float) upper);
            if (k >= ready) {
                if (bounded && clippedExceed(k, lo, hi, -qmin, xa, xb, limit)) {
                    break; // this block and every later one
                }
                if (!symmetricBlock(s, f16, lo, hi, k, c)) {
                    scalarBlock(s, f16, lo, hi, k, c);
                }
                ready = k + LANES;
            }
            if (bounded && extremesExceed(c, k, xa, xb, limit)) {
                continue;
            }
            // a partial sum p is a lower bound: the block is dropped once every real lane's p (1 - 2 rel) - 2 abs > limit >= U,
            // which p > (limit + 2 abs)(1 + 4 rel) implies (1/(1-y) <= 1 + 2y for y <= 1/2; no division)
            float drop = bounded ? Math.nextUp((float) ((limit + 2 * abs) * (1 + 4 * rel + 0x1p-50))) : Float.POSITIVE_INFINITY;
            float e = blockErrors(x, from, to, c, k, f16, bounded, drop);
            if (e < Float.POSITIVE_INFINITY) {
                done |= 1 << (k / LANES);
            }
            least = e < least ? e : least;
            double u = (double) e + e * rel + abs;
            upper = u < upper ? u : upper;
        }
        return pick(x, from, to, c, qmin, qmax, null, least, done);
    }

    /**
     * Pruning before symmetric block {@code [k, k+8)} and every later one, from the ratios alone
     * (their scales need not be made): true when candidate {@code k}'s error on the extremes {@code
     * xa} and {@code xb} is bounded from below above {@code limit} by the part beyond its grid's
     * reach. A symmetric candidate reconstructs within {@code reach |scale|} ({@code reach = -qmin}),
     * and {@code reach |scale| <= r max(-lo, hi) (1 + 2^-10) + reach 2^-24} (the product {@code r *
     * lo} or {@code r * hi} rounds once, by {@code 2^-24} relatively, the F16 scale once more, by
     * {@code 2^-11} relatively when normal and {@code 2^-25} absolutely below; the step {@code
     * -2^-(b-1)} is exact); call that {@code edge}. So each extreme
     * contributes at least {@code max(0, |x| - edge)^2}, computed in double (error far below the
     * {@code 2^-40} taken off). Later candidates have smaller ratios, so smaller edges and larger
     * bounds: they are pruned too.
     */
    private static boolean clippedExceed(int k, float lo, float hi, int reach, float xa, float xb, float limit) {
        return clippedBound(k, lo, hi, reach, xa, xb) > limit;
    }

    /** {@link #clippedExceed}'s lower bound of candidate {@code k}'s error (and of every later one's). */
    static double clippedBound(int k, float lo, float hi, int reach, float xa, float xb) {
        double edge = RATIOS[k] * (double) Math.max(-lo, hi) * (1 + 0x1p-10) + reach * 0x1p-24;
        double da = Math.max(0, Math.abs((double) xa) - edge);
        double db = xa != xb ? Math.max(0, Math.abs((double) xb) - edge) : 0;
        return (da * da + db * db) * (1 - 0x1p-40);
    }

    /**
     * The reference's choice from the float errors of the evaluated blocks ({@code done}, bit {@code
     * k/8} for block {@code k}), whose least is {@code least}: as {@link #choose}, the candidates
     * of the other blocks being out of the running.
     */
    private static int pick(float[] x, int from, int to, Candidates c, int qmin, int qmax, TableCodec table, float least, int done) {
        int n = to - from;
        double rel = (n + 4) * 0x1p-22;
        double abs = (n + 4) * 0x1p-146;
        double upper = (double) least + least * rel + abs;
        if (!(upper < 0x1p126)) { // the float sums overflowed or came close: no bound
            return exactChoice(x, from, to, c, qmin, qmax, table, null, 0);
        }
        // still in the running: e - e*rel - abs <= upper, i.e. e <= (upper + abs) / (1 - rel); here e <= a float at or above
        // (upper + abs)(1 + 2 rel), which is larger (no division; maybe a few more candidates kept: exactChoice settles them alike)
        int keep = Float.floatToRawIntBits(Math.nextUp((float) ((upper + abs) * (1 + 2 * rel + 0x1p-50))));
        int kept = 0;
        for (int k = 0; k < PADDED; k += LANES) {
            if ((done >>> (k / LANES) & 1) != 0) {
                kept |= keptLanes(c.err, k, keep) << k;
            }
        }
        if (Integer.bitCount(kept) == 1) {
            return Integer.numberOfTrailingZeros(kept);
        }
        for (int k = 0; k < PADDED; k += LANES) {
            if ((done >>> (k / LANES) & 1) == 0) {
                pruned(c, k);
            }
        }
        return exactChoice(x, from, to, c, qmin, qmax, table, c.err, upper);
    }

    /**
     * Bit {@code j} set when real candidate {@code k+j}'s error is at most the float with bits {@code
     * keep} (non-negative floats and +inf order as their bits do).
     */
    private static int keptLanes(float[] err, int k, int keep) {
        VectorMask<Integer> kept = FloatVector.fromArray(FS, err, k).reinterpretAsInts().max(IntVector.fromArray(IS, PAD_FLOOR_BITS, k))
                .compare(VectorOperators.LE, keep);
        return IntVector.zero(IS).blend(IntVector.fromArray(IS, LANE_BITS, 0), kept).reduceLanes(VectorOperators.ADD);
    }

    /**
     * Pruning before a block of candidates {@code [k, k+8)}: true when every real candidate's error
     * on the group's two extreme elements {@code xa} and {@code xb} alone, less a margin for float
     * rounding, exceeds {@code limit} (a lower bound of the reference's sum of non-negative terms:
     * {@code E >= fl(da^2) + fl(db^2)} less {@code 2^-52} relative, and the float bound is within four
     * roundings, {@code 2^-22}, of that). (Vectors stay inside this method: see {@link UniformBlocks#run}.)
     */
    private static boolean extremesExceed(Candidates c, int k, float xa, float xb, float limit) {
        FloatVector magic = FloatVector.broadcast(FS, MAGIC);
        FloatVector inv = FloatVector.fromArray(FS, c.inv, k);
        FloatVector nsc = FloatVector.fromArray(FS, c.scale, k).neg();
        IntVector lo0 = IntVector.fromArray(IS, c.loBits, k);
        IntVector hi0 = IntVector.fromArray(IS, c.hiBits, k);
        FloatVector va = FloatVector.broadcast(FS, xa);
        FloatVector qa = va.mul(inv).add(magic).reinterpretAsInts().max(lo0).min(hi0).reinterpretAsFloats().sub(magic);
        FloatVector da = va.add(qa.mul(nsc));
        FloatVector bound = da.mul(da);
        if (xa != xb) {
            FloatVector vb = FloatVector.broadcast(FS, xb);
            FloatVector qb = vb.mul(inv).add(magic).reinterpretAsInts().max(lo0).min(hi0).reinterpretAsFloats().sub(magic);
            FloatVector db = vb.add(qb.mul(nsc));
            bound = db.fma(db, bound);
        }
        return bound.mul(1f - 0x1p-19f).sub(0x1p-140f).compare(VectorOperators.GT, limit).or(FS.indexInRange(k, CANDIDATES).not()).allTrue();
    }

    /**
     * The float squared errors of candidates {@code [k, k+8)} over {@code x[from, to)} into {@code
     * c.err[k, k+8)}, each lane quantizing every element with its own scale as the reference does.
     * When {@code bounded}, every 8 elements the partial sums (non-negative terms, so lower bounds
     * of the reference's errors once scaled by {@code factor} and less {@code margin}, the float
     * error bound of {@link #search}) are tested against {@code limit}: returns false, errors
     * unwritten, when every real candidate's already exceeds it.
     */
    private static float blockErrors(float[] x, int from, int to, Candidates c, int k, boolean f16, boolean bounded, float drop) {
        FloatVector magic = FloatVector.broadcast(FS, MAGIC);
        FloatVector inv = FloatVector.fromArray(FS, c.inv, k);
        FloatVector nsc = FloatVector.fromArray(FS, c.scale, k).neg();
        IntVector lo0 = IntVector.fromArray(IS, c.loBits, k);
        IntVector hi0 = IntVector.fromArray(IS, c.hiBits, k);
        FloatVector acc0 = FloatVector.zero(FS);
        FloatVector acc1 = FloatVector.zero(FS);
        FloatVector over = FloatVector.broadcast(FS, drop).blend(-1f, FS.indexInRange(k, CANDIDATES).not()); // padding lanes: always over
        int next = bounded ? from + LANES : Integer.MAX_VALUE;
        boolean dropped = false;
        int i = from;
        if (f16) { // code * scale is exact (an F16 scale times a small integer): one fused multiply-add gives x - xr rounded once
            for (; i + 1 < to; i += 2) {
                FloatVector x0 = FloatVector.broadcast(FS, x[i]);
                FloatVector x1 = FloatVector.broadcast(FS, x[i + 1]);
                FloatVector q0 = x0.mul(inv).add(magic).reinterpretAsInts().max(lo0).min(hi0).reinterpretAsFloats().sub(magic);
                FloatVector q1 = x1.mul(inv).add(magic).reinterpretAsInts().max(lo0).min(hi0).reinterpretAsFloats().sub(magic);
                FloatVector d0 = q0.fma(nsc, x0);
                FloatVector d1 = q1.fma(nsc, x1);
                acc0 = d0.fma(d0, acc0);
                acc1 = d1.fma(d1, acc1);
                if (i + 2 >= next) {
                    if (acc0.add(acc1).compare(VectorOperators.GT, over).allTrue()) {
                        dropped = true;
                        i = to; // leaves the loop (one exit: C2 boxes vectors merged from two)
                    }
                    next += LANES;
                }
            }
        } else {
            for (; i + 1 < to; i += 2) {
                FloatVector x0 = FloatVector.broadcast(FS, x[i]);
                FloatVector x1 = FloatVector.broadcast(FS, x[i + 1]);
                FloatVector q0 = x0.mul(inv).add(magic).reinterpretAsInts().max(lo0).min(hi0).reinterpretAsFloats().sub(magic);
                FloatVector q1 = x1.mul(inv).add(magic).reinterpretAsInts().max(lo0).min(hi0).reinterpretAsFloats().sub(magic);
                FloatVector d0 = x0.add(q0.mul(nsc));
                FloatVector d1 = x1.add(q1.mul(nsc));
                acc0 = d0.fma(d0, acc0);
                acc1 = d1.fma(d1, acc1);
                if (i + 2 >= next) {
                    if (acc0.add(acc1).compare(VectorOperators.GT, over).allTrue()) {
                        dropped = true;
                        i = to;
                    }
                    next += LANES;
                }
            }
        }
        if (dropped) {
            return Float.POSITIVE_INFINITY; // errors unwritten: the block is left out of the choice
        }
        if (i < to) {
            FloatVector x0 = FloatVector.broadcast(FS, x[i]);
            FloatVector q0 = x0.mul(inv).add(magic).reinterpretAsInts().max(lo0).min(hi0).reinterpretAsFloats().sub(magic);
            FloatVector d0 = x0.add(q0.mul(nsc));
            acc0 = d0.fma(d0, acc0);
        }
        IntVector sum = acc0.add(acc1).reinterpretAsInts();
        sum.reinterpretAsFloats().intoArray(c.err, k);
        // the least real error: non-negative floats (and +inf) order as their bits do, and int reductions are cheap
        return Float.intBitsToFloat(sum.max(IntVector.fromArray(IS, PAD_FLOOR_BITS, k)).reduceLanes(VectorOperators.MIN));
    }

    /** A block of candidates out of the running: errors +inf. */
    private static void pruned(Candidates c, int k) {
        FloatVector.broadcast(FS, Float.POSITIVE_INFINITY).intoArray(c.err, k);
    }

    /** The candidates' scales and zero-points, one at a time, as {@link UniformCodec#scale} and {@link UniformCodec#zeroPoint}. */
    private static void scalarCandidates(Scheme s, boolean f16, float lo, float hi, boolean constant, Candidates c) {
        int qmin = s.qmin();
        int qmax = s.qmax();
        for (int k = 0; k < CANDIDATES; k++) {
            float r = Quantizer.CLIP_RATIOS[k];
            float sc = candidateScale(s, f16, lo * r, hi * r, constant);
            int zp = s.symmetric() ? 0 : UniformCodec.zeroPoint(s, lo * r, sc);
            c.scale[k] = sc;
            c.zp[k] = zp;
            c.inv[k] = UniformCodec.inverse(sc);
            c.loBits[k] = MAGIC_BITS + qmin - zp;
            c.hiBits[k] = MAGIC_BITS + qmax - zp;
        }
        for (int k = CANDIDATES; k < PADDED; k++) { // padding lanes repeat candidate 0; their errors are set to +inf
            c.scale[k] = c.scale[0];
            c.zp[k] = c.zp[0];
            c.inv[k] = c.inv[0];
            c.loBits[k] = c.loBits[0];
            c.hiBits[k] = c.hiBits[0];
        }
    }

    /** {@link #scalarCandidates} for symmetric block {@code [k, k+8)} only (padding lanes: candidate 0's values). */
    private static void scalarBlock(Scheme s, boolean f16, float lo, float hi, int k, Candidates c) {
        for (int j = k; j < k + LANES; j++) {
            float sc = candidateScale(s, f16, lo * RATIOS[j < CANDIDATES ? j : 0], hi * RATIOS[j < CANDIDATES ? j : 0], false);
            c.scale[j] = sc;
            c.zp[j] = 0;
            c.inv[j] = UniformCodec.inverse(sc);
            c.loBits[j] = MAGIC_BITS + s.qmin();
            c.hiBits[j] = MAGIC_BITS + s.qmax();
        }
    }

    private static final float[] RATIOS = java.util.Arrays.copyOf(Quantizer.CLIP_RATIOS, PADDED); // padding ratios 0: never read
    /**
     * The bits of 0 for the real candidates and of +inf for the padding: an int max with the bits of
     * the errors (non-negative floats or +inf, which order as their bits do) leaves the real ones.
     */
    private static final int[] PAD_FLOOR_BITS = new int[PADDED];
    private static final int INF_BITS = 0x7f800000;
    /** {@code 1 << j} at index {@code j}. */
    private static final int[] LANE_BITS = {1, 2, 4, 8, 16, 32, 64, 128};

    static {
        for (int k = 0; k < PADDED; k++) {
            PAD_FLOOR_BITS[k] = k < CANDIDATES ? 0 : INF_BITS;
        }
    }

    /**
     * Symmetric candidates {@code [k, k+8)}: {@code m = hi*r >= -(lo*r) ? hi*r : lo*r}, {@code scale =
     * m * -2^-(b-1) + 0}, F16 rounding by bit arithmetic (round the mantissa to 10 bits, half to even),
     * valid while every real candidate's scale is in F16's normal range below 2^15: the same floats
     * as {@link UniformCodec#scale}; and their inverses. Returns false (nothing usable written)
     * otherwise.
     */
    private static boolean symmetricBlock(Scheme s, boolean f16, float lo, float hi, int k, Candidates c) {
        float step = s.bits() == 4 ? -0.125f : -0.0078125f;
        FloatVector r = FloatVector.fromArray(FS, RATIOS, k);
        FloatVector h = r.mul(hi);
        FloatVector l = r.mul(lo);
        FloatVector m = l.blend(h, h.compare(VectorOperators.GE, l.neg()));
        FloatVector v = m.mul(step).add(0f);
        if (f16) {
            IntVector b = v.reinterpretAsInts();
            IntVector e = b.lanewise(VectorOperators.LSHR, 23).lanewise(VectorOperators.AND, 0xff);
            if (!e.compare(VectorOperators.GE, 113).and(e.compare(VectorOperators.LE, 141)).or(FS.indexInRange(k, CANDIDATES).not().cast(IS))
                    .allTrue()) {
                return false; // only the real candidates must be normal
            }
            IntVector lsb = b.lanewise(VectorOperators.LSHR, 13).lanewise(VectorOperators.AND, 1);
            v = b.add(0xfff).add(lsb).lanewise(VectorOperators.AND, 0xffffe000).reinterpretAsFloats();
        }
        FloatVector inv = FloatVector.broadcast(FS, 1f).div(v);
        v.intoArray(c.scale, k);
        inv.blend(0f, inv.abs().compare(VectorOperators.EQ, Float.POSITIVE_INFINITY)).intoArray(c.inv, k);
        IntVector.broadcast(IS, MAGIC_BITS + s.qmin()).intoArray(c.loBits, k);
        IntVector.broadcast(IS, MAGIC_BITS + s.qmax()).intoArray(c.hiBits, k);
        IntVector.zero(IS).intoArray(c.zp, k);
        return true;
    }

    /** {@link UniformCodec#scale}, with F16 rounding done by bit arithmetic in F16's normal range (the same result). */
    private static float candidateScale(Scheme s, boolean f16, float lo, float hi, boolean constant) {
        float v;
        if (s.symmetric()) {
            float m = hi >= -lo ? hi : lo;
            v = m * (s.bits() == 4 ? -0.125f : -0.0078125f) + 0f;
        } else {
            v = constant ? Math.max(-lo, hi) : (hi - lo) / s.qmax();
        }
        if (!f16) {
            return v;
        }
        int b = Float.floatToRawIntBits(v);
        int e = (b >>> 23) & 0xff;
        if (e >= 113 && e <= 141) { // |v| in [2^-14, 2^15): F16 normal, no overflow: round the mantissa to 10 bits, half to even
            return Float.intBitsToFloat((b + 0xfff + ((b >>> 13) & 1)) & 0xffffe000);
        }
        return ScaleFormat.F16.round(v);
    }

    /**
     * Picks the reference's candidate from the float errors in {@code c.err}, as {@link #search}
     * describes; the exact errors are {@link UniformCodec#error}'s, or {@code table}'s when not null.
     */
    static int choose(float[] x, int from, int to, Candidates c, int qmin, int qmax, TableCodec table) {
        IntVector mins = IntVector.broadcast(IS, INF_BITS); // over the errors' bits, as in blockErrors
        for (int k = 0; k < PADDED; k += LANES) {
            mins = mins.min(FloatVector.fromArray(FS, c.err, k).reinterpretAsInts().max(IntVector.fromArray(IS, PAD_FLOOR_BITS, k)));
        }
        return pick(x, from, to, c, qmin, qmax, table, Float.intBitsToFloat(mins.reduceLanes(VectorOperators.MIN)), (1 << (PADDED / LANES)) - 1);
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
            // out of the running, +inf (pruned, or a float sum past float's range) included; a block that was
            // not made holds another group's candidates, so this test must exclude it (inf - inf*rel is NaN)
            if (err != null && !(err[k] - err[k] * rel - abs <= upper)) {
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
