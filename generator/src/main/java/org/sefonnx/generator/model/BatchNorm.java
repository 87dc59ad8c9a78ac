package org.sefonnx.generator.model;

import org.sefonnx.generator.onnx.Attr;
import org.sefonnx.generator.onnx.Ops;
import org.sefonnx.generator.onnx.Value;

import java.util.List;

/** torch.nn.BatchNorm2d with PyTorch's running-statistics semantics. */
public final class BatchNorm {
    /** The autodiff composite (and gradient rule) a BatchNormalization normalising with its input's batch statistics is. */
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
        Value[] stats = batchStatistics(ops, prefix, x);
        return new Normalized(withBatchStatistics(ops, prefix + ".out", x, weight, bias, stats[0], stats[1], eps), stats[0], stats[1]);
    }

    /**
     * ONNX's BatchNormalization fed with batch statistics, declared to autodiff as the one-node composite
     * {@value #TRAINING_RULE}: its rule differentiates through the statistics, which the inference-form op it is
     * serialised as knows nothing of.
     */
    private static Value withBatchStatistics(Ops ops, String hint, Value x, Value scale, Value bias, Value mean, Value var, float eps) {
        int node = ops.graph().nextNodeIndex();
        Value y = ops.batchNormalization(hint, x, scale, bias, mean, var, eps);
        ops.graph().composite(node, TRAINING_RULE, List.of(x, scale, bias, mean, var), List.of(y), List.of(Attr.f("epsilon", eps)));
        return y;
    }

    /** Batch mean and biased batch variance per channel, in {@code x}'s type. */
    private static Value[] batchStatistics(Ops ops, String prefix, Value x) {
        long c = x.requireShape().size(1);
        Value mean = ops.reduceMean(prefix + ".batch_mean", x, STAT_AXES, false);
        Value centered = ops.sub(prefix + ".centered", x, ops.reshape(prefix + ".batch_mean4", mean, 1, c, 1, 1));
        Value var = ops.reduceMean(prefix + ".batch_var", ops.mul(prefix + ".centered_sq", centered, centered), STAT_AXES, false);
        return new Value[]{mean, var};
    }

    /**
     * Mixed precision: the statistics in float32 from a float32 copy of the fp16 input (a squared deviation above 256
     * overflows fp16, and the running statistics are float32 checkpoint tensors), the normalisation in fp16. ORT's
     * CUDA BatchNormalization-15 kernel takes scale, bias, mean and variance in the input's type (T1 = T2 = T), so they
     * are cast too, and the backward is BatchNormalizationGrad's fp16 variant.
     */
    private static Normalized mixedTraining(Forward f, String prefix, Value x, Value weight, Value bias, float eps) {
        Value[] stats = batchStatistics(f.ops, prefix, f.toLoss(x));
        Value y = withBatchStatistics(f.ops, prefix + ".out", x, f.toCompute(weight), f.toCompute(bias), f.toCompute(stats[0]),
                f.toCompute(stats[1]), eps);
        return new Normalized(y, stats[0], stats[1]);
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
            return ops.batchNormalization(prefix + ".out", x, f.toCompute(weight), f.toCompute(bias), f.toCompute(runningMean),
                    f.toCompute(runningVar), eps);
        }
        Normalized normalized = f.computeDtype == f.dtype ? training(ops, prefix, x, weight, bias, eps) : mixedTraining(f, prefix, x, weight, bias, eps);
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
