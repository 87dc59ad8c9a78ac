package org.sefonnx.train.run;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import org.sefonnx.contract.ModelDescriptor;
import org.sefonnx.generator.artifacts.CheckpointReader;
import org.sefonnx.train.data.BatchLoader;
import org.sefonnx.train.data.DataCheck;
import org.sefonnx.train.data.Dataset;
import org.sefonnx.train.data.Datasets;
import org.sefonnx.train.data.Layout;
import org.sefonnx.train.data.LoaderOptions;
import org.sefonnx.train.ort.OrtAdapter;

/** `sef-onnx eval`: one checkpoint of a run scored on its test split, or on another data root of the same layout. */
public final class CheckpointEvaluation {
    /** What `sef-onnx eval` reports. */
    public record Result(double top1, double meanClassAccuracy, long images, double loss) {}

    private CheckpointEvaluation() {}

    /** Evaluates a run's checkpoint ({@code best}, {@code last} or a file) on its test split, or on {@code dataRoot}. */
    public static Result evaluate(Path runDir, String which, Path dataRoot, Path confusionOut, PrintStream log)
            throws IOException {
        RunDirectory run = new RunDirectory(runDir);
        RunState.read(run); // a folder that is not a run fails here, saying so
        TrainOptions saved = RunProperties.read(run).options();
        TrainOptions o = dataRoot == null
                ? saved
                : saved.toBuilder()
                        .data(saved.layout() == null ? Layout.IDX : saved.layout(), dataRoot)
                        .maxBatchesPerEpoch(0)
                        .cuda(OrtAdapter.CudaOptions.defaults())
                        .build();
        Path ckpt = run.checkpoint(which);
        RunSetup.requireSameSpec(o.spec(), CheckpointReader.readHeader(ckpt), ckpt);
        Dataset data = o.layout() == null ? RunData.demo(run) : Datasets.open(o.layout(), o.dataRoot());
        DataCheck.requireTestImages(data, data.test());
        ModelDescriptor d = SpecDescriptor.of(o.spec());
        int workers = o.workers() > 0 ? o.workers() : Runtime.getRuntime().availableProcessors();
        Console console = Console.of(log);
        try (OrtAdapter ort = OrtAdapter.create("sef-onnx-eval");
                BatchLoader testLoader = new BatchLoader(
                        data.test(),
                        Trainer.transform(o.layout(), o.spec().imageSize(), false),
                        LoaderOptions.evaluation(o.batchSize())
                                .withWorkers(workers)
                                .withSkipBadImages(o.skipBadImages())
                                .withExifOrientation(o.applyExifOrientation()));
                OrtAdapter.Training session =
                        Sessions.open(ort, d, run.artifacts(), ckpt, o.device(), EpochLoop.threads(o), OrtAdapter.CudaOptions.defaults(), log)) {
            Evaluation e =
                    Evaluation.of(new ModelSteps(d, session), d, testLoader, console, "eval " + ckpt.getFileName());
            if (confusionOut != null) e.confusion().write(confusionOut, RunData.classNames(o, data));
            return new Result(
                    e.confusion().top1(),
                    e.confusion().meanClassAccuracy(),
                    e.confusion().total(),
                    e.terms().loss());
        }
    }
}
