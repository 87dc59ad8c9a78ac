package org.sefonnx.generator.model;

import java.util.Arrays;

/** A named tensor that lives in the checkpoint: a trainable parameter or frozen state. */
public record CheckpointTensor(String name, long[] shape, TensorInit init, Role role) {
    public enum Role {
        PARAMETER,
        RUNNING_STAT,
        MOMENTUM
    }

    /** Suffix of the momentum buffer of a parameter (a frozen checkpoint tensor). */
    public static final String MOMENTUM_SUFFIX = ".momentum";

    public long numel() {
        long n = 1;
        for (long d : shape) n *= d;
        return n;
    }

    public boolean trainable() {
        return role == Role.PARAMETER;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof CheckpointTensor t
                && t.name.equals(name)
                && Arrays.equals(t.shape, shape)
                && t.role == role;
    }

    @Override
    public int hashCode() {
        return name.hashCode();
    }

    @Override
    public String toString() {
        return name + Arrays.toString(shape);
    }
}
