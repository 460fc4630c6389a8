package nibble.common.model;

import nibble.common.quant.Quantizer;
import nibble.common.quant.RowLayout;
import nibble.common.quant.Scheme;

/**
 * A matrix held as the quantized table stores it: per row the packed codes, scales and zero-points.
 * Products sum exactly as {@link DenseLinear} does over the dequantized values, so the result equals
 * a dense model fed the dequantized weights bit for bit, while memory stays at the packed size.
 * 4-bit rows decode nibbles inside the product ({@link #dotInt4}); other rows are dequantized into a
 * scratch vector first.
 */
public final class QuantizedMatrix implements Linear, Embedding {
    private final Scheme scheme;
    private final RowLayout layout;
    private final int rows;
    private final int cols;
    private final byte[][] codes;
    private final byte[][] scales;
    private final byte[][] zeros;
    private final boolean fused;

    /**
     * Wraps the rows (not copied); {@code zeros} rows are null for symmetric schemes. Throws
     * {@link nibble.common.InvalidInputException} when a row's stored sizes do not fit the scheme.
     */
    public QuantizedMatrix(Scheme scheme, int rows, int cols, byte[][] codes, byte[][] scales, byte[][] zeros) {
        if (codes.length != rows || scales.length != rows || zeros.length != rows) {
            throw new IllegalArgumentException("expected " + rows + " rows of codes, scales and zeros");
        }
        RowLayout layout = RowLayout.of(scheme, cols);
        for (int r = 0; r < rows; r++) {
            layout.requireStored(codes[r], scales[r], zeros[r]);
        }
        this.scheme = scheme;
        this.layout = layout;
        this.fused = scheme.bits() == 4 && (layout.groupLength() % 4 == 0 || layout.groupCount() == 1);
        this.rows = rows;
        this.cols = cols;
        this.codes = codes;
        this.scales = scales;
        this.zeros = zeros;
    }

    /** Whether the rows are in the K-quant layout (GGUF Q4_K), whose input llama.cpp rounds to Q8_K. */
    public boolean kQuant() {
        return scheme.granularity() == nibble.common.quant.Granularity.SUPERBLOCK;
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
        if (fused) {
            float[] lut = new float[16];
            for (int r = 0; r < rows; r++) {
                out[r] = dotInt4(r, x, lut);
            }
            return;
        }
        float[] w = new float[cols];
        for (int r = 0; r < rows; r++) {
            Quantizer.dequantize(codes[r], scales[r], zeros[r], scheme, w);
            out[r] = DenseLinear.dot(w, 0, x, cols);
        }
    }

    /**
     * Decodes the weights panel by panel into {@link MatMul}'s kernel, so each group is unpacked once
     * per call whatever the number of tokens, into the same floats as {@link Quantizer#dequantize}: the
     * result equals the dense product on the dequantized matrix bit for bit. 4-bit codes are decoded
     * straight into the panel through each group's 16-entry table ({@link Quantizer#nibbleTable});
     * other widths dequantize a panel's rows once and copy them in.
     */
    @Override
    public void matmul(float[] x, int tokens, float[] out) {
        MatMul.Panels panels = scheme.bits() == 4 ? new NibblePanels() : new RowPanels();
        MatMul.multiply(panels, rows, cols, x, cols, tokens, out, rows);
    }

    /** Four code bytes (eight nibbles) at a time, low nibble first as the rows store them. */
    private static final java.lang.invoke.VarHandle LE_INT =
            java.lang.invoke.MethodHandles.byteArrayViewVarHandle(int[].class, java.nio.ByteOrder.LITTLE_ENDIAN);

    /** 4-bit rows decoded through group tables straight into the panel. */
    private final class NibblePanels implements MatMul.Panels {
        private final float[] lut = new float[16];

