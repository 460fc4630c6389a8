package nibble.common.quant;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import nibble.common.InvalidInputException;
import nibble.common.format.GgmlType;
import nibble.common.format.GgufRows;

/**
 * The K-quant layout ({@link SuperBlockCodec}): the Vector API path gives the reference's bytes on
 * rows of every kind, the fast dequantization its floats, the GGUF {@code Q4_K} blocks written from a
 * row decode (through the GGUF reader's independent Q4_K decoder) to the same floats, and the search
 * beats plain min/max and the symmetric g32 search at the same 4.5 bits per weight.
 */
class SuperBlockCodecTest {
    private static final Scheme MSE = new Scheme(4, false, Granularity.SUPERBLOCK, 0, Codebook.UNIFORM, RangeMethod.MSE, 0,
            ScaleFormat.F16);
    private static final Scheme MINMAX = MSE.withRange(RangeMethod.MINMAX);

    /** Heavy-tailed rows (Student t, 4 degrees of freedom), as the kernel benchmark's. */
    private static float[] studentT(SplittableRandom r, int n, double scale) {
        float[] x = new float[n];
        for (int i = 0; i < n; i++) {
            double chi2 = 0;
            for (int k = 0; k < 4; k++) {
                double g = r.nextGaussian();
                chi2 += g * g;
            }
            x[i] = (float) (r.nextGaussian() / Math.sqrt(chi2 / 4) * scale);
        }
        return x;
    }

    /** Rows of many kinds: ragged lengths, ties, zeros, constants, one sign, tiny and large values, outliers. */
    private static float[] row(SplittableRandom r, int kind) {
        int[] lengths = {256, 512, 576, 1536, 1, 31, 33, 255, 257, 300, 4096};
        int n = lengths[r.nextInt(lengths.length)];
        float[] x = studentT(r, n, 0.02);
        switch (kind % 9) {
            case 1 -> { // a power-of-two grid: exact ties in codes and errors
                for (int i = 0; i < n; i++) {
                    x[i] = (r.nextInt(33) - 16) / 16f;
                }
            }
            case 2 -> java.util.Arrays.fill(x, r.nextBoolean() ? 0f : -0f);
            case 3 -> java.util.Arrays.fill(x, (float) r.nextGaussian());
            case 4 -> {
                for (int i = 0; i < n; i++) {
                    x[i] = Math.abs(x[i]);
                }
            }
            case 5 -> {
                for (int i = 0; i < n; i++) {
                    x[i] = -Math.abs(x[i]) * 1e-36f; // subnormal scales
                }
            }
            case 6 -> {
                for (int i = 0; i < n; i++) {
                    x[i] *= 1e6f;
                }
            }
            case 7 -> {
                for (int i = 0; i < n; i += 1 + r.nextInt(64)) {
                    x[i] *= 100f; // outliers
                }
            }
            case 8 -> {
                for (int i = 0; i < n; i++) {
                    if (r.nextInt(4) > 0) {
                        x[i] = 0f; // mostly zero sub-blocks
                    }
                }
            }
            default -> {
            }
        }
        return x;
    }

    @Test
    void vectorPathGivesTheReferenceBytes() {
        assertTrue(VectorSupport.enabled(), VectorSupport.describe());
        SplittableRandom r = new SplittableRandom(2026);
        for (int k = 0; k < 900; k++) {
            float[] x = row(r, k);
            for (Scheme s : new Scheme[] {MSE, MINMAX}) {
                QuantizedRow ref = Quantizer.quantizeReference("t", k, x, s, null);
                QuantizedRow vec = Quantizer.quantizeVector("t", k, x, s, null);
                assertEquals(ref, vec, "row " + k + " (" + x.length + " values, kind " + k % 9 + ") under " + s);
                assertNull(ref.zeros());
                RowLayout layout = RowLayout.of(s, x.length);
                assertEquals(layout.codeBytes(), ref.codes().length);
                assertEquals(SuperBlockCodec.superBlocks(x.length) * 16, ref.scales().length);
                float[] a = new float[x.length];
                float[] b = new float[x.length];
                Quantizer.dequantizeReference(ref.codes(), ref.scales(), null, s, a);
                Quantizer.dequantize(ref.codes(), ref.scales(), null, s, b);
                assertArrayEquals(a, b, "dequantization, row " + k);
            }
        }
    }

