package nibble.common.report;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import nibble.common.model.Estimate;
import nibble.common.model.Summary;

/**
 * The JSON form of an {@link EvalReport}: the report as an insertion-ordered tree, then written by hand so
 * the bytes depend on nothing but the report (key order, two-space indent, numbers as
 * {@link Double#toString}, non-finite numbers as null, arrays of numbers on one line).
 */
final class ReportJson {
    static final String FORMAT = "nibble-eval-report";
    static final int FORMAT_VERSION = 1;

    private ReportJson() {
    }

    static byte[] json(EvalReport r) {
        StringBuilder b = new StringBuilder();
        write(b, tree(r), "");
        b.append('\n');
        return b.toString().getBytes(StandardCharsets.UTF_8);
    }

    static Map<String, Object> tree(EvalReport r) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("format", FORMAT);
        m.put("format_version", FORMAT_VERSION);
        m.put("original", r.original());
        m.put("quantized", r.quantized());
        m.put("recipe", r.recipe());
        m.put("activations", r.activationsLabel());
        m.put("gate", gate(r.gate()));
        m.put("model", r.model() == null ? null : model(r.model()));
        List<Object> layers = new ArrayList<>();
        for (LayerError l : r.layers()) {
            Map<String, Object> o = new LinkedHashMap<>();
            o.put("layer", l.layer());
            o.put("elements", l.elements());
            o.put("mse", l.mse());
            o.put("sqnr_db", l.sqnrDb());
            layers.add(o);
        }
        m.put("layers", layers);
        List<Object> tensors = new ArrayList<>();
        for (TensorError t : r.tensors()) {
            Map<String, Object> o = new LinkedHashMap<>();
            o.put("name", t.name());
            o.put("layer", t.layer());
            o.put("scheme", t.scheme());
            o.put("bits_per_weight", t.bitsPerWeight());
            o.put("elements", t.elements());
            o.put("mse", t.mse());
            o.put("sqnr_db", t.sqnrDb());
            o.put("max_abs_error", t.maxAbsError());
            o.put("cosine", t.cosine());
            o.put("sum_sq_signal", t.sumSqSignal());
            o.put("sum_sq_error", t.sumSqError());
            tensors.add(o);
        }
        m.put("tensors", tensors);
        return m;
    }

    private static Map<String, Object> gate(Gate g) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("max_kld", g.thresholds().maxKld());
        m.put("max_ppl_increase", g.thresholds().maxPplIncrease());
        m.put("min_top1", g.thresholds().minTop1());
        m.put("passed", g.passed());
        m.put("failures", new ArrayList<Object>(g.failures()));
        return m;
    }

    private static Map<String, Object> model(ModelLevel ml) {
        Summary s = ml.summary();
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("sequences", s.sequences());
        m.put("tokens", s.tokens());
        m.put("seed", ml.seed());
        m.put("calibration_seed", ml.calibrationSeed());
        m.put("sequence_length", ml.sequenceLength());
        m.put("perplexity_original", estimate(s.perplexityP()));
        m.put("perplexity_quantized", estimate(s.perplexityQ()));
        m.put("perplexity_ratio", ml.perplexityRatio());
        m.put("perplexity_difference", ml.perplexityDifference());
        m.put("nll_original", estimate(s.nllP()));
        m.put("nll_quantized", estimate(s.nllQ()));
        m.put("kld_mean", estimate(s.kl()));
        m.put("kld_median", s.klMedian());
        m.put("kld_p99", s.klP99());
        m.put("top1_agreement", estimate(s.top1Agreement()));
        m.put("accuracy_original", estimate(s.top1AccuracyP()));
        m.put("accuracy_quantized", estimate(s.top1AccuracyQ()));
        Map<String, Object> h = new LinkedHashMap<>();
        h.put("edges", ml.kldHistogram().edges());
        h.put("counts", ml.kldHistogram().counts());
        m.put("kld_histogram", h);
        return m;
    }

    private static Map<String, Object> estimate(Estimate e) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("mean", e.mean());
        m.put("low", e.low());
        m.put("high", e.high());
        return m;
    }

    private static void write(StringBuilder b, Object v, String indent) {
        if (v == null) {
            b.append("null");
        } else if (v instanceof String s) {
            string(b, s);
        } else if (v instanceof Boolean || v instanceof Integer || v instanceof Long) {
            b.append(v);
        } else if (v instanceof Double d) {
            number(b, d);
        } else if (v instanceof double[] a) {
            b.append('[');
            for (int i = 0; i < a.length; i++) {
                b.append(i == 0 ? "" : ", ");
                number(b, a[i]);
            }
            b.append(']');
        } else if (v instanceof long[] a) {
            b.append('[');
            for (int i = 0; i < a.length; i++) {
                b.append(i == 0 ? "" : ", ").append(a[i]);
            }
            b.append(']');
        } else if (v instanceof Map<?, ?> m) {
            if (m.isEmpty()) {
                b.append("{}");
                return;
            }
            String inner = indent + "  ";
            b.append("{\n");
            int i = 0;
            for (Map.Entry<?, ?> e : m.entrySet()) {
                b.append(inner);
                string(b, (String) e.getKey());
                b.append(": ");
                write(b, e.getValue(), inner);
                b.append(++i < m.size() ? ",\n" : "\n");
            }
            b.append(indent).append('}');
        } else if (v instanceof List<?> l) {
            if (l.isEmpty()) {
                b.append("[]");
                return;
            }
            String inner = indent + "  ";
            b.append("[\n");
            for (int i = 0; i < l.size(); i++) {
                b.append(inner);
                write(b, l.get(i), inner);
                b.append(i + 1 < l.size() ? ",\n" : "\n");
            }
            b.append(indent).append(']');
        } else {
            throw new IllegalArgumentException("no JSON form for " + v.getClass());
        }
    }

    private static void number(StringBuilder b, double d) {
        b.append(Double.isFinite(d) ? Double.toString(d) : "null");
    }

    private static void string(StringBuilder b, String s) {
        b.append('"');
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '"' -> b.append("\\\"");
                case '\\' -> b.append("\\\\");
                case '\n' -> b.append("\\n");
                case '\r' -> b.append("\\r");
                case '\t' -> b.append("\\t");
                default -> {
                    if (c < 0x20 || c == 0x2028 || c == 0x2029) {
                        b.append(String.format("\\u%04x", (int) c));
                    } else {
                        b.append(c);
                    }
                }
            }
        }
        b.append('"');
    }
}