        @Override
        public void pack(int r0, int nr, int k0, int kb, float[] panel) {
            int p = MatMul.PANEL;
            int len = layout.groupLength();
            int end = k0 + kb;
            for (int j = 0; j < nr; j++) {
                int r = r0 + j;
                byte[] c = codes[r];
                int k = k0;
                while (k < end) {
                    int g = k / len;
                    Quantizer.nibbleTable(layout, scales[r], zeros[r], g, lut);
                    int to = Math.min(end, (g + 1) * len);
                    int o = (k - k0) * p + j;
                    if ((k & 1) == 1 && k < to) {
                        panel[o] = lut[(c[k >> 1] >> 4) & 0xf];
                        k++;
                        o += p;
                    }
                    for (; k + 7 < to; k += 8, o += 8 * p) {
                        int v = (int) LE_INT.get(c, k >> 1);
                        panel[o] = lut[v & 0xf];
                        panel[o + p] = lut[(v >>> 4) & 0xf];
                        panel[o + 2 * p] = lut[(v >>> 8) & 0xf];
                        panel[o + 3 * p] = lut[(v >>> 12) & 0xf];
                        panel[o + 4 * p] = lut[(v >>> 16) & 0xf];
                        panel[o + 5 * p] = lut[(v >>> 20) & 0xf];
                        panel[o + 6 * p] = lut[(v >>> 24) & 0xf];
                        panel[o + 7 * p] = lut[(v >>> 28) & 0xf];
                    }
                    for (; k + 1 < to; k += 2, o += 2 * p) {
                        int b = c[k >> 1];
                        panel[o] = lut[b & 0xf];
                        panel[o + p] = lut[(b >> 4) & 0xf];
                    }
                    if (k < to) {
                        panel[o] = lut[c[k >> 1] & 0xf];
                        k++;
                    }
                }
            }
            for (int j = nr; j < p; j++) {
                for (int k = 0; k < kb; k++) {
                    panel[k * p + j] = 0f;
                }
            }
        }
    }

    /** Other rows dequantized a panel at a time (when its first column block is asked for), then copied. */
    private final class RowPanels implements MatMul.Panels {
        private final float[] row = new float[cols];
        private final float[] decoded = new float[MatMul.PANEL * cols];

        @Override
        public void pack(int r0, int nr, int k0, int kb, float[] panel) {
            if (k0 == 0) {
                for (int j = 0; j < nr; j++) {
                    Quantizer.dequantize(codes[r0 + j], scales[r0 + j], zeros[r0 + j], scheme, row);
                    System.arraycopy(row, 0, decoded, j * cols, cols);
                }
            }
            MatMul.packRows(decoded, 0, cols, nr, k0, kb, panel);
        }
    }

    @Override
    public void matmulReference(float[] x, int tokens, float[] out) {
        float[] w = new float[cols];
        for (int r = 0; r < rows; r++) {
            Quantizer.dequantizeReference(codes[r], scales[r], zeros[r], scheme, w);
            for (int t = 0; t < tokens; t++) {
                float s = 0f;
                for (int c = 0; c < cols; c++) {
                    s = Math.fma(w[c], x[t * cols + c], s);
                }
                out[t * rows + r] = s;
            }
        }
    }

    /**
     * Row {@code r} · x for 4-bit codes, decoding nibbles through each group's 16-entry table as it
     * goes: the same products added to the same four accumulators in the same order as {@link
     * DenseLinear#dot} on the dequantized row, without writing that row out. Needs every group
     * boundary on a multiple of 4 (or one group), so no quad of columns straddles two groups.
     */
    private float dotInt4(int r, float[] x, float[] lut) {
        byte[] c = codes[r];
        int len = layout.groupLength();
        int n4 = cols & ~3;
        float s0 = 0;
        float s1 = 0;
        float s2 = 0;
        float s3 = 0;
        int g = -1;
        int groupEnd = 0;
        int i = 0;
        for (; i < n4; i += 4) {
            if (i >= groupEnd) {
                Quantizer.nibbleTable(layout, scales[r], zeros[r], ++g, lut);
                groupEnd = (g + 1) * len;
            }
            int b0 = c[i >> 1];
            int b1 = c[(i >> 1) + 1];
            s0 += lut[b0 & 0xf] * x[i];
            s1 += lut[(b0 >> 4) & 0xf] * x[i + 1];
            s2 += lut[b1 & 0xf] * x[i + 2];
            s3 += lut[(b1 >> 4) & 0xf] * x[i + 3];
        }
        for (; i < cols; i++) {
            if (i >= groupEnd) {
                Quantizer.nibbleTable(layout, scales[r], zeros[r], ++g, lut);
                groupEnd = (g + 1) * len;
            }
            s0 += lut[(c[i >> 1] >> ((i & 1) << 2)) & 0xf] * x[i];
        }
        return (s0 + s1) + (s2 + s3);
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
