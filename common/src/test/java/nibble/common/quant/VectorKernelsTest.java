package nibble.common.quant;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;

import org.junit.jupiter.api.Test;

import nibble.common.InvalidInputException;

/**
 * The Vector API paths ({@link UniformVector}, {@link TableVector}) against the reference and the
 * scalar fast path: the same bytes for every scheme on random rows of ragged lengths, rows on a
 * power-of-two grid (rounding ties in codes, zero-points and MSE errors), zeros of both signs,
 * constant rows, huge and tiny values (F16 scales overflowing or going subnormal) and rows mixing
 * both, and the same exception for the same bad row. Surefire runs with {@code
 * --add-modules=jdk.incubator.vector} (the parent POM's {@code spark.jvm.flags}), so the first test
 * fails if the vector paths would silently not run.
 */
class VectorKernelsTest {

    @Test
    void vectorPathsRunInTheTestJvm() {
        assertTrue(VectorSupport.modulePresent(), "surefire's argLine must add " + VectorSupport.MODULE);
        assertTrue(VectorSupport.enabled(), VectorSupport.describe());
    }

    @Test
    void uniformVectorPathGivesTheReferenceBytes() {
        assertTrue(agree(Codebook.UNIFORM, 60, 11) > 7000);
    }

    @Test
    void nf4VectorPathGivesTheReferenceBytes() {
        assertTrue(agree(Codebook.NF4, 400, 12) > 2500);
    }

    @Test
    void log2VectorPathGivesTheReferenceBytes() {
        assertTrue(agree(Codebook.LOG2, 400, 13) > 2500);
    }

    @Test
    void mseSearchAgreesOnLongChannelsAndNearTies() {
        SplittableRandom r = new SplittableRandom(14);
        List<Scheme> schemes = new ArrayList<>();
        for (int bits : new int[] {4, 8}) {
            for (boolean sym : new boolean[] {true, false}) {
                schemes.add(Scheme.channel(bits, sym).withRange(RangeMethod.MSE));
                schemes.add(Scheme.group(bits, sym, 32).withRange(RangeMethod.MSE));
            }
        }
        schemes.add(Scheme.group(4, true, 32).withCodebook(Codebook.NF4).withRange(RangeMethod.MSE));
        schemes.add(Scheme.channel(4, true).withCodebook(Codebook.LOG2).withRange(RangeMethod.MSE));
        for (int t = 0; t < 400; t++) {
            Scheme s = schemes.get(t % schemes.size());
            int n = t % 3 == 0 ? 4096 + r.nextInt(3) : 1 + r.nextInt(300);
            float[] x;
            switch (t % 4) {
                case 0 -> x = Rows.grid(r, n);
                case 1 -> {
                    // few distinct values: many candidates give the same codes, so errors tie exactly
                    x = new float[n];
                    for (int i = 0; i < n; i++) {
                        x[i] = (r.nextInt(5) - 2) * 0.25f;
                    }
                }
                case 2 -> x = Rows.studentT(r, n, 2, 1e-3);
                default -> x = Rows.gaussian(r, n, 0.05);
            }
            assertSame(s, x, null, "row " + t);
        }
    }

    /**
     * {@link UniformBlocks} (eight symmetric groups per step, groups in lanes): rows long enough for
     * several blocks, each block of its own kind (so one block may hold zero, subnormal-scale,
     * overflowing, constant or ordinary groups beside each other), group sizes 8 to 128, 4 and 8
     * bits, F16 and F32 scales, and a tail of groups left to the group-by-group path.
     */
    @Test
    void eightGroupBlocksGiveTheReferenceBytes() {
        SplittableRandom r = new SplittableRandom(21);
        int rows = 0;
        for (int bits : new int[] {4, 8}) {
            for (int gs : new int[] {8, 16, 32, 64, 128}) {
                for (ScaleFormat f : ScaleFormat.values()) {
                    Scheme s = Scheme.group(bits, true, gs).withScaleFormat(f);
                    assertTrue(UniformBlocks.applies(s, null), s.toString());
                    for (int t = 0; t < 40; t++) {
                        int blocks = 1 + r.nextInt(4);
                        int n = blocks * 8 * gs + (t % 3 == 0 ? 0 : r.nextInt(3 * gs));
                        float[] x = new float[n];
                        for (int from = 0; from < n; from += gs * (1 + r.nextInt(8))) {
                            float[] part = row(r, r.nextInt(1 << 20), gs * 8);
                            System.arraycopy(part, 0, x, from, Math.min(part.length, n - from));
                        }
                        assertSame(s, x, null, "row " + t);
                        rows++;
                    }
                }
            }
        }
        assertEquals(800, rows);
        assertTrue(!UniformBlocks.applies(Scheme.group(4, true, 32), Clip.abs(1f)), "a clip takes the group-by-group path");
        assertTrue(!UniformBlocks.applies(Scheme.group(4, true, 33), null), "groups must be whole vectors");
        assertTrue(!UniformBlocks.applies(Scheme.group(4, false, 32), null), "symmetric only");
        assertTrue(!UniformBlocks.applies(Scheme.group(4, true, 32).withRange(RangeMethod.MSE), null), "no search");
    }

