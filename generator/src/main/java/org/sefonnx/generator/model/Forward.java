package org.sefonnx.generator.model;

import org.sefonnx.generator.onnx.DType;
import org.sefonnx.generator.onnx.Ops;
import org.sefonnx.generator.onnx.Shape;
import org.sefonnx.generator.onnx.Value;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The state shared by the model builders while one forward graph is built: where nodes go, where checkpoint tensors
 * come from, whether BatchNorm runs in training mode, the state tensors the training step must overwrite, and the two
 * arithmetics of mixed precision: {@code dtype} for checkpoint tensors, batch statistics and the SEF loss terms,
 * {@code computeDtype} for the backbone and the heads (the same type when the spec is fp32, then no Cast is emitted).
 */
public final class Forward {
    /** A frozen checkpoint tensor and the value that replaces it after the step (written in place by the trainer graph). */
    public record StateUpdate(Value state, Value newValue) {}

    public final Ops ops;
    public final Parameters params;
    public final boolean training;
    public final DType dtype;
    public final DType computeDtype;
    private final List<StateUpdate> stateUpdates = new ArrayList<>();
    private ConvLowering convLowering = ConvLowering.CONV;
    private final Map<String, Value> casts = new HashMap<>();

    public Forward(Ops ops, Parameters params, boolean training, DType dtype) {
        this(ops, params, training, dtype, dtype);
    }

    public Forward(Ops ops, Parameters params, boolean training, DType dtype, DType computeDtype) {
        this.ops = ops;
        this.params = params;
        this.training = training;
        this.dtype = dtype;
        this.computeDtype = computeDtype;
    }

    /** {@code x} in the compute type: {@code x} itself, or one shared Cast of it (a master weight read by a conv). */
    public Value toCompute(Value x) {
        return castOnce(x, computeDtype);
    }

    /** {@code x} in the loss type: the SEF terms and the batch statistics run in float32 under mixed precision. */
    public Value toLoss(Value x) {
        return castOnce(x, dtype);
    }

    private Value castOnce(Value x, DType to) {
        if (x.dtype() == to) return x;
        return casts.computeIfAbsent(x.name() + "->" + to, k -> ops.cast(x.name() + "." + to.name().toLowerCase(Locale.ROOT), x, to));
    }

    /** Chooses how {@link #conv} builds convolutions (default {@link ConvLowering#CONV}). */
    public void lowerConvolutions(ConvLowering lowering) {
        this.convLowering = lowering;
    }

    /** A bias-free, group-1, square-kernel convolution, lowered as {@link #lowerConvolutions} chose. */
    public Value conv(String name, Value x, Value w, int stride, int pad) {
        Shape xs = x.requireShape();
        long k = w.requireShape().size(2);
        if (convLowering.lowersToGemm((xs.size(2) + 2L * pad - k) / stride + 1, (xs.size(3) + 2L * pad - k) / stride + 1)) {
            return Im2colConv.apply(ops, name, x, w, stride, pad);
        }
        return ops.conv(name, x, w, null, stride, pad);
    }

    public void updateState(Value state, Value newValue) {
        stateUpdates.add(new StateUpdate(state, newValue));
    }

    public List<StateUpdate> stateUpdates() {
        return List.copyOf(stateUpdates);
    }

    private Value batchSize;

    /**
     * The batch size N as a float scalar, read once from {@code x}'s shape and shared by every BatchNorm: on CUDA, ORT
     * runs shape arithmetic on the CPU, so each separate Shape→Gather→Cast chain would add a device copy per step.
     */
    public Value batchSize(Value x) {
        if (batchSize == null) {
            batchSize = ops.cast("batch_size", ops.gather("batch_size_i", ops.shapeOf("batch_shape", x), ops.graph().longs(0), 0), dtype);
        }
        return batchSize;
    }

    public Value scalar(double v) {
        return ops.graph().scalar(dtype, v);
    }
}
