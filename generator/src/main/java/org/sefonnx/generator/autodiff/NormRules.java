package org.sefonnx.generator.autodiff;

import org.sefonnx.generator.model.BatchNorm;
import org.sefonnx.generator.onnx.Attr;
import org.sefonnx.generator.onnx.Graph;
import org.sefonnx.generator.onnx.Value;

import java.util.List;

/** Normalisation. */
final class NormRules {
    private NormRules() {}

    static void register(GradientRegistry r) {
        // Training-mode BN: the forward normalises with batch statistics computed from X by standard ops.
        // BatchNormalizationGrad (CPU and CUDA) already differentiates through those statistics, so the mean and
        // variance inputs get no gradient of their own (counting them again would double the statistics' path).
        r.register(BatchNorm.TRAINING_RULE, c -> {
            float eps = c.node().attrFloat("epsilon", 1e-5f);
            Value invStd = c.ops().reciprocal(c.hint("inv_std"),
                    c.ops().sqrt(c.hint("std"), c.ops().add(c.hint("var_eps"), c.I(4), c.scalar(eps))));
            List<Value> g = c.ops().node("BatchNormalizationGrad", Graph.MS_DOMAIN,
                    List.of(c.GO(0), c.I(0), c.I(1), c.I(3), invStd),
                    List.of(new Value(c.hint("dx"), c.dtype(), c.I(0).shape()),
                            new Value(c.hint("dscale"), c.dtype(), c.I(1).shape()),
                            new Value(c.hint("dbias"), c.dtype(), c.I(2).shape())),
                    Attr.f("epsilon", eps));
            c.GI(0, g.get(0));
            c.GI(1, g.get(1));
            c.GI(2, g.get(2));
            c.skip(3);
            c.skip(4);
        });
    }
}
