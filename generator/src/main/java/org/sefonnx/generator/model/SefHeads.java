package org.sefonnx.generator.model;

import java.util.ArrayList;
import java.util.List;
import org.sefonnx.generator.onnx.Ops;
import org.sefonnx.generator.onnx.Value;

/**
 * The SEF heads: the global head Linear(C, K) on GAP(X) and, for training, one Linear(C_g, K) per contiguous
 * channel group on GAP of that group's slice (equal to the slice of GAP(X), since GAP is per channel).
 */
public final class SefHeads {
    /** Global logits, and the group logits in group order. */
    public record Logits(Value global, List<Value> groups) {}

    private SefHeads() {}

    public static Logits apply(Forward f, ModelSpec spec, Value featureMap) {
        Ops ops = f.ops;
        int c = spec.featureChannels(), k = spec.numClasses();
        Value pooled = ops.flatten("pooled", ops.globalAveragePool("gap", featureMap));
        Value global = linear(f, "fc", pooled, c, k);
        List<Value> groups = new ArrayList<>();
        int[] starts = spec.groupStarts(), channels = spec.groupChannels();
        for (int g = 0; g < spec.groups(); g++) {
            Value slice = ops.slice(
                    "group" + g + ".pooled",
                    pooled,
                    new long[] {starts[g]},
                    new long[] {starts[g] + channels[g]},
                    new long[] {1});
            groups.add(linear(f, "group_fc." + g, slice, channels[g], k));
        }
        return new Logits(global, groups);
    }

    /**
     * PyTorch Linear (weight [out, in]) with its default init, uniform ±1/sqrt(in) for weight and bias; computed in the
     * compute type (as autocast runs linear layers), logits handed to the loss in its type.
     */
    static Value linear(Forward f, String name, Value x, int in, int out) {
        Value w = f.toCompute(f.params.parameter(name + ".weight", TensorInit.linearUniform(in), out, in));
        Value b = f.toCompute(f.params.parameter(name + ".bias", TensorInit.linearUniform(in), out));
        return f.toLoss(f.ops.gemm(name + ".logits", x, w, b, false, true));
    }
}
