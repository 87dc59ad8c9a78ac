package org.sefonnx.train.data;

import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.Random;
import java.util.Set;

/**
 * The validation images a run holds out of its training split: a seeded class-stratified fraction (the official list
 * comes from {@link Datasets#officialValidation}), the training split without them, and how much was held out in
 * words. A run lists the images in {@value #FILE} in its folder, so the split can be inspected and a resume proves it
 * unchanged.
 */
public final class ValidationSplit {
    /** The file a run lists its validation images in, one {@code <class index> TAB <image>} line each. */
    public static final String FILE = "validation.txt";
    /** Relative change of the fraction held out from the one asked that the log warns about. */
    public static final double MATERIAL_FRACTION_CHANGE = 0.1;

    private ValidationSplit() {}

    /**
     * round(fraction · n) images of each class's n training images, at least one training image left per class, chosen by
     * a shuffle seeded with {@code seed} alone: the same data set and seed give the same split on every machine.
     */
    public static List<Sample> stratified(List<Sample> train, int classes, double fraction, long seed) {
        List<List<Integer>> byClass = new ArrayList<>();
        for (int c = 0; c < classes; c++) byClass.add(new ArrayList<>());
        for (int i = 0; i < train.size(); i++)
            byClass.get(train.get(i).classIndex()).add(i);
        Random random = new Random(seed);
        Set<Integer> held = new HashSet<>();
        for (List<Integer> members : byClass) {
            Collections.shuffle(members, random);
            int n = (int) Math.min(Math.round(fraction * members.size()), Math.max(0, members.size() - 1));
            held.addAll(members.subList(0, n));
        }
        if (held.isEmpty()) {
            throw new IllegalArgumentException(String.format(
                    Locale.ROOT,
                    "--val-fraction %s holds out no image of %d training images in %d classes "
                            + "(round(fraction · images per class) is 0 everywhere); raise it",
                    fraction,
                    train.size(),
                    classes));
        }
        List<Sample> out = new ArrayList<>(held.size());
        for (int i = 0; i < train.size(); i++) if (held.contains(i)) out.add(train.get(i));
        return out;
    }

    /** {@code checked} with the validation images taken out of its training split. */
    public static CheckedData withoutValidation(CheckedData checked, List<Sample> validation) {
        Set<String> held = new HashSet<>();
        for (Sample s : validation) held.add(s.source().describe());
        List<Sample> train = checked.train().stream()
                .filter(s -> !held.contains(s.source().describe()))
                .toList();
        return new CheckedData(checked.dataset(), train, checked.test(), checked.badImages());
    }

    /** The validation images that passed the image check (bad ones are skipped as in the other splits). */
    public static List<Sample> checked(CheckedData checked, List<Sample> validation) {
        return validation.stream()
                .filter(s -> !checked.badImages().containsKey(s.source().describe()))
                .toList();
    }

    /** What a validation split holds out, in words: "10 of 20 training images held out for validation (0.500)". */
    public static String heldOut(int validation, int trainingBefore) {
        return String.format(
                Locale.ROOT,
                "%d of %d training images held out for validation (%.3f)",
                validation,
                trainingBefore,
                validation / (double) trainingBefore);
    }

    /**
     * Why the fraction held out is not {@code asked} (--val-fraction; NaN for the official list), when per-class
     * rounding moved it by more than {@value #MATERIAL_FRACTION_CHANGE} of it; empty otherwise.
     */
    public static Optional<String> fractionChanged(int validation, int trainingBefore, double asked) {
        double actual = validation / (double) trainingBefore;
        if (Double.isNaN(asked) || Math.abs(actual / asked - 1) <= MATERIAL_FRACTION_CHANGE) return Optional.empty();
        return Optional.of(String.format(
                Locale.ROOT,
                "not --val-fraction %s: each class holds out round(%s × its images) and keeps one at least for training",
                asked,
                asked));
    }
}
