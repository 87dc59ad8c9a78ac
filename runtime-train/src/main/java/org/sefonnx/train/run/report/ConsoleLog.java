package org.sefonnx.train.run.report;

import java.io.PrintStream;
import java.util.Locale;
import org.sefonnx.train.run.listener.TrainingListener;
import org.sefonnx.train.run.metrics.EpochMetrics;
import org.sefonnx.train.run.options.Protocol;

/** The lines a run prints between the progress bars: each epoch's result, the validation pass, the bad images skipped. */
public final class ConsoleLog implements TrainingListener {
    private final PrintStream log;
    private final Protocol protocol;

    public ConsoleLog(PrintStream log, Protocol protocol) {
        this.log = log;
        this.protocol = protocol;
    }

    @Override
    public void epochCommitted(EpochEnd end) {
        EpochMetrics m = end.metrics();
        log.printf(
                Locale.ROOT,
                "epoch %d/%d: train loss %.4f (CE %.4f E %.4f S %.4f L %.4f), test top-1 %.2f%% (mean per-class %.2f%%), "
                        + "best %.2f%% at epoch %d, %.1f img/s%n",
                end.epoch() + 1,
                end.epochs(),
                m.train().loss(),
                m.train().crossEntropy(),
                m.train().entropy(),
                m.train().distillation(),
                m.train().grouping(),
                100 * m.testTop1(),
                100 * m.testMeanClassAccuracy(),
                100 * m.bestTop1(),
                m.bestEpoch() + 1,
                m.trainImagesPerSecond());
        if (end.validation() != null) {
            log.printf(
                    Locale.ROOT,
                    "  validation top-1 %.2f%% (mean per-class %.2f%%, %d images); the best epoch is chosen on %s%n",
                    100 * m.valTop1(),
                    100 * m.valMeanClassAccuracy(),
                    end.validation().confusion().total(),
                    protocol.selectingSplitName());
        }
    }

    @Override
    public void runFinished(RunEnd end) {
        if (!end.skippedImages().isEmpty()) {
            log.println("skipped " + end.skippedImages().size() + " bad images: "
                    + String.join("; ", end.skippedImages().values()));
        }
    }
}
