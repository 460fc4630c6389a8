package nibble.common.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import nibble.common.InvalidInputException;
import nibble.common.quant.Codebook;
import nibble.common.quant.QuantizedRow;
import nibble.common.quant.Quantizer;
import nibble.common.quant.Recipe;
import nibble.common.quant.Scheme;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/** The packed runtime computes exactly what the dense runtime computes on the dequantized weights. */
class QuantizedMatrixTest {
    private static final int[] TOKENS = {1, 403, 29, 500, 7, 7, 311, 2, 96, 444, 13, 258, 81, 190, 3, 499};

    @Test
    void packedLogitsEqualDenseLogitsOfDequantizedWeights() throws IOException {
        Path model = LlamaModelTest.stories260K();
        Assumptions.assumeTrue(model != null, "stories260K is absent");
        LocalModels.LocalCheckpoint ckpt = LocalModels.open(model);
        for (String recipeName : new String[] {"int4-g32-mse", "nf4-g64", "int8-channel", "int4-k256-mse"}) {
            Recipe recipe = Recipe.load(recipeName);
            WeightSource packed = PackedWeights.of(ckpt.tensors(), (name, shape) -> (Scheme) recipe.schemeFor(name, shape));
            TensorSource dequantized = name -> {
                float[] w = ckpt.tensors().tensor(name);
                if (name.endsWith("norm.weight")) {
                    return w;
                }
                int cols = ckpt.config().hiddenSize();
                if (name.contains("down_proj")) {
                    cols = ckpt.config().intermediateSize();
                }
                Scheme s = (Scheme) recipe.schemeFor(name, new long[] {w.length / cols, cols});
                float[] out = new float[w.length];
                for (int r = 0; r < w.length / cols; r++) {
                    float[] row = java.util.Arrays.copyOfRange(w, r * cols, (r + 1) * cols);
                    System.arraycopy(Quantizer.dequantize(Quantizer.quantize(name, r, row, s), s, cols), 0, out, r * cols, cols);
                }
                return out;
            };
            LlamaModel packedModel = new LlamaModel(ckpt.config(), LlamaWeights.load(ckpt.config(), packed));
            LlamaModel denseModel = new LlamaModel(ckpt.config(), LlamaWeights.load(ckpt.config(), dequantized));
            LlamaModel original = new LlamaModel(ckpt.config(), LlamaWeights.load(ckpt.config(), ckpt.tensors()));
            float[][] a = packedModel.logits(TOKENS);
            float[][] b = denseModel.logits(TOKENS);
            for (int i = 0; i < TOKENS.length; i++) {
                assertArrayEquals(b[i], a[i], recipeName + " position " + i);
            }
            assertNotEquals(original.logits(TOKENS)[5][0], a[5][0], "quantization changes the logits");
        }
    }

    @Test
    void matvecEqualsDenseMatvecOfDequantizedRowsForEveryShape() {
        java.util.SplittableRandom rnd = new java.util.SplittableRandom(11);
        List<Scheme> schemes = List.of(Scheme.group(4, true, 32), Scheme.group(4, false, 128), Scheme.group(4, true, 33),
                Scheme.group(4, false, 7), Scheme.channel(4, true), Scheme.channel(4, false), Scheme.group(8, true, 32),
                Scheme.group(4, true, 64).withCodebook(Codebook.NF4), Scheme.group(4, true, 16).withCodebook(Codebook.LOG2),
                new Scheme(4, false, nibble.common.quant.Granularity.SUPERBLOCK, 0, Codebook.UNIFORM, nibble.common.quant.RangeMethod.MSE, 0,
                        nibble.common.quant.ScaleFormat.F16));
        for (Scheme s : schemes) {
            for (int cols : new int[] {1, 3, 4, 37, 64, 70, 129, 172}) {
                int rows = 5;
                byte[][] codes = new byte[rows][];
                byte[][] scales = new byte[rows][];
                byte[][] zeros = new byte[rows][];
                float[] dense = new float[rows * cols];
                for (int r = 0; r < rows; r++) {
                    float[] row = new float[cols];
                    for (int c = 0; c < cols; c++) {
                        row[c] = (float) (rnd.nextGaussian() * (c % 13 == 0 ? 1.0 : 0.05));
                    }
                    QuantizedRow q = Quantizer.quantize("t", r, row, s);
                    codes[r] = q.codes();
                    scales[r] = q.scales();
                    zeros[r] = q.zeros();
                    float[] y = new float[cols];
                    Quantizer.dequantizeReference(q.codes(), q.scales(), q.zeros(), s, y);
                    System.arraycopy(y, 0, dense, r * cols, cols);
                }
                float[] x = new float[cols];
                for (int c = 0; c < cols; c++) {
                    x[c] = (float) rnd.nextGaussian();
                }
                float[] expected = new float[rows];
                float[] actual = new float[rows];
                new DenseLinear(dense, rows, cols).matvec(x, expected);
                new QuantizedMatrix(s, rows, cols, codes, scales, zeros).matvec(x, actual);
                for (int r = 0; r < rows; r++) {
                    assertEquals(Float.floatToRawIntBits(expected[r]), Float.floatToRawIntBits(actual[r]), s + " cols " + cols + " row " + r);
                }
            }
        }
    }

    @Test
    void rowsThatDoNotFitTheSchemeAreRejected() {
        Scheme s = Scheme.group(4, true, 32);
        byte[][] codes = {new byte[31]};
        byte[][] scales = {new byte[4]};
        assertThrows(InvalidInputException.class, () -> new QuantizedMatrix(s, 1, 64, codes, scales, new byte[1][]));
    }
}
