package nibble.common.bench;

import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;

import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Threads;
import org.openjdk.jmh.infra.Blackhole;

import nibble.common.quant.Codebook;
import nibble.common.quant.Granularity;
import nibble.common.quant.Quantizer;
import nibble.common.quant.RangeMethod;
import nibble.common.quant.Scheme;
import nibble.common.quant.ScaleFormat;

/**
 * Single-thread quantization throughput over 1M heavy-tailed (Student-t, 4 degrees of freedom)
 * floats as 256 rows of 4096. One op quantizes all of it, {@link #INPUT_BYTES} of F32 input;
 * bin/bench-kernels turns ops/s into GB/s. Each kernel runs as the pipeline runs it ({@link
 * Quantizer#quantize}: the Vector API path when the JVM has {@code jdk.incubator.vector}, as
 * bin/bench-kernels starts it) and, as {@code ...Scalar}, in a fork with {@code
 * -Dnibble.vector=false} (the scalar fast path, which every JVM can run).
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

    private static final Scheme RTN_G128_ASYM = Scheme.group(4, false, 128);
    private static final Scheme INT8_G32 = Scheme.group(8, true, 32);
    /** The K-quant layout (GGUF Q4_K bytes) with its search: recipe int4-k256-mse. */
    private static final Scheme KQUANT_MSE = new Scheme(4, false, Granularity.SUPERBLOCK, 0, Codebook.UNIFORM, RangeMethod.MSE, 0,
            ScaleFormat.F16);
    static final String SCALAR = "-Dnibble.vector=false";

    @Setup
    public void setup() {
        rows = data();
    }

    /** The benchmark's rows: seeded, the same in every run (bin/bench-kernels hands them to the ggml harness too). */
    public static float[][] data() {
        SplittableRandom r = new SplittableRandom(42);
        float[][] rows = new float[ROWS][COLS];
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
        return rows;
    }

    /** The schemes by benchmark name (without a {@code Scalar} or {@code Reference} suffix). */
    public static Scheme scheme(String benchmark) {
        switch (benchmark.replaceAll("(Scalar|Reference)$", "")) {
            case "rtnInt4G32": return RTN_G32;
            case "rtnInt4G128": return RTN_G128;
            case "rtnInt4G128Asym": return RTN_G128_ASYM;
            case "mseInt4G32": return MSE_G32;
            case "nf4G64": return NF4_G64;
            case "int8Channel": return INT8_CHANNEL;
            case "int8G32": return INT8_G32;
            case "kquantMse": return KQUANT_MSE;
            default: throw new IllegalArgumentException(benchmark);
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
    @Fork(jvmArgsAppend = SCALAR)
    public void rtnInt4G32Scalar(Blackhole bh) {
        run(RTN_G32, bh);
    }

    @Benchmark
    @Fork(jvmArgsAppend = SCALAR)
    public void rtnInt4G128Scalar(Blackhole bh) {
        run(RTN_G128, bh);
    }

    @Benchmark
    @Fork(jvmArgsAppend = SCALAR)
    public void mseInt4G32Scalar(Blackhole bh) {
        run(MSE_G32, bh);
    }

    @Benchmark
    @Fork(jvmArgsAppend = SCALAR)
    public void nf4G64Scalar(Blackhole bh) {
        run(NF4_G64, bh);
    }

    @Benchmark
    @Fork(jvmArgsAppend = SCALAR)
    public void int8ChannelScalar(Blackhole bh) {
        run(INT8_CHANNEL, bh);
    }

    @Benchmark
    public void rtnInt4G128Asym(Blackhole bh) {
        run(RTN_G128_ASYM, bh);
    }

    @Benchmark
    @Fork(jvmArgsAppend = SCALAR)
    public void rtnInt4G128AsymScalar(Blackhole bh) {
        run(RTN_G128_ASYM, bh);
    }

    @Benchmark
    public void int8G32(Blackhole bh) {
        run(INT8_G32, bh);
    }

    @Benchmark
    @Fork(jvmArgsAppend = SCALAR)
    public void int8G32Scalar(Blackhole bh) {
        run(INT8_G32, bh);
    }

    @Benchmark
    public void kquantMse(Blackhole bh) {
        run(KQUANT_MSE, bh);
    }

    @Benchmark
    @Fork(jvmArgsAppend = SCALAR)
    public void kquantMseScalar(Blackhole bh) {
        run(KQUANT_MSE, bh);
    }

    @Benchmark
    public void rtnInt4G32Reference(Blackhole bh) {
        for (int i = 0; i < ROWS; i++) {
            bh.consume(Quantizer.quantizeReference("bench", i, rows[i], RTN_G32, null));
        }
    }
}
