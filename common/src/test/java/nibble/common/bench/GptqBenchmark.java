package nibble.common.bench;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;
import nibble.common.model.LlamaConfig;
import nibble.common.model.LocalModels;
import nibble.common.quant.Gptq;
import nibble.common.quant.Importance;
import nibble.common.quant.QuantizedRow;
import nibble.common.quant.Quantizer;
import nibble.common.quant.RangeMethod;
import nibble.common.quant.Scheme;

/**
 * GPTQ seconds per layer, one thread, against round-to-nearest (int4-g32) and the importance-weighted
 * clip search (int4-g32-imatrix's scheme) on the same rows in the same run: a synthetic 4096×4096
 * layer, and one SmolLM2-135M layer (its seven matrices from the GGUF given as the first argument,
 * or skipped) with a synthetic Hessian of each input's size (the cost depends on shapes only).
 * Prints the median of {@code ROUNDS} (default 3; {@code SYNTH_ROUNDS} for the synthetic layer) timings of each step, in seconds of this thread's
 * CPU time (the machine is shared: wall time would count other processes). Run from the test classpath:
 * {@code java -cp <common test classpath> nibble.common.bench.GptqBenchmark [SmolLM2.gguf]}.
 */
public final class GptqBenchmark {
    private static final Scheme RTN = Scheme.group(4, true, 32);
    private static final Scheme IMATRIX = RTN.withRange(RangeMethod.MSE).withImportance(Importance.ACTIVATIONS);
    private static final Scheme GPTQ = RTN.withImportance(Importance.HESSIAN);
    private static final int BATCH = 16;

    private GptqBenchmark() {
    }

    public static void main(String[] args) throws Exception {
        int rounds = Integer.parseInt(System.getenv().getOrDefault("ROUNDS", "3"));
        System.out.printf(Locale.ROOT, "GptqBenchmark, one thread, CPU seconds, median of %d; %s%n", rounds, java.time.LocalDate.now());
        System.out.printf(Locale.ROOT, "%-28s %9s %9s %9s %9s %9s %10s %10s%n", "layer", "factor_s", "gptq_s", "gptq1_s", "rtn_s",
                "imatrix_s", "gptq/rtn", "gptq/imat");
        SplittableRandom r = new SplittableRandom(1);
        run("synthetic 4096x4096", List.<float[][]>of(matrix(r, 4096, 4096)), 4096,
                Integer.parseInt(System.getenv().getOrDefault("SYNTH_ROUNDS", String.valueOf(rounds))), r);
        if (args.length > 0 && Files.exists(Path.of(args[0]))) {
            LocalModels.LocalCheckpoint c = LocalModels.open(Path.of(args[0]));
            LlamaConfig cfg = c.config();
            String p = "model.layers.10.";
            int dim = cfg.hiddenSize();
            List<float[][]> attn = new ArrayList<>();
            for (String t : List.of("self_attn.q_proj", "self_attn.k_proj", "self_attn.v_proj", "self_attn.o_proj", "mlp.gate_proj",
                    "mlp.up_proj")) {
                attn.add(rows(c.tensors().tensor(p + t + ".weight"), dim));
            }
            double[] total = new double[6];
            add(total, run("SmolLM2 layer 10, in " + dim, attn, dim, rounds, r));
            add(total, run("SmolLM2 layer 10, down_proj", List.<float[][]>of(rows(c.tensors().tensor(p + "mlp.down_proj.weight"),
                    cfg.intermediateSize())), cfg.intermediateSize(), rounds, r));
            print("SmolLM2 one layer (7 mats)", total);
        }
    }

    private static void add(double[] total, double[] t) {
        for (int i = 0; i < t.length; i++) {
            total[i] += t[i];
        }
    }

    private static float[][] rows(float[] w, int n) {
        float[][] out = new float[w.length / n][];
        for (int i = 0; i < out.length; i++) {
            out[i] = Arrays.copyOfRange(w, i * n, (i + 1) * n);
        }
        return out;
    }

