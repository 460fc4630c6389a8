package nibble.common.quant;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.zip.CRC32;

import org.junit.jupiter.api.Test;

import nibble.common.InvalidInputException;

/**
 * Golden digests recorded from the quantizer as it was before the codec refactor (commit 6bec0c9):
 * for every scheme, a CRC-32 over the codes, scales and zero-points of seeded rows from both
 * {@code quantize} and {@code quantizeReference}, the floats both dequantize paths give back, and
 * the messages of the rows that are rejected. A change to any output byte or float changes a digest.
 */
class QuantizerGoldenTest {

    @Test
    void everySchemeGivesTheRecordedBytesFloatsAndErrors() {
        Map<String, String> golden = parse(GOLDEN);
        Map<String, String> actual = new LinkedHashMap<>();
        int rows = 0;
        for (Scheme s : schemes()) {
            CRC32 crc = new CRC32();
            rows += digest(s, crc);
            actual.put(label(s), String.format("%08x", crc.getValue()));
        }
        if (golden.isEmpty() || Boolean.getBoolean("golden.print")) {
            StringBuilder b = new StringBuilder();
            actual.forEach((k, v) -> b.append(k).append(' ').append(v).append('\n'));
            System.out.print(b);
        }
        assertEquals(golden.keySet(), actual.keySet(), "schemes");
        for (Map.Entry<String, String> e : actual.entrySet()) {
            assertEquals(golden.get(e.getKey()), e.getValue(), e.getKey());
        }
        assertEquals(204, actual.size());
        assertEquals(204 * ROWS, rows);
    }

    @Test
    void storedSizesAndBitsPerWeightAreTheRecordedOnes() {
        CRC32 crc = new CRC32();
        for (Scheme s : schemes()) {
            for (int n = 1; n <= 300; n++) {
                update(crc, Double.doubleToLongBits(bitsPerWeight(s, n)));
                update(crc, storedRowBytes(s, n));
            }
        }
        assertEquals("5a55222d", String.format("%08x", crc.getValue()));
    }

    @Test
    void missingClipAndBadStoredSizesKeepTheirMessages() {
        for (Scheme s : schemes()) {
            if (s.granularity() == Granularity.TENSOR || s.range() == RangeMethod.PERCENTILE) {
                String expected = "tensor 'w' row 3: scheme " + s + " needs a clip range from statistics";
                float[] x = {Float.NaN, 1f};
                assertEquals(expected, assertThrows(InvalidInputException.class, () -> Quantizer.quantize("w", 3, x, s)).getMessage());
                assertEquals(expected, assertThrows(InvalidInputException.class, () -> Quantizer.quantize("w", 3, x, s, null)).getMessage());
                assertEquals(expected, assertThrows(InvalidInputException.class,
                        () -> Quantizer.quantizeReference("w", 3, x, s, null)).getMessage());
            }
            byte[] codes = new byte[3];
            byte[] scales = new byte[2];
            byte[] zeros = s.symmetric() ? new byte[1] : null;
            String expected = "quantized row: 3 code bytes, 2 scale bytes, " + (s.symmetric() ? "1" : "no")
                    + " zero bytes do not fit row length 7 under " + s;
            assertEquals(expected, assertThrows(InvalidInputException.class,
                    () -> Quantizer.dequantize(codes, scales, zeros, s, new float[7])).getMessage());
            assertEquals(expected, assertThrows(InvalidInputException.class,
                    () -> Quantizer.dequantizeReference(codes, scales, zeros, s, new float[7])).getMessage());
            assertEquals(expected, assertThrows(InvalidInputException.class,
                    () -> Quantizer.dequantize(codes, scales, zeros, s, 7)).getMessage());
        }
    }

    static double bitsPerWeight(Scheme s, int n) {
        return RowLayout.of(s, n).bitsPerWeight();
    }

    static long storedRowBytes(Scheme s, int n) {
        long bytes = RowLayout.of(s, n).storedBytes();
        assertEquals(QuantDetails.storedRowBytes(s, new nibble.common.TensorInfo("t", nibble.common.DType.F32, new long[] {1, n})), bytes);
        return bytes;
    }

    static final int ROWS = 30;

