package nibble.common.quant;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;

import nibble.common.InvalidInputException;

/**
 * Which tensors to quantize and how. A recipe is a JSON file:
 *
 * <pre>{@code
 * {
 *   "description": "optional text",
 *   "keep_1d": true,
 *   "default": {"bits": 4, "symmetric": true, "group_size": 128},
 *   "overrides": [
 *     {"match": "(?i).*norm.*", "keep": true},
 *     {"match": "lm_head\\.weight", "bits": 8, "granularity": "channel"}
 *   ]
 * }
 * }</pre>
 *
 * A scheme object has the keys {@code bits} (4 or 8, required), {@code symmetric} (default true),
 * {@code granularity} ({@code tensor}, {@code channel} or {@code group}; default {@code group} when
 * {@code group_size} is given, else {@code channel}), {@code group_size} (positive), {@code codebook}
 * ({@code uniform} (default), {@code nf4}, {@code log2}), {@code range} ({@code minmax} (default),
 * {@code percentile}, {@code mse}), {@code percentile} (with range percentile; default 99.9) and
 * {@code scale_dtype} ({@code F16} (default) or {@code F32}) and {@code importance} ({@code none}
 * (default) or {@code activations}: with range mse, each element's squared error is weighted by its
 * input channel's mean x² from {@code calibrate --data/--text}; or {@code hessian}: GPTQ against the layer input's
 * {@code XᵀX} from {@code calibrate --hessian}, with range minmax or mse; {@link Importance}, {@link Gptq}). An override is {@code "match"} plus
 * either {@code "keep": true} or a complete scheme (it does not inherit from the default).
 *
 * <p>{@link #schemeFor} keeps tensors with at most one dimension when {@code keep_1d} is true (the
 * default: biases and norm weights are tiny and sensitive), then tries the overrides in order; the
 * first whose regex matches the <em>whole</em> tensor name ({@link java.util.regex.Matcher#matches})
 * wins; otherwise the default applies. Every error names the file and line.
 *
 * <p>The shipped recipes live in {@code conf/recipes/} and, from that same directory, in the jar
 * under {@code nibble/recipes/}; {@link #load} takes a path or a built-in name.
 */
public final class Recipe {

    /** Names of the recipes shipped in conf/recipes and the jar. */
    public static final List<String> BUILT_IN = List.of("int4-g32", "int4-g128", "int4-g32-mse", "int4-g32-imatrix", "nf4-g64",
            "nf4-g64-imatrix", "int8-channel", "int4-g32-gptq", "int4-g32-awq", "int4-k256-mse", "int4-k256-imatrix");

    /** One override: a regex on the tensor name and what to do on a match. */
    public record Rule(Pattern match, Treatment treatment) {
    }

    private static final Set<String> TOP_KEYS = Set.of("description", "keep_1d", "default", "overrides", "gptq", "awq");
    private static final Set<String> AWQ_KEYS = Set.of("grid");
    private static final Set<String> GPTQ_KEYS = Set.of("damp", "act_order");
    private static final Set<String> SCHEME_KEYS = Set.of("bits", "symmetric", "granularity", "group_size", "codebook", "range",
            "percentile", "scale_dtype", "importance");

    private final String source;
    private final String description;
    private final boolean keep1d;
    private final Scheme defaultScheme;
    private final List<Rule> overrides;
    private final Gptq.Options gptq;
    private final Awq.Options awq;

    private Recipe(String source, String description, boolean keep1d, Scheme defaultScheme, List<Rule> overrides, Gptq.Options gptq,
                   Awq.Options awq) {
        this.gptq = gptq;
        this.awq = awq;
        this.source = source;
        this.description = description;
        this.keep1d = keep1d;
        this.defaultScheme = defaultScheme;
        this.overrides = List.copyOf(overrides);
    }

    public String source() {
        return source;
    }

    public String description() {
        return description;
    }

    public boolean keep1d() {
        return keep1d;
    }

    public Scheme defaultScheme() {
        return defaultScheme;
    }

    public List<Rule> overrides() {
        return overrides;
    }

    /** GPTQ's settings for schemes with {@code "importance": "hessian"} ({@link Gptq.Options#DEFAULT} unless the recipe sets them). */
    public Gptq.Options gptq() {
        return gptq;
    }

    /**
     * AWQ's settings when the recipe has an {@code "awq"} object, else null: then every scale group of
     * matrices whose scheme has {@code "importance": "activations"} is scaled ({@link Awq}, {@link AwqFolds}).
     */
    public Awq.Options awq() {
        return awq;
    }