    /**
     * The bytes of fixed rows, pinned: a change of the search or the layout shows here (and must come with a new
     * digest and a note in docs/BENCHMARKS.md).
     */
    @Test
    void goldenDigest() {
        SplittableRandom r = new SplittableRandom(77);
        java.util.zip.CRC32 crc = new java.util.zip.CRC32();
        for (int k = 0; k < 200; k++) {
            float[] x = row(r, k);
            for (Scheme s : new Scheme[] {MSE, MINMAX}) {
                QuantizedRow q = Quantizer.quantizeReference("t", k, x, s, null);
                crc.update(q.codes());
                crc.update(q.scales());
            }
        }
        assertEquals(GOLDEN, Long.toHexString(crc.getValue()));
    }

    private static final String GOLDEN = "5a978e9b";

    @Test
    void sixBitFieldsRoundTripInGgmlsPacking() {
        SplittableRandom r = new SplittableRandom(3);
        for (int t = 0; t < 2000; t++) {
            byte[] b = new byte[12];
            int[] sc = new int[8];
            int[] m = new int[8];
            for (int j = 0; j < 8; j++) {
                sc[j] = r.nextInt(64);
                m[j] = r.nextInt(64);
            }
            for (int j : new int[] {5, 0, 7, 2, 4, 1, 6, 3}) { // any order
                SuperBlockCodec.putScaleMin(b, 0, j, sc[j], m[j]);
            }
            for (int j = 0; j < 8; j++) {
                assertEquals(sc[j], SuperBlockCodec.scaleOf(b, 0, j));
                assertEquals(m[j], SuperBlockCodec.minOf(b, 0, j));
            }
        }
    }

    @Test
    void q4KBlocksDecodeToNibblesValuesInTheGgufReader() {
        SplittableRandom r = new SplittableRandom(5);
        for (int k = 0; k < 60; k++) {
            float[] x = studentT(r, 256 * (1 + r.nextInt(6)), k % 2 == 0 ? 0.02 : 3);
            if (k % 5 == 4) {
                x = row(r, 1);
                x = java.util.Arrays.copyOf(x, x.length / 256 * 256 + 256);
            }
            QuantizedRow q = Quantizer.quantize("t", k, x, MSE);
            float[] ours = Quantizer.dequantize(q, MSE, x.length);
            byte[] blocks = new byte[x.length / 256 * 144];
            GgufRows.q4_K(q.codes(), q.scales(), x.length, blocks, 0);
            float[] theirs = new float[x.length];
            GgmlType.Q4_K.dequantize(blocks, 0, x.length, theirs, 0);
            for (int i = 0; i < x.length; i++) {
                assertEquals(Float.floatToRawIntBits(ours[i]), Float.floatToRawIntBits(theirs[i]), "row " + k + " element " + i + ": " + ours[i] + " vs " + theirs[i]);
            }
        }
    }

    @Test
    void searchBeatsMinMaxAndTheSymmetricG32Search() {
        SplittableRandom r = new SplittableRandom(42);
        double sig = 0;
        double[] err = new double[3];
        Scheme g32 = Scheme.group(4, true, 32).withRange(RangeMethod.MSE);
        Scheme[] schemes = {MSE, MINMAX, g32};
        for (int k = 0; k < 64; k++) {
            float[] x = studentT(r, 4096, 0.02);
            for (float v : x) {
                sig += (double) v * v;
            }
            for (int s = 0; s < 3; s++) {
                float[] y = Quantizer.dequantize(Quantizer.quantize("t", k, x, schemes[s]), schemes[s], x.length);
                for (int i = 0; i < x.length; i++) {
                    double d = (double) x[i] - y[i];
                    err[s] += d * d;
                }
            }
        }
        double[] db = new double[3];
        for (int s = 0; s < 3; s++) {
            db[s] = 10 * Math.log10(sig / err[s]);
        }
        assertEquals(4.5, RowLayout.of(MSE, 4096).bitsPerWeight(), 1e-12);
        assertEquals(4.5, RowLayout.of(g32, 4096).bitsPerWeight(), 1e-12);
        // ggml's own Q4_K quantizer measures 21.25 dB on this distribution (docs/BENCHMARKS.md)
        assertTrue(db[0] > 21.3, "K-quant search: " + db[0] + " dB");
        assertTrue(db[0] > db[1] + 0.5, "search " + db[0] + " vs min/max " + db[1]);
        assertTrue(db[0] > db[2] + 2, "K-quant search " + db[0] + " vs symmetric g32 search " + db[2]);
    }

