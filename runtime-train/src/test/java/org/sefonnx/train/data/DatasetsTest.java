package org.sefonnx.train.data;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.sefonnx.contract.LabelFile;

class DatasetsTest {

    private static List<Integer> labels(List<Sample> samples) {
        return samples.stream().map(Sample::classIndex).toList();
    }

    private static List<String> fileNames(List<Sample> samples) {
        return samples.stream()
                .map(s -> ((ImageSource.File) s.source()).path().getFileName().toString())
                .toList();
    }

    @Test
    void cubSplitsByFlagAndIndexesClassFoldersAlphabetically() {
        Dataset cub = Datasets.open(Layout.CUB, Fixtures.data("cub"));
        assertEquals(
                List.of("001.Black_footed_Albatross", "002.Laysan_Albatross", "010.Red_winged_Blackbird"),
                cub.classNames());
        assertEquals(4, cub.train().size());
        assertEquals(3, cub.test().size());
        assertEquals(List.of(0, 1, 2, 2), labels(cub.train()));
        assertEquals(List.of(0, 1, 2), labels(cub.test()));
        assertEquals("Laysan_Albatross_0002_1027.jpg", fileNames(cub.test()).get(1));
    }

    @Test
    void cubListedImageMissingOnDiskNamesIndexFileAndLine(@TempDir Path dir) throws IOException {
        Path root = Fixtures.copy("cub/CUB_200_2011", dir.resolve("CUB_200_2011"));
        Files.delete(root.resolve("images/002.Laysan_Albatross/Laysan_Albatross_0001_545.jpg"));
        DatasetFormatException e = assertThrows(DatasetFormatException.class, () -> Datasets.open(Layout.CUB, dir));
        assertEquals(root.resolve("images.txt"), e.file());
        assertTrue(
                e.getMessage().contains("line 3") && e.getMessage().contains("Laysan_Albatross_0001_545.jpg"),
                e.getMessage());
    }

    @Test
    void cubMalformedSplitFlagNamesLine(@TempDir Path dir) throws IOException {
        Path root = Fixtures.copy("cub/CUB_200_2011", dir);
        Files.writeString(root.resolve("train_test_split.txt"), "1 1\n2 0\n3 yes\n");
        DatasetFormatException e = assertThrows(DatasetFormatException.class, () -> Datasets.open(Layout.CUB, root));
        assertTrue(e.getMessage().contains("train_test_split.txt, line 3"), e.getMessage());
    }

    @Test
    void carsAllInOneMatUsesTestFlagAndSortedClassNames() {
        Dataset cars = Datasets.open(Layout.CARS, Fixtures.data("cars_annos"));
        // Python sorted(): 'AM' < 'Acura' (uppercase first), 'smart' last.
        assertEquals(
                List.of(
                        "AM General Hummer SUV 2000",
                        "Acura RL Sedan 2012",
                        "Ram C/V Cargo Van Minivan 2012",
                        "smart fortwo Convertible 2012"),
                cars.classNames());
        assertEquals(List.of("000001.jpg", "000002.jpg", "000003.jpg", "000006.jpg"), fileNames(cars.train()));
        // official classes 1,2,3,1 -> Acura=1, AM=0, Ram=2
        assertEquals(List.of(1, 0, 2, 1), labels(cars.train()));
        assertEquals(List.of(3, 0), labels(cars.test()));
    }

    @Test
    void carsDevkitReadsCompressedAndUncompressedAnnotations() {
        Dataset cars = Datasets.open(Layout.CARS, Fixtures.data("cars_devkit"));
        assertEquals(4, cars.classCount());
        assertEquals(List.of("00001.jpg", "00002.jpg", "00003.jpg", "00004.jpg"), fileNames(cars.train()));
        // official 4,3,2,1 -> smart=3, Ram=2, AM=0, Acura=1
        assertEquals(List.of(3, 2, 0, 1), labels(cars.train()));
        assertEquals(List.of(0, 0, 1), labels(cars.test()));
    }