    /**
     * 4-bit uniform codes decoded by {@link UniformVector#decodeNibbles}, by the scalar fast path's
     * nibble tables and by the reference: the same float bits, for groups that start on a high
     * nibble (odd group sizes), groups shorter than a vector, and ragged last groups.
     */
    @Test
    void nibbleDecodingGivesTheReferenceFloats() {
        SplittableRandom r = new SplittableRandom(22);
        UniformCodec codec = UniformCodec.INSTANCE;
        int rows = 0;
        for (boolean sym : new boolean[] {true, false}) {
            for (Scheme s : List.of(Scheme.group(4, sym, 3), Scheme.group(4, sym, 7), Scheme.group(4, sym, 33),
                    Scheme.group(4, sym, 128), Scheme.channel(4, sym))) {
                for (int t = 0; t < 30; t++) {
                    int n = 1 + r.nextInt(600);
                    float[] x = Rows.gaussian(r, n, Math.pow(10, -4 + 4 * r.nextDouble()));
                    QuantizedRow q = Quantizer.quantizeReference("t", t, x, s, null);
                    RowLayout layout = RowLayout.of(s, n);
                    float[] ref = new float[n];
                    float[] scalar = new float[n];
                    float[] vector = new float[n];
                    codec.dequantizeReference(q.codes(), q.scales(), q.zeros(), layout, ref);
                    codec.decodeNibbles(q.codes(), q.scales(), q.zeros(), layout, scalar);
                    UniformVector.decodeNibbles(q.codes(), q.scales(), q.zeros(), layout, vector);
                    for (int i = 0; i < n; i++) {
                        assertEquals(Float.floatToRawIntBits(ref[i]), Float.floatToRawIntBits(scalar[i]), s + " scalar, column " + i + " of " + n);
                        assertEquals(Float.floatToRawIntBits(ref[i]), Float.floatToRawIntBits(vector[i]), s + " vector, column " + i + " of " + n);
                    }
                    rows++;
                }
            }
        }
        assertEquals(300, rows);
    }

    /** NaN, infinities and an overflowing scale inside a block: the group-by-group path's error, same as the reference's. */
    @Test
    void badValuesInsideABlockGiveTheReferenceError() {
        for (Scheme s : List.of(Scheme.group(4, true, 32), Scheme.group(8, true, 16), Scheme.group(4, true, 8).withScaleFormat(ScaleFormat.F32))) {
            for (float bad : new float[] {Float.NaN, -Float.NaN, Float.intBitsToFloat(0xffc00001), Float.POSITIVE_INFINITY,
                    Float.NEGATIVE_INFINITY, 1e30f, -1e30f}) {
                for (int at : new int[] {0, 300, 1000}) {
                    float[] x = Rows.gaussian(new SplittableRandom(22), 1100, 0.1);
                    x[at] = bad;
                    assertSame(s, x, null, bad + " at " + at); // the same error, or (1e30 under F32 scales) the same bytes
                }
            }
        }
    }

    /**
     * {@link HalfVector} against {@code Halfs}, eight lanes at a time: every exponent of both signs
     * with mantissas at and around every rounding boundary (low 13 bits 0, 1, 0xfff, 0x1000, 0x1001,
     * 0x1fff and random) for all 1024 kept mantissas; and every float of both signs in the ranges
     * where the rule changes: F16's subnormals and the smallest normals ({@code [2^-26, 2^-13)}), and
     * the overflow edge ({@code [2^15, 2^16]}), exhaustively.
     */
    @Test
    void vectorF16RoundingMatchesHalfsBitForBit() {
        float[] buf = new float[8];
        int[] lows = {0, 1, 0xfff, 0x1000, 0x1001, 0x1fff, 0};
        SplittableRandom r = new SplittableRandom(23);
        int n = 0;
        int checked = 0;
        for (int sign = 0; sign < 2; sign++) {
            for (int exp = 0; exp < 256; exp++) {
                for (int hiMant = 0; hiMant < 1024; hiMant++) {
                    for (int low : lows) {
                        int l = low == 0 && n % 7 == 6 ? r.nextInt(0x2000) : low;
                        buf[n++ % 8] = Float.intBitsToFloat(sign << 31 | exp << 23 | hiMant << 13 | l);
                        if (n % 8 == 0) {
                            checked += checkHalves(buf);
                        }
                    }
                }
            }
        }
        for (int sign = 0; sign < 2; sign++) {
            for (int[] range : new int[][] {{0x32800000, 0x39000000}, {0x47000000, 0x47800001}}) {
                for (int b = range[0]; b < range[1]; b += 8) {
                    for (int k = 0; k < 8; k++) {
                        buf[k] = Float.intBitsToFloat(sign << 31 | (b + k));
                    }
                    checked += checkHalves(buf);
                }
            }
        }
        assertTrue(checked > 60_000_000, "checked " + checked);
    }

