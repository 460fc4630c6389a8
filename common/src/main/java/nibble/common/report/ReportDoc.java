package nibble.common.report;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import nibble.common.eval.Estimate;
import nibble.common.eval.Summary;

/**
 * The human-readable report as a list of blocks, defined once so that the Markdown and HTML forms say
 * the same thing; each renderer only decides the markup. Numbers are formatted here, in
 * {@link Locale#ROOT}.
 */
final class ReportDoc {

    /** A part of the document. */
    sealed interface Block permits Heading, Para, Verdict, Bullets, Table, Chart {
    }

    /** A section heading, level 1 or 2. */
    record Heading(int level, String text) implements Block {
    }

    /** A paragraph of plain text. */
    record Para(String text) implements Block {
    }

    /** PASS or FAIL, with what failed and what was required. */
    record Verdict(boolean passed, List<String> failures, String requirements) implements Block {
    }

    /** A bulleted list of plain-text items. */
    record Bullets(List<String> items) implements Block {
    }

    /**
     * A table; a cell is a String (plain text) or a {@link Code} (a name or URI, shown verbatim).
     * {@code numeric[c]} right-aligns column c.
     */
    record Table(List<String> header, boolean[] numeric, List<List<Object>> rows) implements Block {
    }

    /** Verbatim text such as a tensor name. */
    record Code(String text) {
    }

    /** Where a chart goes; only HTML draws charts. */
    enum Chart implements Block {
        KLD_DISTRIBUTION, SQNR_PER_LAYER, BITS_PER_TENSOR
    }

    private ReportDoc() {
    }

    static List<Block> of(EvalReport r) {
        List<Block> d = new ArrayList<>();
        d.add(new Heading(1, "Nibble evaluation report"));
        d.add(new Verdict(r.gate().passed(), r.gate().failures(), requirements(r.gate().thresholds())));
        d.add(new Table(List.of("Input", "Value"), new boolean[2], List.of(
                List.of("Original", new Code(r.original())),
                List.of("Quantized", new Code(r.quantized())),
                List.of("Recipe", r.recipe() == null ? "unknown" : new Code(r.recipe())),
                List.of("Activations", r.activationsLabel()))));
        model(d, r.model());
        layers(d, r.layers());
        tensors(d, r.tensors());
        return d;
    }

    private static String requirements(Gate.Thresholds t) {
        if (!t.any()) {
            return "No gate thresholds were set.";
        }
        List<String> parts = new ArrayList<>();
        if (t.maxKld() != null) {
            parts.add("mean KLD ≤ " + Gate.num(t.maxKld()));
        }
        if (t.maxPplIncrease() != null) {
            parts.add(f("perplexity increase ≤ %+.2f%%", 100 * t.maxPplIncrease()));
        }
        if (t.minTop1() != null) {
            parts.add(f("top-1 agreement ≥ %s", pct(t.minTop1())));
        }
        return "Required: " + String.join(", ", parts) + ".";
    }

    private static void model(List<Block> d, ModelLevel m) {
        d.add(new Heading(2, "Model level"));
        if (m == null) {
            d.add(new Para("Model-level metrics are unavailable: the architecture is not one the runtime can run, "
                    + "so only tensor-level errors were measured."));
            d.add(Chart.KLD_DISTRIBUTION);
            return;
        }
        Summary s = m.summary();
        if (m.text() != null) {
            ModelLevel.Text t = m.text();
            d.add(new Para(f("%d chunks of %d tokens of %s (%,d tokens in all), by llama-perplexity's protocol: each chunk"
                            + " scored from position %d on (%,d scored positions)%s. Intervals are 95%% confidence intervals"
                            + " over chunks.", s.sequences(), t.ctx(), t.input(), t.textTokens(), t.scoredFrom(), s.tokens(),
                    t.bos() ? ", its first token replaced by BOS" : "")));
        } else {
            d.add(new Para(f("%d sequences of %d tokens (%,d scored positions), evaluation seed %d, %s. "
                            + "Intervals are 95%% confidence intervals over sequences.", s.sequences(), m.sequenceLength(),
                    s.tokens(), m.seed(), m.calibrationSeed() == null ? "no calibration data"
                            : "calibration seed " + m.calibrationSeed())));
        }
        List<List<Object>> rows = new ArrayList<>();
        double ratio = m.perplexityRatio();
        rows.add(List.of("Perplexity", est(s.perplexityP(), "%.4f"), est(s.perplexityQ(), "%.4f"),
                f("%+.4f (×%.4f, %+.2f%%)", m.perplexityDifference(), ratio, 100 * (ratio - 1))));
        rows.add(List.of("NLL (nats/token)", est(s.nllP(), "%.4f"), est(s.nllQ(), "%.4f"),
                f("%+.4f", s.nllQ().mean() - s.nllP().mean())));
        rows.add(List.of("Top-1 accuracy", pctEst(s.top1AccuracyP()), pctEst(s.top1AccuracyQ()),
                f("%+.2f pp", 100 * (s.top1AccuracyQ().mean() - s.top1AccuracyP().mean()))));
        d.add(new Table(List.of("Metric", "Original", "Quantized", "Change"),
                new boolean[] {false, true, true, true}, rows));
        d.add(new Table(List.of("Divergence", "Value"), new boolean[] {false, true}, List.of(
                List.of("KLD mean (nats/token)", est(s.kl(), "%.4g")),
                List.of("KLD median", g(s.klMedian())),
                List.of("KLD p99", g(s.klP99())),
                List.of("Top-1 agreement", pctEst(s.top1Agreement())))));
        d.add(Chart.KLD_DISTRIBUTION);
    }

