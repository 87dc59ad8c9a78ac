package org.sefonnx.generator;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import org.sefonnx.contract.Precision;
import org.sefonnx.generator.artifacts.TrainingArtifacts;
import org.sefonnx.generator.codegen.ModelClassEmitter;
import org.sefonnx.generator.model.ModelSpec;

/** The typed model class: the contract's interface by class, its steps by the contract's factories, constants immutable. */
class ModelClassEmitterTest {
    static String emit(ModelSpec spec) {
        return new ModelClassEmitter("org.sefonnx.graphs")
                .emit(TrainingArtifacts.build(spec))
                .toString();
    }

    @Test
    void halfPrecisionClassTakesTheLossScalingTrainStep() {
        String source = emit(ShippedSpecs.demo().withPrecision(Precision.FP16).withId("demo-r18-fp16"));
        assertTrue(source.contains("public static final Precision PRECISION = Precision.FP16;"), source);
        assertTrue(
                source.contains("public static final StepSignature TRAIN_STEP = StepSignature.trainStep(true);"),
                source);
        assertTrue(source.contains("precision=fp16"), "the spec text in the Javadoc");
    }

    @Test
    void float32ClassImplementsTheContractAndSpellsNoTensorName() {
        String source = emit(ShippedSpecs.demo());
        assertTrue(source.contains("import org.sefonnx.contract.ModelDescriptor;"), source);
        assertTrue(source.contains("public final class DemoR18Model implements ModelDescriptor {"), source);
        assertTrue(source.contains("@Generated("), source);
        assertTrue(source.contains("public static final Precision PRECISION = Precision.FP32;"), source);
        assertTrue(
                source.contains("public static final StepSignature TRAIN_STEP = StepSignature.trainStep(false);"),
                source);
        assertTrue(source.contains("public static final StepSignature EVAL_STEP = StepSignature.evalStep();"), source);
        for (String name : new String[] {
            "\"images\"", "\"labels\"", "\"loss\"", "\"logits\"", "\"loss_scale\"", "\"gradients_finite\""
        }) {
            assertFalse(source.contains(name), name + " spelled in the generated class");
        }
    }

    @Test
    void constantsAreImmutableListsWithUnitsInTheirNames() {
        String source = emit(ShippedSpecs.demo());
        assertFalse(source.contains("long[]"), "no mutable array constants");
        assertTrue(
                source.contains("public static final List<Long> IMAGES_SHAPE = List.of(-1L, 3L, 48L, 48L);"), source);
        assertTrue(source.contains("public static final List<Integer> GROUP_CHANNELS = List.of(256, 256);"), source);
        assertTrue(source.contains("public static final int FEATURE_MAP_SIDE_CELLS = 2;"), source);
        assertFalse(source.contains("FEATURE_MAP_SIZE_PX"), source);
    }
}
