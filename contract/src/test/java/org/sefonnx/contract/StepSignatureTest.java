package org.sefonnx.contract;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class StepSignatureTest {
    @Test
    void trainStepTakesTheLossScaleAndReturnsTheFiniteFlagOnlyWithLossScaling() {
        assertEquals(List.of("images", "labels"), StepSignature.trainStep(false).inputs());
        assertEquals(
                List.of("loss", "cross_entropy", "entropy", "distillation", "grouping"),
                StepSignature.trainStep(false).outputs());
        StepSignature half = StepSignature.trainStep(true);
        assertEquals(List.of("images", "labels", "loss_scale"), half.inputs());
        assertEquals(5, half.outputIndex(TensorNames.GRADIENTS_FINITE));
        assertEquals(
                List.of(
                        "loss",
                        "cross_entropy",
                        "entropy",
                        "distillation",
                        "grouping",
                        "logits",
                        "probabilities",
                        "group_logits",
                        "group_block_sums",
                        "feature_map"),
                StepSignature.evalStep().outputs());
    }

    @Test
    void inputsAreArrangedByNameInGraphOrder() {
        StepSignature half = StepSignature.trainStep(true);
        assertEquals(
                List.of(1, 2, 3),
                half.arrangeInputs(Map.of(TensorNames.LOSS_SCALE, 3, TensorNames.IMAGES, 1, TensorNames.LABELS, 2)));
        IllegalArgumentException e = assertThrows(
                IllegalArgumentException.class,
                () -> half.arrangeInputs(Map.of(TensorNames.IMAGES, 1, TensorNames.LABELS, 2)));
        assertEquals("TrainStep needs input 'loss_scale'; its inputs are [images, labels, loss_scale]", e.getMessage());
        e = assertThrows(
                IllegalArgumentException.class,
                () -> StepSignature.trainStep(false)
                        .arrangeInputs(
                                Map.of(TensorNames.IMAGES, 1, TensorNames.LABELS, 2, TensorNames.LOSS_SCALE, 3)));
        assertEquals("TrainStep takes no input [loss_scale]; its inputs are [images, labels]", e.getMessage());
    }

    @Test
    void anOutputTheStepDoesNotReturnFailsListingTheOnesItDoes() {
        IllegalArgumentException e = assertThrows(
                IllegalArgumentException.class,
                () -> StepSignature.trainStep(false).outputIndex(TensorNames.GRADIENTS_FINITE));
        assertEquals(
                "TrainStep has no output 'gradients_finite'; its outputs are [loss, cross_entropy, entropy, distillation, grouping]",
                e.getMessage());
    }

    @Test
    void aSessionWithOtherNamesOrAnotherOrderIsRefused() {
        StepSignature eval = StepSignature.evalStep();
        eval.requireMatches(List.of("images", "labels"), eval.outputs(), "eval_model.onnx");
        IllegalStateException e = assertThrows(
                IllegalStateException.class,
                () -> eval.requireMatches(List.of("labels", "images"), eval.outputs(), "eval_model.onnx"));
        assertEquals(
                true,
                e.getMessage().startsWith("eval_model.onnx: EvalStep takes [labels, images] and returns"),
                e.getMessage());
        assertThrows(
                IllegalStateException.class,
                () -> eval.requireMatches(List.of("images", "labels"), List.of("logits"), "x"));
        assertThrows(IllegalArgumentException.class, () -> new StepSignature("S", List.of("a", "a"), List.of()));
    }
}
