package nibble.common.bench;

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

import nibble.common.quant.QuantizedRow;
import nibble.common.quant.Quantizer;
import nibble.common.quant.Scheme;

/**
 * Single-thread dequantization throughput: {@link QuantizeBenchmark}'s rows, quantized once, decoded
 * back to F32 by {@link Quantizer#dequantize}, which {@code quantize} runs on every row to measure
 * its error. One op decodes all rows, {@link QuantizeBenchmark#INPUT_BYTES} of F32 output; as in
 * {@link QuantizeBenchmark}, {@code ...Scalar} forks run with {@code -Dnibble.vector=false}.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Threads(1)
public class DequantizeBenchmark {
    private static final Scheme INT4_G128 = Scheme.group(4, true, 128);
    private static final Scheme INT4_G128_ASYM = Scheme.group(4, false, 128);

    private QuantizedRow[] sym;
    private QuantizedRow[] asym;
    private float[] out;

    @Setup
    public void setup() {
        float[][] rows = QuantizeBenchmark.data();
        sym = new QuantizedRow[rows.length];
        asym = new QuantizedRow[rows.length];
        for (int i = 0; i < rows.length; i++) {
            sym[i] = Quantizer.quantize("bench", i, rows[i], INT4_G128);
            asym[i] = Quantizer.quantize("bench", i, rows[i], INT4_G128_ASYM);
        }
        out = new float[rows[0].length];
    }

    private void run(QuantizedRow[] q, Scheme s, Blackhole bh) {
        for (QuantizedRow r : q) {
            Quantizer.dequantize(r.codes(), r.scales(), r.zeros(), s, out);
            bh.consume(out);
        }
    }

    @Benchmark
    public void dequantInt4G128(Blackhole bh) {
        run(sym, INT4_G128, bh);
    }

    @Benchmark
    @Fork(jvmArgsAppend = QuantizeBenchmark.SCALAR)
    public void dequantInt4G128Scalar(Blackhole bh) {
        run(sym, INT4_G128, bh);
    }

    @Benchmark
    public void dequantInt4G128Asym(Blackhole bh) {
        run(asym, INT4_G128_ASYM, bh);
    }

    @Benchmark
    @Fork(jvmArgsAppend = QuantizeBenchmark.SCALAR)
    public void dequantInt4G128AsymScalar(Blackhole bh) {
        run(asym, INT4_G128_ASYM, bh);
    }
}
