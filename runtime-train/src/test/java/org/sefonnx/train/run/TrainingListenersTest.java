package org.sefonnx.train.run;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The listeners run in their order, the hook sees each writer's step just before it, an order that breaks the commit is refused. */
class TrainingListenersTest {
    private static TrainingListener writer(String epochStep, String endStep, List<String> calls) {
        return new TrainingListener() {
            @Override
            public String epochStep() {
                return epochStep;
            }

            @Override
            public String endStep() {
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
                        writer(RunCommits.WRITE_METRICS, null, calls),
                        writer(RunCommits.WRITE_CONFUSION, null, calls),
                        writer(RunCommits.PRUNE_CHECKPOINTS, null, calls),
                        writer(null, null, calls),
                        writer(null, RunCommits.EXPORT, calls),
                        writer(null, RunCommits.SUMMARY, calls)),
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
                                writer(RunCommits.PRUNE_CHECKPOINTS, null, calls),
                                writer(RunCommits.WRITE_METRICS, null, calls),
                                writer(RunCommits.WRITE_CONFUSION, null, calls),
                                writer(null, RunCommits.EXPORT, calls),
                                writer(null, RunCommits.SUMMARY, calls)),
                        RunCommits.Hook.NONE));
        assertTrue(
                e.getMessage()
                        .contains("[save checkpoint, commit state, prune checkpoints, write metrics, write confusion]"),
                e.getMessage());
    }
}
