package org.sefonnx.generator.model;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.sefonnx.generator.onnx.DType;
import org.sefonnx.generator.onnx.Ops;
import org.sefonnx.generator.onnx.Value;

/**
 * The state shared by the model builders while one forward graph is built: where nodes go, where checkpoint tensors
 * come from, whether BatchNorm runs in training mode, the state tensors the training step must overwrite, and the two
 * arithmetics of mixed precision: {@code dtype} for checkpoint tensors, batch statistics and the SEF loss terms,
 * {@code computeDtype} for the backbone and the heads (the same type when the spec is fp32, then no Cast is emitted).
 * The graph it builds is plain NCHW ONNX; how a training target computes it differs only by the graph passes the
 * target runs on it (artifacts.TrainingTarget).
 */
public final class Forward {
    /** A frozen checkpoint tensor and the value that replaces it after the step (written in place by the trainer graph). */
    public record StateUpdate(Value state, Value newValue) {}

    /** Where the builders' nodes go. */
    public final Ops ops;
    /** The checkpoint tensors, as graph inputs. */
    public final Parameters params;
    /** Whether BatchNorm normalises with batch statistics (and updates its running ones). */
    public final boolean training;
    /** The type of checkpoint tensors, batch statistics and loss terms. */
    public final DType dtype;
    /** The type the backbone and the heads compute in. */
    public final DType computeDtype;

    private final List<StateUpdate> stateUpdates = new ArrayList<>();
    private final Map<String, Value> casts = new HashMap<>();
    private Value batchSize;

    /** A forward in one arithmetic. */
    public Forward(Ops ops, Parameters params, boolean training, DType dtype) {
        this(ops, params, training, dtype, dtype);
    }

    /** A forward whose backbone and heads compute in {@code computeDtype}. */
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

    /** Records that the training step overwrites {@code state} with {@code newValue} (a running statistic). */
    public void updateState(Value state, Value newValue) {
        stateUpdates.add(new StateUpdate(state, newValue));
    }

    /** The state updates recorded so far, in order. */
    public List<StateUpdate> stateUpdates() {
        return List.copyOf(stateUpdates);
    }

    /**
     * The batch size N as a float scalar, read once from the [N, ...] map {@code x} and shared by every BatchNorm: on
     * CUDA, ORT runs shape arithmetic on the CPU, so each separate Shape→Gather→Cast chain would add a device copy per
     * step.
     */
    public Value batchSize(Value x) {
        if (batchSize == null) {
            batchSize = ops.cast(
                    "batch_size",
                    ops.gather(
                            "batch_size_i",
                            ops.shapeOf("batch_shape", x),
                            ops.graph().longs(0),
                            0),
                    dtype);
        }
        return batchSize;
    }

    /** A scalar constant in the loss type. */
    public Value scalar(double v) {
        return ops.graph().scalar(dtype, v);
    }
}
