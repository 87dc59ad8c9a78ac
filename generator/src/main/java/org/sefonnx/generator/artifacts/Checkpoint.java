package org.sefonnx.generator.artifacts;

import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * An ORT on-device-training checkpoint in memory: trainable and frozen float tensors plus the property bag.
 * {@link CheckpointWriter} and {@link CheckpointReader} convert it to and from the flatbuffer file (id "ODTC").
 */
public record Checkpoint(
        List<Tensor> trainable,
        List<Tensor> frozen,
        Map<String, Long> intProperties,
        Map<String, Float> floatProperties,
        Map<String, String> stringProperties) {

    /** A float32 tensor, row-major. */
    public record Tensor(String name, long[] dims, float[] data) {
        public Tensor {
            long n = 1;
            for (long d : dims) n *= d;
            if (n != data.length)
                throw new IllegalArgumentException("tensor " + name + ": dims " + Arrays.toString(dims) + " hold " + n
                        + " values, data has " + data.length);
        }
    }

    public Checkpoint {
        trainable = List.copyOf(trainable);
        frozen = List.copyOf(frozen);
        intProperties = new LinkedHashMap<>(intProperties);
        floatProperties = new LinkedHashMap<>(floatProperties);
        stringProperties = new LinkedHashMap<>(stringProperties);
    }

    public Tensor tensor(String name) {
        for (Tensor t : trainable) if (t.name().equals(name)) return t;
        for (Tensor t : frozen) if (t.name().equals(name)) return t;
        return null;
    }
}