    private static void layers(List<Block> d, List<LayerError> layers) {
        d.add(new Heading(2, "Layers"));
        if (layers.isEmpty()) {
            d.add(new Para("No tensor names a decoder layer (model.layers.N.)."));
            return;
        }
        d.add(new Para("SQNR over all of a layer's tensors: 10·log10(Σ signal² / Σ error²)."));
        List<List<Object>> rows = new ArrayList<>();
        for (LayerError l : layers) {
            rows.add(List.of(Integer.toString(l.layer()), f("%,d", l.elements()), g(l.mse()), sqnr(l.sqnrDb())));
        }
        d.add(new Table(List.of("Layer", "Elements", "MSE", "SQNR dB"), new boolean[] {true, true, true, true}, rows));
        d.add(Chart.SQNR_PER_LAYER);
    }

    private static void tensors(List<Block> d, List<TensorError> tensors) {
        d.add(new Heading(2, "Tensors"));
        if (tensors.isEmpty()) {
            d.add(new Para("No tensors."));
            return;
        }
        long elements = 0;
        double bits = 0;
        for (TensorError t : tensors) {
            elements += t.elements();
            bits += t.bitsPerWeight() * t.elements();
        }
        d.add(new Para(f("%d tensors, %,d elements, %.3f bits per weight on average (weighted by elements).",
                tensors.size(), elements, elements == 0 ? 0.0 : bits / elements)));
        List<List<Object>> rows = new ArrayList<>();
        for (TensorError t : tensors) {
            rows.add(List.of(new Code(t.name()), t.scheme(), f("%.3f", t.bitsPerWeight()), sqnr(t.sqnrDb()),
                    g(t.maxAbsError()), f("%.6f", t.cosine())));
        }
        d.add(new Table(List.of("Tensor", "Scheme", "Bits/weight", "SQNR dB", "Max abs error", "Cosine"),
                new boolean[] {false, false, true, true, true, true}, rows));
        d.add(Chart.BITS_PER_TENSOR);
    }

    /** "x [lo, hi]", or "x" when the interval is unknown (one sequence). */
    static String est(Estimate e, String fmt) {
        return est(e, fmt, 1);
    }

    private static String est(Estimate e, String fmt, double scale) {
        String mean = f(fmt, scale * e.mean());
        return Double.isFinite(e.low()) && Double.isFinite(e.high())
                ? mean + " [" + f(fmt, scale * e.low()) + ", " + f(fmt, scale * e.high()) + "]" : mean;
    }

    /** A fraction as "x% [lo%, hi%]". */
    private static String pctEst(Estimate e) {
        return est(e, "%.2f%%", 100);
    }

    private static String pct(double v) {
        return f("%.2f%%", 100 * v);
    }

    private static String sqnr(Double db) {
        return db == null ? "exact" : f("%.2f", db);
    }

    /** Four significant digits; "n/a" for NaN. */
    static String g(double v) {
        if (Double.isNaN(v)) {
            return "n/a";
        }
        return v == 0 ? "0" : f("%.4g", v);
    }

    static String f(String fmt, Object... args) {
        return String.format(Locale.ROOT, fmt, args);
    }
}
