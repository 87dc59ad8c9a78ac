package org.sefonnx.train.run.report;

import java.util.Locale;
import org.sefonnx.train.run.listener.TrainingListener;

/** The progress line of each training pass: batches done, images/s, ETA, and each batch's loss or why it was skipped. */
public final class TrainingProgress implements TrainingListener {
    private final Console console;
    private final int epochs;
    private Progress bar;

    public TrainingProgress(Console console, int epochs) {
        this.console = console;
        this.epochs = epochs;
    }

    @Override
    public void trainingEpochStarting(int epoch, int batches) {
        bar = console.progress(String.format(Locale.ROOT, "epoch %d/%d train", epoch + 1, epochs), batches);
    }

    @Override
    public void onTrainingBatch(TrainingBatch b) {
        bar.update(
                b.batch(),
                b.images(),
                b.skipReason() != null
                        ? b.skipReason()
                        : String.format(Locale.ROOT, "loss %.4f lr %.3g", b.loss(), b.learningRate()));
    }
}
