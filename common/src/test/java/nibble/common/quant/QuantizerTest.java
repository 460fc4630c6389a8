package nibble.common.quant;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

import org.junit.jupiter.api.Test;

import nibble.common.Halfs;
import nibble.common.InvalidInputException;

class QuantizerTest {

    private static final float EPS = 1e-5f;

    @Test
    void packsSymmetricNibblesLowFirstWithOffset8() {
        assertArrayEquals(new byte[] {(byte) 0xF0, 0x08}, RowLayout.of(Scheme.channel(4, true), 3).packCodes(new int[] {-8, 7, 0}));
        QuantizedRow q = Quantizer.quantize("t", 0, new float[] {-8f, 7f, 0f}, Scheme.channel(4, true));
        assertArrayEquals(new byte[] {(byte) 0xF0, 0x08}, q.codes());
        assertArrayEquals(new byte[] {0x00, 0x3C}, q.scales()); // F16 1.0, little-endian: -8 / -8
        assertNull(q.zeros());
        assertArrayEquals(new float[] {-8f, 7f, 0f}, Quantizer.dequantize(q, Scheme.channel(4, true), 3));
    }

    @Test
    void packsAsymmetricAndEightBitCodes() {
        RowLayout asym4 = RowLayout.of(Scheme.channel(4, false), 3);
        RowLayout sym8 = RowLayout.of(Scheme.channel(8, true), 3);
        RowLayout asym8 = RowLayout.of(Scheme.channel(8, false), 3);
        assertArrayEquals(new byte[] {(byte) 0xF0, 0x03}, asym4.packCodes(new int[] {0, 15, 3}));
        assertArrayEquals(new byte[] {(byte) 0x80, 0x7F, (byte) 0xFF}, sym8.packCodes(new int[] {-128, 127, -1}));
        assertArrayEquals(new byte[] {0, (byte) 0xFF, (byte) 0xC8}, asym8.packCodes(new int[] {0, 255, 200}));
        assertArrayEquals(new int[] {0, 15, 3}, codes(asym4, new byte[] {(byte) 0xF0, 0x03}));
        assertArrayEquals(new int[] {-128, 127, -1}, codes(sym8, new byte[] {(byte) 0x80, 0x7F, (byte) 0xFF}));
        assertArrayEquals(new int[] {0, 255, 200}, codes(asym8, new byte[] {0, (byte) 0xFF, (byte) 0xC8}));
        assertThrows(IllegalArgumentException.class, () -> asym4.packCodes(new int[] {0, 16, 3}));
        assertThrows(IllegalArgumentException.class, () -> RowLayout.of(Scheme.channel(4, true), 1).packCodes(new int[] {8}));
        assertThrows(IllegalArgumentException.class, () -> sym8.packCodes(new int[] {0, 128, 0}));
        assertThrows(IllegalArgumentException.class, () -> asym8.packCodes(new int[] {0, -1, 0}));
        // asymmetric 4-bit over [0, 15]: scale 1, zero-point 0, codes = values
        QuantizedRow q = Quantizer.quantize("t", 0, new float[] {0f, 15f, 3f}, Scheme.channel(4, false));
        assertArrayEquals(new byte[] {(byte) 0xF0, 0x03}, q.codes());
        assertArrayEquals(new byte[] {0}, q.zeros());
    }

    @Test
    void rtnUniformIsWithinHalfAStepOfEveryInRangeValue() {
        SplittableRandom r = new SplittableRandom(1);
        for (Scheme s : List.of(Scheme.group(4, true, 32), Scheme.group(4, false, 32), Scheme.group(8, true, 128),
                Scheme.group(8, false, 64), Scheme.channel(4, true), Scheme.channel(8, false))) {
            for (int t = 0; t < 50; t++) {
                int n = 1 + r.nextInt(600);
                float[] x = Rows.studentT(r, n, 4, 0.02);
                QuantizedRow q = Quantizer.quantize("t", t, x, s);
                float[] y = Quantizer.dequantize(q, s, n);
                RowLayout layout = RowLayout.of(s, n);
                int len = layout.groupLength();
                for (int g = 0; g < layout.groupCount(); g++) {
                    float scale = layout.scale(q.scales(), g);
                    int zp = q.zeros() == null ? 0 : q.zeros()[g] & 0xff;
                    float lo = Math.min((s.qmin() - zp) * scale, (s.qmax() - zp) * scale);
                    float hi = Math.max((s.qmin() - zp) * scale, (s.qmax() - zp) * scale);
                    for (int i = g * len; i < Math.min(n, (g + 1) * len); i++) {
                        if (x[i] >= lo && x[i] <= hi) {
                            float bound = Math.abs(scale) / 2 * (1 + EPS) + Math.ulp(x[i]);
                            assertTrue(Math.abs(x[i] - y[i]) <= bound, s + " row " + t + " col " + i + ": " + x[i] + " -> " + y[i] + ", step " + scale);
                        }
                    }
                }
            }
        }
    }

