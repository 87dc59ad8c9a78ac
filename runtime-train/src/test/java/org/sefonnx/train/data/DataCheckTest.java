package org.sefonnx.train.data;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DataCheckTest {
    private static final PrintStream QUIET = new PrintStream(new ByteArrayOutputStream());

    private static Dataset dataset(Path dir, int badTest) throws IOException {
        Path good = Fixtures.data(
                "cub/CUB_200_2011/images/001.Black_footed_Albatross/Black_Footed_Albatross_0001_796111.jpg");
        List<Sample> train =
                List.of(new Sample(new ImageSource.File(good), 0), new Sample(new ImageSource.File(good), 1));
        List<Sample> test = new ArrayList<>();
        for (int i = 0; i < badTest; i++) {
            Path bad =
                    Files.write(dir.resolve("bad" + i + ".jpg"), new byte[] {(byte) 0xFF, (byte) 0xD8, (byte) 0xFF, 0});
            test.add(new Sample(new ImageSource.File(bad), i % 2));
        }
        return new LoadedDataset("two classes at " + dir, train, test, List.of("a", "b"));
    }

    @Test
    void aTestSplitLeftEmptyBySkippingIsRefused(@TempDir Path dir) throws IOException {
        Dataset data = dataset(dir, 3);
        IllegalArgumentException e = assertThrows(
                IllegalArgumentException.class, () -> DataCheck.check(data, 2, "two", true, 100, 2, QUIET, done -> {}));
        assertEquals(
                "two classes at " + dir + ": the test split has no images (top-1 would be undefined)", e.getMessage());
    }

    @Test
    void badImagesAreListedWithReasonsAndRemovedWithinTheBound(@TempDir Path dir) throws IOException {
        Dataset data = dataset(dir, 3);
        List<Sample> test = new ArrayList<>(data.test());
        test.add(data.train().get(0));
        Dataset mixed = new LoadedDataset(data.description(), data.train(), test, data.classNames());
        CheckedData checked = DataCheck.check(mixed, 2, "two", true, 3, 2, QUIET, done -> {});
        assertEquals(1, checked.test().size());
        assertEquals(3, checked.badImages().size());
        assertTrue(
                checked.badImages().get(dir.resolve("bad0.jpg").toString()).startsWith(dir.resolve("bad0.jpg") + ": "));
        IllegalArgumentException e = assertThrows(
                IllegalArgumentException.class, () -> DataCheck.check(mixed, 2, "two", true, 2, 2, QUIET, done -> {}));
        assertTrue(
                e.getMessage()
                        .startsWith("3 images of two classes at " + dir
                                + " are unreadable, more than --max-bad-images 2: "),
                e.getMessage());
        e = assertThrows(
                IllegalArgumentException.class,
                () -> DataCheck.check(mixed, 5, "five", false, 0, 2, QUIET, done -> {}));
        assertEquals(
                "two classes at " + dir + " has 2 classes but the model spec five has numClasses=5 (use --classes 2)",
                e.getMessage());
    }
}