    @Test
    void carsAnnotationPointingAtMissingImageNamesMatFileAndElement(@TempDir Path dir) throws IOException {
        Path root = Fixtures.copy("cars_devkit", dir);
        Files.delete(root.resolve("cars_test/00002.jpg"));
        DatasetFormatException e = assertThrows(DatasetFormatException.class, () -> Datasets.open(Layout.CARS, root));
        assertEquals(root.resolve("cars_test_annos_withlabels.mat"), e.file());
        assertTrue(e.getMessage().contains("annotations(2)"), e.getMessage());
    }

    @Test
    void carsAsOnKaggleReadTheSameLabelsAsTheDevkit(@TempDir Path dir) throws IOException {
        // the Kaggle copy: car_devkit/devkit/, images nested in a folder of their own name, the labelled test
        // annotations saved beside them as "cars_test_annos_withlabels (1).mat"
        Path devkitFixture = Fixtures.data("cars_devkit");
        Path root = dir.resolve("stanford-cars");
        Fixtures.copy("cars_devkit/devkit", root.resolve("car_devkit/devkit"));
        Fixtures.copy("cars_devkit/cars_train", root.resolve("cars_train/cars_train"));
        Fixtures.copy("cars_devkit/cars_test", root.resolve("cars_test/cars_test"));
        Files.copy(
                devkitFixture.resolve("cars_test_annos_withlabels.mat"),
                root.resolve("cars_test_annos_withlabels (1).mat"));

        Dataset devkit = Datasets.open(Layout.CARS, devkitFixture);
        Dataset kaggle = Datasets.open(Layout.CARS, root);
        assertTrue(kaggle.description().startsWith("Stanford Cars (Kaggle copy)"), kaggle.description());
        assertEquals(devkit.classNames(), kaggle.classNames());
        assertEquals(List.of(3, 2, 0, 1), labels(kaggle.train()));
        assertEquals(labels(devkit.test()), labels(kaggle.test()));
        assertEquals(fileNames(devkit.train()), fileNames(kaggle.train()));
        assertEquals(
                root.resolve("cars_train/cars_train/00001.jpg"),
                ((ImageSource.File) kaggle.train().get(0).source()).path());

        Files.delete(root.resolve("cars_test_annos_withlabels (1).mat"));
        DatasetFormatException e = assertThrows(DatasetFormatException.class, () -> Datasets.open(Layout.CARS, root));
        assertEquals(root.resolve("cars_test_annos_withlabels.mat"), e.file());
        assertTrue(e.getMessage().contains("distributed separately"), e.getMessage());
    }

    @Test
    void aircraftOfficialValidationIsPartOfTrainvalWithItsClassIndices(@TempDir Path dir) throws IOException {
        Path root = Fixtures.copy("aircraft/fgvc-aircraft-2013b/data", dir.resolve("data"));
        List<String> trainval = Files.readAllLines(root.resolve("images_variant_trainval.txt"));
        Files.writeString(root.resolve("images_variant_val.txt"), trainval.get(1) + "\n" + trainval.get(3) + "\n");
        Dataset aircraft = Datasets.open(Layout.AIRCRAFT, root);
        List<Sample> val = Datasets.officialValidation(Layout.AIRCRAFT, root, aircraft);
        assertEquals(List.of(aircraft.train().get(1), aircraft.train().get(3)), val);
        assertEquals(List.of(0, 1), labels(val));
        IllegalArgumentException e = assertThrows(
                IllegalArgumentException.class,
                () -> Datasets.officialValidation(
                        Layout.CUB, Fixtures.data("cub"), Datasets.open(Layout.CUB, Fixtures.data("cub"))));
        assertTrue(
                e.getMessage().contains("--val-split official")
                        && e.getMessage().contains("--layout cub"),
                e.getMessage());
    }

    @Test
    void dogsClassesAreSynsetFoldersInOrder() {
        Dataset dogs = Datasets.open(Layout.DOGS, Fixtures.data("dogs"));
        assertEquals(
                List.of("n02085620-Chihuahua", "n02085782-Japanese_spaniel", "n02086240-Shih-Tzu"), dogs.classNames());
        assertEquals(List.of(0, 1, 2), labels(dogs.train()));
        assertEquals(List.of(0, 2), labels(dogs.test()));
        assertEquals("n02086240_1011.jpg", fileNames(dogs.test()).get(1));
    }

