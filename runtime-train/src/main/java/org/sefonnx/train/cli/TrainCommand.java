package org.sefonnx.train.cli;

import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import org.sefonnx.generator.ShippedSpecs;
import org.sefonnx.generator.model.ModelSpec;
import org.sefonnx.train.data.Layout;
import org.sefonnx.train.ort.OrtAdapter;
import org.sefonnx.train.run.Trainer;
import org.sefonnx.train.run.metrics.EpochMetrics;
import org.sefonnx.train.run.options.Protocol;
import org.sefonnx.train.run.options.TrainOptions;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** `sef-onnx train`: without --data, the embedded Fashion-MNIST demo on ResNet-18 (G=2, 32 px). */
@Command(
        name = "train",
        mixinStandardHelpOptions = true,
        showDefaultValues = true,
        sortOptions = false,
        description = {
            "Train a SEF model. Without --data it trains the embedded Fashion-MNIST demo (2,000 train / 1,000 test images) on the CPU.",
            "Paper recipe: --data CUB_200_2011 --layout cub --spec cub-r50 --pretrained resnet50.safetensors (SGD lr 0.01, μ 0.9, StepLR 0.1/20 epochs, 50 epochs, batch 32)."
        })
public final class TrainCommand implements Callable<Integer> {
    @Option(
            names = "--data",
            description =
                    "Data set root, as distributed (CUB_200_2011/, the Cars, Dogs or fgvc-aircraft-2013b folder, an ImageFolder or IDX directory). Absent: the embedded demo.")
    Path data;

    @Option(
            names = "--layout",
            converter = EnumOption.Layouts.class,
            completionCandidates = EnumOption.Layouts.class,
            description = "Layout of --data: ${COMPLETION-CANDIDATES}.")
    Layout layout;

    @Mixin
    SpecOptions spec = new SpecOptions();

    @Option(names = "--epochs", description = "Epochs (default: the spec's recipe; paper 50, demo 6).")
    Integer epochs;

    @Option(names = "--batch-size", description = "Batch size (default: the spec's recipe; paper 32).")
    Integer batchSize;

    @Option(names = "--lr", description = "Initial learning rate (default: the spec's recipe; paper 0.01, Dogs 0.001).")
    Double lr;

    @Option(names = "--lr-step", description = "StepLR period in epochs (default: the spec's recipe; paper 20).")
    Integer lrStep;

    @Option(names = "--lr-gamma", defaultValue = "0.1", description = "StepLR factor.")
    double lrGamma;

    @Option(
            names = "--seed",
            defaultValue = "42",
            description = "Seed of the initial weights, shuffling and augmentation.")
    long seed;

    @Option(
            names = "--pretrained",
            description = "ImageNet weights to start from: a torchvision/timm model.safetensors or an ONNX file.")
    Path pretrained;

    @Mixin
    ComputeOptions compute = new ComputeOptions();

    @Option(
            names = "--cudnn-exhaustive",
            description =
                    "Let cuDNN try every convolution algorithm on the first step (short for --cudnn-conv-algo-search exhaustive).")
    boolean cudnnExhaustive;

    @Option(
            names = "--cudnn-conv-algo-search",
            defaultValue = "heuristic",
            converter = EnumOption.ConvAlgorithmSearches.class,
            completionCandidates = EnumOption.ConvAlgorithmSearches.class,
            description =
                    "CUDA: how cuDNN picks convolution algorithms: ${COMPLETION-CANDIDATES} (exhaustive times all on the first step).")
    OrtAdapter.CudaOptions.ConvAlgorithmSearch convAlgoSearch;

    @Option(
            names = "--cudnn-max-workspace",
            negatable = true,
            defaultValue = "true",
            fallbackValue = "true",
            description =
                    "CUDA: let cuDNN use the workspace its fastest algorithm wants (--no-cudnn-max-workspace caps it).")
    boolean cudnnMaxWorkspace;

    @Option(
            names = "--tf32",
            negatable = true,
            defaultValue = "true",
            fallbackValue = "true",
            description =
                    "CUDA: TF32 tensor-core math for float32 convolutions and GEMMs (--no-tf32: full float32, matches the CPU to rounding).")
    boolean tf32;

    @Option(
            names = "--skip-bad-images",
            description = "Skip (and count) unreadable images instead of failing; at most --max-bad-images of them.")
    boolean skipBadImages;

    @Option(
            names = "--max-bad-images",
            defaultValue = "" + TrainOptions.BadImages.DEFAULT_MAX,
            description =
                    "With --skip-bad-images: the most distinct images skipped before the run fails (a broken data set is not trained on).")
    int maxBadImages;

    /** What --exif-orientation does with a JPEG's EXIF orientation tag. */
    enum ExifOrientation {
        IGNORE,
        APPLY
    }

    static final class ExifOrientations extends EnumOption<ExifOrientation> {
        ExifOrientations() {
            super(ExifOrientation.values());
        }
    }

    @Option(
            names = "--exif-orientation",
            defaultValue = "ignore",
            converter = ExifOrientations.class,
            completionCandidates = ExifOrientations.class,
            description =
                    "${COMPLETION-CANDIDATES}: ignore (torchvision's default loader) or apply (turn JPEGs upright by their EXIF tag, as Pillow's exif_transpose); the export records it.")
    ExifOrientation exifOrientation;

    @Option(
            names = "--max-batches-per-epoch",
            defaultValue = "0",
            description = "Stop each epoch after this many batches (0: all); for smoke tests and benchmarks.")
    int maxBatches;

    @Option(
            names = "--keep-initial-checkpoint",
            description =
                    "Keep artifacts/checkpoint (the initial weights, as large as an epoch's checkpoint) after the first epoch; by default it is deleted once epoch 1 is committed.")
    boolean keepInitialCheckpoint;

