package nibble.jobs;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import nibble.common.DType;
import nibble.common.InvalidInputException;
import nibble.common.synth.SyntheticCheckpoint;
import nibble.common.synth.SyntheticSpec;
import nibble.jobs.cli.Console;
import nibble.jobs.cli.Options;
import nibble.jobs.cli.UsageException;
import nibble.jobs.io.Uris;

/** {@code nibble synth}: writes a seeded, Llama-shaped safetensors checkpoint (plain Java, no Spark). */
public final class SynthJob implements Command<SynthJob.Args> {
    private static final Options.Spec SPEC = Options.spec("synth",
                    "Write a synthetic Llama-shaped safetensors checkpoint with heavy-tailed weights and outlier channels.")
            .value("output", "DIR", null, "local folder to write (required; must not hold files)")
            .value("preset", "NAME", "demo", "size: tiny, demo, bench-2g")
            .value("dtype", "DTYPE", "F32", "F32, F16 or BF16")
            .value("seed", "N", "42", "random seed")
            .value("shard-mb", "MB", "0", "split into safetensors shards of at most this size (0: one file)");

    /** The checkpoint to write: where, what, and the safetensors shard size (0: one file). */
    public record Args(Path output, SyntheticSpec spec, long shardBytes) {
    }

    public static void main(String[] args) {
        Nibble.submit("synth", args);
    }

    @Override
    public Options.Spec spec() {
        return SPEC;
    }

    @Override
    public Args args(Options o) {
        String output = o.require("output");
        Uris.requireNoCredentials("--output", output);
        if (output.matches("[A-Za-z][A-Za-z0-9+.-]*:/.*") && !output.startsWith("file:")) {
            throw new UsageException("--output: synth writes a local folder, not a " + output.substring(0, output.indexOf(':')) + ": URI");
        }
        return new Args(Path.of(output.startsWith("file:") ? java.net.URI.create(output).getPath() : output), spec(o.get("preset"), DType.parse(o.get("dtype"), "--dtype"), o.getLong("seed")),
                o.getLong("shard-mb") << 20);
    }

    @Override
    public String plan(Args a) {
        return "write a synthetic checkpoint of " + Console.bytes(a.spec().dataBytes()) + " to " + a.output();
    }

    @Override
    public void run(Args a, Console console) throws Exception {
        if (Files.exists(a.output()) && !Files.isDirectory(a.output())) {
            throw new InvalidInputException(a.output() + ": output exists and is a file");
        }
        if (Files.isDirectory(a.output())) {
            try (var entries = Files.list(a.output())) {
                if (entries.findAny().isPresent()) {
                    throw new InvalidInputException(a.output() + ": output folder is not empty");
                }
            }
        }
        long t0 = System.nanoTime();
        SyntheticCheckpoint.write(a.output(), a.spec(), a.shardBytes());
        console.progress("synth", String.format(Locale.ROOT, "wrote %s (%s) in %.1f s", a.output(),
                Console.bytes(folderBytes(a.output())), (System.nanoTime() - t0) / 1e9));
    }

    static SyntheticSpec spec(String preset, DType dtype, long seed) {
        return SyntheticSpec.preset(preset).withDtype(dtype).withSeed(seed);
    }

    private static long folderBytes(Path dir) throws IOException {
        try (var s = Files.walk(dir)) {
            return s.filter(Files::isRegularFile).mapToLong(f -> f.toFile().length()).sum();
        }
    }
}
