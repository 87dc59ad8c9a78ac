package org.sefonnx.train.cli;

import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;
import org.sefonnx.generator.ShippedSpecs;
import org.sefonnx.generator.model.ModelSpec;
import org.sefonnx.train.data.Layout;
import org.sefonnx.train.data.SplitCounts;
import org.sefonnx.train.run.Ablation;
import org.sefonnx.train.run.options.TrainOptions;
import picocli.CommandLine.Command;
import picocli.CommandLine.Help.Visibility;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** `sef-onnx ablate`: the paper's Table III rows on one data set, one resumable run folder each, and the table beside the paper's. */
@Command(
        name = "ablate",
        mixinStandardHelpOptions = true,
        showDefaultValues = true,
        sortOptions = false,
        description = {
            "Train the paper's Table III settings (baseline λ=γ=φ=0; λ=0 γ=0 φ=1; λ=0.05 γ=0.05 φ=0; λ=0.05 γ=0.05 φ=1; λ=1 γ=0.05 φ=1) "
                    + "as run folders DIR/<row>, then write DIR/ablation.md and DIR/ablation.csv with the paper's numbers beside ours.",
            "Run it again with the same options to continue a killed ablation: finished rows are kept, a half-done row resumes."
        })
public final class AblateCommand implements Callable<Integer> {
    @Option(names = "--data", required = true, description = "Data set root, as distributed (see `train --help`).")
    Path data;

    @Option(
            names = "--layout",
            required = true,
            converter = EnumOption.Layouts.class,
            completionCandidates = EnumOption.Layouts.class,
            description =
                    "Layout of --data: ${COMPLETION-CANDIDATES} (cub, cars, dogs and aircraft have the paper's shipped specs).")
    Layout layout;

    @Option(
            names = "--depth",
            required = true,
            showDefaultValue = Visibility.NEVER,
            description = "ResNet depth: 18 (the paper's Table III) or 50.")
    int depth;

    @Option(
            names = "--pretrained",
            description =
                    "ImageNet weights to start every row from (a torchvision/timm model.safetensors or an ONNX file).")
    Path pretrained;

    @Option(
            names = "--out",
            required = true,
            description = "Ablation directory: one run folder per row, ablation.md, ablation.csv.")
    Path out;

    @Option(
            names = "--rows",
            description =
                    "Comma-separated subset of: baseline, grouping, entropy-distill, entropy-distill-grouping, sef (default: all, in Table III's order).")
    String rows;

    @Option(
            names = "--epochs",
            description = "Epochs per row (default: the spec's recipe, paper 50); fewer for a smoke run.")
    Integer epochs;

    @Option(
            names = "--max-batches-per-epoch",
            defaultValue = "0",
            description = "Stop each epoch after this many batches (0: all); for smoke runs.")
    int maxBatches;

    @Option(
            names = "--classes",
            description = "imagefolder/idx: number of classes K (the paper's data sets take it from their spec).")
    Integer classes;

    @Option(names = "--groups", description = "imagefolder/idx: channel groups G.")
    Integer groups;

    @Option(
            names = "--image-size",
            description = "Network input side in pixels (default: the spec's, 448 for the paper's data sets).")
    Integer imageSize;

    @Option(names = "--batch-size", description = "Batch size (default: the spec's recipe; paper 32).")
    Integer batchSize;

    @Option(
            names = "--seed",
            defaultValue = "42",
            description =
                    "Seed of the initial weights, shuffling, augmentation and the validation split (the same for every row).")
    long seed;

    @Option(
            names = "--force-rows",
            description =
                    "Keep finished or half-done rows trained with another --seed, --batch-size or --max-batches-per-epoch (refused otherwise); the table states each row's settings.")
    boolean forceRows;

    @Mixin
    ComputeOptions compute = new ComputeOptions();

    @Mixin
    ProtocolOptions protocol = new ProtocolOptions();

    @Override
    public Integer call() throws Exception {
        return OutOfMemory.guard(this::run, compute.workers);
    }

    private Integer run() throws Exception {
        ModelSpec spec = baseSpec(layout);
        TrainOptions.Builder b = TrainOptions.builder(spec, out)
                .data(layout, data)
                .seed(seed)
                .device(compute.device)
                .threads(compute.threads)
                .workers(compute.workers)
                .maxBatchesPerEpoch(maxBatches)
                .pretrained(pretrained);
        if (epochs != null) b.epochs(epochs);
        if (batchSize != null) b.batchSize(batchSize);
        TrainOptions template = b.build();
        new Ablation(template, protocol.resolve(), forceRows, System.out).run(Ablation.rows(rows));
        return 0;
    }

    /** The shipped {layout}-r{depth} spec for the paper's data sets; a custom one from --classes/--groups/--image-size otherwise. */
    private ModelSpec baseSpec(Layout l) {
        if (depth != 18 && depth != 50)
            throw new IllegalArgumentException("--depth must be 18 or 50 (the paper's backbones), got " + depth);
        String name = l.name().toLowerCase(Locale.ROOT);
        if (SplitCounts.official(l).isPresent()) {
            if (classes != null || groups != null) {
                throw new IllegalArgumentException("--classes/--groups: --layout " + name
                        + " takes K and G from the paper's spec " + name + "-r" + depth + "; drop them");
            }
            ModelSpec shipped = ShippedSpecs.byId(name + "-r" + depth);
            return imageSize == null ? shipped : shipped.withImageSize(imageSize);
        }
        if (classes == null || groups == null || imageSize == null) {
            throw new IllegalArgumentException(
                    "--layout " + name + " has no paper spec: give --classes, --groups and --image-size");
        }
        return ModelSpec.of(name + "-r" + depth, depth, classes, groups, imageSize);
    }
}
