package org.sefonnx.train.run.state;

/** A non-finite loss stopped the run; the message names the step and the last good checkpoint. */
public final class TrainingDivergedException extends RuntimeException {
    public TrainingDivergedException(String message) {
        super(message);
    }
}
