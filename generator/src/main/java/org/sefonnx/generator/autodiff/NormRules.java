package org.sefonnx.generator.autodiff;

import java.util.List;
import org.sefonnx.generator.model.BatchNorm;
import org.sefonnx.generator.onnx.MsOp;
import org.sefonnx.generator.onnx.Value;

/** Normalisation. */
final class NormRules {
    private NormRules() {}

    /** BatchNormalization's epsilon where the attribute is absent (the ONNX operator default). */
    private static final float ONNX_DEFAULT_EPSILON = 1e-5f;

    static void register(GradientRegistry r) {
        // Training-mode BN: the forward normalises with batch statistics computed from X by standard ops.
        // BatchNormalizationGrad (CPU and CUDA) already differentiates through those statistics, so the mean and
        // variance inputs get no gradient of their own (counting them again would double the statistics' path).
        r.register(BatchNorm.TRAINING_RULE, c -> {
            Value varEps = c.ops()
                    .add(c.hint("var_eps"), c.I(4), c.scalar(c.node().attrFloat("epsilon", ONNX_DEFAULT_EPSILON)));
            Value invStd = c.ops().reciprocal(c.hint("inv_std"), c.ops().sqrt(c.hint("std"), varEps));
            c.GI(c.kernel(
                    MsOp.BATCH_NORMALIZATION_GRAD,
                    List.of(c.GO(0), c.I(0), c.I(1), c.I(3), invStd),
                    List.of(c.slot(0, "dx"), c.slot(1, "dscale"), c.slot(2, "dbias"))));
            c.skip(3);
            c.skip(4);
        });
    }
}
