package nibble.common.report;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import nibble.common.model.ActivationQuant;
import nibble.common.eval.Estimate;
import nibble.common.eval.SequenceStats;
import nibble.common.eval.Summary;

/** Reports for the tests: one from realistic-looking numbers, and hand-made summaries. */
final class Samples {
    private Samples() {
    }

    static Estimate est(double mean) {
        return new Estimate(mean, mean * 0.98, mean * 1.02, 8);
    }

    /** A summary with the given perplexities, mean KLD and top-1 agreement. */
    static Summary summary(double pplP, double pplQ, double kl, double top1) {
        return new Summary(8, 8 * 255L, est(Math.log(pplP)), est(Math.log(pplQ)), est(pplP), est(pplQ), est(kl),
                kl / 3, kl * 12, est(top1), est(0.41), est(0.40));
    }

    /** A 4-layer Llama-like table quantized to int4 g32, evaluated over 16 random sequences. */
    static EvalReport realistic(Gate.Thresholds thresholds, boolean withModel) {
        SplittableRandom r = new SplittableRandom(42);
        List<TensorError> tensors = new ArrayList<>();
        tensors.add(tensor(r, "model.embed_tokens.weight", "int8 channel", 8.25, 32000L * 2048));
        String[] parts = {"self_attn.q_proj", "self_attn.k_proj", "self_attn.v_proj", "self_attn.o_proj",
            "mlp.gate_proj", "mlp.up_proj", "mlp.down_proj"};
        for (int layer = 0; layer < 4; layer++) {
            tensors.add(keep("model.layers." + layer + ".input_layernorm.weight", 2048));
            for (String p : parts) {
                boolean mlp = p.startsWith("mlp");
                boolean down = p.equals("mlp.down_proj");
                tensors.add(tensor(r, "model.layers." + layer + "." + p + ".weight",
                        down ? "int8 g128" : "int4 g32 mse", down ? 8.125 : 4.5, mlp ? 2048L * 5632 : 2048L * 2048));
            }
            tensors.add(keep("model.layers." + layer + ".post_attention_layernorm.weight", 2048));
        }
        tensors.add(keep("model.norm.weight", 2048));
        tensors.add(tensor(r, "lm_head.weight", "int8 channel", 8.25, 32000L * 2048));
        ModelLevel model = null;
        if (withModel) {
            List<SequenceStats> seqs = new ArrayList<>();
            List<Double> all = new ArrayList<>();
            for (int s = 0; s < 16; s++) {
                int n = 255;
                double[] kl = new double[n];
                for (int t = 0; t < n; t++) {
                    kl[t] = r.nextInt(20) == 0 ? 0 : Math.exp(-4.5 + 1.6 * r.nextGaussian());
                    all.add(kl[t]);
                }
                double nllP = 2.05 + 0.15 * r.nextGaussian();
                double meanKl = java.util.Arrays.stream(kl).average().orElse(0);
                seqs.add(new SequenceStats(n, nllP, nllP + 0.6 * meanKl + 0.002 * r.nextGaussian(), meanKl,
                        0.93 + 0.015 * r.nextGaussian(), 0.44 + 0.03 * r.nextGaussian(),
                        0.435 + 0.03 * r.nextGaussian(), kl));
            }
            model = new ModelLevel(Summary.of(seqs), 1234, 256, 99L,
                    KldHistogram.of(all.stream().mapToDouble(Double::doubleValue).toArray()));
        }
        return EvalReport.of("s3a://models/tinyllama-1.1b/original", "s3a://models/tinyllama-1.1b/int4-g32",
                "int4-g32-mse", ActivationQuant.NONE, thresholds, model, tensors);
    }

    private static TensorError tensor(SplittableRandom r, String name, String scheme, double bpw, long n) {
        double signal = n * 4e-4 * (1 + 0.3 * r.nextDouble());
        double sqnrDb = (bpw > 8 ? 42 : 19) + 1.5 * r.nextGaussian();
        double noise = signal / Math.pow(10, sqnrDb / 10);
        return new TensorError(name, TensorError.layerOf(name), scheme, bpw, n, noise / n, sqnrDb,
                (bpw > 8 ? 0.002 : 0.03) * (1 + r.nextDouble()), 1 - 0.5 * noise / signal, signal, noise);
    }

    private static TensorError keep(String name, long n) {
        return new TensorError(name, TensorError.layerOf(name), "keep", 16, n, 0, null, 0, 1, n * 1.0, 0);
    }
}