    @Test
    void weightsOfOneGiveTheUnweightedBytes() {
        Scheme weighted = MSE.withImportance(Importance.ACTIVATIONS);
        SplittableRandom r = new SplittableRandom(12);
        int[] lengths = {32, 96, 256, 576, 1536, 4096};
        for (int k = 0; k < 300; k++) {
            float[] x = row(r, k);
            x = java.util.Arrays.copyOf(x, lengths[k % lengths.length]);
            double[] ones = new double[x.length];
            java.util.Arrays.fill(ones, 1.0);
            assertEquals(Quantizer.quantize("t", k, x, MSE), Quantizer.quantize("t", k, x, weighted, null, ones), "row " + k);
        }
    }

    @Test
    void weightedSearchLowersTheWeightedError() {
        Scheme weighted = MSE.withImportance(Importance.ACTIVATIONS);
        SplittableRandom r = new SplittableRandom(13);
        double plain = 0;
        double imatrix = 0;
        for (int k = 0; k < 32; k++) {
            float[] x = studentT(r, 2048, 0.02);
            double[] w = new double[x.length];
            for (int i = 0; i < w.length; i++) {
                double g = r.nextGaussian();
                w[i] = Math.exp(2 * g); // heavy-tailed channel importance, as activations' mean x²
            }
            float[] a = Quantizer.dequantize(Quantizer.quantize("t", k, x, MSE), MSE, x.length);
            float[] b = Quantizer.dequantize(Quantizer.quantize("t", k, x, weighted, null, w), weighted, x.length);
            assertEquals(Quantizer.quantize("t", k, x, weighted, null, w), Quantizer.quantizeReference("t", k, x, weighted, null, w));
            for (int i = 0; i < x.length; i++) {
                plain += w[i] * (x[i] - a[i]) * (x[i] - a[i]);
                imatrix += w[i] * (x[i] - b[i]) * (x[i] - b[i]);
            }
        }
        assertTrue(imatrix < 0.9 * plain, "weighted error: imatrix " + imatrix + " vs unweighted search " + plain);
        assertThrows(InvalidInputException.class, () -> MSE.withImportance(Importance.HESSIAN));
        assertEquals(weighted, Recipe.load("int4-k256-imatrix").defaultScheme());
    }

    @Test
    void badRowsAreRefusedNamingTheProblem() {
        float[] x = new float[256];
        x[3] = Float.NaN;
        assertThrows(InvalidInputException.class, () -> Quantizer.quantize("t", 0, x, MSE));
        assertThrows(InvalidInputException.class, () -> Quantizer.quantizeReference("t", 0, x, MSE, null));
        float[] huge = new float[300];
        huge[290] = 1e30f;
        InvalidInputException e = assertThrows(InvalidInputException.class, () -> Quantizer.quantize("t", 7, huge, MSE));
        assertTrue(e.getMessage().contains("super-block 1"), e.getMessage());
        assertThrows(InvalidInputException.class, () -> Quantizer.quantizeReference("t", 7, huge, MSE, null));
        assertThrows(InvalidInputException.class,
                () -> new Scheme(4, true, Granularity.SUPERBLOCK, 0, Codebook.UNIFORM, RangeMethod.MSE, 0, ScaleFormat.F16));
        assertThrows(InvalidInputException.class,
                () -> new Scheme(8, false, Granularity.SUPERBLOCK, 0, Codebook.UNIFORM, RangeMethod.MSE, 0, ScaleFormat.F16));
    }

    @Test
    void recipeSpellsTheLayout() {
        Recipe recipe = Recipe.load("int4-k256-mse");
        assertEquals(MSE, recipe.defaultScheme());
        assertEquals(MSE, SchemeJson.read(SchemeJson.write(MSE), "manifest"));
    }
}
