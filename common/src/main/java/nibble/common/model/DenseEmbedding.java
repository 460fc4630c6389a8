package nibble.common.model;

/** An {@link Embedding} over a row-major {@code [vocab, dim]} float matrix. */
public final class DenseEmbedding implements Embedding {
    private final float[] table;
    private final int vocab;
    private final int dim;

    /** Wraps {@code table} (not copied). */
    public DenseEmbedding(float[] table, int vocab, int dim) {
        if (vocab <= 0 || dim <= 0 || (long) vocab * dim != table.length) {
            throw new IllegalArgumentException("table of " + table.length + " values is not " + vocab + " x " + dim);
        }
        this.table = table;
        this.vocab = vocab;
        this.dim = dim;
    }

    @Override
    public int vocabSize() {
        return vocab;
    }

    @Override
    public int dim() {
        return dim;
    }

    @Override
    public void row(int token, float[] out) {
        System.arraycopy(table, token * dim, out, 0, dim);
    }

    @Override
    public Linear asLinear() {
        return new DenseLinear(table, vocab, dim);
    }
}
