package nibble.common.model;

import nibble.common.quant.Quantizer;
import nibble.common.quant.Scheme;

/**
 * A matrix held as the quantized table stores it: per row the packed codes, scales and zero-points.
 * Products dequantize one row at a time into a scratch vector and sum exactly as {@link DenseLinear}
 * does, so the result equals a dense model fed the dequantized weights, while memory stays at the
 * packed size.
 */
public final class QuantizedMatrix implements Linear, Embedding {
    private final Scheme scheme;
    private final int rows;
    private final int cols;
    private final byte[][] codes;
    private final byte[][] scales;
    private final byte[][] zeros;

    /** Wraps the rows (not copied); {@code zeros} rows are null for symmetric schemes. */
    public QuantizedMatrix(Scheme scheme, int rows, int cols, byte[][] codes, byte[][] scales, byte[][] zeros) {
        if (codes.length != rows || scales.length != rows || zeros.length != rows) {
            throw new IllegalArgumentException("expected " + rows + " rows of codes, scales and zeros");
        }
        this.scheme = scheme;
        this.rows = rows;
        this.cols = cols;
        this.codes = codes;
        this.scales = scales;
        this.zeros = zeros;
    }

    @Override
    public int rows() {
        return rows;
    }

    @Override
    public int cols() {
        return cols;
    }

    @Override
    public void matvec(float[] x, float[] out) {
        float[] w = new float[cols];
        for (int r = 0; r < rows; r++) {
            Quantizer.dequantize(codes[r], scales[r], zeros[r], scheme, w);
            out[r] = DenseLinear.dot(w, 0, x, cols);
        }
    }

    @Override
    public int vocabSize() {
        return rows;
    }

    @Override
    public int dim() {
        return cols;
    }

    @Override
    public void row(int token, float[] out) {
        Quantizer.dequantize(codes[token], scales[token], zeros[token], scheme, out);
    }

    @Override
    public Linear asLinear() {
        return this;
    }
}
