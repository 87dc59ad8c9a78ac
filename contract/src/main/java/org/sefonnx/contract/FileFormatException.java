package org.sefonnx.contract;

import java.nio.file.Path;

/** A file of a run or an export that cannot be read as its format says (labels.txt, SHA256SUMS): names the file. */
public final class FileFormatException extends IllegalArgumentException {
    private final transient Path file;
    private final String problem;

    public FileFormatException(Path file, String problem, Throwable cause) {
        super(file + ": " + problem, cause);
        this.file = file;
        this.problem = problem;
    }

    /** The file at fault. */
    public Path file() {
        return file;
    }

    /** What is wrong, without the file name. */
    public String problem() {
        return problem;
    }
}
