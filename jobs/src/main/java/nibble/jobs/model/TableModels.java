package nibble.jobs.model;

import java.io.IOException;
import java.util.LinkedHashMap;
import java.util.Map;
import org.apache.hadoop.conf.Configuration;
import nibble.common.model.ActivationQuant;
import nibble.common.model.LlamaConfig;
import nibble.common.model.LlamaModel;
import nibble.common.model.LlamaWeights;
import nibble.common.table.Manifest;
import nibble.jobs.table.TensorTable;

/**
 * Models loaded from tensor tables, once per JVM: the tasks of an executor share them (a model is
 * immutable; each task keeps its own KV cache). Keyed by the table and its manifest's bytes, so a
 * rewritten table is loaded afresh. At most {@link #CAPACITY} models stay (the least recently used
 * goes first): an evaluation needs two at once, and a JVM that runs many jobs (a test suite, a
 * long-lived executor) must not keep every model it ever read.
 */
public final class TableModels {
    static final int CAPACITY = 2;
    /** In access order: the first key is the least recently used. */
    private static final Map<String, LlamaModel> CACHE = new LinkedHashMap<>(4, 0.75f, true);

    private TableModels() {
    }

    /** The model of {@code table}, loaded on first use. */
    public static LlamaModel get(String table, ActivationQuant activations, Configuration conf) throws IOException {
        Manifest m = TensorTable.readManifest(table, conf);
        String key = table + "|" + java.util.Arrays.hashCode(m.toJson()) + "|" + activations;
        synchronized (CACHE) {
            LlamaModel cached = CACHE.get(key);
            if (cached == null) {
                if (CACHE.size() >= CAPACITY) { // before loading, so that at most CAPACITY models are held here
                    CACHE.remove(CACHE.keySet().iterator().next());
                }
                LlamaConfig config = LlamaConfig.fromArchitecture(m.architecture());
                LlamaWeights weights = LlamaWeights.load(config, TableWeights.read(table, m, conf));
                weights.check(config);
                cached = new LlamaModel(config, weights, activations);
                CACHE.put(key, cached);
            }
            return cached;
        }
    }
}