    @Test
    void symmetricExtremeLandsOnMinusEightAndOppositeSideSaturates() {
        float[] x = {1f, -0.5f, 0.25f, -0.875f};
        Scheme s = Scheme.channel(4, true);
        QuantizedRow q = Quantizer.quantize("t", 0, x, s);
        RowLayout layout = RowLayout.of(s, 4);
        assertEquals(-0.125f, layout.scale(q.scales(), 0));
        assertArrayEquals(new int[] {-8, 4, -2, 7}, codes(layout, q.codes()));
        assertArrayEquals(x, Quantizer.dequantize(q, s, 4));
    }

    @Test
    void raggedLastGroupIsQuantizedOnItsOwn() {
        SplittableRandom r = new SplittableRandom(2);
        float[] x = Rows.gaussian(r, 172, 0.01);
        for (int i = 160; i < 172; i++) {
            x[i] *= 100; // the last group (12 values) has its own, larger scale
        }
        Scheme s = Scheme.group(4, true, 32);
        RowLayout layout = RowLayout.of(s, 172);
        assertEquals(6, layout.groupCount());
        assertEquals(32, layout.groupLength());
        assertEquals(160, layout.groupStart(5));
        assertEquals(172, layout.groupEnd(5));
        QuantizedRow q = Quantizer.quantize("t", 0, x, s);
        assertEquals(86, q.codes().length);
        assertEquals(12, q.scales().length);
        float last = Math.abs(layout.scale(q.scales(), 5));
        float first = Math.abs(layout.scale(q.scales(), 0));
        assertTrue(last > 20 * first, "last group scale " + last + " vs " + first);
        float[] y = Quantizer.dequantize(q, s, 172);
        for (int i = 160; i < 172; i++) {
            assertTrue(Math.abs(x[i] - y[i]) <= last / 2 * (1 + EPS) || Math.abs(x[i]) > 7 * last, "col " + i);
        }
        // a group size that does not divide and is odd: packing crosses group boundaries
        Scheme odd = Scheme.group(4, false, 33);
        QuantizedRow q2 = Quantizer.quantize("t", 0, x, odd);
        assertEquals(6, q2.zeros().length);
        assertEquals(q2, Quantizer.quantizeReference("t", 0, x, odd, null));
    }

    @Test
    void allZeroRowGivesZeroCodesZeroScalesAndExactZeros() {
        float[] x = new float[37];
        for (Scheme s : List.of(Scheme.group(4, true, 8), Scheme.group(4, false, 8), Scheme.channel(8, true),
                Scheme.group(4, true, 16).withCodebook(Codebook.NF4), Scheme.group(4, true, 16).withCodebook(Codebook.LOG2),
                Scheme.group(4, true, 8).withRange(RangeMethod.MSE))) {
            QuantizedRow q = Quantizer.quantize("t", 0, x, s);
            for (byte b : q.scales()) {
                assertEquals(0, b, s + " scale bytes");
            }
            int[] codes = codes(RowLayout.of(s, 37), q.codes());
            int zeroCode = s.codebook() == Codebook.NF4 ? 7 : 0;
            for (int c : codes) {
                assertEquals(zeroCode, c, s.toString());
            }
            float[] y = Quantizer.dequantize(q, s, 37);
            for (float v : y) {
                assertEquals(0, Float.floatToIntBits(v + 0f), s.toString());
            }
        }
    }