    /** Quantizes and dequantizes {@link #ROWS} seeded rows under {@code s} into {@code crc}; returns the row count. */
    private static int digest(Scheme s, CRC32 crc) {
        SplittableRandom r = new SplittableRandom(label(s).hashCode());
        int len = s.granularity() == Granularity.GROUP ? s.groupSize() : 64;
        for (int t = 0; t < ROWS; t++) {
            float[] x = row(r, t, len);
            Clip clip = null;
            if (s.granularity() == Granularity.TENSOR || s.range() == RangeMethod.PERCENTILE || r.nextInt(4) == 0) {
                float a = absPercentile(x, 99.9) * (float) (0.3 + r.nextDouble());
                clip = r.nextBoolean() ? Clip.abs(a) : new Clip(-a, 0.7f * a);
            }
            QuantizedRow fast = null;
            try {
                fast = Quantizer.quantize("w", t, x, s, clip);
                update(crc, fast);
            } catch (InvalidInputException e) {
                update(crc, e.getMessage());
            }
            try {
                update(crc, Quantizer.quantizeReference("w", t, x, s, clip));
            } catch (InvalidInputException e) {
                update(crc, e.getMessage());
            }
            if (clip == null && s.granularity() != Granularity.TENSOR && s.range() != RangeMethod.PERCENTILE) {
                try {
                    update(crc, Quantizer.quantize("w", t, x, s));
                } catch (InvalidInputException e) {
                    update(crc, e.getMessage());
                }
            }
            if (fast != null) {
                float[] y = new float[x.length];
                Quantizer.dequantize(fast.codes(), fast.scales(), fast.zeros(), s, y);
                update(crc, y);
                Quantizer.dequantizeReference(fast.codes(), fast.scales(), fast.zeros(), s, y);
                update(crc, y);
                update(crc, Quantizer.dequantize(fast, s, x.length));
            }
        }
        return ROWS;
    }

    /** Row {@code t}: the first ones are edge cases, the rest random lengths and shapes. */
    private static float[] row(SplittableRandom r, int t, int groupLength) {
        int n = switch (r.nextInt(4)) {
            case 0 -> 1 + r.nextInt(8);
            case 1 -> groupLength * (1 + r.nextInt(4));
            default -> 1 + r.nextInt(600);
        };
        float[] x;
        switch (t) {
            case 0 -> x = new float[n];
            case 1 -> {
                x = new float[n];
                Arrays.fill(x, (float) ((r.nextBoolean() ? 1 : -1) * Math.pow(10, -4 + 5 * r.nextDouble())));
            }
            case 2 -> x = Rows.gaussian(r, 1, 0.1);
            case 3 -> {
                x = Rows.gaussian(r, n, 0.02);
                for (int i = 0; i < n; i += 2) {
                    x[i] = i % 4 == 0 ? -0f : 0f;
                }
            }
            case 4 -> x = Rows.gaussian(r, n, 1e-9); // F16 scales underflow to subnormals and zero
            case 5 -> x = Rows.studentT(r, n, 2, 3e4); // F16 scales may overflow
            case 6, 7, 8 -> {
                x = Rows.gaussian(r, n, 0.05);
                x[r.nextInt(n)] = t == 6 ? Float.NaN : t == 7 ? Float.POSITIVE_INFINITY : Float.NEGATIVE_INFINITY;
            }
            case 9 -> {
                x = Rows.gaussian(r, Math.max(n, 2 * groupLength + 1), 0.05);
                x[0] = 1e6f; // an overflowing first group before a NaN in a later one
                x[x.length - 1] = Float.NaN;
            }
            case 10 -> {
                x = Rows.gaussian(r, n, 0.02);
                for (int i = 0; i < n; i++) {
                    x[i] = -Math.abs(x[i]); // all negative
                }
            }
            default -> {
                x = r.nextBoolean() ? Rows.studentT(r, n, 2 + r.nextInt(4), Math.pow(10, -3 + 3 * r.nextDouble())) : Rows.gaussian(r, n, 0.05);
                if (r.nextInt(5) == 0) {
                    for (int i = 0; i < n; i++) {
                        x[i] = Math.abs(x[i]) + (r.nextBoolean() ? 0.01f : 0f);
                    }
                }
                if (r.nextInt(7) == 0) {
                    for (int i = 0; i < n; i += 3) {
                        x[i] = 0f;
                    }
                }
            }
        }
        return x;
    }

