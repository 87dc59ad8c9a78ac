package org.sefonnx.train.run;

import java.io.IOException;
import java.util.Map;
import org.sefonnx.train.ort.OrtAdapter;

/**
 * One concern of a run that acts at the loop's fixed points, as DJL's {@code TrainingListener} or a Lightning
 * {@code Callback}: metrics files, confusion-best.csv, checkpoint pruning, console lines, the loss scaler's line, the
 * export, summary.txt, the report. {@link EpochLoop#listeners} lists them in the order they run, which for the
 * listeners that write files is the kill-safe commit order of {@link RunCommits}; the loop names each writer's step to
 * {@link RunCommits.Hook} just before it runs.
 */
interface TrainingListener {
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
        boolean bestChanged() {
            return state.bestEpoch() != before.bestEpoch();
        }
    }

    /**
     * Every epoch is committed; the training session is still open ({@code ort} is its environment).
     * {@code skippedImages}: every bad image skipped over the run, by source, with the reason.
     */
    record RunEnd(RunState state, Map<String, String> skippedImages, OrtAdapter ort) {}

    /** The commit step ({@link RunCommits#EPOCH_STEPS}) before this listener's {@link #epochCommitted}; null: it writes no file then. */
    default String epochStep() {
        return null;
    }

    /** The commit step ({@link RunCommits#END_STEPS}) before this listener's {@link #runFinished}; null when it writes no file then. */
    default String endStep() {
        return null;
    }

    /**
     * Before the first epoch of this process, new run or resumed: rebuild what derives from {@code committed} (a kill
     * may have left it behind the state). No commit step: nothing here moves the run forward.
     */
    default void runStarting(RunState committed) throws IOException {}

    default void epochCommitted(EpochEnd end) throws IOException {}

    default void runFinished(RunEnd end) throws IOException {}

    /** After the training session and ORT are closed (what needs its own session, or the memory, runs here). */
    default void runClosed(RunState state) throws IOException {}
}
