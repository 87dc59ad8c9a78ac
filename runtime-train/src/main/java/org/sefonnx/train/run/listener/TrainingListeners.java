package org.sefonnx.train.run.listener;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.sefonnx.train.ort.HostTensor;
import org.sefonnx.train.ort.OrtAdapter;
import org.sefonnx.train.run.state.CommitStep;
import org.sefonnx.train.run.state.RunCommits;
import org.sefonnx.train.run.state.RunState;

/**
 * Calls the listeners of a run in their order at each fixed point, naming each writer's commit step to the hook just
 * before it runs. Refuses a listener order whose writers would break the commit order {@link CommitStep} lists (the
 * order the kill-at-every-step test proves safe).
 */
public final class TrainingListeners {
    private final List<TrainingListener> listeners;
    private final RunCommits.Hook hook;

    public TrainingListeners(List<TrainingListener> listeners, RunCommits.Hook hook) {
        this.listeners = List.copyOf(listeners);
        this.hook = hook;
        List<CommitStep> epochSteps = new ArrayList<>(List.of(CommitStep.SAVE_CHECKPOINT, CommitStep.COMMIT_STATE));
        List<CommitStep> endSteps = new ArrayList<>();
        for (TrainingListener l : listeners) {
            if (l.epochStep() != null) epochSteps.add(l.epochStep());
            if (l.endStep() != null) endSteps.add(l.endStep());
        }
        if (!epochSteps.equals(CommitStep.EPOCH) || !endSteps.equals(CommitStep.END)) {
            throw new IllegalStateException("the listeners write in the order " + epochSteps + " then " + endSteps
                    + ", not the kill-safe " + CommitStep.EPOCH + " then " + CommitStep.END);
        }
    }

    public void runStarting(RunState committed) throws IOException {
        for (TrainingListener l : listeners) l.runStarting(committed);
    }

    public void trainingEpochStarting(int epoch, int batches) {
        for (TrainingListener l : listeners) l.trainingEpochStarting(epoch, batches);
    }

    public void feedTrainStep(Map<String, HostTensor> inputs) {
        for (TrainingListener l : listeners) l.feedTrainStep(inputs);
    }

    /** Why the batch's optimizer step is skipped: the first listener's reason, or empty when none skips it. */
    public Optional<String> beforeOptimizerStep(TrainingListener.TrainingBatch batch) {
        for (TrainingListener l : listeners) {
            Optional<String> skip = l.beforeOptimizerStep(batch);
            if (skip.isPresent()) return skip;
        }
        return Optional.empty();
    }

    public void onTrainingBatch(TrainingListener.TrainingBatch batch) {
        for (TrainingListener l : listeners) l.onTrainingBatch(batch);
    }

    public void beforeCheckpoint(OrtAdapter.Training session) {
        for (TrainingListener l : listeners) l.beforeCheckpoint(session);
    }

    public void epochCommitted(TrainingListener.EpochEnd end) throws IOException {
        for (TrainingListener l : listeners) {
            if (l.epochStep() != null) hook.before(l.epochStep());
            l.epochCommitted(end);
        }
    }

    public void runFinished(TrainingListener.RunEnd end) throws IOException {
        for (TrainingListener l : listeners) {
            if (l.endStep() != null) hook.before(l.endStep());
            l.runFinished(end);
        }
    }

    public void runClosed(RunState state) throws IOException {
        for (TrainingListener l : listeners) l.runClosed(state);
    }
}
