package org.sefonnx.train.cli;

import org.sefonnx.train.run.options.Protocol;
import picocli.CommandLine.Option;

/** The experiment-protocol options shared by `train` and `ablate`: validation split, selection rule, split-count strictness. */
public final class ProtocolOptions {
    @Option(
            names = "--val-fraction",
            description =
                    "Hold this fraction of each class's training images out as a validation split (seeded by --seed, "
                            + "class-stratified, listed in validation.txt); the paper tuned on 0.1.")
    Double valFraction;

    @Option(
            names = "--val-split",
            converter = EnumOption.ValSplits.class,
            completionCandidates = EnumOption.ValSplits.class,
            description =
                    "${COMPLETION-CANDIDATES}: fraction (with --val-fraction) or official (FGVC-Aircraft's images_variant_val.txt, held out of trainval).")
    Protocol.ValSplit valSplit;

    @Option(
            names = "--select-on",
            converter = EnumOption.SelectOns.class,
            completionCandidates = EnumOption.SelectOns.class,
            description =
                    "${COMPLETION-CANDIDATES}: pick the best epoch (and the exported checkpoint) by test top-1 (the authors' protocol, default) "
                            + "or by val top-1 (needs a validation split; the test split is then evaluated for the report).")
    Protocol.SelectOn selectOn;

    @Option(
            names = "--strict-splits",
            description =
                    "Refuse (exit 2) a data set whose train/test counts differ from the paper's Table I instead of warning.")
    boolean strictSplits;

    /** True when any of the options was given. */
    boolean given() {
        return valFraction != null || valSplit != null || selectOn != null || strictSplits;
    }

    Protocol resolve() {
        return Protocol.of(valFraction, valSplit, selectOn, strictSplits);
    }
}
