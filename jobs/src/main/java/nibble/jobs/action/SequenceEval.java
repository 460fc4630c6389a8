package nibble.jobs.action;

import java.io.Serializable;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.SplittableRandom;
import nibble.common.InvalidInputException;
import nibble.common.eval.NonFiniteLogitsException;
import nibble.common.eval.SequenceStats;
import nibble.common.model.ActivationQuant;
import nibble.common.model.LlamaModel;
import nibble.common.model.Sampler;
import nibble.jobs.io.Uris;
import nibble.jobs.model.TableModels;
import nibble.jobs.spark.SerializableConf;
import scala.Tuple2;

/**
 * The per-partition work of {@code evaluate}'s model level: load both models once per JVM straight
 * from their tables, then for each sequence compute both models' next-token distributions at every
 * position and compare them. A sequence is given, or sampled from the original model with a seed
 * derived from the evaluation seed and the sequence's index. Non-finite logits are bad input naming
 * the table and the sequence ({@link #nonFinite}).
 */
final class SequenceEval implements Serializable {
    private static final long serialVersionUID = 1L;

    private final String original;
    private final String quantized;
    private final ActivationQuant activations;
    private final SerializableConf conf;
    private final long seed;
    private final int length;
    private final float temperature;
    private final int scoredFrom;

    /**
     * @param scoredFrom the first position whose prediction is scored (0: all; text chunks: half the chunk)
     */
    SequenceEval(String original, String quantized, ActivationQuant activations, SerializableConf conf, long seed,
                 int length, float temperature, int scoredFrom) {
        this.original = original;
        this.quantized = quantized;
        this.activations = activations;
        this.conf = conf;
        this.seed = seed;
        this.length = length;
        this.temperature = temperature;
        this.scoredFrom = scoredFrom;
    }

    /** The seed of sequence {@code index}: a pure function of the evaluation seed. */
    static long sequenceSeed(long seed, long index) {
        return new SplittableRandom(seed + 0x9E3779B97F4A7C15L * (index + 1)).nextLong();
    }

    /** Input: (index, tokens or null to sample). Output: (index, statistics). */
    Iterator<Tuple2<Long, SequenceStats>> evaluate(Iterator<Tuple2<Long, int[]>> sequences) throws Exception {
        LlamaModel p = TableModels.get(original, ActivationQuant.NONE, conf.get());
        LlamaModel q = TableModels.get(quantized, activations, conf.get());
        List<Tuple2<Long, SequenceStats>> out = new ArrayList<>();
        while (sequences.hasNext()) {
            Tuple2<Long, int[]> s = sequences.next();
            try {
                int[] tokens = s._2() != null ? s._2() : Sampler.sample(p, length, sequenceSeed(seed, s._1()), temperature);
                out.add(new Tuple2<>(s._1(), SequenceStats.compare(p.prefill(tokens, scoredFrom, null), q.prefill(tokens, scoredFrom, null), tokens, scoredFrom)));
            } catch (NonFiniteLogitsException e) {
                throw nonFinite(e.model().equals("quantized") ? quantized : original, s._1(), e);
            }
        }
        return out.iterator();
    }

    /**
     * Non-finite logits from finite weights (every weight is checked when a model is loaded): the
     * activations overflowed. Bad input naming the table and the sequence; no report is written.
     */
    static InvalidInputException nonFinite(String table, long sequence, NonFiniteLogitsException e) {
        return new InvalidInputException(Uris.redact(table) + ": sequence " + sequence + ": " + e.getMessage()
                + " although every weight is finite (the activations overflow)", e);
    }
}