    @Test
    void constantRowsReconstructExactly() {
        float[] values = {0.375f, -3.5f, 1e-3f, 123.456f, -7.25e-5f};
        for (float c : values) {
            float[] x = new float[19];
            java.util.Arrays.fill(x, c);
            Scheme asym32 = Scheme.group(4, false, 8).withScaleFormat(ScaleFormat.F32);
            assertArrayEquals(x, Quantizer.dequantize(Quantizer.quantize("t", 0, x, asym32), asym32, 19), "asym F32 " + c);
            Scheme asym16 = Scheme.group(8, false, 8);
            float[] y = Quantizer.dequantize(Quantizer.quantize("t", 0, x, asym16), asym16, 19);
            for (float v : y) {
                assertEquals(Halfs.roundToF16(c), v, "asym F16 " + c);
            }
            Scheme sym = Scheme.channel(4, true).withScaleFormat(ScaleFormat.F32);
            assertArrayEquals(x, Quantizer.dequantize(Quantizer.quantize("t", 0, x, sym), sym, 19), "sym " + c);
            Scheme nf4 = Scheme.channel(4, true).withCodebook(Codebook.NF4).withScaleFormat(ScaleFormat.F32);
            assertArrayEquals(x, Quantizer.dequantize(Quantizer.quantize("t", 0, x, nf4), nf4, 19), "nf4 " + c);
        }
    }

    @Test
    void storedScalesAreCheckedForNaN() {
        float[] x = {0.1f, 0.2f, -0.4f, 0.3f, 1f, -2f};
        for (Scheme s : List.of(Scheme.group(4, true, 2), Scheme.group(4, true, 2).withScaleFormat(ScaleFormat.F32))) {
            QuantizedRow q = Quantizer.quantize("t", 0, x, s);
            assertEquals(-1, RowLayout.of(s, x.length).firstNonFiniteScale(q.scales()));
            byte[] scales = q.scales().clone();
            int w = s.scaleFormat().bytes();
            java.util.Arrays.fill(scales, w, 2 * w, (byte) 0xff); // group 1: all ones, a NaN in F16 and F32
            assertEquals(1, RowLayout.of(s, x.length).firstNonFiniteScale(scales));
        }
    }

    @Test
    void nonFiniteInputIsRejectedNamingTensorAndRow() {
        for (float bad : new float[] {Float.NaN, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY}) {
            float[] x = {0.1f, 0.2f, bad, 0.3f};
            for (Scheme s : List.of(Scheme.group(4, true, 2), Scheme.channel(8, false).withRange(RangeMethod.MSE),
                    Scheme.group(4, true, 2).withCodebook(Codebook.NF4))) {
                InvalidInputException e = assertThrows(InvalidInputException.class,
                        () -> Quantizer.quantize("model.layers.3.mlp.up_proj.weight", 7, x, s));
                assertTrue(e.getMessage().contains("'model.layers.3.mlp.up_proj.weight' row 7") && e.getMessage().contains("column 2"),
                        e.getMessage());
                e = assertThrows(InvalidInputException.class, () -> Quantizer.quantizeReference("w", 9, x, s, null));
                assertTrue(e.getMessage().contains("'w' row 9"), e.getMessage());
            }
        }
    }

    @Test
    void tableCodesMapExactlyToTheirTables() {
        assertEquals(16, Nf4.TABLE.length);
        assertEquals(-0.6961928009986877f, Nf4.TABLE[1]);
        assertEquals(0.07958029955625534f, Nf4.TABLE[8]);
        assertEquals(0.7229568362236023f, Nf4.TABLE[14]);
        assertEquals(0f, Nf4.TABLE[7]);
        float[] log2 = {0, 1 / 64f, 1 / 32f, 1 / 16f, 1 / 8f, 1 / 4f, 1 / 2f, 1f};
        for (int c = 0; c < 8; c++) {
            assertEquals(log2[c], Log2Code.TABLE[c]);
            assertEquals(-log2[c], Log2Code.TABLE[c + 8]);
        }
        for (Codebook cb : List.of(Codebook.NF4, Codebook.LOG2)) {
            float[] table = cb == Codebook.NF4 ? Nf4.TABLE : Log2Code.TABLE;
            float scale = 2.5f; // exact in F16, so TABLE[c] * scale round-trips
            float[] x = new float[16];
            for (int c = 0; c < 16; c++) {
                x[c] = table[c] * scale + 0f; // log2 code 8 is -0; +0 is what it reads back as
            }
            Scheme s = Scheme.channel(4, true).withCodebook(cb);
            QuantizedRow q = Quantizer.quantize("t", 0, x, s);
            int[] codes = codes(RowLayout.of(s, 16), q.codes());
            for (int c = 0; c < 16; c++) {
                assertEquals(cb == Codebook.LOG2 && c == 8 ? 0 : c, codes[c], cb + " code " + c);
            }
            assertArrayEquals(x, Quantizer.dequantize(q, s, 16));
        }
        // nearest entry, ties to the lower code: halfway between NF4 codes 7 (0) and 8
        assertEquals(7, Nf4.encode(Nf4.TABLE[8] / 2));
        assertEquals(8, Nf4.encode(Math.nextUp(Nf4.TABLE[8] / 2)));
        assertEquals(0, Log2Code.encode(-1e-4f));
        assertEquals(15, Log2Code.encode(-7f)); // clamps to -1
        assertEquals(12, Log2Code.encode(-0.1f)); // nearest -1/8
    }

