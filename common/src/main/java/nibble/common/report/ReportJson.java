package nibble.common.report;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import nibble.common.eval.Estimate;
import nibble.common.eval.Summary;
import nibble.common.json.Json;

/**
 * The JSON form of an {@link EvalReport}, built as a tree in a fixed key order and written by the
 * project's JSON codec, so the bytes depend on nothing but the report. Non-finite numbers are null.
 */
final class ReportJson {
    static final String FORMAT = "nibble-eval-report";
    static final int FORMAT_VERSION = 1;

    private ReportJson() {
    }

    static byte[] json(EvalReport r) {
        return Json.write(tree(r));
    }

    static ObjectNode tree(EvalReport r) {
        ObjectNode m = Json.object();
        m.put("format", FORMAT);
        m.put("format_version", FORMAT_VERSION);
        m.put("original", r.original());
        m.put("quantized", r.quantized());
        m.put("recipe", r.recipe());
        m.put("activations", r.activationsLabel());
        m.set("gate", gate(r.gate()));
        m.set("model", r.model() == null ? null : model(r.model()));
        ArrayNode layers = m.putArray("layers");
        for (LayerError l : r.layers()) {
            ObjectNode o = layers.addObject();
            o.put("layer", l.layer());
            o.put("elements", l.elements());
            o.put("mse", Json.finite(l.mse()));
            o.put("sqnr_db", l.sqnrDb());
        }
        ArrayNode tensors = m.putArray("tensors");
        for (TensorError t : r.tensors()) {
            ObjectNode o = tensors.addObject();
            o.put("name", t.name());
            o.put("layer", t.layer());
            o.put("scheme", t.scheme());
            o.put("bits_per_weight", Json.finite(t.bitsPerWeight()));
            o.put("elements", t.elements());
            o.put("mse", Json.finite(t.mse()));
            o.put("sqnr_db", t.sqnrDb());
            o.put("max_abs_error", Json.finite(t.maxAbsError()));
            o.put("cosine", Json.finite(t.cosine()));
            o.put("sum_sq_signal", Json.finite(t.sumSqSignal()));
            o.put("sum_sq_error", Json.finite(t.sumSqError()));
        }
        return m;
    }

    private static ObjectNode gate(Gate g) {
        ObjectNode m = Json.object();
        m.put("max_kld", g.thresholds().maxKld());
        m.put("max_ppl_increase", g.thresholds().maxPplIncrease());
        m.put("min_top1", g.thresholds().minTop1());
        m.put("passed", g.passed());
        ArrayNode failures = m.putArray("failures");
        g.failures().forEach(failures::add);
        return m;
    }

    private static ObjectNode model(ModelLevel ml) {
        Summary s = ml.summary();
        ObjectNode m = Json.object();
        m.put("sequences", s.sequences());
        m.put("tokens", s.tokens());
        m.put("seed", ml.seed());
        m.put("calibration_seed", ml.calibrationSeed());
        m.put("sequence_length", ml.sequenceLength());
        if (ml.text() != null) {
            ObjectNode t = m.putObject("text");
            t.put("input", ml.text().input());
            t.put("protocol", "llama-perplexity");
            t.put("ctx", ml.text().ctx());
            t.put("scored_from", ml.text().scoredFrom());
            t.put("text_tokens", ml.text().textTokens());
            t.put("bos", ml.text().bos());
        }
        m.set("perplexity_original", estimate(s.perplexityP()));
        m.set("perplexity_quantized", estimate(s.perplexityQ()));
        m.put("perplexity_ratio", Json.finite(ml.perplexityRatio()));
        m.put("perplexity_difference", Json.finite(ml.perplexityDifference()));
        m.set("nll_original", estimate(s.nllP()));
        m.set("nll_quantized", estimate(s.nllQ()));
        m.set("kld_mean", estimate(s.kl()));
        m.put("kld_median", Json.finite(s.klMedian()));
        m.put("kld_p99", Json.finite(s.klP99()));
        m.set("top1_agreement", estimate(s.top1Agreement()));
        m.set("accuracy_original", estimate(s.top1AccuracyP()));
        m.set("accuracy_quantized", estimate(s.top1AccuracyQ()));
        ObjectNode h = m.putObject("kld_histogram");
        ArrayNode edges = h.putArray("edges");
        for (double e : ml.kldHistogram().edges()) {
            edges.add(Json.finite(e));
        }
        ArrayNode counts = h.putArray("counts");
        for (long c : ml.kldHistogram().counts()) {
            counts.add(c);
        }
        return m;
    }

    private static ObjectNode estimate(Estimate e) {
        ObjectNode m = Json.object();
        m.put("mean", Json.finite(e.mean()));
        m.put("low", Json.finite(e.low()));
        m.put("high", Json.finite(e.high()));
        return m;
    }
}
