package nibble.jobs.action;

import org.apache.hadoop.fs.Path;
import nibble.jobs.table.StatsTables;

/**
 * The folders one quantized model version occupies under its output prefix (docs/REGISTRY.md), the
 * one place they are named: {@code table/}, {@code table/stats/}, {@code quantized/}, {@code eval/}
 * and the {@code _SUCCESS} marker. {@code pipeline} and {@code demo} write this layout; the Airflow
 * DAGs' {@code nibble_args.paths} spells it in Python and a test checks the two agree.
 */
public record RegistryLayout(String output) {
    /** The completion marker of a quantized registry version, written last by {@code pipeline}. */
    public static final String SUCCESS = "_SUCCESS";

    public String table() {
        return child("table");
    }

    public String stats() {
        return StatsTables.defaultDir(table());
    }

    public String quantized() {
        return child("quantized");
    }

    public String eval() {
        return child("eval");
    }

    public String success() {
        return child(SUCCESS);
    }

    private String child(String name) {
        return new Path(output, name).toString();
    }
}