    @Test
    void aircraftSplitsVariantOnFirstSpaceOnly() {
        Dataset aircraft = Datasets.open(Layout.AIRCRAFT, Fixtures.data("aircraft"));
        assertEquals(List.of("707-320", "A300B4", "Boeing 717", "DHC-1", "F/A-18"), aircraft.classNames());
        assertEquals(List.of(4, 0, 2, 1, 3), labels(aircraft.train()));
        assertEquals(List.of(4, 2), labels(aircraft.test()));
        assertEquals("0034309.jpg", fileNames(aircraft.train()).get(0));
    }

    @Test
    void aircraftUnknownVariantNamesLine(@TempDir Path dir) throws IOException {
        Path root = Fixtures.copy("aircraft/fgvc-aircraft-2013b/data", dir);
        Files.writeString(root.resolve("images_variant_test.txt"), "0056978 F/A-18\n0062000 Boeing 747\n");
        DatasetFormatException e =
                assertThrows(DatasetFormatException.class, () -> Datasets.open(Layout.AIRCRAFT, root));
        assertTrue(
                e.getMessage().contains("images_variant_test.txt, line 2")
                        && e.getMessage().contains("Boeing 747"),
                e.getMessage());
    }

    @Test
    void imageFolderSortsClassesAndFilesAndIgnoresNonImages() {
        Dataset folder = Datasets.open(Layout.IMAGEFOLDER, Fixtures.data("imagefolder"));
        assertEquals(List.of("cat", "dog"), folder.classNames());
        assertEquals(List.of("a.jpg", "b.png", "c.jpg", "d.png"), fileNames(folder.train()));
        assertEquals(List.of(0, 0, 1, 1), labels(folder.train()));
        assertEquals(List.of(0, 1), labels(folder.test()));
    }

    @Test
    void idxReadsGzippedAndPlainFiles() {
        Dataset idx = Datasets.open(Layout.IDX, Fixtures.data("idx"));
        assertEquals(List.of("0", "1", "2"), idx.classNames());
        assertEquals(List.of(2, 0, 1, 1, 2), labels(idx.train()));
        assertEquals(List.of(0, 1, 2), labels(idx.test()));
        ImageSource.Gray second = (ImageSource.Gray) idx.train().get(1).source();
        assertEquals(4, second.width());
        assertEquals(3, second.height());
        // train pixel i is (17 i) mod 256; image 1 starts at i = 12
        assertEquals(204, second.pixels()[0] & 0xFF);
        ImageSource.Gray test0 = (ImageSource.Gray) idx.test().get(0).source();
        assertEquals(246, test0.pixels()[1] & 0xFF);
    }

    @Test
    void idxTruncatedImageFileNamesFileAndByte(@TempDir Path dir) throws IOException {
        Path root = Fixtures.copy("idx", dir);
        byte[] plain = Files.readAllBytes(root.resolve("t10k-images-idx3-ubyte"));
        Files.write(root.resolve("t10k-images-idx3-ubyte"), java.util.Arrays.copyOf(plain, plain.length - 5));
        DatasetFormatException e = assertThrows(DatasetFormatException.class, () -> Datasets.open(Layout.IDX, root));
        assertTrue(
                e.getMessage().contains("t10k-images-idx3-ubyte, image 2")
                        && e.getMessage().contains("byte 52"),
                e.getMessage());
    }

    @Test
    void missingRootFailsNamingLayout(@TempDir Path dir) {
        DatasetFormatException e =
                assertThrows(DatasetFormatException.class, () -> Datasets.open(Layout.DOGS, dir.resolve("nope")));
        assertTrue(e.getMessage().contains("DOGS data set root"), e.getMessage());
    }

    @Test
    void labelFileRoundTripsAndReplacesAtomically(@TempDir Path dir) throws IOException {
        Path file = dir.resolve("out/labels.txt");
        LabelFile.write(file, List.of("old"));
        List<String> names =
                Datasets.open(Layout.CARS, Fixtures.data("cars_annos")).classNames();
        LabelFile.write(file, names);
        assertEquals(names, LabelFile.read(file));
        assertEquals(
                "AM General Hummer SUV 2000\nAcura RL Sedan 2012\nRam C/V Cargo Van Minivan 2012\nsmart fortwo Convertible 2012\n",
                Files.readString(file));
        try (var leftovers = Files.list(file.getParent())) {
            assertEquals(1, leftovers.count());
        }
    }
}
