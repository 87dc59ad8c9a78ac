package org.sefonnx.generator.model;

import java.util.List;
import org.sefonnx.generator.onnx.Attr;
import org.sefonnx.generator.onnx.Ops;
import org.sefonnx.generator.onnx.Shape;
import org.sefonnx.generator.onnx.Value;

/** torch.nn.BatchNorm2d with PyTorch's running-statistics semantics. */
public final class BatchNorm {
    /** The autodiff composite (and gradient rule) a BatchNormalization normalising with its input's batch statistics is. */
    public static final String TRAINING_RULE = "BatchNormTraining";

    private BatchNorm() {}

    /** Training-mode output and the batch statistics it normalised with. */
    public record Normalized(Value output, Value batchMean, Value batchVar) {}

    /**
     * Training-mode normalisation: batch statistics by standard ops, then ONNX's BatchNormalization normalises with
     * them. (ORT's own training-mode BN updates running_var with the biased variance; PyTorch uses the unbiased one.)
     * {@code x} is [N, C, ...], with the statistics over every axis but 1.
     */
    public static Normalized training(Ops ops, String prefix, Value x, Value weight, Value bias, float eps) {
        Value[] stats = batchStatistics(ops, prefix, x);
        return new Normalized(
                withBatchStatistics(ops, prefix + ".out", x, weight, bias, stats[0], stats[1], eps),
                stats[0],
                stats[1]);
    }

    /**
     * ONNX's BatchNormalization fed with batch statistics, declared to autodiff as the one-node composite
     * {@value #TRAINING_RULE}: its rule differentiates through the statistics, which the inference-form op it is
     * serialised as knows nothing of.
     */
    private static Value withBatchStatistics(
            Ops ops, String hint, Value x, Value scale, Value bias, Value mean, Value var, float eps) {
        int node = ops.graph().nextNodeIndex();
        Value y = ops.batchNormalization(hint, x, scale, bias, mean, var, eps);
        ops.graph()
                .composite(
                        node,
                        TRAINING_RULE,
                        List.of(x, scale, bias, mean, var),
                        List.of(y),
                        List.of(Attr.f("epsilon", eps)));
        return y;
    }

    /** Batch mean and biased batch variance per channel of an [N, C, ...] map, in {@code x}'s type. */
    private static Value[] batchStatistics(Ops ops, String prefix, Value x) {
        Shape s = x.requireShape();
        long[] axes = new long[s.rank() - 1];
        long[] meanShape = new long[s.rank()];
        java.util.Arrays.fill(meanShape, 1);
        meanShape[1] = s.size(1);
        for (int i = 0, a = 0; i < s.rank(); i++) if (i != 1) axes[a++] = i;
        Value mean = ops.reduceMean(prefix + ".batch_mean", x, axes, false);
        Value centered = ops.sub(prefix + ".centered", x, ops.reshape(prefix + ".batch_mean4", mean, meanShape));
        Value var = ops.reduceMean(
                prefix + ".batch_var", ops.mul(prefix + ".centered_sq", centered, centered), axes, false);
        return new Value[] {mean, var};
    }

    /**
     * Mixed precision: the statistics in float32 from a float32 copy of the fp16 input (a squared deviation above 256
     * overflows fp16, and the running statistics are float32 checkpoint tensors), the normalisation in fp16. ORT's
     * CUDA BatchNormalization-15 kernel takes scale, bias, mean and variance in the input's type (T1 = T2 = T), so they
     * are cast too, and the backward is BatchNormalizationGrad's fp16 variant.
     */
    private static Normalized mixedTraining(Forward f, String prefix, Value x, Value weight, Value bias, float eps) {
        Value[] stats = batchStatistics(f.ops, prefix, f.toLoss(x));
        Value y = withBatchStatistics(
                f.ops,
                prefix + ".out",
                x,
                f.toCompute(weight),
                f.toCompute(bias),
                f.toCompute(stats[0]),
                f.toCompute(stats[1]),
                eps);
        return new Normalized(y, stats[0], stats[1]);
    }

    /**
     * BatchNorm2d of a map in either layout. A batch-last map [C, H, W, N] is normalised as [1, C, H·W·N] (a reshape,
     * no copy): the same per-channel statistics over the same N·H·W values, and BatchNormalization(Grad) take it as an
     * [N, C, D] input.
     */
    public static Value apply(Forward f, String prefix, Value x) {
        long[] chw = f.chw(x);
        if (!f.isBatchLast(x)) return applyChannelsSecond(f, prefix, x, x, chw[1] * chw[2]);
        Value flat = f.ops.reshape(prefix + ".in_1cl", x, 1, chw[0], -1);
        Value y = applyChannelsSecond(f, prefix, flat, x, chw[1] * chw[2]);
        return f.sameLayoutAs(
                x,
                f.ops.node(
                                "Reshape",
                                "",
                                List.of(y, f.ops.graph().longs(chw[0], chw[1], chw[2], -1)),
                                List.of(new Value(prefix + ".out_chwn", y.dtype(), x.shape())))
                        .get(0));
    }

    /**
     * {@code x} is [N', C, ...] with {@code cellsPerSample}·N values per channel, N the run-time batch size of
     * {@code map} (x itself or the map x is a reshape of).
     */
    private static Value applyChannelsSecond(Forward f, String prefix, Value x, Value map, long cellsPerSample) {
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
        Normalized normalized = f.computeDtype == f.dtype
                ? training(ops, prefix, x, weight, bias, eps)
                : mixedTraining(f, prefix, x, weight, bias, eps);
        Value mean = normalized.batchMean(), var = normalized.batchVar(), y = normalized.output();

        // running_var takes the unbiased variance: var · n/(n−1), n = N·H·W (N known only at run time)
        Value n = ops.mul(prefix + ".n", f.batchSize(map), f.scalar(cellsPerSample));
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