    @Test
    void tableSearchesAgreeOnEveryFloatNearTheEntries() {
        SplittableRandom r = new SplittableRandom(3);
        for (TableCodec t : List.of(Nf4.CODEC, Log2Code.CODEC)) {
            float[] v = t.values();
            for (int i = 0; i < 16; i++) {
                for (int j = 0; j < 16; j++) {
                    float mid = (v[i] + v[j]) / 2;
                    float f = mid;
                    for (int k = 0; k < 4; k++) {
                        assertEquals(t.nearestReference(f), t.nearest(f), "at " + f);
                        assertEquals(t.nearestReference(-f), t.nearest(-f), "at " + -f);
                        f = Math.nextUp(f);
                    }
                }
            }
            for (int k = 0; k < 200_000; k++) {
                float f = (float) (r.nextDouble() * 2.2 - 1.1);
                assertEquals(t.nearestReference(f), t.nearest(f), "at " + f);
            }
        }
    }

    /** Every code of a stored row, read through the layout. */
    static int[] codes(RowLayout layout, byte[] packed) {
        int[] out = new int[layout.rowLength()];
        for (int i = 0; i < out.length; i++) {
            out[i] = layout.code(packed, i);
        }
        return out;
    }

    static List<Scheme> allSchemes() {
        List<Scheme> out = new ArrayList<>();
        for (int bits : new int[] {4, 8}) {
            for (boolean sym : new boolean[] {true, false}) {
                for (Scheme base : List.of(Scheme.group(bits, sym, 32), Scheme.group(bits, sym, 128), Scheme.group(bits, sym, 33),
                        Scheme.group(bits, sym, 7), Scheme.channel(bits, sym))) {
                    for (RangeMethod m : RangeMethod.values()) {
                        for (ScaleFormat f : ScaleFormat.values()) {
                            out.add(base.withRange(m).withScaleFormat(f));
                        }
                    }
                }
            }
        }
        for (Codebook cb : List.of(Codebook.NF4, Codebook.LOG2)) {
            for (RangeMethod m : RangeMethod.values()) {
                out.add(Scheme.group(4, true, 64).withCodebook(cb).withRange(m));
                out.add(Scheme.group(4, true, 17).withCodebook(cb).withRange(m).withScaleFormat(ScaleFormat.F32));
            }
        }
        out.add(Scheme.tensor(4, true));
        out.add(Scheme.tensor(8, false).withScaleFormat(ScaleFormat.F32));
        out.add(Scheme.tensor(4, true).withCodebook(Codebook.NF4));
        out.add(Scheme.tensor(4, true).withCodebook(Codebook.LOG2));
        out.add(Scheme.channel(4, true).withCodebook(Codebook.NF4).withRange(RangeMethod.MSE));
        out.add(Scheme.channel(4, true).withCodebook(Codebook.LOG2).withRange(RangeMethod.MSE));
        return out;
    }

    @Test
    void uniformFastPathIsBitIdenticalToReference() {
        assertTrue(fastEqualsReference(Codebook.UNIFORM, 50, 4) > 5000);
    }

    @Test
    void nf4FastPathIsBitIdenticalToReference() {
        assertTrue(fastEqualsReference(Codebook.NF4, 300, 7) > 2000);
    }

    @Test
    void log2FastPathIsBitIdenticalToReference() {
        assertTrue(fastEqualsReference(Codebook.LOG2, 300, 8) > 1500);
    }

