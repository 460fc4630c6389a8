package nibble.common.quant;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.Locale;
import nibble.common.json.Json;

/**
 * A {@link Scheme} as the JSON object a recipe spells it with ({@link Recipe} documents the keys),
 * which is also how a quantized table's manifest records it. Only the keys that mean something for
 * the scheme are written: {@code group_size} with group granularity, {@code percentile} with
 * percentile ranges, {@code importance} when it is not {@code none} (so schemes without it are
 * written as before).
 */
public final class SchemeJson {
    private SchemeJson() {
    }

    /** The scheme's object: bits, symmetric, granularity, [group_size], codebook, range, [percentile], scale_dtype. */
    public static ObjectNode write(Scheme s) {
        ObjectNode o = Json.object();
        o.put("bits", s.bits());
        o.put("symmetric", s.symmetric());
        o.put("granularity", lower(s.granularity()));
        if (s.granularity() == Granularity.GROUP) {
            o.put("group_size", s.groupSize());
        }
        o.put("codebook", lower(s.codebook()));
        o.put("range", lower(s.range()));
        if (s.range() == RangeMethod.PERCENTILE) {
            o.put("percentile", s.percentile());
        }
        o.put("scale_dtype", s.scaleFormat().name());
        if (s.importance() != Importance.NONE) {
            o.put("importance", lower(s.importance()));
        }
        return o;
    }

    /** Reads a scheme object with the recipe's rules; errors name {@code where}. */
    public static Scheme read(JsonNode node, String where) {
        JsonTree.Node tree = JsonTree.of(node, where);
        return Recipe.scheme(tree, tree.object(where, "scheme"), where);
    }

    private static String lower(Enum<?> e) {
        return e.name().toLowerCase(Locale.ROOT);
    }
}
