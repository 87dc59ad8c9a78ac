package org.sefonnx.contract;

import java.util.Locale;

/**
 * The arithmetic of a model's training graph: float32, or fp16 mixed precision (fp16 compute; float32 master weights,
 * losses and checkpoint; dynamic loss scaling, so TrainStep also takes a loss scale). The checkpoint and the inference
 * export are float32 either way.
 */
public enum Precision {
    FP32,
    FP16;

    /** The spelling of the spec file, the generated model classes and the command line: fp32, fp16. */
    public String label() {
        return name().toLowerCase(Locale.ROOT);
    }

    /** Parses {@link #label()} (any case); {@code source} names where the text came from. */
    public static Precision parse(String text, String source) {
        for (Precision p : values()) if (p.label().equals(text.strip().toLowerCase(Locale.ROOT))) return p;
        throw new IllegalArgumentException(source + ": precision must be fp32 or fp16, got '" + text + "'");
    }
}
