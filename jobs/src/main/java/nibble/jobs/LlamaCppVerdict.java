package nibble.jobs;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import nibble.common.json.Json;
import nibble.jobs.cli.Console;

/**
 * llama.cpp's verdict at the end of {@code nibble demo --model <gguf> --text <file>}: perplexity of the
 * original GGUF and of Nibble's export, both computed by llama.cpp (llama-cpp-python in the checkout's
 * {@code .venv}, through {@code bin/llama-cpp-referee}) on the same text by llama-perplexity's protocol.
 * Without that environment (a plain {@code spark-submit} install) it says so and is skipped.
 */
final class LlamaCppVerdict {
    private final Console console;
    private final Path python;
    private final Path referee;

    private LlamaCppVerdict(Console console, Path python, Path referee) {
        this.console = console;
        this.python = python;
        this.referee = referee;
    }

    /** The verdict with the Python of {@code $NIBBLE_HOME/.venv}, which {@code bin/nibble} sets. */
    static LlamaCppVerdict of(Console console) {
        String home = System.getenv("NIBBLE_HOME");
        Path root = Path.of(home == null ? "." : home);
        return new LlamaCppVerdict(console, root.resolve(".venv/bin/python"), root.resolve("bin/llama-cpp-referee"));
    }

    void render(String original, String export, String text, int ctx, int chunks) throws IOException, InterruptedException {
        if (!Files.isExecutable(python) || !Files.exists(referee) || !hasLlamaCpp()) {
            console.progress("demo", "llama.cpp verdict skipped: no llama-cpp-python in " + python.getParent().getParent()
                    + " (make it with .ci/venv)");
            return;
        }
        console.progress("demo", "llama.cpp scores the original and the export on " + text);
        double before = perplexity(original, text, ctx, chunks);
        double after = perplexity(export, text, ctx, chunks);
        console.out().println();
        console.table(List.of("llama.cpp perplexity", String.format(Locale.ROOT, "ctx %d, %d chunks", ctx, chunks)), List.of(
                List.of("original " + Path.of(original).getFileName(), String.format(Locale.ROOT, "%.3f", before)),
                List.of("Nibble export " + Path.of(export).getFileName(),
                        String.format(Locale.ROOT, "%.3f (%+.2f%%)", after, 100 * (after / before - 1)))));
    }

    private boolean hasLlamaCpp() throws IOException, InterruptedException {
        return run(List.of(python.toString(), "-c", "import llama_cpp")).exit == 0;
    }

    private double perplexity(String model, String text, int ctx, int chunks) throws IOException, InterruptedException {
        Path out = Files.createTempFile("nibble-ppl", ".json");
        try {
            Ran r = run(List.of(python.toString(), referee.toString(), "perplexity", model, text, Integer.toString(ctx),
                    Integer.toString(chunks), out.toString()));
            if (r.exit != 0) {
                throw new IOException("llama.cpp could not score " + model + ": " + r.lastLine);
            }
            JsonNode j = Json.parseObject(Files.readAllBytes(out), out.toString());
            return j.get("ppl").asDouble();
        } finally {
            Files.deleteIfExists(out);
        }
    }

    private record Ran(int exit, String lastLine) {
    }

    private static Ran run(List<String> cmd) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(new ArrayList<>(cmd)).redirectErrorStream(true).start();
        String log = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
        int exit = p.waitFor();
        return new Ran(exit, log.isEmpty() ? "" : log.substring(log.lastIndexOf('\n') + 1));
    }
}
