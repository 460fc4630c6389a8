package nibble.common.report;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import nibble.common.model.ActivationQuant;
import nibble.common.eval.Estimate;
import nibble.common.eval.Summary;
import org.junit.jupiter.api.Test;

class ReportWriterTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final byte[] PNG_SIGNATURE = {(byte) 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
    private static final Pattern IMG = Pattern.compile("<img [^>]*src=\"data:image/png;base64,([A-Za-z0-9+/=]+)\"");

    private static List<String> keys(JsonNode n) {
        List<String> out = new ArrayList<>();
        n.fieldNames().forEachRemaining(out::add);
        return out;
    }

    @Test
    void jsonHasStableKeysAndBytes() throws IOException {
        EvalReport r = Samples.realistic(new Gate.Thresholds(0.05, 0.05, 0.9), true);
        byte[] a = ReportWriter.json(r);
        byte[] b = ReportWriter.json(Samples.realistic(new Gate.Thresholds(0.05, 0.05, 0.9), true));
        assertArrayEquals(a, b);
        assertArrayEquals(a, ReportWriter.json(r));
        String text = new String(a, StandardCharsets.UTF_8);
        assertTrue(text.startsWith("{\n  \"format\" : \"nibble-eval-report\",\n  \"format_version\" : 1,\n"), text);
        assertTrue(text.endsWith("}\n"));
        JsonNode root = JSON.readTree(a);
        assertEquals(List.of("format", "format_version", "original", "quantized", "recipe", "activations", "gate",
                "model", "layers", "tensors"), keys(root));
        assertEquals(List.of("max_kld", "max_ppl_increase", "min_top1", "passed", "failures"), keys(root.get("gate")));
        assertEquals(List.of("sequences", "tokens", "seed", "calibration_seed", "sequence_length",
                "perplexity_original", "perplexity_quantized", "perplexity_ratio", "perplexity_difference",
                "nll_original", "nll_quantized", "kld_mean", "kld_median", "kld_p99", "top1_agreement",
                "accuracy_original", "accuracy_quantized", "kld_histogram"), keys(root.get("model")));
        assertEquals(List.of("mean", "low", "high"), keys(root.get("model").get("perplexity_original")));
        assertEquals(List.of("edges", "counts"), keys(root.get("model").get("kld_histogram")));
        assertEquals(List.of("layer", "elements", "mse", "sqnr_db"), keys(root.get("layers").get(0)));
        assertEquals(List.of("name", "layer", "scheme", "bits_per_weight", "elements", "mse", "sqnr_db",
                "max_abs_error", "cosine", "sum_sq_signal", "sum_sq_error"), keys(root.get("tensors").get(0)));

        assertEquals("none", root.get("activations").asText());
        assertEquals("int4-g32-mse", root.get("recipe").asText());
        assertTrue(root.get("gate").get("passed").asBoolean());
        JsonNode model = root.get("model");
        Summary s = r.model().summary();
        assertEquals(s.perplexityQ().mean(), model.get("perplexity_quantized").get("mean").asDouble());
        assertEquals(s.perplexityQ().mean() / s.perplexityP().mean(), model.get("perplexity_ratio").asDouble());
        assertEquals(16 * 255, model.get("tokens").asLong());
        assertEquals(99, model.get("calibration_seed").asLong());
        long sum = 0;
        for (JsonNode c : model.get("kld_histogram").get("counts")) {
            sum += c.asLong();
        }
        assertEquals(s.tokens(), sum);
        assertTrue(root.get("tensors").get(0).get("layer").isNull());
        assertEquals(0, root.get("layers").get(0).get("layer").asInt());
        assertTrue(text.contains("\"edges\" : [ 1.0E-6, "), "number arrays stay on one line");
    }

    @Test
    void nonFiniteNumbersAreNull() throws IOException {
        Estimate oneSequence = new Estimate(2.0, Double.NaN, Double.NaN, 1);
        Summary s = new Summary(1, 10, oneSequence, oneSequence, oneSequence.map(Math::exp),
                oneSequence.map(Math::exp), new Estimate(Double.POSITIVE_INFINITY, Double.NaN, Double.NaN, 1),
                0, Double.NaN, oneSequence, oneSequence, oneSequence);
        ModelLevel m = new ModelLevel(s, 1, 11, null, KldHistogram.of(new double[] {0, 1e-3}));
        TensorError t = new TensorError("w", null, "int4", 4.5, 0, Double.NaN, Double.NEGATIVE_INFINITY,
                0, Double.NaN, Double.NaN, 0);
        EvalReport r = EvalReport.of("a", "b", null, ActivationQuant.INT8_DYNAMIC, Gate.Thresholds.NONE, m, List.of(t));
        JsonNode root = JSON.readTree(ReportWriter.json(r));
        assertTrue(root.get("recipe").isNull());
        assertEquals("int8-dynamic", root.get("activations").asText());
        JsonNode model = root.get("model");
        assertTrue(model.get("kld_mean").get("mean").isNull());
        assertTrue(model.get("nll_original").get("low").isNull());
        assertEquals(2.0, model.get("nll_original").get("mean").asDouble());
        assertTrue(model.get("kld_p99").isNull());
        assertTrue(model.get("calibration_seed").isNull());
        JsonNode tensor = root.get("tensors").get(0);
        assertTrue(tensor.get("mse").isNull());
        assertTrue(tensor.get("sqnr_db").isNull());
        assertTrue(tensor.get("cosine").isNull());
        assertTrue(tensor.get("sum_sq_signal").isNull());
        assertEquals(0.0, tensor.get("sum_sq_error").asDouble());
        assertTrue(root.get("gate").get("max_kld").isNull());
        assertEquals(0, root.get("gate").get("failures").size());
        assertEquals(0, root.get("layers").size());
        String md = ReportWriter.markdown(r); // renders without intervals
        assertTrue(md.contains("| NLL (nats/token) | 2.0000 | 2.0000 |"), md);
    }

