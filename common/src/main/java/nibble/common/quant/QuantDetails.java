package nibble.common.quant;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.LinkedHashMap;
import java.util.Map;
import nibble.common.stats.ErrorStats;
import nibble.common.table.Manifest;
import nibble.common.table.TensorEntry;

/**
 * What a quantized table's manifest says about each tensor (docs/FORMAT.md): {@code treatment}
 * ({@code quantize} or {@code keep}), the {@code scheme} as recipe JSON, {@code bits_per_weight}
 * as stored (codes, scales and zero-points), the reconstruction {@code error}, and the
 * {@code source_checksum} of the dense tensor it came from.
 */
public final class QuantDetails {
    private static final ObjectMapper JSON = new ObjectMapper();

    private QuantDetails() {
    }

    /** Bytes one stored row takes: packed codes, scales and zero-points, or the source row when kept. */
    public static long storedRowBytes(Treatment t, nibble.common.TensorInfo info) {
        if (t instanceof Scheme s) {
            int n = Math.toIntExact(info.rowLength());
            long groups = s.groupCount(n);
            return s.codeBytes(n) + groups * s.scaleFormat().bytes() + (s.hasZeros() ? groups : 0);
        }
        return info.rowBytes();
    }

    /** A tensor entry's details for the quantized manifest. */
    public static Map<String, Object> details(Treatment t, TensorEntry source, long storedRowBytes, ErrorStats error) {
        Map<String, Object> d = new LinkedHashMap<>();
        long n = source.info().rowLength();
        d.put("treatment", t.isKeep() ? "keep" : "quantize");
        if (t instanceof Scheme s) {
            try {
                d.put("scheme", JSON.readValue(s.toString(), new TypeReference<LinkedHashMap<String, Object>>() { }));
            } catch (JsonProcessingException e) {
                throw new IllegalStateException(e);
            }
        }
        d.put("bits_per_weight", n == 0 ? 0.0 : 8.0 * storedRowBytes / n);
        if (error != null) {
            Map<String, Object> e = new LinkedHashMap<>();
            e.put("mse", error.mse());
            e.put("sqnr_db", ErrorStats.finiteOrNull(error.sqnrDb()));
            e.put("max_abs_error", error.maxAbsError());
            e.put("cosine", error.cosine());
            d.put("error", e);
        }
        d.put("source_checksum", source.checksum());
        return d;
    }

    /** The scheme a quantized tensor was stored with, or null when it was kept. */
    public static Scheme scheme(TensorEntry e, String where) {
        Object s = e.details() == null ? null : e.details().get("scheme");
        if (s == null) {
            return null;
        }
        try {
            return Recipe.parseScheme(JSON.writeValueAsString(s), where + ": tensor '" + e.info().name() + "' scheme");
        } catch (JsonProcessingException ex) {
            throw new IllegalStateException(ex);
        }
    }

    /** The tensor's SQNR in dB; null when kept or exact. */
    public static Double sqnr(TensorEntry e) {
        Object err = e.details() == null ? null : e.details().get("error");
        Object v = err instanceof Map<?, ?> m ? m.get("sqnr_db") : null;
        return v instanceof Number num ? num.doubleValue() : null;
    }

    /** A short label: "keep", or bits, codebook, granularity and range, e.g. "int4 g32 mse". */
    public static String label(TensorEntry e) {
        Object s = e.details() == null ? null : e.details().get("scheme");
        if (!(s instanceof Map<?, ?> m)) {
            return "keep";
        }
        String codebook = String.valueOf(m.get("codebook"));
        StringBuilder b = new StringBuilder(codebook.equals("uniform") ? "int" + m.get("bits") : codebook);
        b.append(Boolean.TRUE.equals(m.get("symmetric")) ? "" : " asym");
        Object g = m.get("granularity");
        b.append(' ').append("group".equals(g) ? "g" + m.get("group_size") : g);
        if (!"minmax".equals(m.get("range"))) {
            b.append(' ').append(m.get("range"));
        }
        return b.toString();
    }

    /** Bytes the quantized table stores for all tensors. */
    public static long storedBytes(Manifest m) {
        long total = 0;
        for (TensorEntry e : m.tensors()) {
            double bpw = ((Number) e.details().get("bits_per_weight")).doubleValue();
            total += Math.round(bpw * e.info().elementCount() / 8.0);
        }
        return total;
    }

    public static long quantizedCount(Manifest m) {
        return m.tensors().stream().filter(e -> "quantize".equals(e.details().get("treatment"))).count();
    }
}