    private static int checkHalves(float[] buf) {
        float[] rounded = buf.clone();
        HalfVector.round(rounded);
        int[] bits = new int[8];
        HalfVector.bits(rounded, bits);
        for (int k = 0; k < 8; k++) {
            float want = nibble.common.Halfs.roundToF16(buf[k]);
            if (Float.floatToRawIntBits(want) != Float.floatToRawIntBits(rounded[k])) {
                assertEquals(Integer.toHexString(Float.floatToRawIntBits(want)), Integer.toHexString(Float.floatToRawIntBits(rounded[k])),
                        "round " + Integer.toHexString(Float.floatToRawIntBits(buf[k])));
            }
            if (Float.isFinite(want) && (bits[k] & 0xffff) != (nibble.common.Halfs.floatToF16(buf[k]) & 0xffff)) {
                assertEquals(Integer.toHexString(nibble.common.Halfs.floatToF16(buf[k]) & 0xffff), Integer.toHexString(bits[k] & 0xffff),
                        "bits " + Integer.toHexString(Float.floatToRawIntBits(buf[k])));
            }
        }
        return 8;
    }

    @Test
    void tableBoundariesReproduceTheScalarNearestEntry() {
        SplittableRandom r = new SplittableRandom(15);
        for (TableCodec t : List.of(Nf4.CODEC, Log2Code.CODEC)) {
            float[] b = t.boundaries();
            float[] sorted = t.sorted();
            assertEquals(sorted.length - 1, b.length);
            List<Float> probes = new ArrayList<>();
            for (float f : b) {
                probes.add(f);
            }
            for (float f : sorted) {
                probes.add(f);
            }
            for (float p : probes) {
                float f = p;
                float g = p;
                for (int k = 0; k < 2000; k++) {
                    check(t, f);
                    check(t, g);
                    f = Math.nextUp(f);
                    g = Math.nextDown(g);
                }
            }
            for (int k = 0; k < 300_000; k++) {
                check(t, (float) (r.nextDouble() * 2.4 - 1.2));
                check(t, Float.intBitsToFloat(r.nextInt()));
            }
            check(t, 0f);
            check(t, -0f);
            check(t, Float.MAX_VALUE);
            check(t, -Float.MAX_VALUE);
        }
    }

    /** The boundary count of {@link TableVector}'s lanes, in scalar form, against {@link TableCodec#nearest}. */
    private static void check(TableCodec t, float v) {
        if (Float.isNaN(v)) {
            return;
        }
        int j = 0;
        for (float b : t.boundaries()) {
            j += v >= b ? 1 : 0;
        }
        assertEquals(t.nearest(v), t.sortedCode()[j], "at " + v);
    }

    @Test
    void badRowsGiveTheSameErrorOnEveryPath() {
        for (Scheme s : List.of(Scheme.group(4, true, 32), Scheme.group(8, false, 16).withRange(RangeMethod.MSE),
                Scheme.group(4, true, 64).withCodebook(Codebook.NF4).withRange(RangeMethod.MSE))) {
            for (float bad : new float[] {Float.NaN, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY, 1e30f}) {
                float[] x = Rows.gaussian(new SplittableRandom(16), 100, 0.1);
                x[77] = bad;
                String ref = message(() -> Quantizer.quantizeReference("w", 5, x, s, null));
                assertEquals(ref, message(() -> Quantizer.quantizeScalar("w", 5, x, s, null)), s + " " + bad);
                assertEquals(ref, message(() -> Quantizer.quantizeVector("w", 5, x, s, null)), s + " " + bad);
            }
        }
    }

    private static String message(Runnable r) {
        return assertThrows(InvalidInputException.class, r::run).getMessage();
    }

