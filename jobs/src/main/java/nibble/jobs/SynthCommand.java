package nibble.jobs;

import java.nio.file.Files;
import java.nio.file.Path;
import nibble.common.DType;
import nibble.common.InvalidInputException;
import nibble.common.synth.SyntheticCheckpoint;
import nibble.common.synth.SyntheticSpec;
import nibble.jobs.cli.Console;
import nibble.jobs.cli.Options;

/** {@code synth}: writes a seeded, Llama-shaped safetensors checkpoint (no Spark needed). */
public final class SynthCommand implements Command {
    private static final Options.Spec SPEC = Options.spec("synth",
                    "Write a synthetic Llama-shaped safetensors checkpoint with heavy-tailed weights and outlier channels.")
            .value("output", "DIR", null, "local folder to write (required; must not hold files)")
            .value("preset", "NAME", "demo", "size: tiny, demo, bench-2g")
            .value("dtype", "DTYPE", "F32", "F32, F16 or BF16")
            .value("seed", "N", "42", "random seed")
            .value("shard-mb", "MB", "0", "split into safetensors shards of at most this size (0: one file)");

    @Override
    public Options.Spec spec() {
        return SPEC;
    }

    @Override
    public String plan(Options o) {
        SyntheticSpec spec = spec(o.get("preset"), DType.parse(o.get("dtype"), "--dtype"), o.getLong("seed"));
        return "write a synthetic checkpoint of " + Console.bytes(spec.dataBytes()) + " to " + o.require("output");
    }

    @Override
    public void run(Options o, Console console) throws Exception {
        Path out = Path.of(o.require("output"));
        SyntheticSpec spec = spec(o.get("preset"), DType.parse(o.get("dtype"), "--dtype"), o.getLong("seed"));
        if (Files.isDirectory(out)) {
            try (var entries = Files.list(out)) {
                if (entries.findAny().isPresent()) {
                    throw new InvalidInputException(out + ": output folder is not empty");
                }
            }
        }
        long t0 = System.nanoTime();
        SyntheticCheckpoint.write(out, spec, o.getLong("shard-mb") << 20);
        console.progress("synth", String.format(java.util.Locale.ROOT, "wrote %s (%s) in %.1f s", out,
                Console.bytes(folderBytes(out)), (System.nanoTime() - t0) / 1e9));
    }

    static SyntheticSpec spec(String preset, DType dtype, long seed) {
        return SyntheticSpec.preset(preset).withDtype(dtype).withSeed(seed);
    }

    static long folderBytes(Path dir) throws java.io.IOException {
        try (var s = Files.walk(dir)) {
            return s.filter(Files::isRegularFile).mapToLong(f -> f.toFile().length()).sum();
        }
    }
}
