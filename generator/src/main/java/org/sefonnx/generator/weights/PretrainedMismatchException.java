package org.sefonnx.generator.weights;

import java.util.List;

/**
 * A weights file that does not fit a spec's backbone: every missing, unexpected and mis-shaped tensor, and one
 * message that lists them. Thrown before anything is written.
 */
public final class PretrainedMismatchException extends IllegalArgumentException {
    /** A tensor the spec needs, found with another shape or a non-floating type. */
    public record MisShaped(String name, long[] expectedShape, String found) {}

    private final List<String> missing;
    private final List<String> unexpected;
    private final List<MisShaped> misShaped;

    PretrainedMismatchException(
            String message, List<String> missing, List<String> unexpected, List<MisShaped> misShaped) {
        super(message);
        this.missing = List.copyOf(missing);
        this.unexpected = List.copyOf(unexpected);
        this.misShaped = List.copyOf(misShaped);
    }

    /** Backbone tensors of the spec (torchvision names) that the file lacks. */
    public List<String> missing() {
        return missing;
    }

    /** Backbone-looking tensors of the file (torchvision names, prefix removed) that the spec has no place for. */
    public List<String> unexpected() {
        return unexpected;
    }

    public List<MisShaped> misShaped() {
        return misShaped;
    }
}
