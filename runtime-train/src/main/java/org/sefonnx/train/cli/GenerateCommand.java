package org.sefonnx.train.cli;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.stream.Collectors;
import org.sefonnx.contract.ArtifactLayout;
import org.sefonnx.generator.artifacts.ArtifactWriter;
import org.sefonnx.generator.artifacts.Checkpoint;
import org.sefonnx.generator.artifacts.CheckpointWriter;
import org.sefonnx.generator.artifacts.TrainingArtifacts;
import org.sefonnx.generator.artifacts.TrainingTarget;
import org.sefonnx.generator.model.ModelSpec;
import org.sefonnx.generator.weights.PretrainedImport;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** `sef-onnx generate`: one spec's training artifacts and initial checkpoint, a shipped spec by id or a custom one. */
@Command(
        name = "generate",
        mixinStandardHelpOptions = true,
        showDefaultValues = true,
        description =
                "Generate the ONNX Runtime training artifacts (training/eval/optimizer models + initial checkpoint) of a SEF model.")
public final class GenerateCommand implements Callable<Integer> {
    @CommandLine.Mixin
    SpecOptions specOptions = new SpecOptions();

    @Option(names = "--seed", defaultValue = "42", description = "Seed of the initial weights.")
    long seed;

    @Option(names = "--no-checkpoint", description = "Write only the models, not the initial checkpoint.")
    boolean noCheckpoint;

    @Option(
            names = "--pretrained",
            paramLabel = "FILE",
            description = "Start the backbone and BatchNorm statistics from ImageNet-pretrained "
                    + "torchvision weights: a model.safetensors (e.g. timm's resnet50.tv_in1k) or an ONNX export, under torchvision's names. "
                    + "The heads still start from --seed.")
    Path pretrained;

    @Option(names = "--out", required = true, description = "Output directory.")
    Path out;

    @Override
    public Integer call() throws Exception {
        ModelSpec spec = specOptions.resolve(null);
        long t0 = System.nanoTime();
        if (pretrained != null && noCheckpoint)
            throw new IllegalArgumentException("--pretrained fills the initial checkpoint; drop --no-checkpoint");
        Checkpoint imported = null;
        if (pretrained != null) {
            try {
                imported = PretrainedImport.initialCheckpoint(
                        spec, seed, pretrained); // refuses before anything is written
            } catch (IllegalArgumentException e) {
                System.err.println("generate: " + e.getMessage());
                return 2;
            }
        }
        TrainingArtifacts.Models m = ArtifactWriter.generate(spec, out, noCheckpoint || imported != null ? null : seed);
        if (imported != null) CheckpointWriter.write(imported, out.resolve(ArtifactLayout.CHECKPOINT));
        double seconds = (System.nanoTime() - t0) / 1e9;
        System.out.printf(
                Locale.ROOT,
                "%s: ResNet-%d, K=%d, G=%d, %d px; %d trainable parameters; training graphs %s; written to %s in %.1f s%n",
                spec.id(),
                spec.depth(),
                spec.numClasses(),
                spec.groups(),
                spec.imageSize(),
                m.trainable().stream().mapToLong(t -> t.numel()).sum(),
                Arrays.stream(TrainingTarget.values())
                        .map(t -> t.label() + " " + m.trainingNodeCount(t) + " nodes")
                        .collect(Collectors.joining(", ")),
                out,
                seconds);
        if (imported != null) {
            System.out.printf(
                    Locale.ROOT,
                    "backbone and BatchNorm statistics from %s (sha256 %s); heads from seed %d%n",
                    pretrained,
                    imported.stringProperties().get(PretrainedImport.PROP_PRETRAINED_SHA256),
                    seed);
        }
        return 0;
    }
}