    /**
     * Quantizes {@code rowsPerScheme} random rows under every scheme of codebook {@code cb} with
     * both paths and dequantizes the result with both; asserts identical bytes and float bits and
     * returns the number of rows.
     */
    private static int fastEqualsReference(Codebook cb, int rowsPerScheme, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        int rows = 0;
        for (Scheme s : allSchemes()) {
            if (s.codebook() != cb) {
                continue;
            }
            for (int t = 0; t < rowsPerScheme; t++) {
                int n = r.nextInt(4) == 0 ? 1 + r.nextInt(8) : 1 + r.nextInt(700);
                float[] x = switch (r.nextInt(5)) {
                    case 0 -> Rows.grid(r, n); // rounding ties in codes and zero-points
                    case 1, 2 -> Rows.studentT(r, n, 3, Math.pow(10, -3 + 3 * r.nextDouble()));
                    default -> Rows.gaussian(r, n, 0.05);
                };
                if (r.nextInt(5) == 0) {
                    for (int i = 0; i < n; i++) {
                        x[i] = Math.abs(x[i]) + (r.nextBoolean() ? 0.01f : 0f); // one-sided rows, with and without zeros
                    }
                }
                if (r.nextInt(7) == 0) {
                    for (int i = 0; i < n; i += 3) {
                        x[i] = 0f;
                    }
                }
                Clip clip = null;
                if (s.granularity() == Granularity.TENSOR || s.range() == RangeMethod.PERCENTILE || r.nextInt(4) == 0) {
                    float a = nibble.common.stats.ChannelStats.of(x).p999Abs() * (float) (0.3 + r.nextDouble());
                    clip = r.nextBoolean() ? Clip.abs(a) : new Clip(-a, 0.7f * a);
                }
                QuantizedRow fast = Quantizer.quantize("t", t, x, s, clip);
                QuantizedRow ref = Quantizer.quantizeReference("t", t, x, s, clip);
                assertEquals(ref, fast, s + " row " + t + " length " + n);
                float[] y = new float[n];
                float[] yRef = new float[n];
                Quantizer.dequantize(fast.codes(), fast.scales(), fast.zeros(), s, y);
                Quantizer.dequantizeReference(fast.codes(), fast.scales(), fast.zeros(), s, yRef);
                for (int i = 0; i < n; i++) {
                    assertEquals(Float.floatToRawIntBits(yRef[i]), Float.floatToRawIntBits(y[i]), s + " row " + t + " dequantized column " + i);
                }
                rows++;
            }
        }
        return rows;
    }

    @Test
    void mseSearchNeverLosesToMinMaxOnAnyGroup() {
        SplittableRandom r = new SplittableRandom(5);
        int improved = 0;
        for (int t = 0; t < 600; t++) {
            Scheme minmax = List.of(Scheme.group(4, true, 32), Scheme.group(4, false, 32), Scheme.group(8, true, 64),
                    Scheme.group(4, true, 64).withCodebook(Codebook.NF4), Scheme.group(4, true, 32).withCodebook(Codebook.LOG2)).get(t % 5);
            Scheme mse = minmax.withRange(RangeMethod.MSE);
            int n = 32 + r.nextInt(500);
            float[] x = Rows.studentT(r, n, 2 + r.nextInt(4), 0.02);
            float[] a = Quantizer.dequantize(Quantizer.quantize("t", t, x, minmax), minmax, n);
            float[] b = Quantizer.dequantize(Quantizer.quantize("t", t, x, mse), mse, n);
            RowLayout layout = RowLayout.of(minmax, n);
            int len = layout.groupLength();
            for (int g = 0; g < layout.groupCount(); g++) {
                int from = g * len;
                int to = Math.min(n, from + len);
                double ea = Rows.groupSqError(x, a, from, to);
                double eb = Rows.groupSqError(x, b, from, to);
                assertTrue(eb <= ea, mse + " row " + t + " group " + g + ": " + eb + " > " + ea);
                if (eb < ea) {
                    improved++;
                }
            }
        }
        assertTrue(improved > 1000, "search improved only " + improved + " groups");
    }

    @Test
    void q40StyleScaleBeatsAbsmaxOverSeven() {
        SplittableRandom r = new SplittableRandom(6);
        for (boolean heavy : new boolean[] {false, true}) {
            double ours = 0;
            double absmax7 = 0;
            for (int t = 0; t < 2000; t++) {
                float[] x = heavy ? Rows.studentT(r, 32, 4, 1) : Rows.gaussian(r, 32, 1);
                ours += Rows.groupSqError(x, Quantizer.dequantize(Quantizer.quantize("t", t, x, Scheme.channel(4, true)), Scheme.channel(4, true), 32), 0, 32);
                float amax = 0;
                for (float v : x) {
                    amax = Math.max(amax, Math.abs(v));
                }
                float d = Halfs.roundToF16(amax / 7);
                for (float v : x) {
                    float y = (float) Math.max(-7, Math.min(7, Math.rint(v / d))) * d;
                    absmax7 += (v - y) * (double) (v - y);
                }
            }
            assertTrue(ours < absmax7, (heavy ? "student-t" : "gaussian") + ": " + ours + " vs " + absmax7);
        }
    }

