package nibble.common.report;

/**
 * Renders an {@link EvalReport} three ways: JSON for machines (stable bytes, so reports can be diffed and
 * checked in), Markdown for terminals and pull requests, and a self-contained HTML page with charts for
 * people. Writing the bytes somewhere is the caller's business (the Spark job writes through Hadoop).
 */
public final class ReportWriter {
    private ReportWriter() {
    }

    /**
     * The report as UTF-8 JSON: snake_case keys in a fixed order, two-space indent, non-finite numbers as
     * null, nothing time-dependent; the same report always gives the same bytes. Top-level keys:
     * {@code format} ("nibble-eval-report"), {@code format_version} (1), {@code original}, {@code quantized},
     * {@code recipe}, {@code activations}, {@code gate}, {@code model} (null without model-level metrics),
     * {@code layers}, {@code tensors}.
     */
    public static byte[] json(EvalReport r) {
        return ReportJson.json(r);
    }

    /** The report as Markdown: verdict, model-level tables with 95% intervals, per-layer and per-tensor tables. */
    public static String markdown(EvalReport r) {
        return ReportMarkdown.markdown(r);
    }

    /**
     * The report as one self-contained HTML page (inline CSS, no external references): the Markdown's
     * content plus charts of SQNR per layer, the KL divergence distribution and bits per weight per tensor,
     * drawn headless as embedded PNGs.
     */
    public static String html(EvalReport r) {
        return ReportHtml.html(r);
    }
}
