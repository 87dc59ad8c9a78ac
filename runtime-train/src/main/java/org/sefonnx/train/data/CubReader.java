package org.sefonnx.train.data;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** CUB-200-2011 as distributed: the four index files and images/&lt;NNN.Class_Name&gt;/*.jpg. */
final class CubReader {
    private CubReader() {}

    static Dataset read(Path root) {
        // The archive unpacks to CUB_200_2011/; accept the folder above it too.
        if (!Files.isRegularFile(root.resolve("images.txt"))
                && Files.isRegularFile(root.resolve("CUB_200_2011/images.txt"))) {
            root = root.resolve("CUB_200_2011");
        }
        Path imagesTxt = root.resolve("images.txt");
        Path labelsTxt = root.resolve("image_class_labels.txt");
        Path splitTxt = root.resolve("train_test_split.txt");
        Path classesTxt = root.resolve("classes.txt");

        Map<Integer, String> classNameById = new HashMap<>();
        for (IndexFiles.Line line : IndexFiles.lines(classesTxt)) {
            String[] parts = line.keyAndRest("'<class id> <class name>'");
            if (classNameById.put(line.parseInt(parts[0], "class id"), parts[1]) != null) {
                throw line.error("class id " + parts[0] + " appears twice");
            }
        }
        List<String> classNames = IndexFiles.sortedClassNames(classNameById.values());
        if (classNames.size() != classNameById.size()) {
            throw new DatasetFormatException(classesTxt, null, "class names are not unique");
        }
        Map<String, Integer> classIndex = IndexFiles.indexOf(classNames);

        Map<Integer, Path> imageById = new LinkedHashMap<>();
        Map<Integer, IndexFiles.Line> lineById = new HashMap<>();
        for (IndexFiles.Line line : IndexFiles.lines(imagesTxt)) {
            String[] parts = line.keyAndRest("'<image id> <relative path>'");
            int id = line.parseInt(parts[0], "image id");
            Path image = IndexFiles.requireImage(root.resolve("images").resolve(parts[1]), imagesTxt, line.where());
            if (imageById.put(id, image) != null) {
                throw line.error("image id " + id + " appears twice");
            }
            lineById.put(id, line);
        }
        Map<Integer, Integer> classIdByImage = new HashMap<>();
        for (IndexFiles.Line line : IndexFiles.lines(labelsTxt)) {
            String[] parts = line.keyAndRest("'<image id> <class id>'");
            int id = line.parseInt(parts[0], "image id");
            int classId = line.parseInt(parts[1], "class id");
            if (!imageById.containsKey(id)) {
                throw line.error("image id " + id + " is not in " + imagesTxt.getFileName());
            }
            if (!classNameById.containsKey(classId)) {
                throw line.error("class id " + classId + " is not in " + classesTxt.getFileName());
            }
            classIdByImage.put(id, classId);
        }
        Map<Integer, Boolean> isTrainById = new HashMap<>();
        for (IndexFiles.Line line : IndexFiles.lines(splitTxt)) {
            String[] parts = line.keyAndRest("'<image id> <1 train | 0 test>'");
            int id = line.parseInt(parts[0], "image id");
            String flag = parts[1];
            if (!flag.equals("0") && !flag.equals("1")) {
                throw line.error("split flag '" + flag + "' is not 1 (train) or 0 (test)");
            }
            if (!imageById.containsKey(id)) {
                throw line.error("image id " + id + " is not in " + imagesTxt.getFileName());
            }
            isTrainById.put(id, flag.equals("1"));
        }
        List<Sample> train = new ArrayList<>();
        List<Sample> test = new ArrayList<>();
        for (Map.Entry<Integer, Path> entry : imageById.entrySet()) {
            int id = entry.getKey();
            Integer classId = classIdByImage.get(id);
            Boolean isTrain = isTrainById.get(id);
            if (classId == null) {
                throw new DatasetFormatException(
                        labelsTxt,
                        null,
                        "has no class for image id " + id + " (" + imagesTxt.getFileName() + " "
                                + lineById.get(id).where() + ")");
            }
            if (isTrain == null) {
                throw new DatasetFormatException(
                        splitTxt,
                        null,
                        "has no split flag for image id " + id + " (" + imagesTxt.getFileName() + " "
                                + lineById.get(id).where() + ")");
            }
            Sample sample =
                    new Sample(new ImageSource.File(entry.getValue()), classIndex.get(classNameById.get(classId)));
            (isTrain ? train : test).add(sample);
        }
        return new LoadedDataset("CUB-200-2011 at " + root, train, test, classNames);
    }
}