    private static float absPercentile(float[] x, double p) {
        float[] a = new float[x.length];
        for (int i = 0; i < x.length; i++) {
            a[i] = Float.isFinite(x[i]) ? Math.abs(x[i]) : 0f;
        }
        Arrays.sort(a);
        return a[(int) Math.floor(p / 100 * (a.length - 1))];
    }

    /** Every codebook, bits, symmetry, granularity (group sizes 7, 32, 64, 128), range method and scale format. */
    static List<Scheme> schemes() {
        List<Scheme> out = new ArrayList<>();
        for (Codebook cb : Codebook.values()) {
            for (int bits : new int[] {4, 8}) {
                for (boolean sym : new boolean[] {true, false}) {
                    if (cb != Codebook.UNIFORM && (bits != 4 || !sym)) {
                        continue;
                    }
                    for (Granularity g : Granularity.values()) {
                        for (int size : g == Granularity.GROUP ? new int[] {7, 32, 64, 128} : new int[] {0}) {
                            for (RangeMethod m : RangeMethod.values()) {
                                if (m == RangeMethod.MSE && g == Granularity.TENSOR) {
                                    continue;
                                }
                                for (ScaleFormat f : ScaleFormat.values()) {
                                    out.add(new Scheme(bits, sym, g, size, cb, m, m == RangeMethod.PERCENTILE ? 99.9 : 0, f));
                                }
                            }
                        }
                    }
                }
            }
        }
        return out;
    }

    /** A key independent of {@link Scheme#toString}. */
    static String label(Scheme s) {
        return s.codebook() + "/" + s.bits() + "/" + (s.symmetric() ? "sym" : "asym") + "/" + s.granularity() + "/" + s.groupSize() + "/"
                + s.range() + "/" + s.scaleFormat();
    }

    private static void update(CRC32 crc, QuantizedRow q) {
        update(crc, q.codes().length);
        crc.update(q.codes());
        update(crc, q.scales().length);
        crc.update(q.scales());
        update(crc, q.zeros() == null ? -1 : q.zeros().length);
        if (q.zeros() != null) {
            crc.update(q.zeros());
        }
    }

    private static void update(CRC32 crc, float[] y) {
        for (float v : y) {
            update(crc, Float.floatToRawIntBits(v));
        }
    }

    private static void update(CRC32 crc, String message) {
        crc.update(message.getBytes(StandardCharsets.UTF_8));
    }

    private static void update(CRC32 crc, long v) {
        for (int k = 0; k < 8; k++) {
            crc.update((int) (v >>> (8 * k)));
        }
    }

    private static Map<String, String> parse(String text) {
        Map<String, String> m = new LinkedHashMap<>();
        for (String line : text.strip().split("\n")) {
            if (!line.isBlank()) {
                String[] kv = line.strip().split(" ");
                m.put(kv[0], kv[1]);
            }
        }
        return m;
    }

