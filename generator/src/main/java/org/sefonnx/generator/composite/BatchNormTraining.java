package org.sefonnx.generator.composite;

import java.util.Arrays;
import java.util.List;
import org.sefonnx.generator.onnx.Attr;
import org.sefonnx.generator.onnx.Composite;
import org.sefonnx.generator.onnx.MsOp;
import org.sefonnx.generator.onnx.Ops;
import org.sefonnx.generator.onnx.Shape;
import org.sefonnx.generator.onnx.Value;

/**
 * Training-mode BatchNormalization: ONNX's BatchNormalization (the inference-form op) fed with the batch statistics of
 * its input, differentiated through those statistics by com.microsoft's BatchNormalizationGrad (CPU and CUDA
 * kernels). The statistics are standard ops before it ({@link #statistics}), so a mixed-precision model can compute
 * them from a float32 copy of its input. (ORT's own training-mode BN updates running_var with the biased variance;
 * PyTorch uses the unbiased one, which the model computes from these statistics.)
 */
public final class BatchNormTraining implements Composite {
    /** The composite's name, the op type autodiff sees an application under. */
    public static final String NAME = "BatchNormTraining";

    /** The output and the batch statistics it normalised with. */
    public record Normalized(Value output, Value batchMean, Value batchVar) {}

    /** Batch mean and biased batch variance per channel. */
    public record Statistics(Value mean, Value var) {}

    private final float epsilon;

    private BatchNormTraining(float epsilon) {
        this.epsilon = epsilon;
    }

    /** Training-mode normalisation of {@code x} [N, C, ...]: its {@link #statistics}, then {@link #normalize}. */
    public static Normalized apply(Ops ops, String prefix, Value x, Value weight, Value bias, float epsilon) {
        Statistics stats = statistics(ops, prefix, x);
        Value y = normalize(ops, prefix + ".out", x, weight, bias, stats.mean(), stats.var(), epsilon);
        return new Normalized(y, stats.mean(), stats.var());
    }

    /** Batch mean and biased batch variance per channel of an [N, C, ...] map (every axis but 1), in {@code x}'s type. */
    public static Statistics statistics(Ops ops, String prefix, Value x) {
        Shape s = x.requireShape();
        long[] axes = new long[s.rank() - 1];
        long[] meanShape = new long[s.rank()];
        Arrays.fill(meanShape, 1);
        meanShape[1] = s.size(1);
        for (int i = 0, a = 0; i < s.rank(); i++) if (i != 1) axes[a++] = i;
        Value mean = ops.reduceMean(prefix + ".batch_mean", x, axes, false);
        Value centered = ops.sub(prefix + ".centered", x, ops.reshape(prefix + ".batch_mean4", mean, meanShape));
        Value var = ops.reduceMean(
                prefix + ".batch_var", ops.mul(prefix + ".centered_sq", centered, centered), axes, false);
        return new Statistics(mean, var);
    }

    /** {@code x} normalised with the given batch statistics of it: one application of this composite. */
    public static Value normalize(
            Ops ops, String name, Value x, Value scale, Value bias, Value mean, Value var, float epsilon) {
        return ops.graph()
                .composite(new BatchNormTraining(epsilon), name, List.of(x, scale, bias, mean, var))
                .get(0);
    }

    @Override
    public String name() {
        return NAME;
    }

    /** Inputs X, scale, bias and X's batch mean and variance; output Y; nothing saved. */
    @Override
    public Applied forward(Ops ops, String name, List<Value> inputs) {
        Value y = ops.batchNormalization(
                name, inputs.get(0), inputs.get(1), inputs.get(2), inputs.get(3), inputs.get(4), epsilon);
        return new Applied(List.of(y), List.of());
    }

    /**
     * BatchNormalizationGrad already differentiates through the batch statistics, so the mean and variance inputs get
     * no gradient of their own (counting them again would double the statistics' path).
     */
    @Override
    public void backward(Gradients c) {
        Ops ops = c.ops();
        Value x = c.I(0);
        Value varEps = ops.add(c.hint("var_eps"), c.I(4), ops.graph().scalar(x.dtype(), epsilon));
        Value invStd = ops.reciprocal(c.hint("inv_std"), ops.sqrt(c.hint("std"), varEps));
        List<Value> grads = ops.ms(
                MsOp.BATCH_NORMALIZATION_GRAD,
                List.of(c.GO(0), x, c.I(1), c.I(3), invStd),
                List.of(slot(c, 0, "dx"), slot(c, 1, "dscale"), slot(c, 2, "dbias")),
                Attr.f("epsilon", epsilon));
        for (int i = 0; i < 3; i++) c.GI(i, grads.get(i));
        c.skip(3);
        c.skip(4);
    }

    /** Where the kernel writes input i's gradient: shaped like input i, in X's type (the kernel's T). */
    private static Value slot(Gradients c, int i, String suffix) {
        return new Value(c.hint(suffix), c.I(0).dtype(), c.I(i).shape());
    }
}
