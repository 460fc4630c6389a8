package nibble.tests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * llama.cpp itself as the referee: {@code bin/llama-cpp-referee} and
 * {@code tests/src/test/python/llamacpp_text_reference.py} (the tokenizer's) run with {@code .venv}'s Python, where {@code .ci/run} installs llama-cpp-python. Skips with a printed reason
 * when it is not installed locally; fails under CI.
 */
final class LlamaCpp {
    private LlamaCpp() {
    }

    /** Skips (fails under CI) unless {@code .venv} can import llama_cpp. */
    static void requireOrSkip() throws Exception {
        Path python = GgufShardTest.venvPython();
        String problem = null;
        if (!python.toFile().canExecute()) {
            problem = python + " not found";
        } else {
            Process p = new ProcessBuilder(python.toString(), "-c", "import llama_cpp").redirectErrorStream(true).start();
            p.getInputStream().readAllBytes();
            if (!p.waitFor(2, TimeUnit.MINUTES) || p.exitValue() != 0) {
                problem = "llama-cpp-python is not installed in " + GgufShardTest.project().resolve(".venv");
            }
        }
        GgufShardTest.requireOrSkip(problem);
    }

    /** Runs the tokenizer reference script with {@code args}; its JSON output goes to {@code out}, which is read back. */
    static JsonNode run(Path out, String... args) throws Exception {
        return run(GgufShardTest.project().resolve("tests/src/test/python/llamacpp_text_reference.py"), out, args);
    }

    /** Runs {@code bin/llama-cpp-referee} with {@code args}; its JSON output goes to {@code out}, which is read back. */
    static JsonNode referee(Path out, String... args) throws Exception {
        return run(GgufShardTest.project().resolve("bin/llama-cpp-referee"), out, args);
    }

    private static JsonNode run(Path script, Path out, String... args) throws Exception {
        List<String> cmd = new ArrayList<>(List.of(GgufShardTest.venvPython().toString(), script.toString()));
        cmd.addAll(List.of(args));
        cmd.add(out.toString());
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String log = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(10, TimeUnit.MINUTES)) {
            p.destroyForcibly();
            fail(script.getFileName() + " timed out");
        }
        assertEquals(0, p.exitValue(), script.getFileName() + " failed:\n" + log);
        return new ObjectMapper().readTree(out.toFile());
    }

    static int[] ints(JsonNode array) {
        int[] out = new int[array.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = array.get(i).asInt();
        }
        return out;
    }
}
