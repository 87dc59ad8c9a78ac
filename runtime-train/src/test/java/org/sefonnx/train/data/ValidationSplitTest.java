package org.sefonnx.train.data;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

class ValidationSplitTest {
    /** 3 classes of 10, 7 and 1 training images. */
    private static List<Sample> train() {
        List<Sample> out = new ArrayList<>();
        int[] perClass = {10, 7, 1};
        for (int c = 0; c < perClass.length; c++) {
            for (int i = 0; i < perClass[c]; i++)
                out.add(new Sample(new ImageSource.File(Path.of("class" + c, i + ".jpg")), c));
        }
        return out;
    }

    @Test
    void theSameSeedGivesTheSameClassStratifiedSplit() {
        List<Sample> a = ValidationSplit.stratified(train(), 3, 0.2, 42),
                b = ValidationSplit.stratified(train(), 3, 0.2, 42);
        assertEquals(a, b);
        // round(0.2 · 10) = 2, round(0.2 · 7) = 1, and a class of one image keeps it for training
        assertEquals(List.of(2L, 1L, 0L), List.of(count(a, 0), count(a, 1), count(a, 2)));
        assertNotEquals(a, ValidationSplit.stratified(train(), 3, 0.2, 43), "another seed picks other images");
    }

    @Test
    void validationImagesLeaveTheTrainingSplit() {
        List<Sample> all = train();
        List<Sample> val = ValidationSplit.stratified(all, 3, 0.5, 7);
        CheckedData checked = new CheckedData(dataset(all), all, List.of(), Map.of());
        List<Sample> rest = ValidationSplit.withoutValidation(checked, val).train();
        Set<Sample> overlap = new HashSet<>(rest);
        overlap.retainAll(val);
        assertEquals(Set.of(), overlap);
        assertEquals(all.size(), rest.size() + val.size());
        assertEquals(5 + 4, val.size(), "round(0.5 · 10) + round(0.5 · 7), Java's half-up rounding");
    }

    @Test
    void aFractionThatHoldsOutNothingIsRefused() {
        var e = assertThrows(
                IllegalArgumentException.class, () -> ValidationSplit.stratified(train().subList(17, 18), 3, 0.1, 1));
        assertTrue(e.getMessage().contains("--val-fraction 0.1 holds out no image"), e.getMessage());
    }

    @Test
    void theFractionActuallyHeldOutIsStatedAndAMaterialChangeIsSaid() {
        // 2 images a class at 0.99: round(1.98) = 2, but one stays for training, so 1 of 2 is held out
        List<Sample> two = new ArrayList<>();
        for (int c = 0; c < 3; c++)
            for (int i = 0; i < 2; i++) two.add(new Sample(new ImageSource.File(Path.of("c" + c, i + ".jpg")), c));
        List<Sample> val = ValidationSplit.stratified(two, 3, 0.99, 42);
        assertEquals(3, val.size());
        assertEquals("3 of 6 training images held out for validation (0.500)", ValidationSplit.heldOut(val.size(), 6));
        assertEquals(
                java.util.Optional.of("not --val-fraction 0.99: each class holds out round(0.99 × its images) and keeps"
                        + " one at least for training"),
                ValidationSplit.fractionChanged(val.size(), 6, 0.99));
        // CUB's ~30 images a class at 0.1 hold out 3 of 30: no warning; the official list has no fraction to compare
        assertEquals(java.util.Optional.empty(), ValidationSplit.fractionChanged(599, 5994, 0.1));
        assertEquals(java.util.Optional.empty(), ValidationSplit.fractionChanged(600, 6667, Double.NaN));
    }

    private static long count(List<Sample> samples, int classIndex) {
        return samples.stream().filter(s -> s.classIndex() == classIndex).count();
    }

    private static Dataset dataset(List<Sample> train) {
        return new Dataset() {
            @Override
            public List<Sample> train() {
                return train;
            }

            @Override
            public List<Sample> test() {
                return List.of();
            }

            @Override
            public List<String> classNames() {
                return List.of("a", "b", "c");
            }

            @Override
            public String description() {
                return "synthetic";
            }
        };
    }
}
