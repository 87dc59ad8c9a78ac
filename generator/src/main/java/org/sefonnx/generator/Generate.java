package org.sefonnx.generator;

import org.sefonnx.generator.artifacts.ArtifactWriter;
import org.sefonnx.generator.artifacts.TrainingArtifacts;
import org.sefonnx.generator.model.ModelSpec;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;

/** Writes one spec's training artifacts and initial checkpoint: a shipped spec by id, or a custom one. */
@Command(name = "generate", mixinStandardHelpOptions = true, showDefaultValues = true,
        description = "Generate the ONNX Runtime training artifacts (training/eval/optimizer models + initial checkpoint) of a SEF model.")
public final class Generate implements Callable<Integer> {
    @Option(names = "--spec", description = "Shipped spec id (demo-r18, cub-r50, cars-r18, ...). Other options override its fields.")
    String specId;
    @Option(names = "--spec-file", description = "A model.properties file to start from.")
    Path specFile;
    @Option(names = "--id", description = "Id of a custom spec (required without --spec/--spec-file).")
    String id;
    @Option(names = "--depth", description = "ResNet depth: 18, 34 or 50.")
    Integer depth;
    @Option(names = "--classes", description = "Number of classes K.")
    Integer classes;
    @Option(names = "--groups", description = "Channel groups G.")
    Integer groups;
    @Option(names = "--image-size", description = "Input side in pixels.")
    Integer imageSize;
    @Option(names = "--lambda", description = "Entropy-term weight λ.")
    Double lambda;
    @Option(names = "--gamma", description = "Distillation-term weight γ.")
    Double gamma;
    @Option(names = "--phi", description = "Grouping-loss weight φ.")
    Double phi;
    @Option(names = "--grouping-loss", description = "code (the authors' code) or paper.")
    String groupingLoss;
    @Option(names = "--optimizer", description = "sgd-momentum or adamw.")
    String optimizer;
    @Option(names = "--momentum", description = "SGD momentum μ.")
    Double momentum;
    @Option(names = "--weight-decay", description = "Weight decay.")
    Double weightDecay;
    @Option(names = "--seed", defaultValue = "42", description = "Seed of the initial weights.")
    long seed;
    @Option(names = "--no-checkpoint", description = "Write only the models, not the initial checkpoint.")
    boolean noCheckpoint;
    @Option(names = "--out", required = true, description = "Output directory.")
    Path out;

    @Override
    public Integer call() throws Exception {
        ModelSpec spec = resolve();
        long t0 = System.nanoTime();
        TrainingArtifacts.Models m = ArtifactWriter.generate(spec, out, noCheckpoint ? null : seed);
        double seconds = (System.nanoTime() - t0) / 1e9;
        System.out.printf(Locale.ROOT, "%s: ResNet-%d, K=%d, G=%d, %d px; %d trainable parameters; training graph %d nodes; written to %s in %.1f s%n",
                spec.id(), spec.depth(), spec.numClasses(), spec.groups(), spec.imageSize(),
                m.trainable().stream().mapToLong(t -> t.numel()).sum(), m.trainingNodeCount(), out, seconds);
        return 0;
    }

    ModelSpec resolve() throws java.io.IOException {
        ModelSpec base;
        if (specFile != null) base = ModelSpec.parse(Files.readString(specFile), specFile.toString());
        else if (specId != null) base = ShippedSpecs.byId(specId);
        else {
            if (id == null || depth == null || classes == null || groups == null || imageSize == null) {
                throw new CommandLine.ParameterException(new CommandLine(this),
                        "a custom spec needs --id, --depth, --classes, --groups and --image-size (or use --spec ID)");
            }
            base = ModelSpec.of(id, depth, classes, groups, imageSize);
        }
        var m = new java.util.LinkedHashMap<>(base.asMap());
        if (id != null) m.put("id", id);
        if (depth != null) m.put("depth", depth.toString());
        if (classes != null) m.put("numClasses", classes.toString());
        if (groups != null) m.put("groups", groups.toString());
        if (imageSize != null) m.put("imageSize", imageSize.toString());
        if (lambda != null) m.put("lambda", lambda.toString());
        if (gamma != null) m.put("gamma", gamma.toString());
        if (phi != null) m.put("phi", phi.toString());
        if (groupingLoss != null) m.put("groupingLoss", groupingLoss);
        if (optimizer != null) m.put("optimizer", optimizer);
        if (momentum != null) m.put("momentum", momentum.toString());
        if (weightDecay != null) m.put("weightDecay", weightDecay.toString());
        StringBuilder sb = new StringBuilder();
        m.forEach((k, v) -> sb.append(k).append('=').append(v).append('\n'));
        return ModelSpec.parse(sb.toString(), "command line");
    }

    public static void main(String[] args) {
        System.exit(new CommandLine(new Generate()).execute(args));
    }
}
