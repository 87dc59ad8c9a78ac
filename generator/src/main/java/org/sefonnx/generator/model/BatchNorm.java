package org.sefonnx.generator.model;

import org.sefonnx.generator.composite.BatchNormTraining;
import org.sefonnx.generator.onnx.Ops;
import org.sefonnx.generator.onnx.Value;

/** torch.nn.BatchNorm2d with PyTorch's running-statistics semantics. */
public final class BatchNorm {
    private BatchNorm() {}

    /**
     * Mixed precision: the statistics in float32 from a float32 copy of the fp16 input (a squared deviation above 256
     * overflows fp16, and the running statistics are float32 checkpoint tensors), the normalisation in fp16. ORT's
     * CUDA BatchNormalization-15 kernel takes scale, bias, mean and variance in the input's type (T1 = T2 = T), so they
     * are cast too, and the backward is BatchNormalizationGrad's fp16 variant.
     */
    private static BatchNormTraining.Normalized mixedTraining(
            Forward f, String prefix, Value x, Value weight, Value bias, float eps) {
        BatchNormTraining.Statistics stats = BatchNormTraining.statistics(f.ops, prefix, f.toLoss(x));
        Value y = BatchNormTraining.normalize(
                f.ops,
                prefix + ".out",
                x,
                f.toCompute(weight),
                f.toCompute(bias),
                f.toCompute(stats.mean()),
                f.toCompute(stats.var()),
                eps);
        return new BatchNormTraining.Normalized(y, stats.mean(), stats.var());
    }

    /** BatchNorm2d of an [N, C, H, W] map. */
    public static Value apply(Forward f, String prefix, Value x) {
        Ops ops = f.ops;
        long c = x.requireShape().size(1);
        Value weight = f.params.parameter(prefix + ".weight", TensorInit.constant(1), c);
        Value bias = f.params.parameter(prefix + ".bias", TensorInit.constant(0), c);
        Value runningMean = f.params.runningStat(prefix + ".running_mean", TensorInit.constant(0), c);
        Value runningVar = f.params.runningStat(prefix + ".running_var", TensorInit.constant(1), c);
        float eps = (float) ModelSpec.BN_EPSILON;
        if (!f.training) {
            return ops.batchNormalization(
                    prefix + ".out",
                    x,
                    f.toCompute(weight),
                    f.toCompute(bias),
                    f.toCompute(runningMean),
                    f.toCompute(runningVar),
                    eps);
        }
        BatchNormTraining.Normalized normalized = f.computeDtype == f.dtype
                ? BatchNormTraining.apply(ops, prefix, x, weight, bias, eps)
                : mixedTraining(f, prefix, x, weight, bias, eps);
        Value mean = normalized.batchMean(), var = normalized.batchVar(), y = normalized.output();

        // running_var takes the unbiased variance: var · n/(n−1), n = N·H·W (N known only at run time)
        long cellsPerSample = x.requireShape().size(2) * x.requireShape().size(3);
        Value n = ops.mul(prefix + ".n", f.batchSize(x), f.scalar(cellsPerSample));
        Value bessel = ops.div(prefix + ".bessel", n, ops.sub(prefix + ".n_minus_1", n, f.scalar(1)));
        Value unbiased = ops.mul(prefix + ".batch_var_unbiased", var, bessel);
        double m = ModelSpec.BN_MOMENTUM;
        Value newMean = ops.add(
                prefix + ".running_mean.next",
                ops.mul(prefix + ".rm_keep", runningMean, f.scalar(1 - m)),
                ops.mul(prefix + ".rm_add", mean, f.scalar(m)));
        Value newVar = ops.add(
                prefix + ".running_var.next",
                ops.mul(prefix + ".rv_keep", runningVar, f.scalar(1 - m)),
                ops.mul(prefix + ".rv_add", unbiased, f.scalar(m)));
        f.updateState(runningMean, newMean);
        f.updateState(runningVar, newVar);
        return y;
    }
}
