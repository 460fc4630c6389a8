package nibble.common.quant;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

class BudgetPlanTest {
    private static final Scheme INT4 = Scheme.group(4, true, 32);

    private static BudgetPlan.Tensor tensor(String name, double kld4, double kld8) {
        return new BudgetPlan.Tensor(name, List.of(new BudgetPlan.Option(INT4, 100, kld4),
                new BudgetPlan.Option(BudgetPlan.INT8_G32, 200, kld8), new BudgetPlan.Option(Treatment.KEEP, 800, 0)));
    }

    private static Budget kld(double target) {
        return new Budget(Budget.Metric.KLD, target);
    }

    @Test
    void aPerplexityBudgetSumsNllIncreasesAndNeverCountsOnLuck() {
        Budget ppl = new Budget(Budget.Metric.PPL_INCREASE, 0.10);
        assertEquals(Math.log(1.10), ppl.additiveTarget(), 1e-15);
        assertEquals(0.003, ppl.cost(0.003, -0.01));
        assertEquals(0.003, ppl.cost(0.003, 0.001));
        assertEquals(0.02, ppl.cost(0.003, 0.02));
        assertEquals(0.3, kld(1).cost(0.3, 0.02));
        // NLL increases 0.06, 0.05, 0.01 at 4 bits: 0.12 > ln 1.1 = 0.0953; a (0.05 per 100 bytes, b 0.048) moves up, then 0.07 fits
        List<BudgetPlan.Tensor> ts = List.of(tensor("a", 0.06, 0.01), tensor("b", 0.05, 0.002), tensor("c", 0.01, 0.0));
        BudgetPlan p = BudgetPlan.choose(ts, ppl);
        assertEquals(BudgetPlan.INT8_G32, p.choice(0).treatment());
        assertEquals(2, p.count(4));
        assertEquals(Math.expm1(0.07), p.estimated(), 1e-12);
        assertEquals(Math.expm1(0.12), p.smallest(), 1e-12);
        assertTrue(new String(p.recipeJson(Recipe.load("int4-g32"), "int4-g32"), StandardCharsets.UTF_8)
                .contains("target perplexity increase 0.1,"));
    }

    @Test
    void upgradesTheTensorThatBuysTheMostKldPerByteUntilTheTargetHolds() {
        List<BudgetPlan.Tensor> ts = List.of(tensor("a", 0.10, 0.01), tensor("b", 0.50, 0.02), tensor("c", 0.05, 0.001));
        BudgetPlan loose = BudgetPlan.choose(ts, kld(1.0));
        assertEquals(300, loose.bytes());
        assertEquals(3, loose.count(4));

        BudgetPlan p = BudgetPlan.choose(ts, kld(0.2));
        // b first (0.48 per 100 bytes); then 0.10 + 0.02 + 0.05 = 0.17 <= 0.2
        assertEquals(INT4, p.choice(0).treatment());
        assertEquals(BudgetPlan.INT8_G32, p.choice(1).treatment());
        assertEquals(INT4, p.choice(2).treatment());
        assertEquals(0.17, p.estimated(), 1e-12);

        BudgetPlan tight = BudgetPlan.choose(ts, kld(0.03));
        assertTrue(tight.estimated() <= 0.03, "estimate " + tight.estimated());
        // all three at 8 bits sum to 0.031; keeping b (0.02 for 600 bytes) beats keeping a or c
        assertEquals(Treatment.KEEP, tight.choice(1).treatment());
        assertEquals(2, tight.count(8));

        BudgetPlan zero = BudgetPlan.choose(ts, kld(0));
        assertEquals(3, zero.count(0));
        assertEquals(0, zero.estimated());
    }

    @Test
    void theRecipeReadsBackAsTheChoices() {
        List<BudgetPlan.Tensor> ts = List.of(tensor("model.layers.0.mlp.up_proj.weight", 0.4, 0.01),
                tensor("model.layers.0.mlp.down_proj.weight", 0.01, 0.001), tensor("model.layers.10.mlp.up_proj.weight", 0.9, 0.3));
        BudgetPlan p = BudgetPlan.choose(ts, kld(0.05));
        Recipe base = Recipe.load("int4-g32-mse");
        Recipe back = Recipe.parse(new String(p.recipeJson(base, "int4-g32-mse"), StandardCharsets.UTF_8), "plan.json");
        long[] shape = {64, 64};
        for (int i = 0; i < ts.size(); i++) {
            assertEquals(p.choice(i).treatment(), back.schemeFor(ts.get(i).name(), shape), ts.get(i).name());
        }
        // the name is matched exactly: the dot is not a wildcard, layer 1 is not layer 10
        assertEquals(base.defaultScheme(), back.schemeFor("model.layers.1.mlp.up_proj.weight", shape));
        assertEquals(base.defaultScheme(), back.schemeFor("model.layers.0.mlpXup_proj.weight", shape));
        assertEquals(Treatment.KEEP, back.schemeFor("model.layers.0.input_layernorm.weight", new long[] {64}));
        assertEquals(base.schemeFor("model.embed_tokens.weight", shape), back.schemeFor("model.embed_tokens.weight", shape));

        Recipe gptq = Recipe.load("int4-g32-gptq");
        Recipe fromGptq = Recipe.parse(new String(p.recipeJson(gptq, "int4-g32-gptq"), StandardCharsets.UTF_8), "plan.json");
        assertEquals(gptq.gptq(), fromGptq.gptq());
    }
}
