package org.sefonnx.generator.model;

import org.sefonnx.generator.onnx.Ops;
import org.sefonnx.generator.onnx.Value;

/** torch.nn.BatchNorm2d with PyTorch's running-statistics semantics. */
public final class BatchNorm {
    /** Gradient-rule name of a BatchNormalization node normalising with its input's batch statistics. */
    public static final String TRAINING_RULE = "BatchNormTraining";
    private static final long[] STAT_AXES = {0, 2, 3};

    private BatchNorm() {}

    /** Training-mode output and the batch statistics it normalised with. */
    public record Normalized(Value output, Value batchMean, Value batchVar) {}

    /**
     * Training-mode normalisation: batch statistics by standard ops, then ONNX's BatchNormalization normalises with
     * them. (ORT's own training-mode BN updates running_var with the biased variance; PyTorch uses the unbiased one.)
     */
    public static Normalized training(Ops ops, String prefix, Value x, Value weight, Value bias, float eps) {
        long c = x.requireShape().size(1);
        Value mean = ops.reduceMean(prefix + ".batch_mean", x, STAT_AXES, false);
        Value centered = ops.sub(prefix + ".centered", x, ops.reshape(prefix + ".batch_mean4", mean, 1, c, 1, 1));
        Value var = ops.reduceMean(prefix + ".batch_var", ops.mul(prefix + ".centered_sq", centered, centered), STAT_AXES, false);
        return new Normalized(ops.batchNormalization(prefix + ".out", x, weight, bias, mean, var, eps, TRAINING_RULE), mean, var);
    }

    public static Value apply(Forward f, String prefix, Value x) {
        Ops ops = f.ops;
        long c = x.requireShape().size(1);
        Value weight = f.params.parameter(prefix + ".weight", TensorInit.constant(1), c);
        Value bias = f.params.parameter(prefix + ".bias", TensorInit.constant(0), c);
        Value runningMean = f.params.runningStat(prefix + ".running_mean", TensorInit.constant(0), c);
        Value runningVar = f.params.runningStat(prefix + ".running_var", TensorInit.constant(1), c);
        float eps = (float) ModelSpec.BN_EPSILON;
        if (!f.training) {
            return ops.batchNormalization(prefix + ".out", x, weight, bias, runningMean, runningVar, eps, null);
        }
        Normalized normalized = training(ops, prefix, x, weight, bias, eps);
        Value mean = normalized.batchMean(), var = normalized.batchVar(), y = normalized.output();

        // running_var takes the unbiased variance: var · n/(n−1), n = N·H·W (N known only at run time)
        long hw = x.requireShape().size(2) * x.requireShape().size(3);
        Value n = ops.mul(prefix + ".n", f.batchSize(x), f.scalar(hw));
        Value bessel = ops.div(prefix + ".bessel", n, ops.sub(prefix + ".n_minus_1", n, f.scalar(1)));
        Value unbiased = ops.mul(prefix + ".batch_var_unbiased", var, bessel);
        double m = ModelSpec.BN_MOMENTUM;
        Value newMean = ops.add(prefix + ".running_mean.next", ops.mul(prefix + ".rm_keep", runningMean, f.scalar(1 - m)),
                ops.mul(prefix + ".rm_add", mean, f.scalar(m)));
        Value newVar = ops.add(prefix + ".running_var.next", ops.mul(prefix + ".rv_keep", runningVar, f.scalar(1 - m)),
                ops.mul(prefix + ".rv_add", unbiased, f.scalar(m)));
        f.updateState(runningMean, newMean);
        f.updateState(runningVar, newVar);
        return y;
    }

}
