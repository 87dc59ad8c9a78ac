package org.sefonnx.train.data;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Stanford Cars in any of its distributions: car_ims/ + cars_annos.mat, the devkit layout, or the Kaggle copy (the
 * devkit under car_devkit/devkit/, images nested as cars_train/cars_train/ and cars_test/cars_test/, the labelled test
 * annotations as a separate cars_test_annos_withlabels.mat, sometimes saved as "cars_test_annos_withlabels (1).mat").
 */
final class CarsReader {
    private CarsReader() {}

    static Dataset read(Path root) {
        if (Files.isRegularFile(root.resolve("cars_annos.mat"))) {
            return readAllInOne(root);
        }
        for (Path devkit : List.of(root.resolve("devkit"), root.resolve(KAGGLE_DEVKIT))) {
            if (Files.isDirectory(devkit)) return readDevkit(root, devkit);
        }
        throw new DatasetFormatException(
                root,
                null,
                "is no Stanford Cars layout: expected cars_annos.mat + car_ims/, or devkit/ (Kaggle: " + KAGGLE_DEVKIT
                        + "/) + cars_train/ + cars_test/");
    }

    private static Dataset readAllInOne(Path root) {
        Path annosFile = root.resolve("cars_annos.mat");
        MatFile mat = open(annosFile);
        List<String> officialNames = strings(mat, "class_names");
        List<String> classNames = sortedUnique(officialNames, annosFile);
        Map<String, Integer> classIndex = IndexFiles.indexOf(classNames);
        MatArray.Struct annotations = struct(mat, "annotations");
        List<Sample> train = new ArrayList<>();
        List<Sample> test = new ArrayList<>();
        for (int i = 0; i < annotations.elements().size(); i++) {
            String where = "annotations(" + (i + 1) + ")";
            String relative =
                    chars(annotations, i, "relative_im_path", annosFile).string();
            int officialClass = scalar(annotations, i, "class", annosFile);
            int testFlag = scalar(annotations, i, "test", annosFile);
            Path image = IndexFiles.requireImage(root.resolve(relative), annosFile, where);
            Sample sample = new Sample(
                    new ImageSource.File(image), mapClass(officialClass, officialNames, classIndex, annosFile, where));
            (testFlag == 1 ? test : train).add(sample);
        }
        return new LoadedDataset("Stanford Cars (cars_annos.mat) at " + root, train, test, classNames);
    }

    /** Where the Kaggle copy keeps the devkit: car_devkit.tgz unpacked in place. */
    static final String KAGGLE_DEVKIT = "car_devkit/devkit";
    /** The labelled test annotations, published apart from the devkit (its cars_test_annos.mat has no classes). */
    static final String TEST_LABELS = "cars_test_annos_withlabels.mat";
    /** The name a browser gives the same file when it is downloaded a second time, as the Kaggle copy holds it. */
    static final String TEST_LABELS_KAGGLE = "cars_test_annos_withlabels (1).mat";

    private static Dataset readDevkit(Path root, Path devkit) {
        Path metaFile = IndexFiles.requireFile(devkit.resolve("cars_meta.mat"), "Stanford Cars class list");
        Path trainFile =
                IndexFiles.requireFile(devkit.resolve("cars_train_annos.mat"), "Stanford Cars training annotations");
        Path testFile = testLabels(root, devkit);
        String layoutName = devkit.endsWith(KAGGLE_DEVKIT) ? "Kaggle copy" : "devkit";
        List<String> officialNames = strings(open(metaFile), "class_names");
        List<String> classNames = sortedUnique(officialNames, metaFile);
        Map<String, Integer> classIndex = IndexFiles.indexOf(classNames);
        List<Sample> train = devkitSplit(trainFile, imageDir(root, "cars_train"), officialNames, classIndex);
        List<Sample> test = devkitSplit(testFile, imageDir(root, "cars_test"), officialNames, classIndex);
        return new LoadedDataset("Stanford Cars (" + layoutName + ") at " + root, train, test, classNames);
    }

    /** The labelled test annotations: in the root (under either name) or in the devkit folder. */
    private static Path testLabels(Path root, Path devkit) {
        for (Path candidate :
                List.of(root.resolve(TEST_LABELS), root.resolve(TEST_LABELS_KAGGLE), devkit.resolve(TEST_LABELS))) {
            if (Files.isRegularFile(candidate)) return candidate;
        }
        throw new DatasetFormatException(
                root.resolve(TEST_LABELS),
                null,
                "Stanford Cars test labels are missing (looked for " + TEST_LABELS
                        + " and '" + TEST_LABELS_KAGGLE + "' in " + root + " and in " + devkit
                        + "); the devkit's cars_test_annos.mat has no classes: "
                        + "download cars_test_annos_withlabels.mat, which is distributed separately, into " + root);
    }

