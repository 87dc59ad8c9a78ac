package org.sefonnx.generator.artifacts;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.sefonnx.contract.ArtifactLayout;
import org.sefonnx.contract.AtomicFiles;
import org.sefonnx.contract.Precision;
import org.sefonnx.generator.model.CheckpointTensor;
import org.sefonnx.generator.model.ModelSpec;

/** Writes one spec's artifact directory ({@link ArtifactLayout}): the models, the spec, and (on demand) an initial checkpoint. */
public final class ArtifactWriter {
    /** Checkpoint property: the spec's id. */
    public static final String PROP_MODEL_ID = "model_id";
    /** Checkpoint property: the spec as {@code key=value} lines. */
    public static final String PROP_SPEC = "spec";
    /** Checkpoint property: K. */
    public static final String PROP_NUM_CLASSES = "num_classes";
    /** Checkpoint property: G. */
    public static final String PROP_GROUPS = "groups";
    /** Checkpoint property: the seed the initial values were drawn from. */
    public static final String PROP_INIT_SEED = "init_seed";
    /** Checkpoint property: the precision, for mixed-precision specs only (float32 checkpoints stay as they were). */
    public static final String PROP_PRECISION = "precision";

    private ArtifactWriter() {}

    /** Writes every target's training model, the eval and optimizer models and the spec into {@code dir}. */
    public static void writeModels(TrainingArtifacts.Models m, Path dir) throws IOException {
        for (TrainingTarget target : TrainingTarget.values())
            AtomicFiles.write(
                    dir.resolve(target.modelFile()), m.training(target).toByteArray());
        AtomicFiles.write(dir.resolve(ArtifactLayout.EVAL_MODEL), m.eval().toByteArray());
        AtomicFiles.write(
                dir.resolve(ArtifactLayout.OPTIMIZER_MODEL), m.optimizer().toByteArray());
        AtomicFiles.writeString(dir.resolve(ArtifactLayout.SPEC), m.spec().toProperties());
    }

    /** The initial checkpoint of a spec: PyTorch-default initial values drawn from {@code seed}. */
    public static Checkpoint initialCheckpoint(ModelSpec spec, long seed) {
        List<Checkpoint.Tensor> trainable = new ArrayList<>(), frozen = new ArrayList<>();
        for (CheckpointTensor t : TrainingArtifacts.checkpointTensors(spec)) {
            Checkpoint.Tensor ct = new Checkpoint.Tensor(t.name(), t.shape(), InitialWeights.values(t, seed));
            (t.trainable() ? trainable : frozen).add(ct);
        }
        Map<String, Long> ints = new LinkedHashMap<>();
        ints.put(PROP_NUM_CLASSES, (long) spec.numClasses());
        ints.put(PROP_GROUPS, (long) spec.groups());
        ints.put(PROP_INIT_SEED, seed);
        Map<String, String> strings = new LinkedHashMap<>();
        strings.put(PROP_MODEL_ID, spec.id());
        strings.put(PROP_SPEC, spec.toProperties());
        if (spec.precision() != Precision.FP32)
            strings.put(PROP_PRECISION, spec.precision().label());
        return new Checkpoint(trainable, frozen, ints, Map.of(), strings);
    }

    /** Writes {@link #initialCheckpoint} into {@code dir}. */
    public static void writeInitialCheckpoint(ModelSpec spec, long seed, Path dir) throws IOException {
        CheckpointWriter.write(initialCheckpoint(spec, seed), dir.resolve(ArtifactLayout.CHECKPOINT));
    }

    /** Builds and writes everything for a spec (what `sef-onnx generate` does). */
    public static TrainingArtifacts.Models generate(ModelSpec spec, Path dir, Long checkpointSeed) throws IOException {
        TrainingArtifacts.Models m = TrainingArtifacts.build(spec);
        writeModels(m, dir);
        if (checkpointSeed != null) writeInitialCheckpoint(spec, checkpointSeed, dir);
        return m;
    }
}
