package nibble.common.eval;

import java.util.List;
import nibble.common.model.LlamaModel;
import nibble.common.quant.Quantizer;
import nibble.common.quant.Scheme;

/**
 * How much one tensor's quantization costs the model, measured on the calibration sequences with
 * only this tensor quantized: the mean KLD over every position between the original model's
 * next-token distribution and the model's, and the mean increase of the next token's negative
 * log-likelihood over every position that has a next token (the log of the perplexity ratio).
 * {@link nibble.common.quant.BudgetPlan} adds these up.
 */
public final class Sensitivity {
    private Sensitivity() {
    }

    /** A measurement: mean KL(original ‖ model), and mean NLL(model) − NLL(original) of the next token. */
    public record Cost(double kld, double nllIncrease) implements java.io.Serializable {
    }

    /** Measures {@code model} on {@code sequences}; {@code reference} holds the original model's logits for them. */
    public static Cost measure(LlamaModel model, List<int[]> sequences, List<float[][]> reference) {
        double kl = 0;
        double nll = 0;
        long n = 0;
        long next = 0;
        for (int s = 0; s < sequences.size(); s++) {
            int[] tokens = sequences.get(s);
            float[][] q = model.logits(tokens);
            float[][] p = reference.get(s);
            for (int t = 0; t < tokens.length; t++) {
                boolean hasNext = t + 1 < tokens.length;
                Divergence d = Divergence.of(p[t], q[t], hasNext ? tokens[t + 1] : 0);
                kl += d.kl();
                n++;
                if (hasNext) {
                    nll += d.logProbP() - d.logProbQ();
                    next++;
                }
            }
        }
        return new Cost(n == 0 ? 0 : kl / n, next == 0 ? 0 : nll / next);
    }

    /**
     * The {@code [rows, cols]} matrix as a quantized table stores it and the model reads it back:
     * each row quantized with {@code scheme} and dequantized.
     */
    public static float[] roundTrip(String tensor, float[] values, int rows, int cols, Scheme scheme) {
        float[] out = new float[values.length];
        float[] row = new float[cols];
        for (int r = 0; r < rows; r++) {
            System.arraycopy(values, r * cols, row, 0, cols);
            float[] back = Quantizer.dequantize(Quantizer.quantize(tensor, r, row, scheme), scheme, cols);
            System.arraycopy(back, 0, out, r * cols, cols);
        }
        return out;
    }
}
