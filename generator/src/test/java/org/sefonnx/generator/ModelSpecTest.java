package org.sefonnx.generator;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import org.sefonnx.generator.model.ModelSpec;

class ModelSpecTest {
    @Test
    void groupsSplitChannelsContiguouslyWithTheRemainderInTheLastGroup() {
        assertArrayEquals(
                new int[] {1024, 1024}, ModelSpec.of("a", 50, 10, 2, 448).groupChannels());
        assertArrayEquals(
                new int[] {682, 682, 684}, ModelSpec.of("a", 50, 10, 3, 448).groupChannels());
        assertArrayEquals(
                new int[] {512, 512, 512, 512},
                ModelSpec.of("a", 50, 10, 4, 448).groupChannels());
        assertArrayEquals(
                new int[] {0, 682, 1364}, ModelSpec.of("a", 50, 10, 3, 448).groupStarts());
        assertArrayEquals(
                new int[] {170, 170, 172}, ModelSpec.of("a", 18, 10, 3, 448).groupChannels());
    }

    @Test
    void featureMapIsTheInputDownsampledBy32() {
        assertEquals(14, ModelSpec.of("a", 50, 10, 2, 448).featureMapSize());
        assertEquals(7, ModelSpec.of("a", 18, 10, 2, 224).featureMapSize());
        assertEquals(1, ModelSpec.of("a", 18, 10, 2, 32).featureMapSize());
        assertEquals(2, ModelSpec.of("a", 18, 10, 2, 64).featureMapSize());
    }

    @Test
    void propertiesRoundTrip() {
        ModelSpec s = ModelSpec.of("pets-r50", 50, 37, 3, 448)
                .withLosses(0.5, 0.1, 2, ModelSpec.GroupingLossForm.PAPER)
                .withOptimizer(ModelSpec.Optimizer.ADAMW, 0.9, 0.01)
                .withRecipe(0.001, 10, 30, 16);
        assertEquals(s, ModelSpec.parse(s.toProperties(), "test"));
    }

    @Test
    void badSpecsFailNamingTheFieldAndExpectation() {
        var e = assertThrows(IllegalArgumentException.class, () -> ModelSpec.of("a", 101, 10, 2, 448));
        assertTrue(e.getMessage().contains("depth must be 18, 34 or 50"), e.getMessage());
        e = assertThrows(
                IllegalArgumentException.class,
                () -> ModelSpec.parse("id=x\ndepth=18\nnumClasses=ten\ngroups=2\nimageSize=64\n", "spec.properties"));
        assertTrue(e.getMessage().contains("spec.properties") && e.getMessage().contains("numClasses"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> ModelSpec.parse("id=x\ndepth=18\n", "spec.properties"));
        assertTrue(e.getMessage().contains("missing spec fields [numClasses, groups, imageSize]"), e.getMessage());
    }

    @Test
    void shippedSpecsCarryThePapersClassesAndGroups() {
        assertEquals(200, ShippedSpecs.byId("cub-r50").numClasses());
        assertEquals(4, ShippedSpecs.byId("cub-r50").groups());
        assertEquals(196, ShippedSpecs.byId("cars-r18").numClasses());
        assertEquals(2, ShippedSpecs.byId("cars-r18").groups());
        assertEquals(120, ShippedSpecs.byId("dogs-r50").numClasses());
        assertEquals(0.001, ShippedSpecs.byId("dogs-r50").learningRate());
        assertEquals(100, ShippedSpecs.byId("aircraft-r50").numClasses());
        assertEquals(3, ShippedSpecs.byId("aircraft-r50").groups());
    }
}
