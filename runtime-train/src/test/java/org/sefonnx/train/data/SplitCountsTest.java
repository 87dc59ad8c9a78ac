package org.sefonnx.train.data;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SplitCountsTest {

    @Test
    void cubFixtureIsFlaggedWithBothOfTableOnesNumbers() {
        String warning = SplitCounts.check(Layout.CUB, Datasets.open(Layout.CUB, Fixtures.data("cub")))
                .orElseThrow();
        assertTrue(warning.contains("4 train images, the paper's Table I has 5,994"), warning);
        assertTrue(warning.contains("3 test images, the paper's Table I has 5,794"), warning);
        assertTrue(
                warning.contains("partial download or extraction") && warning.contains("train_test_split.txt"),
                warning);
    }

    @Test
    void aMissingImageGivesTheWarningAndTheFullSetNone(@TempDir Path dir) throws IOException {
        // the fixture's own counts play Table I's row: 4 train / 2 test images
        SplitCounts.Official row = new SplitCounts.Official("fixture", 4, 2, "train", "train/ and test/ folders");
        Dataset full = Datasets.open(Layout.IMAGEFOLDER, Fixtures.data("imagefolder"));
        assertEquals(
                Optional.empty(),
                SplitCounts.compare(row, full.train().size(), full.test().size(), full.description()));
        Path root = Fixtures.copy("imagefolder", dir.resolve("partial"));
        Files.delete(root.resolve("train/dog/c.jpg"));
        Dataset partial = Datasets.open(Layout.IMAGEFOLDER, root);
        String warning = SplitCounts.compare(
                        row, partial.train().size(), partial.test().size(), partial.description())
                .orElseThrow();
        assertTrue(
                warning.startsWith("ImageFolder at " + root
                        + ": 3 train images, the paper's Table I has 4. Likely cause: a partial download"),
                warning);
        assertTrue(!warning.contains("test images"), "the test split matches and is not named: " + warning);
    }

    @Test
    void moreImagesThanTableOnePointAtAWrongListFile() {
        SplitCounts.Official aircraft = SplitCounts.official(Layout.AIRCRAFT).orElseThrow();
        // trainval + test listed as the training split
        String warning =
                SplitCounts.compare(aircraft, 10_000, 3_333, "aircraft").orElseThrow();
        assertTrue(
                warning.contains("10,000 trainval images, the paper's Table I has 6,667")
                        && warning.contains("wrong list file"),
                warning);
        assertEquals(Optional.empty(), SplitCounts.compare(aircraft, 6_667, 3_333, "aircraft"));
        assertEquals(Optional.empty(), SplitCounts.official(Layout.IMAGEFOLDER));
    }
}
