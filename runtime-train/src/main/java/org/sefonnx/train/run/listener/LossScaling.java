package org.sefonnx.train.run.listener;

import java.io.PrintStream;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import org.sefonnx.contract.ModelDescriptor;
import org.sefonnx.contract.TensorNames;
import org.sefonnx.generator.artifacts.Checkpoint;
import org.sefonnx.train.ort.HostTensor;
import org.sefonnx.train.ort.OrtAdapter;
import org.sefonnx.train.run.state.TrainingDivergedException;

/**
 * The trainer's side of {@code --precision fp16}, as a listener of every training batch: feeds the {@link LossScaler}'s
 * scale to TrainStep, reads the graph's all-gradients-finite flag and skips the optimizer step of a batch whose
 * gradients overflowed, keeps the scaler's state in each checkpoint and reports each epoch's skipped steps. A float32
 * spec has none ({@link #of} is empty): it feeds nothing extra and every step runs.
 */
public final class LossScaling implements TrainingListener {
    /**
     * 2^-24, fp16's smallest subnormal: a scale below it cannot lift any gradient into fp16's range, so a run that
     * backs off this far (about 40 consecutive skipped steps from 2^16) has a non-finite forward, not an overflow.
     */
    static final float SMALLEST_USEFUL_SCALE = 0x1.0p-24f;

    private final LossScaler scaler;
    private final PrintStream log;
    private int steps, skipped;

    private LossScaling(LossScaler scaler, PrintStream log) {
        this.scaler = scaler;
        this.log = log;
    }

    /**
     * The loss scaling of {@code d}'s graphs with the scaler state from {@code checkpoint}'s property bag (the initial
     * state when it has none), its epoch lines on {@code log}; empty when TrainStep takes no loss scale.
     */
    public static Optional<LossScaling> of(ModelDescriptor d, Checkpoint checkpoint, PrintStream log) {
        if (!d.trainStep().hasInput(TensorNames.LOSS_SCALE)) return Optional.empty();
        return Optional.of(
                new LossScaling(LossScaler.restore(checkpoint.floatProperties(), checkpoint.intProperties()), log));
    }

    /** The loss scale, a float32 scalar. */
    @Override
    public void feedTrainStep(Map<String, HostTensor> inputs) {
        inputs.put(TensorNames.LOSS_SCALE, HostTensor.floats(new float[] {scaler.scale()}));
    }

    /** Skips the step whose gradients are inf/NaN (the scale backs off); stops a run whose scale fell past any use. */
    @Override
    public Optional<String> beforeOptimizerStep(TrainingBatch batch) {
        steps++;
        boolean finite =
                scaler.update(batch.outputs().get(TensorNames.GRADIENTS_FINITE).flag());
        if (!finite) skipped++;
        if (scaler.scale() < SMALLEST_USEFUL_SCALE) {
            throw new TrainingDivergedException(String.format(
                    Locale.ROOT,
                    "the loss scale fell to %.3g after %d skipped steps: the gradients are "
                            + "inf/NaN at any scale (a non-finite forward pass); training stopped. Lower --lr or check the data.",
                    scaler.scale(),
                    skipped));
        }
        return finite
                ? Optional.empty()
                : Optional.of(String.format(Locale.ROOT, "skipped (loss scale now %.0f)", scaler.scale()));
    }

    /** The scaler state, saved with the checkpoint so that a resumed run scales as an uninterrupted one. */
    @Override
    public void beforeCheckpoint(OrtAdapter.Training session) {
        session.setFloatProperty(LossScaler.PROP_SCALE, scaler.scale());
        session.setIntProperty(LossScaler.PROP_GROWTH_TRACKER, scaler.growthTracker());
    }

    /** One line per epoch (skipped steps, current scale); then the epoch counts restart. */
    @Override
    public void epochCommitted(EpochEnd end) {
        log.printf(
                Locale.ROOT,
                "mixed precision: %d of %d steps skipped (inf/NaN gradients), loss scale %.0f%n",
                skipped,
                steps,
                scaler.scale());
        steps = 0;
        skipped = 0;
    }

    /** The factor the loss is multiplied by in the next step. */
    float scale() {
        return scaler.scale();
    }
}
