package org.sefonnx.train.data;

import java.nio.file.Path;

/** A MAT-file that this reader cannot parse; the message names the file, the variable and the byte offset. */
public final class MatFormatException extends RuntimeException {
    private final Path file;
    private final String variable;
    private final long byteOffset;

    public MatFormatException(Path file, String variable, long byteOffset, String problem) {
        super(file + (variable == null ? "" : ", variable '" + variable + "'")
                + (byteOffset < 0 ? "" : ", byte offset " + byteOffset) + ": " + problem);
        this.file = file;
        this.variable = variable;
        this.byteOffset = byteOffset;
    }

    public Path file() {
        return file;
    }

    /** Variable name or null when the failure precedes it. */
    public String variable() {
        return variable;
    }

    /** File offset of the failing element, or -1 when not tied to one. */
    public long byteOffset() {
        return byteOffset;
    }
}
