package nibble.jobs.model;

import java.io.IOException;
import java.util.concurrent.ConcurrentHashMap;
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
 * rewritten table is loaded afresh.
 */
public final class TableModels {
    private static final ConcurrentHashMap<String, LlamaModel> CACHE = new ConcurrentHashMap<>();

    private TableModels() {
    }

    public static LlamaModel get(String table, ActivationQuant activations, Configuration conf) throws IOException {
        Manifest m = TensorTable.readManifest(table, conf);
        String key = table + "|" + java.util.Arrays.hashCode(m.toJson()) + "|" + activations;
        LlamaModel cached = CACHE.get(key);
        if (cached != null) {
            return cached;
        }
        synchronized (TableModels.class) {
            cached = CACHE.get(key);
            if (cached == null) {
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
