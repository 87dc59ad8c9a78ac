package org.sefonnx.train.run;

import java.io.PrintStream;
import java.util.Locale;
import java.util.Map;
import org.sefonnx.contract.ModelDescriptor;
import org.sefonnx.contract.TensorNames;
import org.sefonnx.generator.artifacts.Checkpoint;
import org.sefonnx.train.ort.HostTensor;
import org.sefonnx.train.ort.OrtAdapter;

/**
 * The trainer's side of {@code --precision fp16}, and the one place the trainer touches the {@link LossScaler}: feeds
 * the loss scale, reads the graph's all-gradients-finite flag, drives the scaler, keeps its state in the checkpoint and
 * reports each epoch's skipped steps. For a float32 spec it feeds nothing extra and
 * every step runs.
 */
final class MixedPrecisionSteps {
    /**
     * 2^-24, fp16's smallest subnormal: a scale below it cannot lift any gradient into fp16's range, so a run that
     * backs off this far (about 40 consecutive skipped steps from 2^16) has a non-finite forward, not an overflow.
     */
    static final float SMALLEST_USEFUL_SCALE = 0x1.0p-24f;

    private final LossScaler scaler;
    private int steps, skipped;

    private MixedPrecisionSteps(LossScaler scaler) {
        this.scaler = scaler;
    }

    /** The scaler state from {@code checkpoint}'s property bag (the initial state when it has none). */
    static MixedPrecisionSteps of(ModelDescriptor d, Checkpoint checkpoint) {
        if (!d.trainStep().hasInput(TensorNames.LOSS_SCALE)) return new MixedPrecisionSteps(null);
        return new MixedPrecisionSteps(LossScaler.restore(checkpoint.floatProperties(), checkpoint.intProperties()));
    }

    /** TrainStep's inputs by name: images and labels, and the loss scale (a float32 scalar) under mixed precision. */
    Map<String, HostTensor> inputs(HostTensor images, HostTensor labels) {
        if (scaler == null) return Map.of(TensorNames.IMAGES, images, TensorNames.LABELS, labels);
        HostTensor scale = HostTensor.floats(new float[] {scaler.scale()});
        return Map.of(TensorNames.IMAGES, images, TensorNames.LABELS, labels, TensorNames.LOSS_SCALE, scale);
    }

    /** After TrainStep: whether the optimizer step runs (false: skipped, the scale backed off). */
    boolean step(ModelSteps.Outputs outputs) {
        steps++;
        if (scaler == null) return true;
        boolean finite = scaler.update(outputs.get(TensorNames.GRADIENTS_FINITE).flag());
        if (!finite) skipped++;
        if (scaler.scale() < SMALLEST_USEFUL_SCALE) {
            throw new TrainingDivergedException(String.format(
                    Locale.ROOT,
                    "the loss scale fell to %.3g after %d skipped steps: the gradients are "
                            + "inf/NaN at any scale (a non-finite forward pass); training stopped. Lower --lr or check the data.",
                    scaler.scale(),
                    skipped));
        }
        return finite;
    }

    float scale() {
        return scaler == null ? 1f : scaler.scale();
    }

    /** Puts the scaler state into the session's property bag, to be saved with the next checkpoint. */
    void save(OrtAdapter.Training session) {
        if (scaler == null) return;
        session.setFloatProperty(LossScaler.PROP_SCALE, scaler.scale());
        session.setIntProperty(LossScaler.PROP_GROWTH_TRACKER, scaler.growthTracker());
    }

    /** The epoch-end listener that prints {@link #logEpoch}'s line after each committed epoch. */
    TrainingListener epochLog(PrintStream log) {
        return new TrainingListener() {
            @Override
            public void epochCommitted(EpochEnd end) {
                logEpoch(log);
            }
        };
    }

    /** One line per epoch under mixed precision (skipped steps, current scale); then the epoch counts restart. */
    void logEpoch(PrintStream log) {
        if (scaler != null) {
            log.printf(
                    Locale.ROOT,
                    "mixed precision: %d of %d steps skipped (inf/NaN gradients), loss scale %.0f%n",
                    skipped,
                    steps,
                    scaler.scale());
        }
        steps = 0;
        skipped = 0;
    }
}
