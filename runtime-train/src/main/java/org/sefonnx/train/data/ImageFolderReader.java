package org.sefonnx.train.data;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;

/** A generic ImageFolder tree: root/{train,test}/&lt;class&gt;/&lt;image&gt;, as torchvision's ImageFolder reads it. */
final class ImageFolderReader {
    /** torchvision.datasets.folder.IMG_EXTENSIONS. */
    private static final Set<String> IMAGE_EXTENSIONS =
            Set.of(".jpg", ".jpeg", ".png", ".ppm", ".bmp", ".pgm", ".tif", ".tiff", ".webp");

    private ImageFolderReader() {}

    static Dataset read(Path root) {
        Path trainDir = IndexFiles.requireDirectory(root.resolve("train"), "ImageFolder split train/");
        Path testDir = IndexFiles.requireDirectory(root.resolve("test"), "ImageFolder split test/");
        List<String> classNames = IndexFiles.sortedClassNames(classFolders(trainDir));
        if (classNames.isEmpty()) {
            throw new DatasetFormatException(trainDir, null, "has no class folders");
        }
        Map<String, Integer> classIndex = IndexFiles.indexOf(classNames);
        for (String testClass : classFolders(testDir)) {
            if (!classIndex.containsKey(testClass)) {
                throw new DatasetFormatException(
                        testDir.resolve(testClass), null, "is a test class with no train/ folder of the same name");
            }
        }
        return new LoadedDataset(
                "ImageFolder at " + root,
                samples(trainDir, classNames, classIndex),
                samples(testDir, classNames, classIndex),
                classNames);
    }

    private static List<String> classFolders(Path split) {
        try (Stream<Path> children = Files.list(split)) {
            return children.filter(Files::isDirectory)
                    .map(p -> p.getFileName().toString())
                    .filter(name -> !name.startsWith("."))
                    .toList();
        } catch (IOException e) {
            throw new DatasetFormatException(split, null, "cannot list: " + e.getMessage(), e);
        }
    }

    private static List<Sample> samples(Path split, List<String> classNames, Map<String, Integer> classIndex) {
        List<Sample> samples = new ArrayList<>();
        for (String className : classNames) {
            Path classDir = split.resolve(className);
            if (!Files.isDirectory(classDir)) {
                continue;
            }
            // Sorted, recursive, like ImageFolder's make_dataset (os.walk + sorted).
            try (Stream<Path> files = Files.walk(classDir)) {
                files.filter(Files::isRegularFile)
                        .filter(ImageFolderReader::isImage)
                        .map(Path::toString)
                        .sorted()
                        .forEach(path -> samples.add(
                                new Sample(new ImageSource.File(Path.of(path)), classIndex.get(className))));
            } catch (IOException e) {
                throw new DatasetFormatException(classDir, null, "cannot list: " + e.getMessage(), e);
            }
        }
        return samples;
    }

    private static boolean isImage(Path file) {
        String name = file.getFileName().toString().toLowerCase(Locale.ROOT);
        int dot = name.lastIndexOf('.');
        return dot >= 0 && IMAGE_EXTENSIONS.contains(name.substring(dot));
    }
}