    @Mixin
    ProtocolOptions protocol = new ProtocolOptions();

    @Option(
            names = "--out",
            defaultValue = "runs/sef-onnx",
            description = "Run directory (checkpoints, metrics, plots, export).")
    Path out;

    @Option(
            names = "--resume",
            description =
                    "Continue the run in this directory from its last checkpoint (other options are taken from it; --epochs may extend it).")
    Path resume;

    @Option(
            names = "--from-best",
            description =
                    "With --resume: continue from the best checkpoint instead of the last (when the last one is damaged); later epochs are retrained.")
    boolean fromBest;

    @Option(
            names = "--export-int8",
            description = "At the end, also write the int8 export (<out>/export-int8) through the accuracy gate, as "
                    + "`sef-onnx export --precision int8` does; exit code 3 when the gate refuses it.")
    boolean exportInt8;

    @Mixin
    Int8Options int8 = new Int8Options();

    /**
     * Options --resume accepts besides itself: the rest would silently differ from the run's own. The int8 export is
     * derived from the finished run, so its options may differ from one resume to the next.
     */
    private static final List<String> RESUME_OPTIONS = List.of(
            "--resume",
            "--epochs",
            "--from-best",
            "--val-fraction",
            "--val-split",
            "--select-on",
            "--strict-splits",
            "--export-int8",
            "--calibration-images",
            "--calibration",
            "--max-accuracy-drop",
            "--float-layers",
            "--max-float-layers");

    @Spec
    CommandSpec command;

    @Override
    public Integer call() throws Exception {
        return OutOfMemory.guard(this::run, compute.workers);
    }

    private Integer run() throws Exception {
        if (resume != null) {
            List<String> ignored = command.commandLine().getParseResult().matchedOptions().stream()
                    .map(OptionSpec::longestName)
                    .filter(n -> !RESUME_OPTIONS.contains(n))
                    .distinct()
                    .toList();
            if (!ignored.isEmpty()) {
                throw new IllegalArgumentException(
                        "--resume continues " + resume + " with the options in its run.properties; "
                                + String.join(", ", ignored)
                                + " would be ignored: drop them (only --epochs may extend the run, --from-best pick its start; "
                                + "the validation options must repeat the run's own)");
            }
            if (exportInt8) int8.settings(); // bad int8 options are refused before any work
            return finish(
                    Trainer.resume(resume, epochs, fromBest, protocol.given() ? protocol.resolve() : null, System.out));
        }
        if (fromBest) throw new IllegalArgumentException("--from-best needs --resume DIR");
        if (data != null && layout == null)
            throw new IllegalArgumentException(
                    "--data needs --layout (" + String.join(", ", new EnumOption.Layouts()) + ")");
        ModelSpec s = spec.resolve(data == null ? ShippedSpecs.demo() : null);
        TrainOptions.Builder b = TrainOptions.builder(s, out)
                .data(layout, data)
                .lrGamma(lrGamma)
                .seed(seed)
                .device(compute.device)
                .threads(compute.threads)
                .workers(compute.workers)
                .skipBadImages(skipBadImages)
                .maxBadImages(maxBadImages)
                .applyExifOrientation(exifOrientation == ExifOrientation.APPLY)
                .cuda(cudaOptions())
                .maxBatchesPerEpoch(maxBatches)
                .keepInitialCheckpoint(keepInitialCheckpoint)
                .pretrained(pretrained);
        // absent: the spec's recipe, the builder's default
        if (epochs != null) b.epochs(epochs);
        if (batchSize != null) b.batchSize(batchSize);
        if (lr != null) b.learningRate(lr);
        if (lrStep != null) b.lrStepEpochs(lrStep);
        TrainOptions o = b.build();
        if (exportInt8) int8.settings();
        return finish(new Trainer(o, protocol.resolve(), System.out).train());
    }

    /** Reports the finished run and, with --export-int8, writes its int8 export; returns the exit code. */
    private int finish(Trainer.Result r) throws java.io.IOException {
        report(r);
        return exportInt8 ? int8.export(r.run().root(), r.export(), r.run().int8Export(), System.out) : 0;
    }

    /** The CUDA provider's settings these options give: {@code --cudnn-exhaustive} is short for EXHAUSTIVE search. */
    OrtAdapter.CudaOptions cudaOptions() {
        OrtAdapter.CudaOptions.ConvAlgorithmSearch search = convAlgoSearch;
        if (cudnnExhaustive) {
            if (search == OrtAdapter.CudaOptions.ConvAlgorithmSearch.DEFAULT)
                throw new IllegalArgumentException(
                        "--cudnn-exhaustive contradicts --cudnn-conv-algo-search default; give one of them");
            search = OrtAdapter.CudaOptions.ConvAlgorithmSearch.EXHAUSTIVE;
        }
        return new OrtAdapter.CudaOptions(search, cudnnMaxWorkspace, tf32);
    }

    private static void report(Trainer.Result r) {
        EpochMetrics best = r.metrics().get(r.bestEpoch());
        if (best.selectedOn() == Protocol.SelectOn.VAL) {
            System.out.printf(
                    Locale.ROOT,
                    "done: best validation top-1 %.2f%% at epoch %d, test top-1 there %.2f%%; run directory %s (metrics.csv, plots/, checkpoints/, export/)%n",
                    100 * r.bestTop1(),
                    r.bestEpoch() + 1,
                    100 * best.testTop1(),
                    r.run().root());
            return;
        }
        System.out.printf(
                Locale.ROOT,
                "done: best test top-1 %.2f%% at epoch %d; run directory %s (metrics.csv, plots/, checkpoints/, export/)%n",
                100 * r.bestTop1(),
                r.bestEpoch() + 1,
                r.run().root());
    }
}
