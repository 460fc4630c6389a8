package nibble.common.model;

import java.io.IOException;
import nibble.common.InvalidInputException;

/**
 * Where a model's weights come from, in the form the model uses them: norm vectors as floats, matrices
 * as {@link Linear}s and the embedding as an {@link Embedding}, so a quantized model can keep its
 * matrices packed.
 */
public interface WeightSource {

    /** A 1-D tensor of {@code n} values. */
    float[] vector(String name, int n) throws IOException;

    /** A {@code [rows, cols]} matrix. */
    Linear linear(String name, int rows, int cols) throws IOException;

    /** A {@code [vocab, dim]} embedding table. */
    Embedding embedding(String name, int vocab, int dim) throws IOException;

    /** Dense float weights from a {@link TensorSource}, each tensor's value count checked. */
    static WeightSource dense(TensorSource src) {
        return new WeightSource() {
            @Override
            public float[] vector(String name, int n) throws IOException {
                return values(name, n);
            }

            @Override
            public Linear linear(String name, int rows, int cols) throws IOException {
                return new DenseLinear(values(name, (long) rows * cols), rows, cols);
            }

            @Override
            public Embedding embedding(String name, int vocab, int dim) throws IOException {
                return new DenseEmbedding(values(name, (long) vocab * dim), vocab, dim);
            }

            private float[] values(String name, long expected) throws IOException {
                float[] t = src.tensor(name);
                if (t.length != expected) {
                    throw new InvalidInputException("tensor '" + name + "': " + t.length + " values, expected " + expected);
                }
                return t;
            }
        };
    }
}
