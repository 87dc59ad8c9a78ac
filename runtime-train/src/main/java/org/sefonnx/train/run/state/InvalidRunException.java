package org.sefonnx.train.run.state;

/** A run directory, its state or one of its checkpoints is missing or damaged: bad input (exit code 2), not a failed run. */
public final class InvalidRunException extends IllegalArgumentException {
    public InvalidRunException(String message) {
        super(message);
    }
}
