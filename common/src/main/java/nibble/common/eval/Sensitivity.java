package nibble.common.eval;

import java.util.List;
import nibble.common.model.LlamaModel;
import nibble.common.quant.Quantizer;
import nibble.common.quant.Scheme;

/**
 * How much one tensor's quantization costs the model: the mean KLD, over every position of the
 * calibration sequences, between the original model's next-token distribution and that of the
 * model with only this tensor quantized. {@link nibble.common.quant.BudgetPlan} adds these up.
 */
public final class Sensitivity {
    private Sensitivity() {
    }

    /** Mean KL(reference ‖ model) over every position of {@code sequences}; {@code reference} holds their logits. */
    public static double meanKld(LlamaModel model, List<int[]> sequences, List<float[][]> reference) {
        double sum = 0;
        long n = 0;
        for (int s = 0; s < sequences.size(); s++) {
            int[] tokens = sequences.get(s);
            float[][] q = model.logits(tokens);
            float[][] p = reference.get(s);
            for (int t = 0; t < tokens.length; t++) {
                sum += Divergence.of(p[t], q[t], t + 1 < tokens.length ? tokens[t + 1] : 0).kl();
                n++;
            }
        }
        return n == 0 ? 0 : sum / n;
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
