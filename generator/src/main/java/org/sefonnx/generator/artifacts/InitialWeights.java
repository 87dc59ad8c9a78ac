package org.sefonnx.generator.artifacts;

import java.nio.charset.StandardCharsets;
import java.util.SplittableRandom;
import org.sefonnx.generator.model.CheckpointTensor;
import org.sefonnx.generator.model.TensorInit;

/**
 * Seeded initial values with PyTorch's default distributions (see {@link TensorInit}). Each tensor draws from its
 * own stream, derived from the seed and the tensor's name, so adding a head does not change the backbone's draw.
 * The distributions match PyTorch's; the bits do not (PyTorch's generator is not reproduced).
 */
public final class InitialWeights {
    private InitialWeights() {}

    public static float[] values(CheckpointTensor t, long seed) {
        float[] v = new float[Math.toIntExact(t.numel())];
        TensorInit init = t.init();
        switch (init.kind()) {
            case CONSTANT -> java.util.Arrays.fill(v, (float) init.scale());
            case NORMAL -> {
                SplittableRandom r = stream(seed, t.name());
                for (int i = 0; i < v.length; i++) v[i] = (float) (r.nextGaussian() * init.scale());
            }
            case UNIFORM -> {
                SplittableRandom r = stream(seed, t.name());
                for (int i = 0; i < v.length; i++) v[i] = (float) ((2 * r.nextDouble() - 1) * init.scale());
            }
        }
        return v;
    }

    static SplittableRandom stream(long seed, String name) {
        long h = seed * 0x9E3779B97F4A7C15L;
        for (byte b : name.getBytes(StandardCharsets.UTF_8)) h = (h ^ b) * 0x100000001B3L;
        return new SplittableRandom(h);
    }
}
