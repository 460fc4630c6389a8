package nibble.jobs.action;

import java.util.List;
import java.util.Map;
import nibble.common.TensorInfo;
import nibble.common.stats.TensorStats;

/**
 * What {@link CalibrateAction} measured.
 *
 * @param tensors the table's tensors, in manifest order
 * @param stats each measured tensor's statistics, by name
 * @param calibration the calibration data and what its activations reached, or null without {@code --data}/{@code --text}
 */
public record CalibrateResult(CalibrateArgs args, List<TensorInfo> tensors, Map<String, TensorStats> stats,
                              Calibration calibration) {

    /**
     * The identity of the calibration data, as {@code stats.json} records it.
     *
     * @param kind {@code data} (token sequences) or {@code text}
     * @param uri where the data came from (redacted)
     * @param checksum CRC-32C (hex) of the sequences: for each in order, its length then its tokens, as little-endian int32
     * @param seed the sampling seed from the sequences' {@code sample.json}, or null when not known
     * @param sequences sequences run through the model
     * @param tokens tokens run through the model
     * @param measured tensors with activation statistics
     * @param missing 2-D tensors of the table without activation statistics (calibration never reached their input)
     * @param hessian the Hessians written with {@code --hessian}, or null
     */
    public record Calibration(String kind, String uri, String checksum, Long seed, long sequences, long tokens, int measured,
                              List<String> missing, Hessian hessian) {
    }

    /** The Hessians ({@code XᵀX / tokens} of each linear input) and where they are. */
    public record Hessian(long tokens, List<HessianInput> inputs) {
    }

    /**
     * One linear input's Hessian.
     *
     * @param input {@code 4·layer + site} (the head's input last)
     * @param file its Parquet file, relative to the statistics folder
     * @param channels the input's width (the matrix is channels × channels)
     * @param tensors the tensors that read this input
     */
    public record HessianInput(int input, String file, int channels, List<String> tensors) implements java.io.Serializable {
    }
}
