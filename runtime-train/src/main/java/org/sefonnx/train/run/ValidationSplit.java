package org.sefonnx.train.run;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.Random;
import java.util.Set;
import org.sefonnx.contract.AtomicFiles;
import org.sefonnx.train.data.CheckedData;
import org.sefonnx.train.data.Dataset;
import org.sefonnx.train.data.Datasets;
import org.sefonnx.train.data.Sample;

/**
 * The validation images a run holds out of its training split, and their file list ({@value #FILE} in the run folder:
 * one {@code <class index> TAB <image>} line each), so the split can be inspected and a resume proves it unchanged.
 */
final class ValidationSplit {
    static final String FILE = "validation.txt";

    private ValidationSplit() {}

    /** The validation samples {@code protocol} holds out of {@code data}'s training split (empty without one). */
    static List<Sample> choose(Protocol protocol, TrainOptions o, Dataset data) {
        return switch (protocol.valSplit()) {
            case NONE -> List.of();
            case OFFICIAL -> Datasets.officialValidation(o.layout(), o.dataRoot(), data);
            case FRACTION -> stratified(data.train(), data.classCount(), protocol.valFraction(), o.seed());
        };
    }

    /**
     * round(fraction · n) images of each class's n training images, at least one training image left per class, chosen by
     * a shuffle seeded with {@code seed} alone: the same data set and seed give the same split on every machine.
     */
    static List<Sample> stratified(List<Sample> train, int classes, double fraction, long seed) {
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
    static CheckedData withoutValidation(CheckedData checked, List<Sample> validation) {
        Set<String> held = sources(validation);
        List<Sample> train = checked.train().stream()
                .filter(s -> !held.contains(s.source().describe()))
                .toList();
        return new CheckedData(checked.dataset(), train, checked.test(), checked.badImages());
    }

    /** The validation images that passed the image check (bad ones are skipped as in the other splits). */
    static List<Sample> checked(CheckedData checked, List<Sample> validation) {
        return validation.stream()
                .filter(s -> !checked.badImages().containsKey(s.source().describe()))
                .toList();
    }

    static void write(RunDirectory run, Protocol protocol, List<Sample> validation) throws IOException {
        AtomicFiles.writeString(run.root().resolve(FILE), render(protocol, validation));
    }

    /** Refuses a resume whose data set no longer gives the split the run started with (the file is the record). */
    static void requireSameAsFile(RunDirectory run, Protocol protocol, List<Sample> validation) throws IOException {
        Path file = run.root().resolve(FILE);
        if (!protocol.hasValidation()) return;
        if (!Files.isRegularFile(file))
            throw new InvalidRunException(file + " is missing: the run was started with " + protocol.describe()
                    + ", and its validation list is what a resume must keep; restore the file or start a new run");
        // the header's words may change between versions; the list is the record
        List<String> expected = listed(render(protocol, validation)), found = listed(Files.readString(file));
        for (int i = 0; i < Math.max(expected.size(), found.size()); i++) {
            String e = i < expected.size() ? expected.get(i) : "(end of list)",
                    f = i < found.size() ? found.get(i) : "(end of list)";
            if (!e.equals(f)) {
                throw new InvalidRunException(
                        file + " line " + (i + 1) + " is '" + f + "' but the data set now gives '" + e
                                + "': the training split changed since the run started, so its validation split would too; restore the data set or start a new run");
            }
        }
    }

    private static List<String> listed(String text) {
        return text.lines().filter(l -> !l.startsWith("#")).toList();
    }

    /** Relative change of the fraction held out from the one asked that the log warns about. */
    static final double MATERIAL_FRACTION_CHANGE = 0.1;

    /** What a validation split holds out, in words: "10 of 20 training images held out for validation (0.500)". */
    static String heldOut(int validation, int trainingBefore) {
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
    static Optional<String> fractionChanged(int validation, int trainingBefore, double asked) {
        double actual = validation / (double) trainingBefore;
        if (Double.isNaN(asked) || Math.abs(actual / asked - 1) <= MATERIAL_FRACTION_CHANGE) return Optional.empty();
        return Optional.of(String.format(
                Locale.ROOT,
                "not --val-fraction %s: each class holds out round(%s × its images) and keeps one at least for training",
                asked,
                asked));
    }

    private static String render(Protocol protocol, List<Sample> validation) {
        StringBuilder sb = new StringBuilder("# sef-onnx validation split: ")
                .append(validation.size())
                .append(" images held out of the training split; ")
                .append(protocol.describe())
                .append('\n');
        for (Sample s : validation)
            sb.append(s.classIndex()).append('\t').append(s.source().describe()).append('\n');
        return sb.toString();
    }

    private static Set<String> sources(List<Sample> samples) {
        Set<String> out = new HashSet<>();
        for (Sample s : samples) out.add(s.source().describe());
        return out;
    }
}
