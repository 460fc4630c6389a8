package nibble.common.model;

import java.io.IOException;
import java.util.function.BiFunction;
import nibble.common.quant.QuantizedRow;
import nibble.common.quant.Quantizer;
import nibble.common.quant.Scheme;

/**
 * For tests and benchmarks: a model's matrices quantized in memory and held packed, as {@code
 * evaluate} holds a quantized table; vectors (norms) stay dense.
 */
public final class PackedWeights {
    private PackedWeights() {
    }

    /** Weights from {@code source}, each matrix quantized with {@code schemeFor(name, shape)}. */
    public static WeightSource of(TensorSource source, BiFunction<String, long[], Scheme> schemeFor) {
        WeightSource dense = WeightSource.dense(source);
        return new WeightSource() {
            @Override
            public float[] vector(String name, int n) throws IOException {
                return dense.vector(name, n);
            }

            @Override
            public Linear linear(String name, int rows, int cols) throws IOException {
                return quantize(name, source.tensor(name), rows, cols, schemeFor.apply(name, new long[] {rows, cols}));
            }

            @Override
            public Embedding embedding(String name, int vocab, int dim) throws IOException {
                return quantize(name, source.tensor(name), vocab, dim, schemeFor.apply(name, new long[] {vocab, dim}));
            }
        };
    }

    /** The row-major {@code rows x cols} matrix {@code w}, quantized row by row. */
    public static QuantizedMatrix quantize(String name, float[] w, int rows, int cols, Scheme scheme) {
        byte[][] codes = new byte[rows][];
        byte[][] scales = new byte[rows][];
        byte[][] zeros = new byte[rows][];
        float[] row = new float[cols];
        for (int r = 0; r < rows; r++) {
            System.arraycopy(w, r * cols, row, 0, cols);
            QuantizedRow q = Quantizer.quantize(name, r, row, scheme);
            codes[r] = q.codes();
            scales[r] = q.scales();
            zeros[r] = q.zeros();
        }
        return new QuantizedMatrix(scheme, rows, cols, codes, scales, zeros);
    }
}
