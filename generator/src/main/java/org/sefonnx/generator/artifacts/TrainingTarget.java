package org.sefonnx.generator.artifacts;

import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import org.sefonnx.contract.ArtifactLayout;
import org.sefonnx.generator.onnx.Graph;
import org.sefonnx.generator.passes.BatchLastLayout;
import org.sefonnx.generator.passes.GraphPass;
import org.sefonnx.generator.passes.LowerSmallConvolutions;
import org.sefonnx.generator.passes.MomentumIntoGemm;

/**
 * A device the generator builds a training graph for: its file in the artifact directory and the graph passes that
 * turn the plain NCHW model into the graph that device runs well. Every target's graph takes and returns the same
 * names and reads and writes the same checkpoint tensors; they differ in which ONNX Runtime kernels do the work
 * (docs/ort-training.md, "One model, a training graph per target").
 */
public enum TrainingTarget {
    /** CUDA sessions: ONNX Conv forward and com.microsoft ConvGrad backward, cuDNN's kernels; no pass. */
    CUDA(ArtifactLayout.CUDA_TRAINING_MODEL),
    /** CPU sessions: small-map convolutions as whole-batch matrix products, batch-last between them. */
    CPU(ArtifactLayout.CPU_TRAINING_MODEL);

    /** A pass and the targets it applies to. */
    private record Tagged(GraphPass pass, Set<TrainingTarget> targets) {}

    /**
     * Every pass, in the order they run, each tagged with the targets it applies to, as ONNX Runtime's
     * GenerateTransformers (core/optimizer/graph_transformer_utils.cc) tags each transformer with its execution
     * providers. The CPU's: lowering before autodiff, so that the lowered convolutions' own backward is used; the
     * layout after, so that it covers the backward too; the momentum fold last, on the optimizer's wiring.
     */
    private static final List<Tagged> PASSES = List.of(
            new Tagged(new LowerSmallConvolutions(), EnumSet.of(CPU)),
            new Tagged(new BatchLastLayout(), EnumSet.of(CPU)),
            new Tagged(new MomentumIntoGemm(), EnumSet.of(CPU)));

    private final String modelFile;

    TrainingTarget(String modelFile) {
        this.modelFile = modelFile;
    }

    /** The training model's file name in an artifact directory. */
    public String modelFile() {
        return modelFile;
    }

    /** The target's name as the session log and the generation report spell it: cuda, cpu. */
    public String label() {
        return name().toLowerCase(java.util.Locale.ROOT);
    }

    /** The passes of this target that run in {@code phase}, in order. */
    public List<GraphPass> passes(GraphPass.Phase phase) {
        return PASSES.stream()
                .filter(t -> t.targets().contains(this) && t.pass().phase() == phase)
                .map(Tagged::pass)
                .toList();
    }

    /** Runs this target's passes of {@code phase} on {@code graph}. */
    public void apply(GraphPass.Phase phase, Graph graph) {
        for (GraphPass p : passes(phase)) p.apply(graph);
    }
}
