package org.sefonnx.train.run.session;

import org.sefonnx.contract.ModelDescriptor;
import org.sefonnx.generator.artifacts.ComputedDescriptor;
import org.sefonnx.generator.model.ModelSpec;
import org.sefonnx.graphs.ShippedModels;

/**
 * Finds the descriptor a spec's sessions are bound through: the generated class when the spec is exactly a shipped
 * one (its graphs are in the graphs jar), else the generator's {@link ComputedDescriptor} (e.g. 37 classes, G=3).
 */
public final class SpecDescriptor {
    private SpecDescriptor() {}

    public static ModelDescriptor of(ModelSpec spec) {
        for (ModelDescriptor d : ShippedModels.ALL) {
            if (d.modelId().equals(spec.id())
                    && ModelSpec.parse(d.specProperties(), d.modelId()).equals(spec)) return d;
        }
        return new ComputedDescriptor(spec);
    }

    /** True when the descriptor's graphs are packed in the graphs jar (no generation needed). */
    public static boolean isShipped(ModelDescriptor d) {
        return !(d instanceof ComputedDescriptor);
    }
}
