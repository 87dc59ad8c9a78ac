package org.sefonnx.train.cli;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import org.sefonnx.contract.ArtifactLayout;
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

    @Option(names = "--grouping-loss", description = "code (the authors' code, default) or paper.")
    String groupingLoss;

    @Option(names = "--optimizer", description = "sgd-momentum (default, the paper's) or adamw.")
    String optimizer;

    @Option(names = "--momentum", description = "SGD momentum μ (default 0.9).")
    Double momentum;

    @Option(names = "--weight-decay", description = "Weight decay (default 0).")
    Double weightDecay;

    @Option(
            names = "--precision",
            description =
                    "fp32 (default) or fp16: mixed precision for CUDA (fp16 compute, float32 master weights, losses and checkpoint, dynamic loss scaling).")
    String precision;

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
        requireOneOf("--grouping-loss", groupingLoss, "code", "paper");
        requireOneOf("--optimizer", optimizer, "sgd-momentum", "adamw");
        Map<String, String> m = new LinkedHashMap<>(base.asMap());
        put(m, "id", id);
        put(m, "depth", depth);
        put(m, "numClasses", classes);
        put(m, "groups", groups);
        put(m, "imageSize", imageSize);
        put(m, "lambda", lambda);
        put(m, "gamma", gamma);
        put(m, "phi", phi);
        put(m, "groupingLoss", groupingLoss);
        put(m, "optimizer", optimizer);
        put(m, "momentum", momentum);
        put(m, "weightDecay", weightDecay);
        put(m, "precision", precision);
        StringBuilder sb = new StringBuilder();
        m.forEach((k, v) -> sb.append(k).append('=').append(v).append('\n'));
        return ModelSpec.parse(sb.toString(), "command line");
    }

    /** An enum option's value, refused with the valid values listed (ModelSpec.parse would only say "No enum constant"). */
    private static void requireOneOf(String option, String value, String... valid) {
        if (value == null) return;
        for (String v : valid) if (v.equalsIgnoreCase(value.replace('_', '-'))) return;
        throw new IllegalArgumentException(
                option + " must be one of " + String.join(", ", valid) + "; got '" + value + "'");
    }

    private static void put(Map<String, String> m, String key, Object value) {
        if (value != null) m.put(key, value.toString());
    }
}
