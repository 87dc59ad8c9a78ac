package org.sefonnx.train.run;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;

/**
 * Calls the listeners of a run in their order at each fixed point, naming each writer's commit step to the hook just
 * before it runs. Refuses a listener order whose writers would break the commit order {@link RunCommits} documents
 * (the order the kill-at-every-step test proves safe).
 */
final class TrainingListeners {
    private final List<TrainingListener> listeners;
    private final RunCommits.Hook hook;

    TrainingListeners(List<TrainingListener> listeners, RunCommits.Hook hook) {
        this.listeners = List.copyOf(listeners);
        this.hook = hook;
        List<String> epochSteps = new ArrayList<>(List.of(RunCommits.SAVE_CHECKPOINT, RunCommits.COMMIT_STATE));
        List<String> endSteps = new ArrayList<>();
        for (TrainingListener l : listeners) {
            if (l.epochStep() != null) epochSteps.add(l.epochStep());
            if (l.endStep() != null) endSteps.add(l.endStep());
        }
        if (!epochSteps.equals(RunCommits.EPOCH_STEPS) || !endSteps.equals(RunCommits.END_STEPS)) {
            throw new IllegalStateException("the listeners write in the order " + epochSteps + " then " + endSteps
                    + ", not the kill-safe " + RunCommits.EPOCH_STEPS + " then " + RunCommits.END_STEPS);
        }
    }

    void runStarting(RunState committed) throws IOException {
        for (TrainingListener l : listeners) l.runStarting(committed);
    }

    void epochCommitted(TrainingListener.EpochEnd end) throws IOException {
        for (TrainingListener l : listeners) {
            if (l.epochStep() != null) hook.before(l.epochStep());
            l.epochCommitted(end);
        }
    }

    void runFinished(TrainingListener.RunEnd end) throws IOException {
        for (TrainingListener l : listeners) {
            if (l.endStep() != null) hook.before(l.endStep());
            l.runFinished(end);
        }
    }

    void runClosed(RunState state) throws IOException {
        for (TrainingListener l : listeners) l.runClosed(state);
    }
}
