package nibble.common.format;

import java.io.IOException;
import java.util.List;
import nibble.common.io.ByteSource;

/**
 * The files of one source checkpoint: a directory of files, or a single file. The readers see a
 * checkpoint only through this, so the same detection and parsing serve local paths and Hadoop file
 * systems.
 */
public interface CheckpointFiles {

    /** Display name of the checkpoint (its directory or file), for messages. */
    String root();

    /**
     * File names relative to the root, sorted; a single-file checkpoint lists just that one file.
     * Not recursive.
     */
    List<String> list() throws IOException;

    /** Opens one of the listed files for positioned reads. */
    ByteSource open(String name) throws IOException;
}