    @Test
    void jsonWithoutModelLevelWritesNull() throws IOException {
        EvalReport r = Samples.realistic(new Gate.Thresholds(null, 0.05, null), false);
        JsonNode root = JSON.readTree(ReportWriter.json(r));
        assertTrue(root.get("model").isNull());
        assertFalse(root.get("gate").get("passed").asBoolean());
        assertEquals("model-level metrics unavailable", root.get("gate").get("failures").get(0).asText());
    }

    @Test
    void markdownSaysPassOrFail() {
        String pass = ReportWriter.markdown(Samples.realistic(new Gate.Thresholds(0.05, 0.05, 0.5), true));
        assertTrue(pass.startsWith("# Nibble evaluation report\n\n**PASS**"), pass);
        assertTrue(pass.contains("| Metric | Original | Quantized | Change |"));
        assertTrue(pass.contains("| Perplexity | "));
        assertTrue(pass.contains("| Layer | Elements | MSE | SQNR dB |"));
        assertTrue(pass.contains("| `model.layers.3.mlp.down_proj.weight` | int8 g128 | 8.125 |"), pass);
        assertTrue(pass.contains("| `model.norm.weight` | keep | 16.000 | exact | 0 | 1.000000 |"), pass);
        assertTrue(pass.contains("KLD p99"));
        assertTrue(pass.contains("Top-1 agreement"));
        assertTrue(Pattern.compile("\\| Perplexity \\| [0-9.]+ \\[[0-9.]+, [0-9.]+\\] \\|").matcher(pass).find());

        String fail = ReportWriter.markdown(Samples.realistic(new Gate.Thresholds(1e-6, null, null), true));
        assertTrue(fail.contains("**FAIL**"));
        assertTrue(fail.contains("\n- mean KLD "), fail);
        String none = ReportWriter.markdown(Samples.realistic(new Gate.Thresholds(null, null, 0.9), false));
        assertTrue(none.contains("**FAIL**"));
        assertTrue(none.contains("- model-level metrics unavailable"));
        assertTrue(none.contains("Model-level metrics are unavailable"));
    }

    @Test
    void htmlIsSelfContainedWithThreeValidPngCharts() throws IOException {
        EvalReport r = Samples.realistic(new Gate.Thresholds(0.05, 0.05, 0.9), true);
        String html = ReportWriter.html(r);
        List<byte[]> pngs = images(html);
        assertEquals(3, pngs.size());
        for (byte[] png : pngs) {
            assertArrayEquals(PNG_SIGNATURE, Arrays.copyOf(png, 8));
        }
        assertFalse(html.contains("http://"));
        assertFalse(html.contains("https://"));
        assertFalse(html.contains("<link"));
        assertFalse(html.contains("<script"));
        assertTrue(html.contains("PASS"));
        assertTrue(html.startsWith("<!DOCTYPE html>"));
        Path out = Path.of("target", "report-sample", "nibble-report-sample.html");
        Files.createDirectories(out.getParent());
        Files.writeString(out, html);
        Files.writeString(out.resolveSibling("nibble-report-sample.md"), ReportWriter.markdown(r));
        Files.write(out.resolveSibling("nibble-report-sample.json"), ReportWriter.json(r));
    }

    @Test
    void htmlWithoutModelLevelOmitsTheKldChartAndSaysSo() {
        String html = ReportWriter.html(Samples.realistic(new Gate.Thresholds(null, null, 0.9), false));
        assertEquals(2, images(html).size());
        assertTrue(html.contains("The KL divergence chart is omitted"));
        assertTrue(html.contains("FAIL"));
        assertTrue(html.contains("model-level metrics unavailable"));
    }

    @Test
    void textIsEscaped() {
        String evil = "model.layers.0.<script>alert('x')</script>|&.weight";
        List<TensorError> tensors = List.of(
                new TensorError(evil, 0, "int4 <b>", 4.5, 10, 0.1, 10.0, 0.5, 0.99, 10, 1));
        EvalReport r = EvalReport.of("s3a://b/o\"><img src=x>", "file:/tmp/q", "r<i>", ActivationQuant.NONE,
                Gate.Thresholds.NONE, null, tensors);
        String html = ReportWriter.html(r);
        assertFalse(html.contains("<script"), html);
        assertFalse(html.contains("<b>"));
        assertFalse(html.contains("<i>"));
        assertFalse(html.contains("<img src=x"));
        assertTrue(html.contains("model.layers.0.&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;|&amp;.weight"));
        String md = ReportWriter.markdown(r);
        assertTrue(md.contains("`model.layers.0.<script>alert('x')</script>\\|&.weight`"), md);
        assertTrue(md.contains("int4 &lt;b&gt;"));
    }

    private static List<byte[]> images(String html) {
        List<byte[]> out = new ArrayList<>();
        Matcher m = IMG.matcher(html);
        while (m.find()) {
            out.add(Base64.getDecoder().decode(m.group(1)));
        }
        assertEquals(out.size(), html.split("<img src=\"data:image/png;base64,|<img alt=", -1).length - 1);
        return out;
    }
}
