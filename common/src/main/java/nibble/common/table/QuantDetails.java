package nibble.common.table;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.Locale;
import java.util.Set;
import nibble.common.json.Json;
import nibble.common.InvalidInputException;
import nibble.common.TensorInfo;
import nibble.common.quant.Codebook;
import nibble.common.quant.Granularity;
import nibble.common.quant.RangeMethod;
import nibble.common.quant.Scheme;
import nibble.common.quant.SchemeJson;
import nibble.common.quant.Treatment;
import nibble.common.stats.ErrorStats;

/**
 * How a quantized table stores one tensor (docs/FORMAT.md): its {@link Treatment} (a {@link Scheme},
 * or kept as it was), bits per weight as stored (codes, scales and zero-points), the reconstruction
 * error measured while quantizing (null when kept), and the checksum of the dense tensor it came from.
 */
public record QuantDetails(Treatment treatment, double bitsPerWeight, ErrorSummary error, String sourceChecksum) {
    static final Set<String> FIELDS = Set.of("treatment", "scheme", "bits_per_weight", "error", "source_checksum");

    /** A tensor's reconstruction error: mean squared error, SQNR in dB (null when exact), max |error|, cosine. */
    public record ErrorSummary(double mse, Double sqnrDb, double maxAbsError, double cosine) {
        public static ErrorSummary of(ErrorStats e) {
            return new ErrorSummary(e.mse(), Json.finite(e.sqnrDb()), e.maxAbsError(), e.cosine());
        }
    }

    /** The details of {@code source} stored under {@code treatment} in rows of {@code storedRowBytes}. */
    public static QuantDetails of(Treatment treatment, TensorEntry source, long storedRowBytes, ErrorStats error) {
        long n = source.info().rowLength();
        // rows without elements ([4, 0]) are only ever kept (Recipe.schemeFor): their bits are the dtype's
        return new QuantDetails(treatment, n == 0 ? 8.0 * source.info().dtype().bytes() : 8.0 * storedRowBytes / n, error == null ? null : ErrorSummary.of(error),
                source.checksum());
    }

    /** The scheme the tensor is stored with, or null when it was kept. */
    public Scheme scheme() {
        return treatment instanceof Scheme s ? s : null;
    }

    /** A short label: "keep", or bits, codebook, granularity and range, e.g. "int4 g32 mse". */
    public String label() {
        Scheme s = scheme();
        if (s == null) {
            return "keep";
        }
        StringBuilder b = new StringBuilder(s.codebook() == Codebook.UNIFORM ? "int" + s.bits() : lower(s.codebook()));
        b.append(s.symmetric() ? "" : " asym");
        b.append(' ').append(s.granularity() == Granularity.GROUP ? "g" + s.groupSize()
                : s.granularity() == Granularity.SUPERBLOCK ? "k256" : lower(s.granularity()));
        if (s.range() != RangeMethod.MINMAX) {
            b.append(' ').append(lower(s.range()));
        }
        return b.toString();
    }

    /** The tensor's SQNR in dB; null when kept or exact. */
    public Double sqnrDb() {
        return error == null ? null : error.sqnrDb();
    }

    /** Bytes the tensor's rows take as stored. */
    public long storedBytes(TensorInfo info) {
        return Math.round(bitsPerWeight * info.elementCount() / 8.0);
    }

    void writeTo(ObjectNode t) {
        t.put("treatment", scheme() == null ? "keep" : "quantize");
        if (scheme() != null) {
            t.set("scheme", SchemeJson.write(scheme()));
        }
        t.put("bits_per_weight", bitsPerWeight);
        if (error != null) {
            ObjectNode e = t.putObject("error");
            e.put("mse", error.mse());
            e.put("sqnr_db", error.sqnrDb());
            e.put("max_abs_error", error.maxAbsError());
            e.put("cosine", error.cosine());
        }
        t.put("source_checksum", sourceChecksum);
    }

    static QuantDetails read(JsonNode t, String at) {
        String treatment = Manifest.text(t, "treatment", at);
        Treatment tr = switch (treatment) {
            case "keep" -> {
                if (t.has("scheme")) {
                    throw new InvalidInputException(at + ": a kept tensor has no 'scheme'");
                }
                yield Treatment.KEEP;
            }
            case "quantize" -> {
                if (!t.hasNonNull("scheme")) {
                    throw new InvalidInputException(at + ": field 'scheme' is missing");
                }
                yield SchemeJson.read(t.get("scheme"), at + ": scheme");
            }
            default -> throw new InvalidInputException(at + ": field 'treatment' is '" + treatment + "', expected quantize or keep");
        };
        JsonNode bpw = t.get("bits_per_weight");
        if (bpw == null || !bpw.isNumber()) {
            throw new InvalidInputException(at + ": field 'bits_per_weight' is missing or not a number");
        }
        return new QuantDetails(tr, bpw.asDouble(), error(t.get("error"), at), Manifest.text(t, "source_checksum", at));
    }

    private static ErrorSummary error(JsonNode e, String at) {
        if (e == null || e.isNull()) {
            return null;
        }
        for (String f : new String[] {"mse", "max_abs_error", "cosine"}) {
            if (!e.path(f).isNumber()) {
                throw new InvalidInputException(at + ": field 'error." + f + "' is missing or not a number");
            }
        }
        JsonNode sqnr = e.get("sqnr_db");
        return new ErrorSummary(e.get("mse").asDouble(), sqnr == null || sqnr.isNull() ? null : sqnr.asDouble(),
                e.get("max_abs_error").asDouble(), e.get("cosine").asDouble());
    }

    private static String lower(Enum<?> e) {
        return e.name().toLowerCase(Locale.ROOT);
    }
}
