package org.sefonnx.train.run.options;

import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.sefonnx.train.data.Dataset;
import org.sefonnx.train.data.Datasets;
import org.sefonnx.train.data.Layout;
import org.sefonnx.train.data.Sample;
import org.sefonnx.train.data.SplitCounts;
import org.sefonnx.train.data.ValidationSplit;

/**
 * How a run measures itself: whether a validation split is held out of the training split (a seeded, class-stratified
 * fraction, or FGVC-Aircraft's official val list), which split picks the best epoch, and whether split sizes that differ
 * from the paper's Table I are an error. {@link #AUTHORS} is the authors' protocol: no validation split, best epoch by
 * test top-1, so the numbers stay comparable with the paper's (and are optimistic for it).
 */
public record Protocol(ValSplit valSplit, double valFraction, SelectOn selectOn, boolean strictSplits) {
    /** Where validation images come from. */
    public enum ValSplit {
        NONE,
        FRACTION,
        OFFICIAL
    }

    /** The split whose top-1 picks the best epoch (and so the exported checkpoint). */
    public enum SelectOn {
        TEST,
        VAL
    }

    /** The authors' protocol, and what runs made before these options read as. */
    public static final Protocol AUTHORS = new Protocol(ValSplit.NONE, 0, SelectOn.TEST, false);

    public Protocol {
        if (valSplit == ValSplit.FRACTION && !(valFraction > 0 && valFraction < 1)) {
            throw new IllegalArgumentException(
                    "--val-fraction must be in (0, 1) (the paper tuned on 0.1 of Birds' training split), got "
                            + valFraction);
        }
        if (valSplit != ValSplit.FRACTION && valFraction != 0) {
            throw new IllegalArgumentException("--val-fraction " + valFraction + " contradicts --val-split "
                    + label(valSplit) + "; give one of them");
        }
        if (selectOn == SelectOn.VAL && valSplit == ValSplit.NONE) {
            throw new IllegalArgumentException(
                    "--select-on val needs a validation split: add --val-fraction F (e.g. 0.1) or --val-split official (aircraft)");
        }
    }

    /**
     * The protocol the command-line options give; null options take the authors' defaults: no --val-split is a
     * fraction when --val-fraction is given and no validation split otherwise, no --select-on selects on test.
     */
    public static Protocol of(Double valFraction, ValSplit valSplit, SelectOn selectOn, boolean strictSplits) {
        ValSplit split = valSplit != null ? valSplit : valFraction == null ? ValSplit.NONE : ValSplit.FRACTION;
        if (split == ValSplit.FRACTION && valFraction == null)
            throw new IllegalArgumentException("--val-split fraction needs --val-fraction F (e.g. 0.1)");
        return new Protocol(
                split,
                valFraction == null ? 0 : valFraction,
                selectOn == null ? SelectOn.TEST : selectOn,
                strictSplits);
    }

    /** The validation samples this protocol holds out of {@code data}'s training split (empty without one). */
    public List<Sample> validation(TrainOptions o, Dataset data) {
        return switch (valSplit) {
            case NONE -> List.of();
            case OFFICIAL ->
                Datasets.officialValidation(o.data().layout(), o.data().root(), data);
            case FRACTION -> ValidationSplit.stratified(data.train(), data.classCount(), valFraction, o.seed());
        };
    }

    public boolean hasValidation() {
        return valSplit != ValSplit.NONE;
    }

    /** Of a test and a validation result, the one that picks the best epoch: validation under --select-on val. */
    public <T> T selecting(T test, T validation) {
        return selectOn == SelectOn.VAL ? validation : test;
    }

    /** The name of that split as the log and summary.txt spell it. */
    public String selectingSplitName() {
        return selecting("test", "validation");
    }

    /** Warns on {@code warnings} when {@code data}'s split sizes differ from the paper's Table I; with --strict-splits refuses the data set. */
    public void checkSplitCounts(Layout layout, Dataset data, PrintStream warnings) {
        SplitCounts.check(layout, data).ifPresent(warning -> {
            if (strictSplits)
                throw new IllegalArgumentException(warning
                        + "; refused by --strict-splits (fix the data set, or drop the option to train anyway)");
            warnings.println("warning: " + warning + " (--strict-splits makes this an error)");
        });
    }

    /**
     * Refuses to continue {@code run} under another protocol: its best epoch and split were chosen by its own. The
     * message names only the options that differ.
     */
    public void requireSame(Protocol requested, Path run) {
        if (requested == null || requested.equals(this)) return;
        List<String> differ = new ArrayList<>();
        if (valSplit != requested.valSplit || valFraction != requested.valFraction)
            differ.add("the run has " + options() + ", the command " + requested.options());
        if (selectOn != requested.selectOn)
            differ.add("the run selects on " + selectOn.name().toLowerCase(Locale.ROOT) + ", the command on "
                    + requested.selectOn.name().toLowerCase(Locale.ROOT));
        if (strictSplits != requested.strictSplits)
            differ.add("the run was started " + (strictSplits ? "with" : "without") + " --strict-splits");
        throw new IllegalArgumentException(
                run + " was started with other validation options (" + String.join("; ", differ)
                        + "), which would change its validation split or selection rule mid-run: drop them (--resume reads the"
                        + " run's own from run.properties) or start a new --out");
    }

    /** The validation-split options as given on the command line ("no validation split" without one). */
    private String options() {
        return switch (valSplit) {
            case NONE -> "no validation split";
            case FRACTION -> "--val-fraction " + valFraction;
            case OFFICIAL -> "--val-split official";
        };
    }

    /** The selection rule in words, as summary.txt, the ablation table and the log state it. */
    public String describe() {
        String held = switch (valSplit) {
            case NONE -> "no validation split";
            case FRACTION ->
                // per class round(F·n) images, at least one left for training: the fraction held out differs from F
                // on small classes, and summary.txt and the log state the one held out
                String.format(
                        Locale.ROOT,
                        "a validation split of round(%s × each class's training images), one at least left for training"
                                + " (class-stratified, seeded; %s)",
                        valFraction,
                        ValidationSplit.FILE);
            case OFFICIAL -> "the official validation list held out of trainval (" + ValidationSplit.FILE + ")";
        };
        return switch (selectOn) {
            case TEST -> "best epoch by test top-1 (the authors' protocol; optimistic), " + held;
            case VAL -> "best epoch by validation top-1, test top-1 reported at that epoch, " + held;
        };
    }

    private static String label(ValSplit split) {
        return split.name().toLowerCase(Locale.ROOT);
    }
}
