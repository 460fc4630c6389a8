package nibble.common.synth;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.List;
import nibble.common.DType;
import nibble.common.InvalidInputException;
import nibble.common.TensorInfo;
import org.junit.jupiter.api.Test;

class SyntheticValuesTest {

    @Test
    void matricesAreHeavyTailedWithOutlierInputChannels() {
        int rows = 1024;
        int cols = 2048;
        SyntheticValues v = SyntheticValues.of(new TensorInfo("model.layers.0.mlp.up_proj.weight", DType.F32,
                new long[] {rows, cols}), 42);
        double sum = 0;
        double sum2 = 0;
        float[] colAbsMax = new float[cols];
        float[] row = new float[cols];
        for (int r = 0; r < rows; r++) {
            v.fillRow(r, row);
            for (int c = 0; c < cols; c++) {
                double x = row[c];
                sum += x;
                sum2 += x * x;
                colAbsMax[c] = Math.max(colAbsMax[c], Math.abs(row[c]));
            }
        }
        long n = (long) rows * cols;
        double mean = sum / n;
        double var = sum2 / n - mean * mean;
        double std = Math.sqrt(var);
        assertTrue(std > 0.014 && std < 0.026, "std " + std);

        int[] outliers = v.outlierColumns();
        assertEquals(Math.round(cols * SyntheticValues.OUTLIER_FRACTION), outliers.length);
        // kurtosis of the body: columns at their own scale, without the outlier columns' scale mixing in
        double bodySum2 = 0;
        double bodySum4 = 0;
        long bodyN = 0;
        for (int r = 0; r < rows; r++) {
            v.fillRow(r, row);
            for (int c = 0; c < cols; c++) {
                if (Arrays.binarySearch(outliers, c) < 0) {
                    double x2 = (double) row[c] * row[c];
                    bodySum2 += x2;
                    bodySum4 += x2 * x2;
                    bodyN++;
                }
            }
        }
        double m2 = bodySum2 / bodyN;
        double excessKurtosis = bodySum4 / bodyN / (m2 * m2) - 3;
        assertTrue(excessKurtosis > 1, "excess kurtosis " + excessKurtosis);

        float[] sorted = colAbsMax.clone();
        Arrays.sort(sorted);
        float median = sorted[cols / 2];
        for (int c : outliers) {
            assertTrue(colAbsMax[c] >= 5 * median, "outlier column " + c + " absmax " + colAbsMax[c]
                    + " vs median " + median);
        }
    }

    @Test
    void normWeightsAreNearOne() {
        float[] w = SyntheticValues.of(new TensorInfo("model.norm.weight", DType.F32, new long[] {4096}), 1).row(0);
        double sum = 0;
        for (float x : w) {
            assertTrue(x >= 0.95f && x <= 1.05f, "norm weight " + x);
            sum += x;
        }
        assertEquals(1.0, sum / w.length, 0.01);
    }

    @Test
    void rowsDependOnSeedNameAndRow() {
        TensorInfo t = new TensorInfo("a", DType.F32, new long[] {4, 64});
        float[] r0 = SyntheticValues.of(t, 1).row(0);
        assertEquals(Arrays.toString(r0), Arrays.toString(SyntheticValues.of(t, 1).row(0)));
        assertTrue(!Arrays.equals(r0, SyntheticValues.of(t, 1).row(1)));
        assertTrue(!Arrays.equals(r0, SyntheticValues.of(t, 2).row(0)));
        TensorInfo b = new TensorInfo("b", DType.F32, new long[] {4, 64});
        assertTrue(!Arrays.equals(r0, SyntheticValues.of(b, 1).row(0)));
    }

    @Test
    void presets() {
        assertEquals(List.of("bench-2g", "bench-4g", "demo", "tiny"), SyntheticSpec.presetNames());
        assertTrue(SyntheticSpec.preset("bench-4g").dataBytes() >= 4L << 30);
        assertTrue(SyntheticSpec.preset("bench-2g").dataBytes() >= 2L << 30);
        long demo = SyntheticSpec.preset("demo").dataBytes();
        assertTrue(demo >= 10_000_000 && demo <= 20_000_000, "demo " + demo);
        long tiny = SyntheticSpec.preset("tiny").dataBytes();
        assertTrue(tiny >= 100_000 && tiny <= 1_000_000, "tiny " + tiny);
        assertEquals(DType.BF16, SyntheticSpec.preset("TINY").withDtype(DType.BF16).dtype());
        InvalidInputException e = assertThrows(InvalidInputException.class, () -> SyntheticSpec.preset("huge"));
        assertTrue(e.getMessage().contains("'huge'") && e.getMessage().contains("tiny"), e.getMessage());
        assertThrows(InvalidInputException.class, () -> new SyntheticSpec(60, 10, 1, 8, 4, 10, DType.F32, 1, true));
        assertThrows(InvalidInputException.class, () -> new SyntheticSpec(64, 10, 1, 8, 3, 10, DType.F32, 1, true));
    }

    @Test
    void tensorNamesAndShapesAreHuggingFaceLlama() {
        SyntheticSpec s = SyntheticSpec.preset("tiny");
        List<TensorInfo> t = s.tensors();
        assertEquals(1 + 2 * 9 + 1 + 1, t.size());
        assertEquals("model.embed_tokens.weight", t.get(0).name());
        assertTrue(Arrays.equals(new long[] {256, 64}, t.get(0).shape()));
        TensorInfo k = t.stream().filter(x -> x.name().equals("model.layers.1.self_attn.k_proj.weight")).findFirst()
                .orElseThrow();
        assertTrue(Arrays.equals(new long[] {32, 64}, k.shape()));
        TensorInfo down = t.stream().filter(x -> x.name().equals("model.layers.0.mlp.down_proj.weight")).findFirst()
                .orElseThrow();
        assertTrue(Arrays.equals(new long[] {64, 176}, down.shape()));
        assertEquals("lm_head.weight", t.get(t.size() - 1).name());
        assertTrue(s.withTieWordEmbeddings(true).tensors().stream().noneMatch(x -> x.name().equals("lm_head.weight")));
    }
}