    @Test
    void percentileClipSaturatesOutliersAndPerTensorScalesAreShared() {
        float[] x = {0.1f, -0.2f, 0.3f, 100f, -0.05f, 0.15f};
        Scheme s = Scheme.channel(8, true).withPercentile(99).withScaleFormat(ScaleFormat.F32);
        float[] y = Quantizer.dequantize(Quantizer.quantize("t", 0, x, s, Clip.abs(0.3f)), s, 6);
        assertEquals(0.3f, y[3], 0.3f / 128 + 1e-6f);
        assertEquals(0.1f, y[0], 0.3f / 256 + 1e-6f);
        assertThrows(InvalidInputException.class, () -> Quantizer.quantize("t", 0, x, s));

        Scheme pt = Scheme.tensor(4, false);
        Clip range = new Clip(-1f, 2f);
        QuantizedRow a = Quantizer.quantize("t", 0, x, pt, range);
        QuantizedRow b = Quantizer.quantize("t", 1, new float[] {0.5f, 0.25f, 0f, 0f, 1f, -1f}, pt, range);
        assertArrayEquals(a.scales(), b.scales());
        assertArrayEquals(a.zeros(), b.zeros());
        assertEquals(5, a.zeros()[0]); // zero-point rint(1 / (3/15)) = 5
        InvalidInputException e = assertThrows(InvalidInputException.class, () -> Quantizer.quantize("emb", 3, x, pt));
        assertTrue(e.getMessage().contains("'emb' row 3"), e.getMessage());
    }

    @Test
    void scaleOverflowingF16IsRejected() {
        float[] x = {1e6f, -2f};
        InvalidInputException e = assertThrows(InvalidInputException.class, () -> Quantizer.quantize("big", 2, x, Scheme.channel(4, false)));
        assertTrue(e.getMessage().contains("'big' row 2") && e.getMessage().contains("F32"), e.getMessage());
        Scheme f32 = Scheme.channel(4, false).withScaleFormat(ScaleFormat.F32);
        float[] y = Quantizer.dequantize(Quantizer.quantize("big", 2, x, f32), f32, 2);
        assertEquals(1e6f, y[0], 1e6f / 15);
    }

    @Test
    void bitsPerWeightCountsScalesAndZeros() {
        assertEquals(4.5, RowLayout.of(Scheme.group(4, true, 32), 4096).bitsPerWeight(), 1e-12);
        assertEquals(4 + 24.0 / 128, RowLayout.of(Scheme.group(4, false, 128), 4096).bitsPerWeight(), 1e-12);
        assertEquals(8 + 16.0 / 4096, RowLayout.of(Scheme.channel(8, true), 4096).bitsPerWeight(), 1e-12);
        assertEquals(4 + 32.0 / 64,
                RowLayout.of(Scheme.group(4, true, 64).withCodebook(Codebook.NF4).withScaleFormat(ScaleFormat.F32), 4096).bitsPerWeight(), 1e-12);
        // 3 values: 2 code bytes (pad nibble) + one F16 scale per group of 2
        assertEquals((16 + 2 * 16) / 3.0, RowLayout.of(Scheme.group(4, true, 2), 3).bitsPerWeight(), 1e-12);
        assertThrows(IllegalArgumentException.class, () -> RowLayout.of(Scheme.group(4, true, 2), 0).bitsPerWeight());
    }

    @Test
    void schemeRejectsBadCombinations() {
        assertThrows(InvalidInputException.class, () -> Scheme.group(3, true, 32));
        assertThrows(InvalidInputException.class, () -> Scheme.group(4, true, 0));
        assertThrows(InvalidInputException.class, () -> Scheme.group(8, true, 32).withCodebook(Codebook.NF4));
        assertThrows(InvalidInputException.class, () -> Scheme.group(4, false, 32).withCodebook(Codebook.LOG2));
        assertThrows(InvalidInputException.class, () -> Scheme.tensor(4, true).withRange(RangeMethod.MSE));
    }
}
