package org.sefonnx.train.run.listener;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.sefonnx.train.run.state.CommitStep;
import org.sefonnx.train.run.state.RunCommits;

/** The listeners run in their order, the hook sees each writer's step just before it, an order that breaks the commit is refused. */
class TrainingListenersTest {
    private static TrainingListener writer(CommitStep epochStep, CommitStep endStep, List<String> calls) {
        return new TrainingListener() {
            @Override
            public CommitStep epochStep() {
                return epochStep;
            }

            @Override
            public CommitStep endStep() {
                return endStep;
            }

            @Override
            public void epochCommitted(EpochEnd end) {
                calls.add("epoch " + epochStep);
            }

            @Override
            public void runFinished(RunEnd end) {
                calls.add("end " + endStep);
            }
        };
    }

    @Test
    void theHookSeesEachWritersStepJustBeforeItRuns() throws Exception {
        List<String> calls = new ArrayList<>();
        TrainingListeners listeners = new TrainingListeners(
                List.of(
                        writer(CommitStep.WRITE_METRICS, null, calls),
                        writer(CommitStep.WRITE_CONFUSION, null, calls),
                        writer(CommitStep.PRUNE_CHECKPOINTS, null, calls),
                        writer(null, null, calls),
                        writer(null, CommitStep.EXPORT, calls),
                        writer(null, CommitStep.SUMMARY, calls)),
                step -> calls.add("hook " + step));
        listeners.epochCommitted(null);
        assertEquals(
                List.of(
                        "hook write metrics",
                        "epoch write metrics",
                        "hook write confusion",
                        "epoch write confusion",
                        "hook prune checkpoints",
                        "epoch prune checkpoints",
                        "epoch null",
                        "epoch null",
                        "epoch null"),
                calls);
        calls.clear();
        listeners.runFinished(null);
        assertEquals(
                List.of(
                        "end null",
                        "end null",
                        "end null",
                        "end null",
                        "hook export",
                        "end export",
                        "hook summary",
                        "end summary"),
                calls);
    }

    @Test
    void anOrderThatPrunesBeforeTheMetricsAreWrittenIsRefused() {
        List<String> calls = new ArrayList<>();
        IllegalStateException e = assertThrows(
                IllegalStateException.class,
                () -> new TrainingListeners(
                        List.of(
                                writer(CommitStep.PRUNE_CHECKPOINTS, null, calls),
                                writer(CommitStep.WRITE_METRICS, null, calls),
                                writer(CommitStep.WRITE_CONFUSION, null, calls),
                                writer(null, CommitStep.EXPORT, calls),
                                writer(null, CommitStep.SUMMARY, calls)),
                        RunCommits.Hook.NONE));
        assertTrue(
                e.getMessage()
                        .contains("[save checkpoint, commit state, prune checkpoints, write metrics, write confusion]"),
                e.getMessage());
    }

    @Test
    void theFirstListenerThatSkipsAStepDecidesAndEveryListenerSeesWhy() {
        List<String> calls = new ArrayList<>();
        TrainingListener skipper = new TrainingListener() {
            @Override
            public Optional<String> beforeOptimizerStep(TrainingBatch b) {
                calls.add("skipper asked");
                return Optional.of("skipped (loss scale now 32768)");
            }
        };
        TrainingListener divergence = new TrainingListener() {
            @Override
            public Optional<String> beforeOptimizerStep(TrainingBatch b) {
                calls.add("divergence asked");
                return Optional.empty();
            }

            @Override
            public void onTrainingBatch(TrainingBatch b) {
                calls.add("saw " + b.skipReason());
            }
        };
        TrainingListeners listeners = new TrainingListeners(
                List.of(
                        writer(CommitStep.WRITE_METRICS, null, calls),
                        writer(CommitStep.WRITE_CONFUSION, null, calls),
                        writer(CommitStep.PRUNE_CHECKPOINTS, null, calls),
                        divergence,
                        writer(null, CommitStep.EXPORT, calls),
                        writer(null, CommitStep.SUMMARY, calls)),
                RunCommits.Hook.NONE);
        TrainingListener.TrainingBatch batch = new TrainingListener.TrainingBatch(0, 1, 1, 1, 2, 0.01, null, null);
        assertEquals(Optional.empty(), listeners.beforeOptimizerStep(batch));
        assertEquals(List.of("divergence asked"), calls);
        calls.clear();
        TrainingListeners skipping = new TrainingListeners(
                List.of(
                        writer(CommitStep.WRITE_METRICS, null, calls),
                        writer(CommitStep.WRITE_CONFUSION, null, calls),
                        writer(CommitStep.PRUNE_CHECKPOINTS, null, calls),
                        skipper,
                        divergence,
                        writer(null, CommitStep.EXPORT, calls),
                        writer(null, CommitStep.SUMMARY, calls)),
                RunCommits.Hook.NONE);
        Optional<String> reason = skipping.beforeOptimizerStep(batch);
        assertEquals(Optional.of("skipped (loss scale now 32768)"), reason);
        skipping.onTrainingBatch(batch.skipped(reason.orElseThrow()));
        // the divergence check never sees a skipped step's (overflowed) loss
        assertEquals(List.of("skipper asked", "saw skipped (loss scale now 32768)"), calls);
    }
}
