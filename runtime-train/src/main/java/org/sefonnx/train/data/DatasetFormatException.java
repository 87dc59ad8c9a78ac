package org.sefonnx.train.data;

import java.nio.file.Path;

/** An index or annotation file that does not describe the images on disk; names the file and line (or element). */
public final class DatasetFormatException extends RuntimeException {
    private final Path file;

    public DatasetFormatException(Path file, String where, String problem) {
        super(file + (where == null ? "" : ", " + where) + ": " + problem);
        this.file = file;
    }

    public DatasetFormatException(Path file, String where, String problem, Throwable cause) {
        super(file + (where == null ? "" : ", " + where) + ": " + problem, cause);
        this.file = file;
    }

    /** The index or annotation file at fault. */
    public Path file() {
        return file;
    }
}
