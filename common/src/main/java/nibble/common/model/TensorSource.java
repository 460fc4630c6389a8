package nibble.common.model;

import java.io.IOException;

/** Where a model's weights come from: a tensor by its Hugging Face name, decoded to floats. */
@FunctionalInterface
public interface TensorSource {

    /**
     * The tensor's values in row-major order.
     *
     * @throws nibble.common.InvalidInputException when the source has no such tensor
     */
    float[] tensor(String name) throws IOException;
}
