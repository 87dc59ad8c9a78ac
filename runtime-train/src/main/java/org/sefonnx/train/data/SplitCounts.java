package org.sefonnx.train.data;

import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/** The train/test image counts of the paper's Table I, and the check of a data set read from disk against them. */
public final class SplitCounts {
    private SplitCounts() {}

    /** One data set's row of Table I: how many images its official splits hold, and the list file that defines them. */
    public record Official(String dataSet, int train, int test, String trainSplitName, String listFiles) {}

    /** Luo et al. 2020, Table I (Aircraft: the trainval list is the training split, as in the authors' code). */
    static final Map<Layout, Official> TABLE_I = Map.of(
            Layout.CUB, new Official("CUB-200-2011", 5_994, 5_794, "train", "images.txt / train_test_split.txt"),
            Layout.CARS,
                    new Official(
                            "Stanford Cars",
                            8_144,
                            8_041,
                            "train",
                            "cars_annos.mat or cars_train_annos.mat / cars_test_annos_withlabels.mat"),
            Layout.DOGS, new Official("Stanford Dogs", 12_000, 8_580, "train", "train_list.mat / test_list.mat"),
            Layout.AIRCRAFT,
                    new Official(
                            "FGVC-Aircraft 2013b",
                            6_667,
                            3_333,
                            "trainval",
                            "images_variant_trainval.txt / images_variant_test.txt"));

    /** Table I's row for {@code layout}; empty for ImageFolder and IDX, which have no official split. */
    public static Optional<Official> official(Layout layout) {
        return Optional.ofNullable(TABLE_I.get(layout));
    }

    /** A warning when {@code data}'s split sizes differ from Table I's row for {@code layout}; empty when they agree or there is no row. */
    public static Optional<String> check(Layout layout, Dataset data) {
        return official(layout)
                .flatMap(row -> compare(row, data.train().size(), data.test().size(), data.description()));
    }

    /** The warning for {@code train}/{@code test} images against {@code row}, naming both numbers and the likely cause. */
    static Optional<String> compare(Official row, int train, int test, String where) {
        if (train == row.train() && test == row.test()) return Optional.empty();
        StringBuilder sb = new StringBuilder(where).append(": ");
        if (train != row.train())
            sb.append(String.format(
                    Locale.ROOT,
                    "%,d %s images, the paper's Table I has %,d",
                    train,
                    row.trainSplitName(),
                    row.train()));
        if (train != row.train() && test != row.test()) sb.append("; ");
        if (test != row.test())
            sb.append(String.format(Locale.ROOT, "%,d test images, the paper's Table I has %,d", test, row.test()));
        boolean fewer = train <= row.train() && test <= row.test();
        sb.append(
                fewer
                        ? ". Likely cause: a partial download or extraction, or list files (" + row.listFiles()
                                + ") cut down to a subset"
                        : ". Likely cause: a wrong list file (" + row.listFiles()
                                + "), e.g. another split's list or another version of the data set");
        sb.append("; numbers trained on it are not comparable with the paper's");
        return Optional.of(sb.toString());
    }
}
