package nibble.common.bench;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Threads;
import nibble.common.format.GgufReader;
import nibble.common.io.FileByteSource;
import nibble.common.tokenizer.Tokenizer;

/**
 * Single-thread tokenizer speed: one op tokenizes the whole of {@code evaluation.txt} (175,229 bytes,
 * 35,128 tokens) with SmolLM2-135M's tokenizer, read from the GGUF file given by
 * {@code -Dnibble.smollm2.gguf}. bin/bench-tokenizer turns ops/s into tokens/s.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Threads(1)
public class TokenizerBenchmark {
    private Tokenizer tokenizer;
    private String text;

    @Setup
    @SuppressWarnings("unchecked")
    public void load() throws Exception {
        Path gguf = Path.of(System.getProperty("nibble.smollm2.gguf"));
        try (FileByteSource src = new FileByteSource(gguf)) {
            Map<String, Object> meta = GgufReader.read(src, gguf.getFileName().toString()).sourceMetadata();
            tokenizer = Tokenizer.fromMetadata(gguf.toString(), (Map<String, Object>) meta.get("tokenizer"));
        }
        text = Files.readString(Path.of(System.getProperty("nibble.shared.dir", "../shared")).resolve("text/evaluation.txt"),
                StandardCharsets.UTF_8);
    }

    @Benchmark
    public int[] encodeEvaluationText() {
        return tokenizer.encode(text, false);
    }
}
