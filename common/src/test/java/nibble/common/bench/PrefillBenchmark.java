package nibble.common.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Threads;

import nibble.common.model.LlamaModel;
import nibble.common.model.LlamaWeights;
import nibble.common.model.LocalModels;
import nibble.common.model.PackedWeights;
import nibble.common.model.WeightSource;
import nibble.common.quant.Scheme;

/**
 * Single-thread prefill speed: one op runs a chunk of {@link #chunk} tokens (positions 0..chunk-1,
 * from an empty cache) through {@link LlamaModel#prefill} and computes the logits of every
 * position, as llama.cpp's prompt processing with {@code logits_all} does. SmolLM2-135M read from its
 * GGUF file ({@code -Dnibble.smollm2.gguf=...}) or stories260K ({@code -Dnibble.shared.dir}), dense
 * F32 or packed int4 g32 (Q4_0's layout). {@link #decoded} runs the same chunk through the
 * token-at-a-time decoder, the baseline. bin/bench-prefill turns ops/s into tokens/s and runs llama.cpp
 * on the same file in the same run.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Threads(1)
public class PrefillBenchmark {
    @Param({"smollm2"})
    public String model;

    @Param({"dense", "int4-g32"})
    public String weights;

    @Param({"256"})
    public int chunk;

    private LlamaModel m;
    private int[] tokens;

    @Setup
    public void load() throws IOException {
        Path p = model.equals("smollm2") ? Path.of(System.getProperty("nibble.smollm2.gguf", "smollm2.gguf"))
                : Path.of(System.getProperty("nibble.shared.dir", "../shared")).resolve("models/stories260K.bin");
        if (!Files.exists(p)) {
            throw new IllegalStateException(p + " is absent");
        }
        LocalModels.LocalCheckpoint c = LocalModels.open(p);
        WeightSource ws = weights.equals("dense") ? WeightSource.dense(c.tensors())
                : PackedWeights.of(c.tensors(), (name, shape) -> Scheme.group(4, true, 32));
        m = new LlamaModel(c.config(), LlamaWeights.load(c.config(), ws));
        tokens = new int[chunk];
        int token = 1;
        for (int pos = 0; pos < chunk; pos++) {
            tokens[pos] = token;
            token = (token * 31 + pos) % c.config().vocabSize();
        }
    }

    /** Prints which matrix kernel this JVM runs (bin/bench-prefill's header). */
    public static void main(String[] args) {
        System.out.println(nibble.common.model.MatMul.describe());
    }

    @Benchmark
    public float[][] prefill() {
        return m.prefill(tokens, 0, null);
    }

    /** The same chunk through the token-at-a-time decoder (what calibration and evaluation ran before). */
    @Benchmark
    public float[][] decoded() {
        return m.logitsDecoded(tokens);
    }
}