    private static float[][] matrix(SplittableRandom r, int rows, int n) {
        float[][] out = new float[rows][n];
        for (float[] row : out) {
            for (int c = 0; c < n; c++) {
                row[c] = (float) (0.02 * r.nextGaussian() * (r.nextInt(50) == 0 ? 5 : 1));
            }
        }
        return out;
    }

    /** A Hessian like a real one: channel scales over two decades, diagonal plus rank 64 (n² · 64 to build). */
    private static double[] hessian(SplittableRandom r, int n) {
        int k = 64;
        double[] scale = new double[n];
        for (int c = 0; c < n; c++) {
            scale[c] = Math.exp(r.nextGaussian());
        }
        double[][] v = new double[k][n];
        for (double[] row : v) {
            for (int c = 0; c < n; c++) {
                row[c] = scale[c] * r.nextGaussian();
            }
        }
        double[] h = new double[n * n];
        for (int i = 0; i < n; i++) {
            for (int j = 0; j <= i; j++) {
                double s = 0;
                for (int q = 0; q < k; q++) {
                    s += v[q][i] * v[q][j];
                }
                h[i * n + j] = s / k;
                h[j * n + i] = s / k;
            }
            h[i * n + i] += 0.1 * scale[i] * scale[i];
        }
        return h;
    }

    /** Times factor, GPTQ (batched fast path, and one row at a time), RTN and the imatrix search over the matrices reading one input. */
    private static double[] run(String label, List<float[][]> mats, int n, int rounds, SplittableRandom r) {
        double[] h = hessian(r, n);
        double[] diag = new double[n];
        for (int c = 0; c < n; c++) {
            diag[c] = h[c * n + c];
        }
        double[][] t = new double[5][rounds];
        long sink = 0;
        for (int k = 0; k < rounds; k++) {
            long t0 = cpu();
            Gptq.Factor f = Gptq.factor(h, n, Gptq.Options.DEFAULT);
            long t1 = cpu();
            for (float[][] m : mats) {
                for (int i = 0; i < m.length; i += BATCH) {
                    QuantizedRow[] q = Gptq.quantize("t", i, Arrays.copyOfRange(m, i, Math.min(m.length, i + BATCH)), GPTQ, f);
                    sink += q[0].codes()[0];
                }
            }
            long t2 = cpu();
            for (float[][] m : mats) {
                for (int i = 0; i < m.length; i++) {
                    sink += Gptq.quantize("t", i, m[i], GPTQ, f).codes()[0];
                }
            }
            long t3 = cpu();
            for (float[][] m : mats) {
                for (int i = 0; i < m.length; i++) {
                    sink += Quantizer.quantize("t", i, m[i], RTN).codes()[0];
                }
            }
            long t4 = cpu();
            for (float[][] m : mats) {
                for (int i = 0; i < m.length; i++) {
                    sink += Quantizer.quantize("t", i, m[i], IMATRIX, null, diag).codes()[0];
                }
            }
            long t5 = cpu();
            t[0][k] = (t1 - t0) / 1e9;
            t[1][k] = (t2 - t1) / 1e9;
            t[2][k] = (t3 - t2) / 1e9;
            t[3][k] = (t4 - t3) / 1e9;
            t[4][k] = (t5 - t4) / 1e9;
        }
        double[] med = new double[5];
        for (int i = 0; i < 5; i++) {
            Arrays.sort(t[i]);
            med[i] = t[i][rounds / 2];
        }
        print(label + (sink == 42 ? " " : ""), med);
        return med;
    }

    /** This thread's CPU time: the machine is shared, and CPU time counts only what this thread ran. */
    private static long cpu() {
        return java.lang.management.ManagementFactory.getThreadMXBean().getCurrentThreadCpuTime();
    }

    private static void print(String label, double[] m) {
        System.out.printf(Locale.ROOT, "%-28s %9.3f %9.3f %9.3f %9.4f %9.4f %10.1f %10.1f%n", label, m[0], m[1], m[2], m[3], m[4],
                (m[0] + m[1]) / m[3], (m[0] + m[1]) / m[4]);
    }
}
