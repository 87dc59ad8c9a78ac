package org.sefonnx.train.data;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;

/** Stanford Dogs: Images/&lt;synset-breed&gt;/*.jpg with train_list.mat / test_list.mat. */
final class DogsReader {
    private DogsReader() {}

    static Dataset read(Path root) {
        Path images = IndexFiles.requireDirectory(root.resolve("Images"), "Stanford Dogs image folder Images/");
        Path trainFile = listFile(root, "train_list.mat");
        Path testFile = listFile(root, "test_list.mat");
        List<String> trainPaths = fileList(trainFile);
        List<String> testPaths = fileList(testFile);

        // ImageFolder order: the class is the synset-breed folder, sorted by name.
        TreeSet<String> folders = new TreeSet<>();
        for (List<String> paths : List.of(trainPaths, testPaths)) {
            for (String path : paths) {
                folders.add(classFolder(path));
            }
        }
        List<String> classNames = List.copyOf(folders);
        Map<String, Integer> classIndex = IndexFiles.indexOf(classNames);
        return new LoadedDataset(
                "Stanford Dogs at " + root,
                samples(images, trainFile, trainPaths, classIndex),
                samples(images, testFile, testPaths, classIndex),
                classNames);
    }

    private static Path listFile(Path root, String name) {
        // lists.tar unpacks next to Images/; some copies keep it in lists/.
        Path direct = root.resolve(name);
        return Files.isRegularFile(direct)
                        || !Files.isRegularFile(root.resolve("lists").resolve(name))
                ? direct
                : root.resolve("lists").resolve(name);
    }

    private static List<String> fileList(Path file) {
        MatFile mat = CarsReader.open(file);
        List<String> paths = CarsReader.strings(mat, "file_list");
        if (mat.contains("labels") && mat.get("labels").numel() != paths.size()) {
            throw new DatasetFormatException(
                    file,
                    "variable 'labels'",
                    "has " + mat.get("labels").numel() + " entries but file_list has " + paths.size());
        }
        return paths;
    }

    private static String classFolder(String relativePath) {
        int slash = relativePath.indexOf('/');
        return slash < 0 ? "" : relativePath.substring(0, slash);
    }

    private static List<Sample> samples(
            Path images, Path listFile, List<String> paths, Map<String, Integer> classIndex) {
        List<Sample> samples = new ArrayList<>(paths.size());
        for (int i = 0; i < paths.size(); i++) {
            String relative = paths.get(i);
            String where = "file_list{" + (i + 1) + "}";
            if (classFolder(relative).isEmpty()) {
                throw new DatasetFormatException(
                        listFile, where, "path '" + relative + "' has no <synset-breed>/ folder");
            }
            Path image = IndexFiles.requireImage(images.resolve(relative), listFile, where);
            samples.add(new Sample(new ImageSource.File(image), classIndex.get(classFolder(relative))));
        }
        return samples;
    }
}
