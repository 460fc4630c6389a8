package nibble.common.model;

/** A token embedding table: one {@code dim()}-vector per token id, whatever the storage. */
public interface Embedding {

    int vocabSize();

    int dim();

    /** Copies token {@code token}'s vector into {@code out}. */
    void row(int token, float[] out);

    /** The same matrix as a {@code [vocab, dim]} {@link Linear}: the output head of a tied model. */
    Linear asLinear();
}
