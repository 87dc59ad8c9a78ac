package org.sefonnx.train.data;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/** FGVC-Aircraft 2013b, variant level: data/images_variant_{trainval,test}.txt and data/images/&lt;id&gt;.jpg. */
final class AircraftReader {
    private AircraftReader() {}

    /** The official validation list: a subset of trainval (trainval = train + val), read with trainval's class indices. */
    static List<Sample> officialValidation(Path root, Dataset trainval) {
        Path data = locateData(root);
        return samples(
                data,
                IndexFiles.lines(data.resolve("images_variant_val.txt")),
                IndexFiles.indexOf(trainval.classNames()));
    }

    static Dataset read(Path root) {
        Path data = locateData(root);
        Path trainList = data.resolve("images_variant_trainval.txt");
        Path testList = data.resolve("images_variant_test.txt");
        List<IndexFiles.Line> trainLines = IndexFiles.lines(trainList);
        List<IndexFiles.Line> testLines = IndexFiles.lines(testList);

        Set<String> variants = new HashSet<>();
        Path variantsTxt = data.resolve("variants.txt");
        if (Files.isRegularFile(variantsTxt)) {
            for (IndexFiles.Line line : IndexFiles.lines(variantsTxt)) {
                variants.add(line.text().strip());
            }
        } else {
            for (IndexFiles.Line line : trainLines) {
                variants.add(line.keyAndRest("'<image id> <variant>'")[1]);
            }
        }
        List<String> classNames = IndexFiles.sortedClassNames(variants);
        Map<String, Integer> classIndex = IndexFiles.indexOf(classNames);
        return new LoadedDataset(
                "FGVC-Aircraft 2013b (variant) at " + data,
                samples(data, trainLines, classIndex),
                samples(data, testLines, classIndex),
                classNames);
    }

    private static Path locateData(Path root) {
        for (Path candidate : List.of(root, root.resolve("data"), root.resolve("fgvc-aircraft-2013b/data"))) {
            if (Files.isRegularFile(candidate.resolve("images_variant_trainval.txt"))) {
                return candidate;
            }
        }
        throw new DatasetFormatException(
                root.resolve("data/images_variant_trainval.txt"),
                null,
                "index file is missing (looked in " + root + ", its data/ and fgvc-aircraft-2013b/data/)");
    }

    private static List<Sample> samples(Path data, List<IndexFiles.Line> lines, Map<String, Integer> classIndex) {
        List<Sample> samples = new ArrayList<>(lines.size());
        for (IndexFiles.Line line : lines) {
            // Variant names contain spaces and '/', ids never do: split on the first space only.
            String[] parts = line.keyAndRest("'<image id> <variant name>'");
            Integer index = classIndex.get(parts[1]);
            if (index == null) {
                throw line.error("variant '" + parts[1] + "' is not in variants.txt");
            }
            Path image = IndexFiles.requireImage(
                    data.resolve("images").resolve(parts[0] + ".jpg"), line.file(), line.where());
            samples.add(new Sample(new ImageSource.File(image), index));
        }
        return samples;
    }
}
