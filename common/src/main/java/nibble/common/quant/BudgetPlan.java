package nibble.common.quant;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import nibble.common.json.Json;

/**
 * An accuracy budget turned into a recipe: every planned tensor has options from smallest to largest
 * (the base recipe's 4-bit scheme, int8 g32, kept), each with its stored bytes and its cost, what
 * the model loses when that tensor alone takes the option, in the {@link Budget}'s additive unit
 * (mean KLD, or mean NLL increase). The plan starts every tensor at its smallest option and, while
 * the summed costs exceed the target, moves up the tensor whose next option removes the most cost
 * per added byte (ties: the earlier tensor). Summing assumes the tensors' errors add, which holds to
 * first order for small, independent errors; {@code evaluate --max-kld} or {@code
 * --max-ppl-increase} on held-out data confirms the result.
 */
public final class BudgetPlan {
    /** int8, groups of 32, F16 scales: GGUF's Q8_0, the 8-bit option of every plan. */
    public static final Scheme INT8_G32 = Scheme.group(8, true, 32);

    /** One way to store a tensor: {@code treatment} takes {@code bytes} and adds {@code cost} (additive unit) alone. */
    public record Option(Treatment treatment, long bytes, double cost) {
    }

    /** A tensor and its options, smallest first. */
    public record Tensor(String name, List<Option> options) {
        public Tensor {
            options = List.copyOf(options);
            if (options.isEmpty()) {
                throw new IllegalArgumentException("tensor " + name + " has no options");
            }
        }
    }

    private final List<Tensor> tensors;
    private final int[] chosen;
    private final Budget target;

    private BudgetPlan(List<Tensor> tensors, int[] chosen, Budget target) {
        this.tensors = tensors;
        this.chosen = chosen;
        this.target = target;
    }

    /** Chooses an option per tensor (in the given order) so that the summed cost is within {@code target}. */
    public static BudgetPlan choose(List<Tensor> tensors, Budget target) {
        List<Tensor> ts = List.copyOf(tensors);
        int[] chosen = new int[ts.size()];
        double total = new BudgetPlan(ts, chosen, target).sum(0);
        while (total > target.additiveTarget()) {
            int best = -1;
            double bestRate = Double.NEGATIVE_INFINITY;
            for (int i = 0; i < ts.size(); i++) {
                List<Option> o = ts.get(i).options();
                if (chosen[i] + 1 < o.size()) {
                    Option now = o.get(chosen[i]);
                    Option next = o.get(chosen[i] + 1);
                    double rate = (now.cost() - next.cost()) / Math.max(1, next.bytes() - now.bytes());
                    if (rate > bestRate) {
                        bestRate = rate;
                        best = i;
                    }
                }
            }
            if (best < 0) {
                break;
            }
            List<Option> o = ts.get(best).options();
            total += o.get(chosen[best] + 1).cost() - o.get(chosen[best]).cost();
            chosen[best]++;
        }
        return new BudgetPlan(ts, chosen, target);
    }

    public List<Tensor> tensors() {
        return tensors;
    }

    /** The option chosen for tensor {@code i}. */
    public Option choice(int i) {
        return tensors.get(i).options().get(chosen[i]);
    }

    public Budget budget() {
        return target;
    }

    /** The summed costs of the choices in the budget's own unit: the plan's estimate of the model's mean KLD or perplexity increase. */
    public double estimated() {
        return target.fromAdditive(sum(-1));
    }

    /** The estimate with every tensor at its smallest option. */
    public double smallest() {
        return target.fromAdditive(sum(0));
    }

    /** Summed additive costs: of the choices ({@code option} -1), or with every tensor at {@code option} 0. */
    private double sum(int option) {
        double total = 0;
        for (int i = 0; i < tensors.size(); i++) {
            total += option < 0 ? choice(i).cost() : tensors.get(i).options().get(option).cost();
        }
        return total;
    }

    /** Stored bytes of the planned tensors as chosen. */
    public long bytes() {
        long total = 0;
        for (int i = 0; i < tensors.size(); i++) {
            total += choice(i).bytes();
        }
        return total;
    }

    /** How many tensors took a treatment with {@code bits} bits (0: kept). */
    public int count(int bits) {
        int n = 0;
        for (int i = 0; i < tensors.size(); i++) {
            Treatment t = choice(i).treatment();
            n += (t instanceof Scheme s ? s.bits() : 0) == bits ? 1 : 0;
        }
        return n;
    }

    /**
     * The plan as recipe JSON: one override per planned tensor (its exact name), then the base
     * recipe's overrides, default and GPTQ settings for everything else; its AWQ settings too (the
     * per-tensor sensitivities are measured without AWQ's scaling, and a scale group with a tensor
     * the plan moved to 8 bits or kept is not scaled).
     */
    public byte[] recipeJson(Recipe base, String baseName) {
        ObjectNode root = Json.object();
        root.put("description", String.format(Locale.ROOT, "nibble plan from recipe %s: target %s %s, estimated %.6g "
                + "(sum of per-tensor costs on calibration data); %d tensors at 4 bits, %d at 8, %d kept",
                baseName, target.metric().label(), target.target(), estimated(), count(4), count(8), count(0)));
        root.put("keep_1d", base.keep1d());
        root.set("default", SchemeJson.write(base.defaultScheme()));
        if (!base.gptq().equals(Gptq.Options.DEFAULT)) {
            root.putObject("gptq").put("damp", base.gptq().damp()).put("act_order", base.gptq().actOrder());
        }
        if (base.awq() != null) {
            root.putObject("awq").put("grid", base.awq().grid());
        }
        ArrayNode overrides = root.putArray("overrides");
        for (int i = 0; i < tensors.size(); i++) {
            overrides.add(rule(exactName(tensors.get(i).name()), choice(i).treatment()));
        }
        for (Recipe.Rule r : base.overrides()) {
            overrides.add(rule(r.match().pattern(), r.treatment()));
        }
        return Json.write(root);
    }

    private static ObjectNode rule(String match, Treatment t) {
        ObjectNode o = Json.object();
        o.put("match", match);
        if (t instanceof Scheme s) {
            o.setAll(SchemeJson.write(s));
        } else {
            o.put("keep", true);
        }
        return o;
    }

    /** A regex matching exactly {@code name}: every character that is not a letter, digit or underscore escaped. */
    static String exactName(String name) {
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < name.length(); i++) {
            char c = name.charAt(i);
            if (!Character.isLetterOrDigit(c) && c != '_') {
                b.append('\\');
            }
            b.append(c);
        }
        return b.toString();
    }

    /** Options for a tensor whose base treatment is {@code base}: it, then int8 g32 if smaller than keeping, then keep. */
    public static List<Treatment> ladder(Treatment base) {
        List<Treatment> out = new ArrayList<>();
        if (base instanceof Scheme s) {
            out.add(s);
            if (s.bits() < 8) {
                out.add(INT8_G32);
            }
        }
        out.add(Treatment.KEEP);
        return out;
    }
}
