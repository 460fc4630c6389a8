package nibble.tests;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import nibble.common.json.Json;
import nibble.jobs.action.RegistryLayout;
import org.junit.jupiter.api.Test;

/**
 * The Airflow DAGs spell the registry layout in Python ({@code nibble_args.paths}); the jobs in
 * Java ({@link RegistryLayout}). This runs the Python and checks that both name the same folders.
 */
class RegistryLayoutTest {
    @Test
    void airflowPathsEqualTheJavaLayout() throws Exception {
        for (String output : List.of("s3a://registry/llama/v7-int4-g128", "file:/tmp/reg/m/v1-nf4-g64", "/data/m/v2-custom")) {
            JsonNode py = pythonPaths(output);
            RegistryLayout java = new RegistryLayout(output);
            assertEquals(java.table(), py.get("table").asText(), output);
            assertEquals(java.stats(), py.get("stats").asText(), output);
            assertEquals(java.quantized(), py.get("quantized").asText(), output);
            assertEquals(java.eval(), py.get("eval").asText(), output);
        }
    }

    private static JsonNode pythonPaths(String output) throws Exception {
        String project = System.getProperty("nibble.project.dir", "..");
        Path dags = Path.of(project, "airflow-dags");
        String code = "import json, sys; sys.path.insert(0, sys.argv[1]); import nibble_args; "
                + "print(json.dumps(nibble_args.paths({'model_uri': 'unused', 'version': 'v', 'output_uri': sys.argv[2]})))";
        Process p = new ProcessBuilder("/usr/bin/python3", "-c", code, dags.toString(), output).redirectErrorStream(true).start();
        String text = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(1, TimeUnit.MINUTES)) {
            p.destroyForcibly();
        }
        assertEquals(0, p.exitValue(), text);
        assertEquals(true, Files.isDirectory(dags), dags.toString());
        return Json.parseObject(text.getBytes(StandardCharsets.UTF_8), "nibble_args.paths");
    }
}