    /**
     * The scheme for a tensor, or {@link Treatment#KEEP}. A tensor without elements (a shape with a 0,
     * e.g. [4, 0]) is always kept: there is nothing to quantize and its error figures would be 0/0.
     */
    public Treatment schemeFor(String tensorName, long[] shape) {
        if (keep1d && shape.length <= 1 || java.util.Arrays.stream(shape).anyMatch(d -> d == 0)) {
            return Treatment.KEEP;
        }
        for (Rule r : overrides) {
            if (r.match().matcher(tensorName).matches()) {
                return r.treatment();
            }
        }
        return defaultScheme;
    }

    /** Reads a recipe file at {@code nameOrPath}, or else the built-in recipe of that name (with or without ".json"). */
    public static Recipe load(String nameOrPath) {
        Path path = null;
        try {
            path = Path.of(nameOrPath);
        } catch (InvalidPathException e) {
            // not a path; try the built-ins
        }
        if (path != null && Files.isRegularFile(path)) {
            try {
                return parse(Files.readString(path, StandardCharsets.UTF_8), path.toString());
            } catch (IOException e) {
                throw new InvalidInputException("recipe " + path + ": cannot read: " + e.getMessage(), e);
            }
        }
        String name = nameOrPath.endsWith(".json") ? nameOrPath.substring(0, nameOrPath.length() - 5) : nameOrPath;
        if (BUILT_IN.contains(name)) {
            try (InputStream in = Recipe.class.getResourceAsStream("/nibble/recipes/" + name + ".json")) {
                if (in == null) {
                    throw new IllegalStateException("built-in recipe " + name + " is missing from the classpath");
                }
                return parse(new String(in.readAllBytes(), StandardCharsets.UTF_8), name + ".json (built-in)");
            } catch (IOException e) {
                throw new IllegalStateException("cannot read built-in recipe " + name, e);
            }
        }
        throw new InvalidInputException("recipe '" + nameOrPath + "': no such file and no built-in recipe of that name (built-ins: "
                + String.join(", ", BUILT_IN) + ")");
    }

    /** Parses recipe JSON; {@code fileName} is used in error messages. */
    public static Recipe parse(String json, String fileName) {
        JsonTree.Node root = JsonTree.parse(json, fileName);
        Map<String, JsonTree.Node> top = root.object(fileName, "recipe");
        checkKeys(top, TOP_KEYS, fileName, "recipe");
        String description = top.containsKey("description") ? top.get("description").string(fileName, "description") : "";
        boolean keep1d = !top.containsKey("keep_1d") || top.get("keep_1d").bool(fileName, "keep_1d");
        JsonTree.Node def = top.get("default");
        if (def == null) {
            throw new InvalidInputException("recipe " + fileName + " line " + root.line() + ": missing \"default\" scheme");
        }
        Scheme defaultScheme = scheme(def, def.object(fileName, "default"), fileName);
        List<Rule> rules = new ArrayList<>();
        if (top.containsKey("overrides")) {
            for (JsonTree.Node o : top.get("overrides").array(fileName, "overrides")) {
                rules.add(rule(o, fileName));
            }
        }
        Gptq.Options gptq = Gptq.Options.DEFAULT;
        if (top.containsKey("gptq")) {
            JsonTree.Node g = top.get("gptq");
            Map<String, JsonTree.Node> o = g.object(fileName, "gptq");
            checkKeys(o, GPTQ_KEYS, fileName, "gptq");
            double damp = o.containsKey("damp") ? o.get("damp").number(fileName, "damp") : Gptq.Options.DEFAULT.damp();
            boolean actOrder = o.containsKey("act_order") ? o.get("act_order").bool(fileName, "act_order")
                    : Gptq.Options.DEFAULT.actOrder();
            try {
                gptq = new Gptq.Options(damp, actOrder);
            } catch (InvalidInputException e) {
                throw error(fileName, g, e.getMessage());
            }
        }
        Awq.Options awq = null;
        if (top.containsKey("awq")) {
            JsonTree.Node a = top.get("awq");
            Map<String, JsonTree.Node> o = a.object(fileName, "awq");
            checkKeys(o, AWQ_KEYS, fileName, "awq");
            try {
                awq = o.containsKey("grid") ? new Awq.Options(o.get("grid").integer(fileName, "grid")) : Awq.Options.DEFAULT;
            } catch (InvalidInputException e) {
                throw error(fileName, a, e.getMessage());
            }
        }
        return new Recipe(fileName, description, keep1d, defaultScheme, rules, gptq, awq);
    }