    private static final String GOLDEN = """
            UNIFORM/4/sym/TENSOR/0/MINMAX/F16 8b402253
            UNIFORM/4/sym/TENSOR/0/MINMAX/F32 96b83e53
            UNIFORM/4/sym/TENSOR/0/PERCENTILE/F16 32ee0a74
            UNIFORM/4/sym/TENSOR/0/PERCENTILE/F32 322aaaf8
            UNIFORM/4/sym/CHANNEL/0/MINMAX/F16 396cb15b
            UNIFORM/4/sym/CHANNEL/0/MINMAX/F32 a6b91f39
            UNIFORM/4/sym/CHANNEL/0/PERCENTILE/F16 04789fd9
            UNIFORM/4/sym/CHANNEL/0/PERCENTILE/F32 835fccd8
            UNIFORM/4/sym/CHANNEL/0/MSE/F16 88e62f96
            UNIFORM/4/sym/CHANNEL/0/MSE/F32 c5bd426b
            UNIFORM/4/sym/GROUP/7/MINMAX/F16 43d2e8fc
            UNIFORM/4/sym/GROUP/7/MINMAX/F32 4c6f022e
            UNIFORM/4/sym/GROUP/7/PERCENTILE/F16 8950f3b4
            UNIFORM/4/sym/GROUP/7/PERCENTILE/F32 7b726dcf
            UNIFORM/4/sym/GROUP/7/MSE/F16 c859d820
            UNIFORM/4/sym/GROUP/7/MSE/F32 da636e7f
            UNIFORM/4/sym/GROUP/32/MINMAX/F16 1e371b8c
            UNIFORM/4/sym/GROUP/32/MINMAX/F32 6c9ea660
            UNIFORM/4/sym/GROUP/32/PERCENTILE/F16 b4e97906
            UNIFORM/4/sym/GROUP/32/PERCENTILE/F32 3ec1e496
            UNIFORM/4/sym/GROUP/32/MSE/F16 981791d0
            UNIFORM/4/sym/GROUP/32/MSE/F32 b08afa0a
            UNIFORM/4/sym/GROUP/64/MINMAX/F16 b0ac8445
            UNIFORM/4/sym/GROUP/64/MINMAX/F32 c2ff900d
            UNIFORM/4/sym/GROUP/64/PERCENTILE/F16 393b03b6
            UNIFORM/4/sym/GROUP/64/PERCENTILE/F32 436b124e
            UNIFORM/4/sym/GROUP/64/MSE/F16 7ad01c55
            UNIFORM/4/sym/GROUP/64/MSE/F32 1afa30c5
            UNIFORM/4/sym/GROUP/128/MINMAX/F16 3d5adfbe
            UNIFORM/4/sym/GROUP/128/MINMAX/F32 a1208df6
            UNIFORM/4/sym/GROUP/128/PERCENTILE/F16 f2a3510d
            UNIFORM/4/sym/GROUP/128/PERCENTILE/F32 131d31b8
            UNIFORM/4/sym/GROUP/128/MSE/F16 df90ed22
            UNIFORM/4/sym/GROUP/128/MSE/F32 9cd0556d
            UNIFORM/4/asym/TENSOR/0/MINMAX/F16 b50055b6
            UNIFORM/4/asym/TENSOR/0/MINMAX/F32 a82eb48e
            UNIFORM/4/asym/TENSOR/0/PERCENTILE/F16 7713f98f
            UNIFORM/4/asym/TENSOR/0/PERCENTILE/F32 683c74d7
            UNIFORM/4/asym/CHANNEL/0/MINMAX/F16 99f43660
            UNIFORM/4/asym/CHANNEL/0/MINMAX/F32 12b5ba57
            UNIFORM/4/asym/CHANNEL/0/PERCENTILE/F16 a35a502c
            UNIFORM/4/asym/CHANNEL/0/PERCENTILE/F32 4e368068
            UNIFORM/4/asym/CHANNEL/0/MSE/F16 b45def20
            UNIFORM/4/asym/CHANNEL/0/MSE/F32 ee170d2b
            UNIFORM/4/asym/GROUP/7/MINMAX/F16 e530ae1f
            UNIFORM/4/asym/GROUP/7/MINMAX/F32 b59dbbfe
            UNIFORM/4/asym/GROUP/7/PERCENTILE/F16 a5c6a6d6
            UNIFORM/4/asym/GROUP/7/PERCENTILE/F32 b837d7c4
            UNIFORM/4/asym/GROUP/7/MSE/F16 df0b6111
            UNIFORM/4/asym/GROUP/7/MSE/F32 b7ebe391
            UNIFORM/4/asym/GROUP/32/MINMAX/F16 bdcf626a
            UNIFORM/4/asym/GROUP/32/MINMAX/F32 cf3ae199
            UNIFORM/4/asym/GROUP/32/PERCENTILE/F16 656aa8f0
            UNIFORM/4/asym/GROUP/32/PERCENTILE/F32 73d0eb1e
            UNIFORM/4/asym/GROUP/32/MSE/F16 64950304
            UNIFORM/4/asym/GROUP/32/MSE/F32 1f994b87
            UNIFORM/4/asym/GROUP/64/MINMAX/F16 023edc8b
            UNIFORM/4/asym/GROUP/64/MINMAX/F32 5a2ad0c0
            UNIFORM/4/asym/GROUP/64/PERCENTILE/F16 47afee65
            UNIFORM/4/asym/GROUP/64/PERCENTILE/F32 e3b4215a
            UNIFORM/4/asym/GROUP/64/MSE/F16 f2d8c52d
            UNIFORM/4/asym/GROUP/64/MSE/F32 f7754f94
            UNIFORM/4/asym/GROUP/128/MINMAX/F16 58c5b7bf
            UNIFORM/4/asym/GROUP/128/MINMAX/F32 d55b6b8d
            UNIFORM/4/asym/GROUP/128/PERCENTILE/F16 ab356588
            UNIFORM/4/asym/GROUP/128/PERCENTILE/F32 31dc9051
            UNIFORM/4/asym/GROUP/128/MSE/F16 cfcfd131
            UNIFORM/4/asym/GROUP/128/MSE/F32 fb62d94f
            UNIFORM/8/sym/TENSOR/0/MINMAX/F16 5a26c5ec
            UNIFORM/8/sym/TENSOR/0/MINMAX/F32 847a1922
            UNIFORM/8/sym/TENSOR/0/PERCENTILE/F16 08eb2e0e
            UNIFORM/8/sym/TENSOR/0/PERCENTILE/F32 34500f3b
            UNIFORM/8/sym/CHANNEL/0/MINMAX/F16 6952cefd
            UNIFORM/8/sym/CHANNEL/0/MINMAX/F32 90c8cd98
            UNIFORM/8/sym/CHANNEL/0/PERCENTILE/F16 f4bdbc42
            UNIFORM/8/sym/CHANNEL/0/PERCENTILE/F32 54ba0b88
            UNIFORM/8/sym/CHANNEL/0/MSE/F16 ef005a00
            UNIFORM/8/sym/CHANNEL/0/MSE/F32 0fa28c53
            UNIFORM/8/sym/GROUP/7/MINMAX/F16 09cedee1
            UNIFORM/8/sym/GROUP/7/MINMAX/F32 ae954be8
            UNIFORM/8/sym/GROUP/7/PERCENTILE/F16 1dc115fa
            UNIFORM/8/sym/GROUP/7/PERCENTILE/F32 d5ba40cd
            UNIFORM/8/sym/GROUP/7/MSE/F16 98961a38
            UNIFORM/8/sym/GROUP/7/MSE/F32 5648f39b
            UNIFORM/8/sym/GROUP/32/MINMAX/F16 f973a82e
            UNIFORM/8/sym/GROUP/32/MINMAX/F32 cafd8813
            UNIFORM/8/sym/GROUP/32/PERCENTILE/F16 325621af
            UNIFORM/8/sym/GROUP/32/PERCENTILE/F32 531c782f
            UNIFORM/8/sym/GROUP/32/MSE/F16 1cf29d85
            UNIFORM/8/sym/GROUP/32/MSE/F32 0120f4ae
            UNIFORM/8/sym/GROUP/64/MINMAX/F16 39595448
            UNIFORM/8/sym/GROUP/64/MINMAX/F32 69d9b9af
            UNIFORM/8/sym/GROUP/64/PERCENTILE/F16 48a920e0
            UNIFORM/8/sym/GROUP/64/PERCENTILE/F32 9f3652d8
            UNIFORM/8/sym/GROUP/64/MSE/F16 85dc2aa3
            UNIFORM/8/sym/GROUP/64/MSE/F32 e99026ac
            UNIFORM/8/sym/GROUP/128/MINMAX/F16 a6665303
            UNIFORM/8/sym/GROUP/128/MINMAX/F32 83734541
            UNIFORM/8/sym/GROUP/128/PERCENTILE/F16 87d59039
            UNIFORM/8/sym/GROUP/128/PERCENTILE/F32 30b9534c
            UNIFORM/8/sym/GROUP/128/MSE/F16 d9607c99
            UNIFORM/8/sym/GROUP/128/MSE/F32 f92cb8ae
            UNIFORM/8/asym/TENSOR/0/MINMAX/F16 5ad7f6c7
            UNIFORM/8/asym/TENSOR/0/MINMAX/F32 5465403a
            UNIFORM/8/asym/TENSOR/0/PERCENTILE/F16 4027efff
            UNIFORM/8/asym/TENSOR/0/PERCENTILE/F32 aa89a19e
            UNIFORM/8/asym/CHANNEL/0/MINMAX/F16 77423541
            UNIFORM/8/asym/CHANNEL/0/MINMAX/F32 cfbff6de
            UNIFORM/8/asym/CHANNEL/0/PERCENTILE/F16 d06d121b
            UNIFORM/8/asym/CHANNEL/0/PERCENTILE/F32 08e6bdd3
            UNIFORM/8/asym/CHANNEL/0/MSE/F16 2e01a875
            UNIFORM/8/asym/CHANNEL/0/MSE/F32 a62a7efe
            UNIFORM/8/asym/GROUP/7/MINMAX/F16 cbfcfe02
            UNIFORM/8/asym/GROUP/7/MINMAX/F32 ec1aefae
            UNIFORM/8/asym/GROUP/7/PERCENTILE/F16 ec2d641d
            UNIFORM/8/asym/GROUP/7/PERCENTILE/F32 b45e0194
            UNIFORM/8/asym/GROUP/7/MSE/F16 8ed95887
            UNIFORM/8/asym/GROUP/7/MSE/F32 e2242623
            UNIFORM/8/asym/GROUP/32/MINMAX/F16 9a2964c8
            UNIFORM/8/asym/GROUP/32/MINMAX/F32 56276817
            UNIFORM/8/asym/GROUP/32/PERCENTILE/F16 50c4a303
            UNIFORM/8/asym/GROUP/32/PERCENTILE/F32 4ec3d729
            UNIFORM/8/asym/GROUP/32/MSE/F16 14505a47
            UNIFORM/8/asym/GROUP/32/MSE/F32 24293fce
            UNIFORM/8/asym/GROUP/64/MINMAX/F16 1a92ba09
            UNIFORM/8/asym/GROUP/64/MINMAX/F32 3e0b057f
            UNIFORM/8/asym/GROUP/64/PERCENTILE/F16 584049fd
            UNIFORM/8/asym/GROUP/64/PERCENTILE/F32 aa10bab0
            UNIFORM/8/asym/GROUP/64/MSE/F16 7ce18ff4
            UNIFORM/8/asym/GROUP/64/MSE/F32 194de95f
            UNIFORM/8/asym/GROUP/128/MINMAX/F16 eafb0554
            UNIFORM/8/asym/GROUP/128/MINMAX/F32 325f31f7
            UNIFORM/8/asym/GROUP/128/PERCENTILE/F16 be077e28
            UNIFORM/8/asym/GROUP/128/PERCENTILE/F32 00035d58
            UNIFORM/8/asym/GROUP/128/MSE/F16 764d2996
            UNIFORM/8/asym/GROUP/128/MSE/F32 70255792
            NF4/4/sym/TENSOR/0/MINMAX/F16 7e2d20fa
            NF4/4/sym/TENSOR/0/MINMAX/F32 0eceb303
            NF4/4/sym/TENSOR/0/PERCENTILE/F16 3ec23ee8
            NF4/4/sym/TENSOR/0/PERCENTILE/F32 21c84733
            NF4/4/sym/CHANNEL/0/MINMAX/F16 1b70d034
            NF4/4/sym/CHANNEL/0/MINMAX/F32 36f1ac77
            NF4/4/sym/CHANNEL/0/PERCENTILE/F16 82c65021
            NF4/4/sym/CHANNEL/0/PERCENTILE/F32 8a482a13
            NF4/4/sym/CHANNEL/0/MSE/F16 30b13269
            NF4/4/sym/CHANNEL/0/MSE/F32 6ab2ec97
            NF4/4/sym/GROUP/7/MINMAX/F16 c5368799
            NF4/4/sym/GROUP/7/MINMAX/F32 a113c032
            NF4/4/sym/GROUP/7/PERCENTILE/F16 e4f0437d
            NF4/4/sym/GROUP/7/PERCENTILE/F32 0269773e
            NF4/4/sym/GROUP/7/MSE/F16 6f195a6c
            NF4/4/sym/GROUP/7/MSE/F32 b38e405b
            NF4/4/sym/GROUP/32/MINMAX/F16 0f642c19
            NF4/4/sym/GROUP/32/MINMAX/F32 f4b70a23
            NF4/4/sym/GROUP/32/PERCENTILE/F16 a2e8b887
            NF4/4/sym/GROUP/32/PERCENTILE/F32 0aa84413
            NF4/4/sym/GROUP/32/MSE/F16 e9851ac3
            NF4/4/sym/GROUP/32/MSE/F32 9e9e5baa
            NF4/4/sym/GROUP/64/MINMAX/F16 4ede175a
            NF4/4/sym/GROUP/64/MINMAX/F32 e7725196
            NF4/4/sym/GROUP/64/PERCENTILE/F16 69e0cc7a
            NF4/4/sym/GROUP/64/PERCENTILE/F32 4360851f
            NF4/4/sym/GROUP/64/MSE/F16 edc6f95e
            NF4/4/sym/GROUP/64/MSE/F32 69931443
            NF4/4/sym/GROUP/128/MINMAX/F16 89f7b45f
            NF4/4/sym/GROUP/128/MINMAX/F32 7804ed80
            NF4/4/sym/GROUP/128/PERCENTILE/F16 7b1062b7
            NF4/4/sym/GROUP/128/PERCENTILE/F32 866a4f51
            NF4/4/sym/GROUP/128/MSE/F16 70e6607c
            NF4/4/sym/GROUP/128/MSE/F32 17d696b7
            LOG2/4/sym/TENSOR/0/MINMAX/F16 6146a11f
            LOG2/4/sym/TENSOR/0/MINMAX/F32 f13156c3
            LOG2/4/sym/TENSOR/0/PERCENTILE/F16 ac226449
            LOG2/4/sym/TENSOR/0/PERCENTILE/F32 d1154926
            LOG2/4/sym/CHANNEL/0/MINMAX/F16 aad351cf
            LOG2/4/sym/CHANNEL/0/MINMAX/F32 7b941098
            LOG2/4/sym/CHANNEL/0/PERCENTILE/F16 c3d16e65
            LOG2/4/sym/CHANNEL/0/PERCENTILE/F32 a0522d70
            LOG2/4/sym/CHANNEL/0/MSE/F16 137918ce
            LOG2/4/sym/CHANNEL/0/MSE/F32 a5ac0d2a
            LOG2/4/sym/GROUP/7/MINMAX/F16 c46dfe4f
            LOG2/4/sym/GROUP/7/MINMAX/F32 402dfb3d
            LOG2/4/sym/GROUP/7/PERCENTILE/F16 82f23213
            LOG2/4/sym/GROUP/7/PERCENTILE/F32 dc5c4ba7
            LOG2/4/sym/GROUP/7/MSE/F16 ce901a2e
            LOG2/4/sym/GROUP/7/MSE/F32 a4ef6bb7
            LOG2/4/sym/GROUP/32/MINMAX/F16 6f9821c5
            LOG2/4/sym/GROUP/32/MINMAX/F32 c59fef24
            LOG2/4/sym/GROUP/32/PERCENTILE/F16 c19a0e71
            LOG2/4/sym/GROUP/32/PERCENTILE/F32 4b6319e7
            LOG2/4/sym/GROUP/32/MSE/F16 9f12127b
            LOG2/4/sym/GROUP/32/MSE/F32 e0d96484
            LOG2/4/sym/GROUP/64/MINMAX/F16 d586fbed
            LOG2/4/sym/GROUP/64/MINMAX/F32 a8279997
            LOG2/4/sym/GROUP/64/PERCENTILE/F16 508a29d7
            LOG2/4/sym/GROUP/64/PERCENTILE/F32 73033f93
            LOG2/4/sym/GROUP/64/MSE/F16 6b8f5d8d
            LOG2/4/sym/GROUP/64/MSE/F32 aa4cdf29
            LOG2/4/sym/GROUP/128/MINMAX/F16 0b0e0f4a
            LOG2/4/sym/GROUP/128/MINMAX/F32 1381bc93
            LOG2/4/sym/GROUP/128/PERCENTILE/F16 5e99b27f
            LOG2/4/sym/GROUP/128/PERCENTILE/F32 f4501c93
            LOG2/4/sym/GROUP/128/MSE/F16 292a29df
            LOG2/4/sym/GROUP/128/MSE/F32 8133af3f
            """;
}
