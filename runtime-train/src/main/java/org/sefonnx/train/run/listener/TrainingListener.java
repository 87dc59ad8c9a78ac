package org.sefonnx.train.run.listener;

import java.io.IOException;
import java.util.Map;
import java.util.Optional;
import org.sefonnx.contract.TensorNames;
import org.sefonnx.train.ort.HostTensor;
import org.sefonnx.train.ort.OrtAdapter;
import org.sefonnx.train.run.metrics.EpochMetrics;
import org.sefonnx.train.run.metrics.Evaluation;
import org.sefonnx.train.run.session.ModelSteps;
import org.sefonnx.train.run.state.CommitStep;
import org.sefonnx.train.run.state.RunState;

/**
 * One concern of a run that acts at the loop's fixed points, as DJL's {@code TrainingListener} ({@code onTrainingBatch},
 * {@code onEpoch}, {@code onTrainingEnd}) or a Lightning {@code Callback}: the loss scaler, the divergence check,
 * progress and the CPU estimate at every training batch; metrics files, confusion-best.csv, checkpoint pruning and
 * console lines at every epoch; the export, summary.txt and the report at the end. {@link TrainingListeners} calls
 * them in their order, which for the listeners that write files is the kill-safe commit order of {@link CommitStep},
 * naming each writer's step to the commit hook just before it runs.
 */
public interface TrainingListener {
    /**
     * One training batch after its TrainStep: epoch {@code epoch} (0-based), batch {@code batch} of {@code batches}
     * (1-based), the run's {@code globalStep} once it is counted, its {@code images}, the learning rate and TrainStep's
     * outputs; {@code skipReason} is set once a listener has skipped its optimizer step (null: the step ran).
     */
    record TrainingBatch(
            int epoch,
            int batch,
            int batches,
            long globalStep,
            int images,
            double learningRate,
            ModelSteps.Outputs outputs,
            String skipReason) {
        /** The batch's loss. */
        public float loss() {
            return outputs.scalar(TensorNames.LOSS);
        }

        /** The same batch, its optimizer step skipped for {@code reason}. */
        public TrainingBatch skipped(String reason) {
            return new TrainingBatch(epoch, batch, batches, globalStep, images, learningRate, outputs, reason);
        }
    }

    /** Epoch {@code epoch} (0-based) of {@code epochs}, committed: {@code state} is durable and names its checkpoint. */
    record EpochEnd(
            int epoch,
            int epochs,
            EpochMetrics metrics,
            RunState before,
            RunState state,
            Evaluation test,
            Evaluation validation) {
        /** True when this epoch became the best one. */
        public boolean bestChanged() {
            return state.bestEpoch() != before.bestEpoch();
        }
    }

    /**
     * Every epoch is committed; the training session is still open ({@code ort} is its environment).
     * {@code skippedImages}: every bad image skipped over the run, by source, with the reason.
     */
    record RunEnd(RunState state, Map<String, String> skippedImages, OrtAdapter ort) {}

    /** The commit step ({@link CommitStep#EPOCH}) before this listener's {@link #epochCommitted}; null: it writes no file then. */
    default CommitStep epochStep() {
        return null;
    }

    /** The commit step ({@link CommitStep#END}) before this listener's {@link #runFinished}; null when it writes no file then. */
    default CommitStep endStep() {
        return null;
    }

    /**
     * Before the first epoch of this process, new run or resumed: rebuild what derives from {@code committed} (a kill
     * may have left it behind the state). No commit step: nothing here moves the run forward.
     */
    default void runStarting(RunState committed) throws IOException {}

    /** Epoch {@code epoch} (0-based) is about to train {@code batches} batches. */
    default void trainingEpochStarting(int epoch, int batches) {}

    /** Before each TrainStep: puts the tensors this listener feeds besides images and labels into {@code inputs}, by name. */
    default void feedTrainStep(Map<String, HostTensor> inputs) {}

    /**
     * After TrainStep, before OptimizerStep: why this batch's optimizer step is skipped (inf/NaN gradients under mixed
     * precision), or empty to let it run; throwing stops the run. The first listener that skips decides: the later ones
     * are not asked.
     */
    default Optional<String> beforeOptimizerStep(TrainingBatch batch) {
        return Optional.empty();
    }

    /** After the batch's optimizer step ran or was skipped ({@link TrainingBatch#skipReason}). */
    default void onTrainingBatch(TrainingBatch batch) {}

    /** Before the epoch's checkpoint is saved: what this listener keeps in the session's property bag. */
    default void beforeCheckpoint(OrtAdapter.Training session) {}

    default void epochCommitted(EpochEnd end) throws IOException {}

    default void runFinished(RunEnd end) throws IOException {}

    /** After the training session and ORT are closed (what needs its own session, or the memory, runs here). */
    default void runClosed(RunState state) throws IOException {}
}
