package org.sefonnx.generator.model;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import org.sefonnx.generator.onnx.DType;
import org.sefonnx.generator.onnx.Ops;
import org.sefonnx.generator.onnx.Shape;
import org.sefonnx.generator.onnx.Value;

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
    private final Set<Value> batchLastValues = new HashSet<>();
    private final Map<Value, Value> layoutCopies = new HashMap<>();

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
        return casts.computeIfAbsent(
                x.name() + "->" + to, k -> ops.cast(x.name() + "." + to.name().toLowerCase(Locale.ROOT), x, to));
    }

    /** Chooses how {@link #conv} builds convolutions (default {@link ConvLowering#CONV}). */
    public void lowerConvolutions(ConvLowering lowering) {
        this.convLowering = lowering;
    }

    /**
     * A bias-free, group-1, square-kernel convolution, lowered as {@link #lowerConvolutions} chose. A lowered one
     * ({@link WinogradConv#applyBatchLast} where {@link ConvLowering#lowersToWinograd}, else
     * {@link Im2colConv#applyBatchLast}) takes and gives the batch-last layout [C, H, W, N]; the map stays in it through
     * BatchNorm, ReLU and the residual Add ({@link #relu}, {@link #add}), so that ResNet-18 at 64 px runs 10 layout
     * transposes a step between its layers (around the stem's max-pool, the images and the last map, forward and
     * backward; Winograd's tile transposes are inside its composites) instead of 76. Which values are batch-last is
     * known only here.
     */
    public Value conv(String name, Value x, Value w, int stride, int pad) {
        long[] chw = chw(x);
        long k = w.requireShape().size(2);
        long outH = (chw[1] + 2L * pad - k) / stride + 1, outW = (chw[2] + 2L * pad - k) / stride + 1;
        if (convLowering.lowersToWinograd(k, stride, pad, outH, outW)) {
            return markBatchLast(WinogradConv.applyBatchLast(ops, name, batchLast(x), w));
        }
        if (convLowering.lowersToGemm(outH, outW)) {
            return markBatchLast(Im2colConv.applyBatchLast(ops, name, batchLast(x), w, stride, pad));
        }
        return ops.conv(name, nchw(x), w, null, stride, pad);
    }

    /** Channels, height and width of a map in either layout. */
    public long[] chw(Value x) {
        Shape s = x.requireShape();
        return isBatchLast(x)
                ? new long[] {s.size(0), s.size(1), s.size(2)}
                : new long[] {s.size(1), s.size(2), s.size(3)};
    }

    public boolean isBatchLast(Value x) {
        return batchLastValues.contains(x);
    }

    /** ReLU in the layout of its input. */
    public Value relu(String name, Value x) {
        return sameLayoutAs(x, ops.relu(name, x));
    }

    /** a + b in batch-last layout when either is (the other is transposed once). */
    public Value add(String name, Value a, Value b) {
        if (isBatchLast(a) == isBatchLast(b)) return sameLayoutAs(a, ops.add(name, a, b));
        return markBatchLast(ops.add(name, batchLast(a), batchLast(b)));
    }

    /** {@code x} as [N, C, H, W]: itself, or one shared transpose of a batch-last map. */
    public Value nchw(Value x) {
        if (!isBatchLast(x)) return x;
        return layoutCopies.computeIfAbsent(x, v -> ops.transpose(v.name() + ".nchw", v, 3, 0, 1, 2));
    }

    /** {@code x} as [C, H, W, N]: itself, or one shared transpose of an [N, C, H, W] map. */
    public Value batchLast(Value x) {
        if (isBatchLast(x)) return x;
        return layoutCopies.computeIfAbsent(x, v -> markBatchLast(ops.transpose(v.name() + ".chwn", v, 1, 2, 3, 0)));
    }

    /** {@code y}, a map of {@code x}'s shape, declared in {@code x}'s layout. */
    public Value sameLayoutAs(Value x, Value y) {
        return isBatchLast(x) ? markBatchLast(y) : y;
    }

    private Value markBatchLast(Value x) {
        batchLastValues.add(x);
        return x;
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
            long axis = isBatchLast(x) ? 3 : 0;
            batchSize = ops.cast(
                    "batch_size",
                    ops.gather(
                            "batch_size_i",
                            ops.shapeOf("batch_shape", x),
                            ops.graph().longs(axis),
                            0),
                    dtype);
        }
        return batchSize;
    }

    public Value scalar(double v) {
        return ops.graph().scalar(dtype, v);
    }
}
