package org.sefonnx.train.data;

import java.io.BufferedInputStream;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.zip.GZIPInputStream;

/** MNIST-style IDX files (train-*, t10k-*), gzipped or not; images are held in memory as grayscale. */
final class IdxReader {
    private static final int IMAGES_MAGIC = 0x00000803;
    private static final int LABELS_MAGIC = 0x00000801;

    private IdxReader() {}

    static Dataset read(Path root) {
        byte[] trainLabels = labels(find(root, "train", "labels", "idx1"));
        byte[] testLabels = labels(find(root, "t10k", "labels", "idx1"));
        int maxLabel = 0;
        for (byte[] labels : List.of(trainLabels, testLabels)) {
            for (byte label : labels) {
                maxLabel = Math.max(maxLabel, label & 0xFF);
            }
        }
        // Zero-padded decimal names keep String order equal to numeric order for more than 10 classes.
        int width = Integer.toString(maxLabel).length();
        List<String> classNames = new ArrayList<>();
        for (int c = 0; c <= maxLabel; c++) {
            classNames.add(String.format("%0" + width + "d", c));
        }
        List<Sample> train = samples(find(root, "train", "images", "idx3"), trainLabels);
        List<Sample> test = samples(find(root, "t10k", "images", "idx3"), testLabels);
        return new LoadedDataset("IDX at " + root, train, test, classNames);
    }

    private static Path find(Path root, String split, String kind, String idx) {
        // Official names use '-', some mirrors '.'; each may be gzipped.
        for (String name :
                List.of(split + "-" + kind + "-" + idx + "-ubyte", split + "-" + kind + "." + idx + "-ubyte")) {
            for (String suffix : List.of("", ".gz")) {
                Path candidate = root.resolve(name + suffix);
                if (Files.isRegularFile(candidate)) {
                    return candidate;
                }
            }
        }
        throw new DatasetFormatException(
                root.resolve(split + "-" + kind + "-" + idx + "-ubyte"), null, "is missing (nor its .gz)");
    }

    private static DataInputStream open(Path file) throws IOException {
        InputStream in = new BufferedInputStream(Files.newInputStream(file), 1 << 16);
        in.mark(2);
        int b0 = in.read();
        int b1 = in.read();
        in.reset();
        if (b0 == 0x1f && b1 == 0x8b) {
            in = new BufferedInputStream(new GZIPInputStream(in, 1 << 16), 1 << 16);
        }
        return new DataInputStream(in);
    }

    private static byte[] labels(Path file) {
        try (DataInputStream in = open(file)) {
            int magic = in.readInt();
            if (magic != LABELS_MAGIC) {
                throw new DatasetFormatException(
                        file,
                        "byte 0",
                        String.format(
                                "magic is 0x%08x, expected 0x%08x (IDX unsigned-byte labels)", magic, LABELS_MAGIC));
            }
            int count = in.readInt();
            byte[] labels = new byte[count];
            readFully(in, labels, file, "labels", 8);
            return labels;
        } catch (IOException e) {
            throw new DatasetFormatException(file, null, "cannot read: " + e.getMessage(), e);
        }
    }

    private static List<Sample> samples(Path file, byte[] labels) {
        try (DataInputStream in = open(file)) {
            int magic = in.readInt();
            if (magic != IMAGES_MAGIC) {
                throw new DatasetFormatException(
                        file,
                        "byte 0",
                        String.format(
                                "magic is 0x%08x, expected 0x%08x (IDX unsigned-byte 3-D images)",
                                magic, IMAGES_MAGIC));
            }
            int count = in.readInt();
            int rows = in.readInt();
            int cols = in.readInt();
            if (count != labels.length) {
                throw new DatasetFormatException(
                        file, "header", count + " images but the label file has " + labels.length);
            }
            if (rows <= 0 || cols <= 0 || (long) rows * cols > 1 << 24) {
                throw new DatasetFormatException(
                        file, "header", "image size " + rows + "x" + cols + " is not plausible");
            }
            String origin = file.toString();
            List<Sample> samples = new ArrayList<>(count);
            for (int i = 0; i < count; i++) {
                byte[] pixels = new byte[rows * cols];
                readFully(in, pixels, file, "image " + i, 16L + (long) i * rows * cols);
                samples.add(new Sample(new ImageSource.Gray(origin, i, cols, rows, pixels), labels[i] & 0xFF));
            }
            return samples;
        } catch (IOException e) {
            throw new DatasetFormatException(file, null, "cannot read: " + e.getMessage(), e);
        }
    }

    private static void readFully(DataInputStream in, byte[] into, Path file, String what, long offset)
            throws IOException {
        try {
            in.readFully(into);
        } catch (EOFException e) {
            throw new DatasetFormatException(
                    file, what, "file ends before byte " + (offset + into.length) + " (truncated)");
        }
    }
}