    private static Path imageDir(Path root, String name) {
        Path dir = IndexFiles.requireDirectory(root.resolve(name), "Stanford Cars image folder " + name + "/");
        // Some mirrors nest the folder in itself (cars_train/cars_train/).
        return Files.isDirectory(dir.resolve(name)) ? dir.resolve(name) : dir;
    }

    private static List<Sample> devkitSplit(
            Path annosFile, Path imageDir, List<String> officialNames, Map<String, Integer> classIndex) {
        MatArray.Struct annotations = struct(open(annosFile), "annotations");
        List<Sample> samples = new ArrayList<>(annotations.elements().size());
        for (int i = 0; i < annotations.elements().size(); i++) {
            String where = "annotations(" + (i + 1) + ")";
            String fname = chars(annotations, i, "fname", annosFile).string();
            int officialClass = scalar(annotations, i, "class", annosFile);
            Path image = IndexFiles.requireImage(imageDir.resolve(fname), annosFile, where);
            samples.add(new Sample(
                    new ImageSource.File(image), mapClass(officialClass, officialNames, classIndex, annosFile, where)));
        }
        return samples;
    }

    private static int mapClass(
            int officialClass, List<String> officialNames, Map<String, Integer> classIndex, Path file, String where) {
        if (officialClass < 1 || officialClass > officialNames.size()) {
            throw new DatasetFormatException(
                    file, where, "class " + officialClass + " is outside 1.." + officialNames.size());
        }
        return classIndex.get(officialNames.get(officialClass - 1));
    }

    private static List<String> sortedUnique(List<String> names, Path file) {
        List<String> sorted = IndexFiles.sortedClassNames(names);
        if (sorted.size() != names.size()) {
            throw new DatasetFormatException(
                    file,
                    "class_names",
                    "has " + names.size() + " entries but only " + sorted.size() + " distinct names");
        }
        return sorted;
    }

    static MatFile open(Path file) {
        IndexFiles.requireFile(file, "annotation file");
        try {
            return MatFile.read(file);
        } catch (IOException e) {
            throw new DatasetFormatException(file, null, "cannot read: " + e.getMessage(), e);
        }
    }

    /** A cell array of strings (any shape), in column-major order. */
    static List<String> strings(MatFile mat, String variable) {
        MatArray array = mat.get(variable);
        if (!(array instanceof MatArray.Cell cell)) {
            throw new DatasetFormatException(
                    mat.file(), "variable '" + variable + "'", "expected a cell array of strings");
        }
        List<String> out = new ArrayList<>(cell.cells().size());
        for (int i = 0; i < cell.cells().size(); i++) {
            if (!(cell.cells().get(i) instanceof MatArray.Chars chars)) {
                throw new DatasetFormatException(mat.file(), variable + "{" + (i + 1) + "}", "expected a char array");
            }
            out.add(chars.string());
        }
        return out;
    }

    static MatArray.Struct struct(MatFile mat, String variable) {
        if (!(mat.get(variable) instanceof MatArray.Struct struct)) {
            throw new DatasetFormatException(mat.file(), "variable '" + variable + "'", "expected a struct array");
        }
        return struct;
    }

    private static MatArray.Chars chars(MatArray.Struct struct, int i, String field, Path file) {
        if (!(field(struct, i, field, file) instanceof MatArray.Chars chars)) {
            throw new DatasetFormatException(
                    file, struct.name() + "(" + (i + 1) + ")." + field, "expected a char array");
        }
        return chars;
    }

    private static int scalar(MatArray.Struct struct, int i, String field, Path file) {
        if (!(field(struct, i, field, file) instanceof MatArray.Numeric number) || number.values().length != 1) {
            throw new DatasetFormatException(
                    file, struct.name() + "(" + (i + 1) + ")." + field, "expected a numeric scalar");
        }
        return number.intAt(0);
    }

    private static MatArray field(MatArray.Struct struct, int i, String field, Path file) {
        if (!struct.fieldNames().contains(field)) {
            throw new DatasetFormatException(
                    file,
                    "variable '" + struct.name() + "'",
                    "struct has no field '" + field + "'; fields are " + struct.fieldNames());
        }
        return struct.field(i, field);
    }
}
