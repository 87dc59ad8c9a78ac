package org.sefonnx.generator.artifacts;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import org.junit.jupiter.api.Test;
import org.sefonnx.contract.ArtifactLayout;
import org.sefonnx.generator.passes.GraphPass;

class TrainingTargetTest {
    private static List<String> names(TrainingTarget t, GraphPass.Phase phase) {
        return t.passes(phase).stream().map(GraphPass::name).toList();
    }

    @Test
    void eachTargetNamesItsFileAndRunsItsPassesInOrder() {
        assertEquals(ArtifactLayout.CUDA_TRAINING_MODEL, TrainingTarget.CUDA.modelFile());
        assertEquals(ArtifactLayout.CPU_TRAINING_MODEL, TrainingTarget.CPU.modelFile());
        assertEquals(List.of(), names(TrainingTarget.CUDA, GraphPass.Phase.FORWARD));
        assertEquals(List.of(), names(TrainingTarget.CUDA, GraphPass.Phase.TRAINING));
        assertEquals(List.of("lower-small-convolutions"), names(TrainingTarget.CPU, GraphPass.Phase.FORWARD));
        assertEquals(
                List.of("batch-last-layout", "momentum-into-weight-gradient-gemm"),
                names(TrainingTarget.CPU, GraphPass.Phase.TRAINING));
    }
}
