package nibble.common.eval;

import nibble.common.InvalidInputException;

/**
 * A model produced a NaN or infinite logit. Evaluating such a model would compare garbage (a NaN
 * softmax gives KL 0 and every argmax 0, which looks like a perfect match), so it is bad input: the
 * caller adds which table and sequence it was ({@code SequenceEval}, {@code SampleAction}).
 */
public class NonFiniteLogitsException extends InvalidInputException {
    private static final long serialVersionUID = 1L;

    /** Which model's logits: {@code "original"}, {@code "quantized"}, or {@code ""} when the caller knows. */
    private final String model;
    /** The sequence position, or -1 when unknown. */
    private final int position;

    private NonFiniteLogitsException(String model, int position, int token, float value) {
        super((model.isEmpty() ? "the model's" : "the " + model + " model's") + " logits"
                + (position >= 0 ? " at position " + position : "") + " are not finite (" + value + " for token " + token + ")");
        this.model = model;
        this.position = position;
    }

    public String model() {
        return model;
    }

    public int position() {
        return position;
    }

    /** Throws at the first NaN or infinite value of {@code logits}. */
    public static void check(float[] logits, String model, int position) {
        for (int i = 0; i < logits.length; i++) {
            if (!Float.isFinite(logits[i])) {
                throw new NonFiniteLogitsException(model, position, i, logits[i]);
            }
        }
    }
}
