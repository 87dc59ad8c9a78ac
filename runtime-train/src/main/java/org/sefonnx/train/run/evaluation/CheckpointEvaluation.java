package org.sefonnx.train.run.evaluation;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import org.sefonnx.generator.artifacts.CheckpointReader;
import org.sefonnx.train.data.BatchLoader;
import org.sefonnx.train.data.DataCheck;
import org.sefonnx.train.data.Dataset;
import org.sefonnx.train.data.Datasets;
import org.sefonnx.train.data.Layout;
import org.sefonnx.train.data.LoaderOptions;
import org.sefonnx.train.ort.OrtAdapter;
import org.sefonnx.train.run.metrics.Evaluation;
import org.sefonnx.train.run.options.TrainOptions;
import org.sefonnx.train.run.report.Console;
import org.sefonnx.train.run.session.FinishedRun;
import org.sefonnx.train.run.state.RunProperties;

/** `sef-onnx eval`: one checkpoint of a run scored on its test split, or on another data root of the same layout. */
public final class CheckpointEvaluation {
    /** What `sef-onnx eval` reports. */
    public record Result(double top1, double meanClassAccuracy, long images, double loss) {}

    private CheckpointEvaluation() {}

    /** Evaluates a run's checkpoint ({@code best}, {@code last} or a file) on its test split, or on {@code dataRoot}. */
    public static Result evaluate(Path runDir, String which, Path dataRoot, Path confusionOut, PrintStream log)
            throws IOException {
        FinishedRun run = FinishedRun.read(runDir);
        TrainOptions o = run.options();
        Path ckpt = run.checkpoint(which);
        RunProperties.requireSameSpec(o.spec(), CheckpointReader.readHeader(ckpt), ckpt);
        // another root is read in the run's layout (the demo's as IDX), and its own class names are the ones to print
        TrainOptions.Data data = dataRoot == null
                ? o.data()
                : new TrainOptions.Data(
                        o.data().isDemo() ? Layout.IDX : o.data().layout(),
                        dataRoot,
                        o.data().applyExifOrientation());
        Dataset dataset = dataRoot == null ? run.dataset() : Datasets.open(data.layout(), data.root());
        DataCheck.requireTestImages(dataset, dataset.test());
        try (OrtAdapter ort = OrtAdapter.create("sef-onnx-eval");
                BatchLoader testLoader = new BatchLoader(
                        dataset.test(),
                        data.transform(o.spec().imageSize(), false),
                        LoaderOptions.evaluation(o.schedule().batchSize())
                                .withWorkers(o.compute().decodeWorkers())
                                .withSkipBadImages(o.badImages().skip())
                                .withExifOrientation(data.applyExifOrientation()));
                FinishedRun.EvalSession session =
                        run.openEvalSession(ort, ckpt, o.compute().device(), log)) {
            Evaluation e = Evaluator.evaluate(
                    session.steps(), session.descriptor(), testLoader, Console.of(log), "eval " + ckpt.getFileName());
            if (confusionOut != null) e.confusion().write(confusionOut, data.classNames(dataset));
            return new Result(
                    e.confusion().top1(),
                    e.confusion().meanClassAccuracy(),
                    e.confusion().total(),
                    e.terms().loss());
        }
    }
}
