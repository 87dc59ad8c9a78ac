package org.sefonnx.generator.model;

import org.sefonnx.generator.onnx.DType;
import org.sefonnx.generator.onnx.Ops;
import org.sefonnx.generator.onnx.Shape;
import org.sefonnx.generator.onnx.Value;

import java.util.ArrayList;
import java.util.List;

/**
 * The state shared by the model builders while one forward graph is built: where nodes go, where checkpoint tensors
 * come from, whether BatchNorm runs in training mode, and the state tensors the training step must overwrite.
 */
public final class Forward {
    /** A frozen checkpoint tensor and the value that replaces it after the step (written in place by the trainer graph). */
    public record StateUpdate(Value state, Value newValue) {}

    public final Ops ops;
    public final Parameters params;
    public final boolean training;
    public final DType dtype;
    private final List<StateUpdate> stateUpdates = new ArrayList<>();
    private ConvLowering convLowering = ConvLowering.CONV;

    public Forward(Ops ops, Parameters params, boolean training, DType dtype) {
        this.ops = ops;
        this.params = params;
        this.training = training;
        this.dtype = dtype;
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
