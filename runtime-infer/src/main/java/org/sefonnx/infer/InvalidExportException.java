package org.sefonnx.infer;

import java.nio.file.Path;

/** An export directory whose files are missing or disagree; the message names the file, the field and what was expected. */
public final class InvalidExportException extends RuntimeException {
    private final Path file;

    public InvalidExportException(Path file, String problem) {
        this(file, problem, null);
    }

    public InvalidExportException(Path file, String problem, Throwable cause) {
        super(file + ": " + problem, cause);
        this.file = file;
    }

    /** The file at fault. */
    public Path file() {
        return file;
    }
}
