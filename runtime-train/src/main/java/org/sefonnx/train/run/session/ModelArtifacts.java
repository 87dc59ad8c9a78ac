package org.sefonnx.train.run.session;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.sefonnx.contract.ArtifactLayout;
import org.sefonnx.contract.AtomicFiles;
import org.sefonnx.contract.ModelDescriptor;
import org.sefonnx.contract.Precision;
import org.sefonnx.generator.artifacts.ArtifactWriter;
import org.sefonnx.generator.artifacts.TrainingArtifacts;
import org.sefonnx.generator.artifacts.TrainingTarget;
import org.sefonnx.generator.model.ModelSpec;

/**
 * Puts a spec's models (a training model per {@link TrainingTarget}, the eval and optimizer models) into a run's
 * artifact directory: from the graphs jar, or generated.
 */
public final class ModelArtifacts {
    private ModelArtifacts() {}

    /** Returns how the models were obtained, for the run log. */
    public static String materialize(ModelSpec spec, ModelDescriptor d, Path dir) throws IOException {
        if (SpecDescriptor.isShipped(d)) {
            String resources = ArtifactLayout.resourceDirectory(d.modelId());
            List<String> files = new ArrayList<>();
            for (TrainingTarget target : TrainingTarget.values()) files.add(target.modelFile());
            files.add(ArtifactLayout.EVAL_MODEL);
            files.add(ArtifactLayout.OPTIMIZER_MODEL);
            for (String file : files) {
                try (InputStream in = ModelArtifacts.class.getClassLoader().getResourceAsStream(resources + file)) {
                    if (in == null) throw new IllegalStateException("graphs jar lacks " + resources + file);
                    AtomicFiles.write(dir.resolve(file), in.readAllBytes());
                }
            }
            AtomicFiles.writeString(dir.resolve(ArtifactLayout.SPEC), spec.toProperties());
            return "shipped graphs of " + d.modelId() + " (graphs jar)";
        }
        long t0 = System.nanoTime();
        ArtifactWriter.writeModels(TrainingArtifacts.build(spec), dir);
        return String.format(
                "generated graphs for custom spec %s in %.1f s", spec.id(), (System.nanoTime() - t0) / 1e9);
    }

    /** Sub-directory of a mixed-precision run's artifacts holding the float32 models of the same spec. */
    public static final String FLOAT32_TWIN_DIR = "float32";

    /**
     * The float32 models of {@code spec} under {@code artifacts/float32} (generated once): a mixed-precision
     * checkpoint holds exactly the float32 spec's tensors, so CPU sessions that only read the weights (the inference
     * export) open it with these, where the fp16 training graph has no CPU kernels.
     */
    public static Path float32Twin(ModelSpec spec, Path artifacts) throws IOException {
        Path dir = artifacts.resolve(FLOAT32_TWIN_DIR);
        if (!java.nio.file.Files.exists(dir.resolve(TrainingTarget.CUDA.modelFile()))) {
            java.nio.file.Files.createDirectories(dir);
            ArtifactWriter.writeModels(TrainingArtifacts.build(spec.withPrecision(Precision.FP32)), dir);
        }
        return dir;
    }
}