    private static Rule rule(JsonTree.Node node, String file) {
        Map<String, JsonTree.Node> m = new java.util.LinkedHashMap<>(node.object(file, "override"));
        JsonTree.Node match = m.remove("match");
        if (match == null) {
            throw error(file, node, "override without \"match\"");
        }
        String regex = match.string(file, "match");
        Pattern pattern;
        try {
            pattern = Pattern.compile(regex);
        } catch (PatternSyntaxException e) {
            throw error(file, match, "bad regex '" + regex + "': " + e.getDescription());
        }
        JsonTree.Node keep = m.remove("keep");
        if (keep != null) {
            if (!keep.bool(file, "keep")) {
                throw error(file, keep, "\"keep\" must be true (leave it out to quantize)");
            }
            if (!m.isEmpty()) {
                JsonTree.Node extra = m.values().iterator().next();
                throw error(file, extra, "an override with \"keep\" takes no scheme keys, got '" + m.keySet().iterator().next() + "'");
            }
            return new Rule(pattern, Treatment.KEEP);
        }
        return new Rule(pattern, scheme(node, m, file));
    }

    /** A scheme object's keys as {@link Scheme}; {@code file} names the recipe (or manifest) in errors. */
    static Scheme scheme(JsonTree.Node node, Map<String, JsonTree.Node> m, String file) {
        checkKeys(m, SCHEME_KEYS, file, "scheme");
        JsonTree.Node bitsNode = m.get("bits");
        if (bitsNode == null) {
            throw error(file, node, "scheme without \"bits\"");
        }
        int bits = bitsNode.integer(file, "bits");
        if (bits != 4 && bits != 8) {
            throw error(file, bitsNode, "bits must be 4 or 8, got " + bits);
        }
        boolean symmetric = !m.containsKey("symmetric") || m.get("symmetric").bool(file, "symmetric");
        int groupSize = 0;
        if (m.containsKey("group_size")) {
            groupSize = m.get("group_size").integer(file, "group_size");
            if (groupSize <= 0) {
                throw error(file, m.get("group_size"), "group_size must be positive, got " + groupSize);
            }
        }
        Granularity granularity = m.containsKey("granularity") ? choice(m.get("granularity"), Granularity.class, file, "granularity")
                : (groupSize > 0 ? Granularity.GROUP : Granularity.CHANNEL);
        Codebook codebook = m.containsKey("codebook") ? choice(m.get("codebook"), Codebook.class, file, "codebook") : Codebook.UNIFORM;
        RangeMethod range = m.containsKey("range") ? choice(m.get("range"), RangeMethod.class, file, "range") : RangeMethod.MINMAX;
        double percentile = 0;
        if (m.containsKey("percentile")) {
            percentile = m.get("percentile").number(file, "percentile");
        } else if (range == RangeMethod.PERCENTILE) {
            percentile = 99.9;
        }
        ScaleFormat scaleFormat = m.containsKey("scale_dtype") ? choice(m.get("scale_dtype"), ScaleFormat.class, file, "scale_dtype")
                : ScaleFormat.F16;
        Importance importance = m.containsKey("importance") ? choice(m.get("importance"), Importance.class, file, "importance")
                : Importance.NONE;
        try {
            return new Scheme(bits, symmetric, granularity, groupSize, codebook, range, percentile, scaleFormat, importance);
        } catch (InvalidInputException e) {
            throw error(file, node, e.getMessage());
        }
    }

    private static <E extends Enum<E>> E choice(JsonTree.Node node, Class<E> type, String file, String key) {
        String s = node.string(file, key);
        for (E e : type.getEnumConstants()) {
            if (e.name().equalsIgnoreCase(s)) {
                return e;
            }
        }
        List<String> names = new ArrayList<>();
        for (E e : type.getEnumConstants()) {
            names.add(type == ScaleFormat.class ? e.name() : e.name().toLowerCase(Locale.ROOT));
        }
        throw error(file, node, "unknown " + key + " '" + s + "' (expected one of " + String.join(", ", names) + ")");
    }

    private static void checkKeys(Map<String, JsonTree.Node> m, Set<String> allowed, String file, String what) {
        for (Map.Entry<String, JsonTree.Node> e : m.entrySet()) {
            if (!allowed.contains(e.getKey())) {
                throw error(file, e.getValue(), "unknown key '" + e.getKey() + "' in " + what + " (expected one of "
                        + String.join(", ", new java.util.TreeSet<>(allowed)) + ")");
            }
        }
    }

    /** An error in a recipe file names its line; in a tree without lines (a manifest), just {@code file}. */
    static InvalidInputException error(String file, JsonTree.Node node, String problem) {
        return new InvalidInputException(node.line() > 0 ? "recipe " + file + " line " + node.line() + ": " + problem : file + ": " + problem);
    }
}
