package org.sefonnx.generator;

import org.junit.jupiter.api.Test;
import org.sefonnx.generator.artifacts.TrainingArtifacts;
import org.sefonnx.generator.codegen.ModelClassEmitter;
import org.sefonnx.generator.model.ModelSpec;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The typed model class carries the spec's precision and, for fp16, the loss-scaling input and the finite flag. */
class ModelClassEmitterTest {
    static String emit(ModelSpec spec) {
        return new ModelClassEmitter("org.sefonnx.graphs").emit(TrainingArtifacts.build(spec)).toString();
    }

    @Test
    void halfPrecisionClassNamesTheLossScaleInputAndTheFiniteFlagOutput() {
        String source = emit(ShippedSpecs.demo().withPrecision(ModelSpec.Precision.FP16).withId("demo-r18-fp16"));
        assertTrue(source.contains("public static final String PRECISION = \"fp16\";"), source);
        assertTrue(source.contains("public static final String INPUT_LOSS_SCALE = \"loss_scale\";"), source);
        assertTrue(source.contains("public static final String OUTPUT_GRADIENTS_FINITE = \"gradients_finite\";"), source);
        assertTrue(source.replaceAll("\\s+", " ").contains("\"grouping\", \"gradients_finite\");"), "TRAIN_OUTPUTS ends with the flag");
        assertTrue(source.contains("precision=fp16"), "the spec text in the Javadoc");
    }

    @Test
    void float32ClassHasNoLossScalingNames() {
        String source = emit(ShippedSpecs.demo());
        assertTrue(source.contains("public static final String PRECISION = \"fp32\";"), source);
        assertFalse(source.contains("loss_scale"), source);
        assertFalse(source.contains("gradients_finite"), source);
    }
}
