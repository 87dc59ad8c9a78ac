package org.sefonnx.imaging;

/** An image that is missing, truncated or corrupt; the message starts with its file (or IDX origin). */
public final class ImageDecodeException extends RuntimeException {
    private final String source;

    public ImageDecodeException(String source, String problem, Throwable cause) {
        super(source + ": " + problem, cause);
        this.source = source;
    }

    /** The file path or IDX origin that failed. */
    public String source() {
        return source;
    }
}
