package org.sefonnx.train.cli;

import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import org.sefonnx.train.run.explain.Explainer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** `sef-onnx explain`: group activation maps, the channel-correlation matrix and group-head accuracy of a run's checkpoint. */
@Command(
        name = "explain",
        mixinStandardHelpOptions = true,
        showDefaultValues = true,
        description = {
            "Show what a run's SEF groups learned: per image, the input with one activation overlay per group and each group head's prediction;",
            "the channel-correlation matrix (mean squared cosines, group order) with its block means; each group head's top-1 on the test split."
        })
public final class ExplainCommand implements Callable<Integer> {
    @Option(names = "--run", required = true, description = "Run directory written by `sef-onnx train`.")
    Path runDir;

    @Option(names = "--checkpoint", defaultValue = "best", description = "best, last, or a checkpoint file.")
    String checkpoint;

    @Option(
            names = "--images",
            arity = "1..*",
            description = "Image files to explain (the correlation matrix is then over these).")
    List<Path> images = List.of();

    @Option(
            names = "--test-samples",
            defaultValue = "0",
            description =
                    "Explain this many images spread evenly over the run's test split (and score the group heads on all of it).")
    int testSamples;

    @Option(
            names = "--out",
            required = true,
            description = "Folder for the PNGs, correlation-blocks.csv/json and group-accuracy.csv.")
    Path out;

    @Override
    public Integer call() throws Exception {
        return OutOfMemory.guard(this::run, 0);
    }

    private Integer run() throws Exception {
        Explainer.explain(
                new Explainer.Request(runDir, checkpoint, images, testSamples, images.isEmpty(), out), System.out);
        return 0;
    }
}
