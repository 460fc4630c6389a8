package nibble.common.bench;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.util.SplittableRandom;

import nibble.common.quant.QuantizedRow;
import nibble.common.quant.Quantizer;
import nibble.common.quant.RangeMethod;
import nibble.common.quant.Scheme;

/**
 * For bin/bench-mse-before: {@link KernelCpuTime}'s timing of the error-minimising search
 * (int4-g32-mse) on {@link QuantizeBenchmark#data}'s rows, using only API that older trees have
 * too ({@code Scheme.group(...).withRange}, {@code Quantizer.quantize}), so that the same source
 * compiles against an old commit's classes and times that code. The rows are generated here, by
 * the same steps as {@link QuantizeBenchmark#data} (which older trees lack). Usage: {@code
 * MseCpuTime <warm s> <measure s>}; prints GB/s of F32 input over the thread's CPU time.
 */
public final class MseCpuTime {
    private MseCpuTime() {
    }

    public static void main(String[] args) {
        double warm = Double.parseDouble(args[0]);
        double measure = Double.parseDouble(args[1]);
        float[][] rows = data();
        Scheme s = Scheme.group(4, true, 32).withRange(RangeMethod.MSE);
        ThreadMXBean mx = ManagementFactory.getThreadMXBean();
        long sink = 0;
        for (int phase = 0; phase < 2; phase++) {
            double limit = phase == 0 ? warm : measure;
            long t0 = mx.getCurrentThreadCpuTime();
            long passes = 0;
            long used;
            do {
                for (int i = 0; i < rows.length; i++) {
                    QuantizedRow q = Quantizer.quantize("bench", i, rows[i], s);
                    sink += q.codes()[i % q.codes().length];
                }
                passes++;
                used = mx.getCurrentThreadCpuTime() - t0;
            } while (used < limit * 1e9);
            if (phase == 1) {
                System.out.printf("mseInt4G32 %.4f%n", passes * 4.0 * rows.length * rows[0].length / (used * 1e-9) / 1e9);
            }
        }
        System.out.println("# " + (sink == 42 ? "" : "done"));
    }

    /** {@link QuantizeBenchmark#data}, step for step: 256 seeded rows of 4096 student-t (4 degrees of freedom) values. */
    static float[][] data() {
        SplittableRandom r = new SplittableRandom(42);
        float[][] rows = new float[256][4096];
        for (float[] row : rows) {
            for (int i = 0; i < row.length; i++) {
                double chi2 = 0;
                for (int k = 0; k < 4; k++) {
                    double g = r.nextGaussian();
                    chi2 += g * g;
                }
                row[i] = (float) (r.nextGaussian() / Math.sqrt(chi2 / 4) * 0.02);
            }
        }
        return rows;
    }
}
