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
 * Golden digests recorded from the quantizer as it was before the codec refactor (the code of
 * commit 6bec0c9): for every scheme, a CRC-32 over the codes, scales and zero-points of seeded rows
 * from both {@code quantize} and {@code quantizeReference}, the floats both dequantize paths give
 * back, and the messages of the rows that are rejected; and one over stored row sizes and bits per
 * weight (then {@code QuantDetails.storedRowBytes} and {@code Scheme.bitsPerWeight}). A change to
 * any output byte or float changes a digest. {@code -Dgolden.print=true} prints the digests.
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

    /** Recorded from {@code QuantDetails.storedRowBytes}, which the layout replaces. */
    static long storedRowBytes(Scheme s, int n) {
        return RowLayout.of(s, n).storedBytes();
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
            case 11, 12, 13, 14, 15 -> {
                // a power-of-two grid: exact ranges and scales, so codes and zero-points fall on rounding ties
                int width = 1 + r.nextInt(60);
                int shift = r.nextInt(width + 1);
                float step = Math.scalb(1f, -r.nextInt(12));
                x = new float[n];
                for (int i = 0; i < n; i++) {
                    x[i] = (r.nextInt(width + 1) - shift) * step;
                }
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
                        if (g == Granularity.SUPERBLOCK) {
                            continue; // one fixed layout, pinned by SuperBlockCodecTest
                        }
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
            UNIFORM/4/sym/TENSOR/0/MINMAX/F16 00822beb
            UNIFORM/4/sym/TENSOR/0/MINMAX/F32 60312607
            UNIFORM/4/sym/TENSOR/0/PERCENTILE/F16 21018725
            UNIFORM/4/sym/TENSOR/0/PERCENTILE/F32 24b55809
            UNIFORM/4/sym/CHANNEL/0/MINMAX/F16 7da9a9a4
            UNIFORM/4/sym/CHANNEL/0/MINMAX/F32 23abd0d5
            UNIFORM/4/sym/CHANNEL/0/PERCENTILE/F16 7cd6dde4
            UNIFORM/4/sym/CHANNEL/0/PERCENTILE/F32 80dffeb0
            UNIFORM/4/sym/CHANNEL/0/MSE/F16 684b9ba5
            UNIFORM/4/sym/CHANNEL/0/MSE/F32 831830d7
            UNIFORM/4/sym/GROUP/7/MINMAX/F16 4dcce83a
            UNIFORM/4/sym/GROUP/7/MINMAX/F32 5d5c079f
            UNIFORM/4/sym/GROUP/7/PERCENTILE/F16 2cf322ae
            UNIFORM/4/sym/GROUP/7/PERCENTILE/F32 357eaa52
            UNIFORM/4/sym/GROUP/7/MSE/F16 ec057c1c
            UNIFORM/4/sym/GROUP/7/MSE/F32 bfc0df58
            UNIFORM/4/sym/GROUP/32/MINMAX/F16 b4f8e061
            UNIFORM/4/sym/GROUP/32/MINMAX/F32 c5c487dc
            UNIFORM/4/sym/GROUP/32/PERCENTILE/F16 0fa64567
            UNIFORM/4/sym/GROUP/32/PERCENTILE/F32 99bf7645
            UNIFORM/4/sym/GROUP/32/MSE/F16 deedcb5c
            UNIFORM/4/sym/GROUP/32/MSE/F32 0d4cd3ac
            UNIFORM/4/sym/GROUP/64/MINMAX/F16 36ff23e1
            UNIFORM/4/sym/GROUP/64/MINMAX/F32 5011e866
            UNIFORM/4/sym/GROUP/64/PERCENTILE/F16 0d857b9b
            UNIFORM/4/sym/GROUP/64/PERCENTILE/F32 e4278613
            UNIFORM/4/sym/GROUP/64/MSE/F16 d2fe2ac7
            UNIFORM/4/sym/GROUP/64/MSE/F32 fde433fb
            UNIFORM/4/sym/GROUP/128/MINMAX/F16 c231991d
            UNIFORM/4/sym/GROUP/128/MINMAX/F32 d9492720
            UNIFORM/4/sym/GROUP/128/PERCENTILE/F16 66a49259
            UNIFORM/4/sym/GROUP/128/PERCENTILE/F32 2579533b
            UNIFORM/4/sym/GROUP/128/MSE/F16 7ba75d48
            UNIFORM/4/sym/GROUP/128/MSE/F32 de3512f1
            UNIFORM/4/asym/TENSOR/0/MINMAX/F16 70505790
            UNIFORM/4/asym/TENSOR/0/MINMAX/F32 ad4ee0d8
            UNIFORM/4/asym/TENSOR/0/PERCENTILE/F16 4e81ea89
            UNIFORM/4/asym/TENSOR/0/PERCENTILE/F32 3a1cbf49
            UNIFORM/4/asym/CHANNEL/0/MINMAX/F16 01ad5847
            UNIFORM/4/asym/CHANNEL/0/MINMAX/F32 1a9b61dc
            UNIFORM/4/asym/CHANNEL/0/PERCENTILE/F16 7f03f204
            UNIFORM/4/asym/CHANNEL/0/PERCENTILE/F32 cca46da4
            UNIFORM/4/asym/CHANNEL/0/MSE/F16 32bf28dc
            UNIFORM/4/asym/CHANNEL/0/MSE/F32 ee4de2de
            UNIFORM/4/asym/GROUP/7/MINMAX/F16 f8e7a429
            UNIFORM/4/asym/GROUP/7/MINMAX/F32 eb88a140
            UNIFORM/4/asym/GROUP/7/PERCENTILE/F16 ad438a13
            UNIFORM/4/asym/GROUP/7/PERCENTILE/F32 24df932d
            UNIFORM/4/asym/GROUP/7/MSE/F16 8a0c0d1e
            UNIFORM/4/asym/GROUP/7/MSE/F32 35948254
            UNIFORM/4/asym/GROUP/32/MINMAX/F16 3e13cc13
            UNIFORM/4/asym/GROUP/32/MINMAX/F32 52f5648d
            UNIFORM/4/asym/GROUP/32/PERCENTILE/F16 c98a4c62
            UNIFORM/4/asym/GROUP/32/PERCENTILE/F32 c36a9e61
            UNIFORM/4/asym/GROUP/32/MSE/F16 a680cbad
            UNIFORM/4/asym/GROUP/32/MSE/F32 ea30e67a
            UNIFORM/4/asym/GROUP/64/MINMAX/F16 d2cd3a13
            UNIFORM/4/asym/GROUP/64/MINMAX/F32 9defc8b1
            UNIFORM/4/asym/GROUP/64/PERCENTILE/F16 a9d2acae
            UNIFORM/4/asym/GROUP/64/PERCENTILE/F32 7950f684
            UNIFORM/4/asym/GROUP/64/MSE/F16 114e6faf
            UNIFORM/4/asym/GROUP/64/MSE/F32 c5931cf8
            UNIFORM/4/asym/GROUP/128/MINMAX/F16 04c66597
            UNIFORM/4/asym/GROUP/128/MINMAX/F32 93011a98
            UNIFORM/4/asym/GROUP/128/PERCENTILE/F16 20262694
            UNIFORM/4/asym/GROUP/128/PERCENTILE/F32 83f783a2
            UNIFORM/4/asym/GROUP/128/MSE/F16 d5a61c60
            UNIFORM/4/asym/GROUP/128/MSE/F32 7bbdfecd
            UNIFORM/8/sym/TENSOR/0/MINMAX/F16 48d8aec0
            UNIFORM/8/sym/TENSOR/0/MINMAX/F32 0ac785af
            UNIFORM/8/sym/TENSOR/0/PERCENTILE/F16 079cd39f
            UNIFORM/8/sym/TENSOR/0/PERCENTILE/F32 a07948f6
            UNIFORM/8/sym/CHANNEL/0/MINMAX/F16 24e1c95f
            UNIFORM/8/sym/CHANNEL/0/MINMAX/F32 0f2accb2
            UNIFORM/8/sym/CHANNEL/0/PERCENTILE/F16 6d8ff747
            UNIFORM/8/sym/CHANNEL/0/PERCENTILE/F32 01f5806e
            UNIFORM/8/sym/CHANNEL/0/MSE/F16 9c3a5a6e
            UNIFORM/8/sym/CHANNEL/0/MSE/F32 00790bfc
            UNIFORM/8/sym/GROUP/7/MINMAX/F16 392701a3
            UNIFORM/8/sym/GROUP/7/MINMAX/F32 7cfc07b5
            UNIFORM/8/sym/GROUP/7/PERCENTILE/F16 83a97ef7
            UNIFORM/8/sym/GROUP/7/PERCENTILE/F32 c7411d77
            UNIFORM/8/sym/GROUP/7/MSE/F16 2f0ad077
            UNIFORM/8/sym/GROUP/7/MSE/F32 3af9d28f
            UNIFORM/8/sym/GROUP/32/MINMAX/F16 100499e2
            UNIFORM/8/sym/GROUP/32/MINMAX/F32 d2d99e0e
            UNIFORM/8/sym/GROUP/32/PERCENTILE/F16 43f6bb0f
            UNIFORM/8/sym/GROUP/32/PERCENTILE/F32 21308575
            UNIFORM/8/sym/GROUP/32/MSE/F16 e3588bb5
            UNIFORM/8/sym/GROUP/32/MSE/F32 e577b5fe
            UNIFORM/8/sym/GROUP/64/MINMAX/F16 623a2816
            UNIFORM/8/sym/GROUP/64/MINMAX/F32 0b64e6c0
            UNIFORM/8/sym/GROUP/64/PERCENTILE/F16 f80c2883
            UNIFORM/8/sym/GROUP/64/PERCENTILE/F32 c2297fd3
            UNIFORM/8/sym/GROUP/64/MSE/F16 22c12a34
            UNIFORM/8/sym/GROUP/64/MSE/F32 1d498176
            UNIFORM/8/sym/GROUP/128/MINMAX/F16 7c485c92
            UNIFORM/8/sym/GROUP/128/MINMAX/F32 6fbb8cbb
            UNIFORM/8/sym/GROUP/128/PERCENTILE/F16 1f27a890
            UNIFORM/8/sym/GROUP/128/PERCENTILE/F32 9afdc19b
            UNIFORM/8/sym/GROUP/128/MSE/F16 4f821181
            UNIFORM/8/sym/GROUP/128/MSE/F32 c484389b
            UNIFORM/8/asym/TENSOR/0/MINMAX/F16 987413c4
            UNIFORM/8/asym/TENSOR/0/MINMAX/F32 6f13b6e0
            UNIFORM/8/asym/TENSOR/0/PERCENTILE/F16 a04a9540
            UNIFORM/8/asym/TENSOR/0/PERCENTILE/F32 80ecad03
            UNIFORM/8/asym/CHANNEL/0/MINMAX/F16 91196be6
            UNIFORM/8/asym/CHANNEL/0/MINMAX/F32 95e9e05e
            UNIFORM/8/asym/CHANNEL/0/PERCENTILE/F16 b5513ebf
            UNIFORM/8/asym/CHANNEL/0/PERCENTILE/F32 5be724d5
            UNIFORM/8/asym/CHANNEL/0/MSE/F16 547a9022
            UNIFORM/8/asym/CHANNEL/0/MSE/F32 898571bf
            UNIFORM/8/asym/GROUP/7/MINMAX/F16 c56b2a49
            UNIFORM/8/asym/GROUP/7/MINMAX/F32 f26725d7
            UNIFORM/8/asym/GROUP/7/PERCENTILE/F16 b68e84d4
            UNIFORM/8/asym/GROUP/7/PERCENTILE/F32 0c0a6eda
            UNIFORM/8/asym/GROUP/7/MSE/F16 6b3232c6
            UNIFORM/8/asym/GROUP/7/MSE/F32 13c8feba
            UNIFORM/8/asym/GROUP/32/MINMAX/F16 af45bfa1
            UNIFORM/8/asym/GROUP/32/MINMAX/F32 001f8da3
            UNIFORM/8/asym/GROUP/32/PERCENTILE/F16 48c9da0a
            UNIFORM/8/asym/GROUP/32/PERCENTILE/F32 8fedb4f4
            UNIFORM/8/asym/GROUP/32/MSE/F16 7b90eb17
            UNIFORM/8/asym/GROUP/32/MSE/F32 5e22b229
            UNIFORM/8/asym/GROUP/64/MINMAX/F16 12fbfe2f
            UNIFORM/8/asym/GROUP/64/MINMAX/F32 4095dd20
            UNIFORM/8/asym/GROUP/64/PERCENTILE/F16 ebf9e54c
            UNIFORM/8/asym/GROUP/64/PERCENTILE/F32 4a8d21cc
            UNIFORM/8/asym/GROUP/64/MSE/F16 d4a1867d
            UNIFORM/8/asym/GROUP/64/MSE/F32 9225c5ae
            UNIFORM/8/asym/GROUP/128/MINMAX/F16 1ac2c57b
            UNIFORM/8/asym/GROUP/128/MINMAX/F32 34119047
            UNIFORM/8/asym/GROUP/128/PERCENTILE/F16 9ffd3e28
            UNIFORM/8/asym/GROUP/128/PERCENTILE/F32 fdc23d4c
            UNIFORM/8/asym/GROUP/128/MSE/F16 92c1a061
            UNIFORM/8/asym/GROUP/128/MSE/F32 e881088d
            NF4/4/sym/TENSOR/0/MINMAX/F16 26d6ba37
            NF4/4/sym/TENSOR/0/MINMAX/F32 9a68e41f
            NF4/4/sym/TENSOR/0/PERCENTILE/F16 0cb499d5
            NF4/4/sym/TENSOR/0/PERCENTILE/F32 9c61d834
            NF4/4/sym/CHANNEL/0/MINMAX/F16 a71d96c3
            NF4/4/sym/CHANNEL/0/MINMAX/F32 9bc27701
            NF4/4/sym/CHANNEL/0/PERCENTILE/F16 2e5ca237
            NF4/4/sym/CHANNEL/0/PERCENTILE/F32 c1d9d763
            NF4/4/sym/CHANNEL/0/MSE/F16 66c7d68b
            NF4/4/sym/CHANNEL/0/MSE/F32 8017becc
            NF4/4/sym/GROUP/7/MINMAX/F16 9355bbfa
            NF4/4/sym/GROUP/7/MINMAX/F32 20234c76
            NF4/4/sym/GROUP/7/PERCENTILE/F16 cc83ea83
            NF4/4/sym/GROUP/7/PERCENTILE/F32 f1c6c1de
            NF4/4/sym/GROUP/7/MSE/F16 a99d95ab
            NF4/4/sym/GROUP/7/MSE/F32 d1315e58
            NF4/4/sym/GROUP/32/MINMAX/F16 df282d3b
            NF4/4/sym/GROUP/32/MINMAX/F32 0e22e95b
            NF4/4/sym/GROUP/32/PERCENTILE/F16 dfa04d5e
            NF4/4/sym/GROUP/32/PERCENTILE/F32 c9ea715a
            NF4/4/sym/GROUP/32/MSE/F16 3c871843
            NF4/4/sym/GROUP/32/MSE/F32 0d3bbd81
            NF4/4/sym/GROUP/64/MINMAX/F16 9b647b05
            NF4/4/sym/GROUP/64/MINMAX/F32 15caf56f
            NF4/4/sym/GROUP/64/PERCENTILE/F16 84265ceb
            NF4/4/sym/GROUP/64/PERCENTILE/F32 35eb6662
            NF4/4/sym/GROUP/64/MSE/F16 74208e0c
            NF4/4/sym/GROUP/64/MSE/F32 f3e9a2cd
            NF4/4/sym/GROUP/128/MINMAX/F16 17df2750
            NF4/4/sym/GROUP/128/MINMAX/F32 a6a41285
            NF4/4/sym/GROUP/128/PERCENTILE/F16 1e9b699c
            NF4/4/sym/GROUP/128/PERCENTILE/F32 dacd0f88
            NF4/4/sym/GROUP/128/MSE/F16 00b4dcd5
            NF4/4/sym/GROUP/128/MSE/F32 0bb58faf
            LOG2/4/sym/TENSOR/0/MINMAX/F16 3947acc0
            LOG2/4/sym/TENSOR/0/MINMAX/F32 611ee82f
            LOG2/4/sym/TENSOR/0/PERCENTILE/F16 e7d0d5af
            LOG2/4/sym/TENSOR/0/PERCENTILE/F32 f24410fc
            LOG2/4/sym/CHANNEL/0/MINMAX/F16 62353a3b
            LOG2/4/sym/CHANNEL/0/MINMAX/F32 785ace6c
            LOG2/4/sym/CHANNEL/0/PERCENTILE/F16 2845d0be
            LOG2/4/sym/CHANNEL/0/PERCENTILE/F32 9e5ce540
            LOG2/4/sym/CHANNEL/0/MSE/F16 c400a748
            LOG2/4/sym/CHANNEL/0/MSE/F32 f539a384
            LOG2/4/sym/GROUP/7/MINMAX/F16 c8bfcb55
            LOG2/4/sym/GROUP/7/MINMAX/F32 dc923f01
            LOG2/4/sym/GROUP/7/PERCENTILE/F16 95b271e2
            LOG2/4/sym/GROUP/7/PERCENTILE/F32 51a7dae7
            LOG2/4/sym/GROUP/7/MSE/F16 21fd4892
            LOG2/4/sym/GROUP/7/MSE/F32 c96fca07
            LOG2/4/sym/GROUP/32/MINMAX/F16 062bbf09
            LOG2/4/sym/GROUP/32/MINMAX/F32 015fd45f
            LOG2/4/sym/GROUP/32/PERCENTILE/F16 164b8ffd
            LOG2/4/sym/GROUP/32/PERCENTILE/F32 e428e809
            LOG2/4/sym/GROUP/32/MSE/F16 8ee7baca
            LOG2/4/sym/GROUP/32/MSE/F32 ff104de6
            LOG2/4/sym/GROUP/64/MINMAX/F16 5548e8df
            LOG2/4/sym/GROUP/64/MINMAX/F32 daee24a0
            LOG2/4/sym/GROUP/64/PERCENTILE/F16 e2a93c1d
            LOG2/4/sym/GROUP/64/PERCENTILE/F32 3fb5a8cd
            LOG2/4/sym/GROUP/64/MSE/F16 354e12f0
            LOG2/4/sym/GROUP/64/MSE/F32 110ad382
            LOG2/4/sym/GROUP/128/MINMAX/F16 f71ef963
            LOG2/4/sym/GROUP/128/MINMAX/F32 e8a05bf3
            LOG2/4/sym/GROUP/128/PERCENTILE/F16 44537d6f
            LOG2/4/sym/GROUP/128/PERCENTILE/F32 b0bc91f4
            LOG2/4/sym/GROUP/128/MSE/F16 d161b284
            LOG2/4/sym/GROUP/128/MSE/F32 0248b235
            """;
}
