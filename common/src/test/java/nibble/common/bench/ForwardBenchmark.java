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
import org.openjdk.jmh.infra.Blackhole;

import nibble.common.TensorInfo;
import nibble.common.model.KvCache;
import nibble.common.model.LlamaConfig;
import nibble.common.model.LlamaModel;
import nibble.common.model.LlamaWeights;
import nibble.common.model.LocalModels;
import nibble.common.model.PackedWeights;
import nibble.common.model.TensorSource;
import nibble.common.model.WeightSource;
import nibble.common.quant.Scheme;
import nibble.common.synth.SyntheticCheckpoint;
import nibble.common.synth.SyntheticSpec;
import nibble.common.synth.SyntheticValues;

/**
 * Single-thread forward-pass speed: one op decodes {@link #TOKENS} tokens (KV cache, positions
 * 0..31) through stories260K, a synthetic ~100M-parameter Llama, or SmolLM2-135M read from its GGUF
 * file ({@code -p model=smollm2 -Dnibble.smollm2.gguf=...}, bin/bench-gguf), with dense F32 weights or
 * packed int4 matrices (symmetric, groups of 128, or of 32 with {@code -p weights=int4-g32}: Q4_0's
 * layout). bin/bench-runtime turns ops/s into tokens/s.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Threads(1)
public class ForwardBenchmark {
    public static final int TOKENS = 32;
    /** About 100M parameters: hidden 768, 12 layers, vocab 32000, tied. */
    static final SyntheticSpec SYNTH_100M = new SyntheticSpec(768, 2048, 12, 12, 4, 32000, nibble.common.DType.F32, 1, true);

    @Param({"stories260K", "synth-100m"})
    public String model;

    @Param({"dense", "int4-g128"})
    public String weights;

    private LlamaModel m;

    @Setup
    public void load() throws IOException {
        LlamaConfig config;
        TensorSource source;
        if (model.equals("stories260K") || model.equals("smollm2")) {
            Path p = model.equals("smollm2") ? Path.of(System.getProperty("nibble.smollm2.gguf", "smollm2.gguf"))
                    : Path.of(System.getProperty("nibble.shared.dir", "../shared")).resolve("models/stories260K.bin");
            if (!Files.exists(p)) {
                throw new IllegalStateException(p + " is absent");
            }
            LocalModels.LocalCheckpoint c = LocalModels.open(p);
            config = c.config();
            source = c.tensors();
        } else {
            config = LlamaConfig.fromArchitecture(SyntheticCheckpoint.config(SYNTH_100M));
            source = name -> synthetic(name);
        }
        int group = weights.equals("int4-g32") ? 32 : 128;
        WeightSource ws = weights.equals("dense") ? WeightSource.dense(source)
                : PackedWeights.of(source, (name, shape) -> Scheme.group(4, true, group));
        m = new LlamaModel(config, LlamaWeights.load(config, ws));
    }

    @Benchmark
    public void decode(Blackhole bh) {
        KvCache cache = m.newCache(TOKENS);
        int token = 1;
        for (int pos = 0; pos < TOKENS; pos++) {
            float[] logits = m.forward(token, pos, cache);
            token = (token * 31 + pos) % logits.length;
            bh.consume(logits);
        }
    }

    private static float[] synthetic(String name) {
        for (TensorInfo t : SYNTH_100M.tensors()) {
            if (t.name().equals(name)) {
                SyntheticValues v = SyntheticValues.of(SYNTH_100M, t);
                int len = (int) t.rowLength();
                float[] out = new float[(int) t.elementCount()];
                float[] row = new float[len];
                for (int r = 0; r < t.rows(); r++) {
                    v.fillRow(r, row);
                    System.arraycopy(row, 0, out, r * len, len);
                }
                return out;
            }
        }
        throw new IllegalArgumentException(name);
    }
}