    /** Quantizes rows under every scheme of codebook {@code cb} on all three paths; returns the row count. */
    private static int agree(Codebook cb, int rowsPerScheme, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        int rows = 0;
        for (Scheme s : QuantizerTest.allSchemes()) {
            if (s.codebook() != cb) {
                continue;
            }
            for (int t = 0; t < rowsPerScheme; t++) {
                int n = switch (r.nextInt(4)) {
                    case 0 -> 1 + r.nextInt(17);
                    case 1 -> 8 * (1 + r.nextInt(40)); // whole vectors
                    default -> 1 + r.nextInt(700);
                };
                float[] x = row(r, t, n);
                Clip clip = null;
                if (s.granularity() == Granularity.TENSOR || s.range() == RangeMethod.PERCENTILE || r.nextInt(4) == 0) {
                    float a = nibble.common.stats.ChannelStats.of(x).p999Abs() * (float) (0.3 + r.nextDouble());
                    if (a > 0 && Float.isFinite(a)) {
                        clip = r.nextBoolean() ? Clip.abs(a) : new Clip(-a, 0.7f * a);
                    } else if (s.granularity() == Granularity.TENSOR || s.range() == RangeMethod.PERCENTILE) {
                        clip = Clip.abs(1f);
                    }
                }
                assertSame(s, x, clip, "row " + t);
                rows++;
            }
        }
        return rows;
    }

    private static float[] row(SplittableRandom r, int t, int n) {
        float[] x = switch (t % 9) {
            case 0 -> Rows.grid(r, n); // rounding ties
            case 1 -> new float[n]; // zeros
            case 2 -> {
                float[] z = new float[n];
                for (int i = 0; i < n; i++) {
                    z[i] = r.nextBoolean() ? -0f : 0f;
                }
                z[r.nextInt(n)] = (float) Rows.gauss(r) * 0.1f;
                yield z;
            }
            case 3 -> {
                float[] c = new float[n];
                Arrays.fill(c, (float) ((r.nextBoolean() ? 1 : -1) * Math.pow(10, -6 + 8 * r.nextDouble())));
                yield c;
            }
            case 4 -> Rows.gaussian(r, n, Math.pow(10, -12 + 6 * r.nextDouble())); // tiny: F16 scales subnormal or zero
            case 5 -> Rows.studentT(r, n, 2, 3e3); // huge: F16 scales may overflow
            case 6 -> {
                float[] m = Rows.gaussian(r, n, 1e-6); // tiny values beside a few large ones
                for (int k = 0; k < 3; k++) {
                    m[r.nextInt(n)] = (float) (Rows.gauss(r) * 1e3);
                }
                yield m;
            }
            case 7 -> Rows.studentT(r, n, 3, Math.pow(10, -3 + 3 * r.nextDouble()));
            default -> Rows.gaussian(r, n, 0.05);
        };
        if (r.nextInt(5) == 0) {
            for (int i = 0; i < n; i++) {
                x[i] = Math.abs(x[i]) + (r.nextBoolean() ? 0.01f : 0f);
            }
        }
        return x;
    }

    /**
     * A group of more than 2^20 values takes TableVector's search without the error bound, which once
     * left the unclipped candidate out. Here that candidate is the only exact one (the row is NF4's
     * own levels at scale 1, so any clip adds error), so leaving it out changes the bytes.
     */
    @Test
    void nf4GroupsOfMoreThanTwoToTheTwentyValuesWeighTheUnclippedCandidate() {
        float[] x = new float[(1 << 20) + 40];
        for (int i = 0; i < x.length; i++) {
            x[i] = Nf4.TABLE[(i * 7) % Nf4.TABLE.length];
        }
        assertSame(Scheme.channel(4, true).withCodebook(Codebook.NF4).withRange(RangeMethod.MSE), x, null, "NF4 levels");
    }

    /** Reference, scalar and vector give the same bytes (or the same error message), and the same floats back. */
    private static void assertSame(Scheme s, float[] x, Clip clip, String what) {
        String label = s + " " + what + " length " + x.length;
        QuantizedRow ref;
        try {
            ref = Quantizer.quantizeReference("t", 1, x, s, clip);
        } catch (InvalidInputException e) {
            assertEquals(e.getMessage(), message(() -> Quantizer.quantizeScalar("t", 1, x, s, clip)), label);
            assertEquals(e.getMessage(), message(() -> Quantizer.quantizeVector("t", 1, x, s, clip)), label);
            return;
        }
        QuantizedRow scalar = Quantizer.quantizeScalar("t", 1, x, s, clip);
        QuantizedRow vector = Quantizer.quantizeVector("t", 1, x, s, clip);
        assertArrayEquals(ref.scales(), vector.scales(), label + ": scales");
        assertArrayEquals(ref.zeros(), vector.zeros(), label + ": zeros");
        assertArrayEquals(ref.codes(), vector.codes(), label + ": codes");
        assertEquals(ref, scalar, label + ": scalar");
    }
}
