package org.sefonnx.train.data;

import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.zip.GZIPInputStream;
import java.util.zip.GZIPOutputStream;
import org.sefonnx.contract.AtomicFiles;

/**
 * The embedded demo data: a class-balanced Fashion-MNIST subset (200 train and 100 test images per class, the first
 * ones of each class in the official files; MIT licence, Zalando Research) in IDX format, shipped in the jar.
 */
public final class DemoData {
    /** Where the jar holds the IDX files. */
    static final String RESOURCE_DIR = "sef-onnx/demo/fashion-mnist/";
    /** The IDX files: training images and labels, then test images and labels. */
    public static final List<String> FILES = List.of(
            "train-images-idx3-ubyte.gz",
            "train-labels-idx1-ubyte.gz",
            "t10k-images-idx3-ubyte.gz",
            "t10k-labels-idx1-ubyte.gz");
    /** Fashion-MNIST's class names in label order (the IDX files only hold 0..9). */
    public static final List<String> CLASS_NAMES = List.of(
            "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot");

    /** Images per class in the embedded subset: of the training split, of the test split. */
    public static final int TRAIN_PER_CLASS = 200, TEST_PER_CLASS = 100;

    private DemoData() {}

    /** Copies the embedded IDX files into {@code dir} and returns it. */
    public static Path extract(Path dir) throws IOException {
        for (String f : FILES) {
            try (InputStream in = DemoData.class.getClassLoader().getResourceAsStream(RESOURCE_DIR + f)) {
                if (in == null) throw new IllegalStateException("the jar lacks the demo data " + RESOURCE_DIR + f);
                AtomicFiles.write(dir.resolve(f), in.readAllBytes());
            }
        }
        return dir;
    }

    /** The embedded demo unpacked into {@code dir} (once: a run keeps its copy in its folder) and opened. */
    public static Dataset open(Path dir) throws IOException {
        if (!Files.exists(dir.resolve(FILES.get(0)))) extract(dir);
        return Datasets.open(Layout.IDX, dir);
    }

    /** Regenerates the embedded subset from the full set (Debian's dataset-fashion-mnist, /usr/share/datasets/fashion-mnist). */
    public static void main(String[] args) throws IOException {
        Path full = Path.of(args.length > 0 ? args[0] : "/usr/share/datasets/fashion-mnist");
        Path out = Path.of(args.length > 1 ? args[1] : "runtime-train/src/main/resources/" + RESOURCE_DIR);
        subset(
                full.resolve("train-images-idx3-ubyte.gz"),
                full.resolve("train-labels-idx1-ubyte.gz"),
                TRAIN_PER_CLASS,
                out.resolve(FILES.get(0)),
                out.resolve(FILES.get(1)));
        subset(
                full.resolve("t10k-images-idx3-ubyte.gz"),
                full.resolve("t10k-labels-idx1-ubyte.gz"),
                TEST_PER_CLASS,
                out.resolve(FILES.get(2)),
                out.resolve(FILES.get(3)));
    }

    /** The first {@code perClass} images of each class of an IDX image/label pair, written as another such pair. */
    public static void subset(Path images, Path labels, int perClass, Path imagesOut, Path labelsOut)
            throws IOException {
        try (DataInputStream im = new DataInputStream(new GZIPInputStream(Files.newInputStream(images)));
                DataInputStream lb = new DataInputStream(new GZIPInputStream(Files.newInputStream(labels)))) {
            if (im.readInt() != 0x803 || lb.readInt() != 0x801)
                throw new IOException("not IDX image/label files: " + images + ", " + labels);
            int n = im.readInt(), rows = im.readInt(), cols = im.readInt();
            if (lb.readInt() != n) throw new IOException(labels + ": label count differs from " + images);
            int[] taken = new int[10];
            ByteArrayOutputStream pix = new ByteArrayOutputStream(), lab = new ByteArrayOutputStream();
            byte[] img = new byte[rows * cols];
            int kept = 0;
            for (int i = 0; i < n && kept < 10 * perClass; i++) {
                im.readFully(img);
                int y = lb.readUnsignedByte();
                if (taken[y] >= perClass) continue;
                taken[y]++;
                kept++;
                pix.write(img);
                lab.write(y);
            }
            write(imagesOut, new int[] {0x803, kept, rows, cols}, pix.toByteArray());
            write(labelsOut, new int[] {0x801, kept}, lab.toByteArray());
        }
    }

    private static void write(Path file, int[] header, byte[] body) throws IOException {
        ByteArrayOutputStream raw = new ByteArrayOutputStream();
        try (DataOutputStream out = new DataOutputStream(new GZIPOutputStream(raw))) {
            for (int h : header) out.writeInt(h);
            out.write(body);
        }
        AtomicFiles.write(file, raw.toByteArray());
    }
}
