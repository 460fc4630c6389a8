package nibble.common.bench;

import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;

import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Threads;
import org.openjdk.jmh.infra.Blackhole;

import nibble.common.quant.Codebook;
import nibble.common.quant.Quantizer;
import nibble.common.quant.RangeMethod;
import nibble.common.quant.Scheme;

/**
 * Single-thread quantization throughput over 1M heavy-tailed (Student-t, 4 degrees of freedom)
 * floats as 256 rows of 4096. One op quantizes all of it, {@link #INPUT_BYTES} of F32 input;
 * bin/bench-kernels turns ops/s into GB/s.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Threads(1)
public class QuantizeBenchmark {
    static final int ROWS = 256;
    static final int COLS = 4096;
    public static final long INPUT_BYTES = 4L * ROWS * COLS;

    private float[][] rows;

    private static final Scheme RTN_G32 = Scheme.group(4, true, 32);
    private static final Scheme RTN_G128 = Scheme.group(4, true, 128);
    private static final Scheme MSE_G32 = Scheme.group(4, true, 32).withRange(RangeMethod.MSE);
    private static final Scheme NF4_G64 = Scheme.group(4, true, 64).withCodebook(Codebook.NF4);
    private static final Scheme INT8_CHANNEL = Scheme.channel(8, true);

    @Setup
    public void setup() {
        SplittableRandom r = new SplittableRandom(42);
        rows = new float[ROWS][COLS];
        for (float[] row : rows) {
            for (int i = 0; i < COLS; i++) {
                double chi2 = 0;
                for (int k = 0; k < 4; k++) {
                    double g = r.nextGaussian();
                    chi2 += g * g;
                }
                row[i] = (float) (r.nextGaussian() / Math.sqrt(chi2 / 4) * 0.02);
            }
        }
    }

    private void run(Scheme s, Blackhole bh) {
        for (int i = 0; i < ROWS; i++) {
            bh.consume(Quantizer.quantize("bench", i, rows[i], s));
        }
    }

    @Benchmark
    public void rtnInt4G32(Blackhole bh) {
        run(RTN_G32, bh);
    }

    @Benchmark
    public void rtnInt4G128(Blackhole bh) {
        run(RTN_G128, bh);
    }

    @Benchmark
    public void mseInt4G32(Blackhole bh) {
        run(MSE_G32, bh);
    }

    @Benchmark
    public void nf4G64(Blackhole bh) {
        run(NF4_G64, bh);
    }

    @Benchmark
    public void int8Channel(Blackhole bh) {
        run(INT8_CHANNEL, bh);
    }

    @Benchmark
    public void rtnInt4G32Reference(Blackhole bh) {
        for (int i = 0; i < ROWS; i++) {
            bh.consume(Quantizer.quantizeReference("bench", i, rows[i], RTN_G32, null));
        }
    }
}
