package org.sefonnx.train.cli;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.sefonnx.contract.ArtifactLayout;
import org.sefonnx.contract.Precision;
import org.sefonnx.generator.ShippedSpecs;
import org.sefonnx.generator.model.ModelSpec;
import picocli.CommandLine.Option;

/** The command-line options that choose a model spec: a shipped one, a spec file, or a custom one; shared by `generate` and `train`. */
public final class SpecOptions {
    @Option(
            names = "--spec",
            description = "Shipped spec id (demo-r18, cub-r50, cars-r18, ...). The options below override its fields.")
    String specId;

    @Option(names = "--spec-file", description = "A " + ArtifactLayout.SPEC + " file to start from.")
    Path specFile;

    @Option(names = "--id", description = "Id of a custom spec (required with --depth/--classes/... and no --spec).")
    String id;

    @Option(names = "--depth", description = "ResNet depth: 18, 34 or 50.")
    Integer depth;

    @Option(names = "--classes", description = "Number of classes K.")
    Integer classes;

    @Option(names = "--groups", description = "Channel groups G.")
    Integer groups;

    @Option(names = "--image-size", description = "Network input side in pixels.")
    Integer imageSize;

    @Option(names = "--lambda", description = "Entropy-term weight λ (paper: 1).")
    Double lambda;

    @Option(names = "--gamma", description = "Distillation-term weight γ (paper: 0.05).")
    Double gamma;

    @Option(names = "--phi", description = "Grouping-loss weight φ (paper: 1).")
    Double phi;

    @Option(
            names = "--grouping-loss",
            converter = EnumOption.GroupingLosses.class,
            completionCandidates = EnumOption.GroupingLosses.class,
            description = "${COMPLETION-CANDIDATES}: the authors' code (default) or the paper's Frobenius form.")
    ModelSpec.GroupingLossForm groupingLoss;

    @Option(
            names = "--optimizer",
            converter = EnumOption.Optimizers.class,
            completionCandidates = EnumOption.Optimizers.class,
            description = "${COMPLETION-CANDIDATES} (default: sgd-momentum, the paper's).")
    ModelSpec.Optimizer optimizer;

    @Option(names = "--momentum", description = "SGD momentum μ (default 0.9).")
    Double momentum;

    @Option(names = "--weight-decay", description = "Weight decay (default 0).")
    Double weightDecay;

    @Option(
            names = "--precision",
            converter = EnumOption.Precisions.class,
            completionCandidates = EnumOption.Precisions.class,
            description =
                    "${COMPLETION-CANDIDATES}: fp32 (default), or fp16 mixed precision for CUDA (fp16 compute, float32 master weights, losses and checkpoint, dynamic loss scaling).")
    Precision precision;

    /** True when the user named any spec option. */
    public boolean given() {
        return specId != null
                || specFile != null
                || id != null
                || depth != null
                || classes != null
                || groups != null
                || imageSize != null
                || lambda != null
                || gamma != null
                || phi != null
                || groupingLoss != null
                || optimizer != null
                || momentum != null
                || weightDecay != null
                || precision != null;
    }

    /** The spec these options describe; {@code fallback} is the base when neither --spec, --spec-file nor --depth is given. */
    public ModelSpec resolve(ModelSpec fallback) throws IOException {
        ModelSpec base;
        if (specFile != null) base = ModelSpec.parse(Files.readString(specFile), specFile.toString());
        else if (specId != null) base = ShippedSpecs.byId(specId);
        else if (depth != null || classes != null || groups != null || imageSize != null) {
            if (id == null || depth == null || classes == null || groups == null || imageSize == null) {
                throw new IllegalArgumentException(
                        "a custom spec needs --id, --depth, --classes, --groups and --image-size (or start from --spec ID)");
            }
            base = ModelSpec.of(id, depth, classes, groups, imageSize);
        } else if (fallback != null) base = fallback;
        else
            throw new IllegalArgumentException(
                    "name a model: --spec ID, --spec-file FILE, or --id/--depth/--classes/--groups/--image-size");
        ModelSpec.Builder b = base.toBuilder();
        if (id != null) b.id(id);
        if (depth != null) b.depth(depth);
        if (classes != null) b.numClasses(classes);
        if (groups != null) b.groups(groups);
        if (imageSize != null) b.imageSize(imageSize);
        if (lambda != null) b.lambda(lambda);
        if (gamma != null) b.gamma(gamma);
        if (phi != null) b.phi(phi);
        if (groupingLoss != null) b.groupingLoss(groupingLoss);
        if (optimizer != null) b.optimizer(optimizer);
        if (momentum != null) b.momentum(momentum);
        if (weightDecay != null) b.weightDecay(weightDecay);
        if (precision != null) b.precision(precision);
        return b.build();
    }
}
