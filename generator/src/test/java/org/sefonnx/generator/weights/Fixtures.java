package org.sefonnx.generator.weights;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.sefonnx.generator.model.CheckpointTensor;
import org.sefonnx.generator.model.ModelSpec;
import org.sefonnx.generator.model.SefModel;

/** Stand-ins for pretrained weights: torchvision-named tensors with values unlike any seed's (test-jar: runtime-train's generate test). */
public final class Fixtures {
    public static final ModelSpec R18 = ModelSpec.of("import-r18", 18, 5, 2, 32);

    private Fixtures() {}

    /**
     * Backbone tensors, running statistics included, plus an ImageNet head fc [1000, C] as torchvision has, with
     * values from {@code seed}: running means around 0.1, variances in [0.5, 1.5), so they differ from a fresh start.
     */
    public static Map<String, float[]> pretrained(ModelSpec spec, long seed) {
        Map<String, float[]> m = new LinkedHashMap<>();
        SplittableRandom r = new SplittableRandom(seed);
        for (CheckpointTensor t : PretrainedImport.backboneTensors(spec)) {
            float[] v = new float[(int) t.numel()];
            boolean variance = t.name().endsWith(".running_var");
            for (int i = 0; i < v.length; i++)
                v[i] = (float) (variance ? 0.5 + r.nextDouble() : 0.1 * r.nextGaussian());
            m.put(t.name(), v);
        }
        m.put("fc.weight", new float[1000 * spec.featureChannels()]);
        m.put("fc.bias", new float[1000]);
        return m;
    }

    static long[] shapeOf(ModelSpec spec, String name) {
        if (name.equals("fc.weight")) return new long[] {1000, spec.featureChannels()};
        if (name.equals("fc.bias")) return new long[] {1000};
        for (CheckpointTensor t : SefModel.modelTensors(spec)) if (t.name().equals(name)) return t.shape();
        throw new IllegalArgumentException(name);
    }

    /** As a safetensors tensor list under {@code prefix + name}, with torchvision's num_batches_tracked. */
    public static List<SafeTensors.Tensor> safeTensors(ModelSpec spec, Map<String, float[]> values, String prefix) {
        List<SafeTensors.Tensor> r = new ArrayList<>();
        for (Map.Entry<String, float[]> e : values.entrySet()) {
            r.add(SafeTensors.Tensor.f32(prefix + e.getKey(), e.getValue(), shapeOf(spec, e.getKey())));
            if (e.getKey().endsWith(".running_mean")) {
                r.add(SafeTensors.Tensor.i64(
                        prefix + e.getKey().replace(".running_mean", ".num_batches_tracked"), new long[] {1234}));
            }
        }
        return r;
    }

    /** A weights file whose values must never be read: for matching tests that only look at names and shapes. */
    static WeightsFile shapesOnly(String source, Map<String, long[]> shapes) {
        Map<String, WeightsFile.Entry> m = new LinkedHashMap<>();
        shapes.forEach((name, shape) -> m.put(name, new WeightsFile.Entry(name, shape, "F32", true, () -> {
            throw new AssertionError("values of " + name + " read while matching");
        })));
        return new WeightsFile(source, WeightsFile.Format.SAFETENSORS, "0".repeat(64), m);
    }

    /** torchvision's state_dict names and shapes of a spec's backbone and ImageNet head. */
    static Map<String, long[]> torchvisionShapes(ModelSpec spec) {
        Map<String, long[]> m = new LinkedHashMap<>();
        for (CheckpointTensor t : PretrainedImport.backboneTensors(spec)) m.put(t.name(), t.shape());
        m.put("fc.weight", new long[] {1000, spec.featureChannels()});
        m.put("fc.bias", new long[] {1000});
        return m;
    }
}
