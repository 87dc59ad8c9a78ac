package org.sefonnx.train.cli;

import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;
import org.sefonnx.train.run.evaluation.CheckpointEvaluation;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** `sef-onnx eval`: test-split top-1, mean per-class accuracy and confusion matrix of a run's checkpoint. */
@Command(
        name = "eval",
        mixinStandardHelpOptions = true,
        showDefaultValues = true,
        description =
                "Evaluate a run's checkpoint on its test split (or another data set of the same layout and classes).")
public final class EvalCommand implements Callable<Integer> {
    @Option(names = "--run", required = true, description = "Run directory written by `sef-onnx train`.")
    Path runDir;

    @Option(names = "--checkpoint", defaultValue = "best", description = "best, last, or a checkpoint file.")
    String checkpoint;

    @Option(names = "--data", description = "Evaluate on this data root instead of the run's (same layout).")
    Path data;

    @Option(names = "--confusion", description = "Write the confusion matrix CSV here.")
    Path confusion;

    @Override
    public Integer call() throws Exception {
        return OutOfMemory.guard(this::run, 0);
    }

    private Integer run() throws Exception {
        CheckpointEvaluation.Result r = CheckpointEvaluation.evaluate(runDir, checkpoint, data, confusion, System.out);
        System.out.printf(
                Locale.ROOT,
                "test top-1 %.2f%%, mean per-class accuracy %.2f%% over %d images (loss %.4f)%n",
                100 * r.top1(),
                100 * r.meanClassAccuracy(),
                r.images(),
                r.loss());
        return 0;
    }
}
