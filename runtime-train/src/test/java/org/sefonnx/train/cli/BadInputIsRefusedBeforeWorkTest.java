package org.sefonnx.train.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Every bad option or input gives exit code 2, one line that names it, and leaves no file behind. */
class BadInputIsRefusedBeforeWorkTest {
    private static String[] train(Path out, String... args) {
        List<String> all = new ArrayList<>(List.of("train", "--out", out.toString()));
        all.addAll(List.of(args));
        return SefOnnxCliTest.run(all.toArray(new String[0]));
    }

    private static void assertRefused(String[] r, String message) {
        assertEquals("2", r[0], r[2]);
        assertTrue(r[2].contains(message), "expected '" + message + "' in: " + r[2]);
        assertEquals(1, r[2].strip().lines().count(), "one line: " + r[2]);
    }

    @Test
    void strictSplitsRefusesADataSetWhoseCountsAreNotTableOnes(@TempDir Path dir) throws Exception {
        Path out = dir.resolve("run");
        Path cub = Path.of(
                BadInputIsRefusedBeforeWorkTest.class.getResource("/data/cub").toURI());
        String[] r = train(out, "--data", cub.toString(), "--layout", "cub", "--spec", "cub-r18", "--strict-splits");
        assertRefused(r, "4 train images, the paper's Table I has 5,994; 3 test images, the paper's Table I has 5,794");
        assertTrue(r[2].contains("refused by --strict-splits"), r[2]);
        assertFalse(Files.exists(out));
    }

    @Test
    void everyOutOfRangeOrUnknownOptionIsRefusedAndNothingIsWritten(@TempDir Path dir) {
        Path out = dir.resolve("run");
        String[][] cases = {
            {"--lr-gamma", "-1", "--lr-gamma must be in (0, 1] (StepLR's decay factor, paper 0.1), got -1.0"},
            {"--lr-gamma", "NaN", "--lr-gamma must be in (0, 1]"},
            {"--lr", "Infinity", "--lr must be a finite number > 0, got Infinity"},
            {"--momentum", "5", "--momentum must be in [0, 1) (paper 0.9), got 5.0"},
            {"--weight-decay", "-1", "--weight-decay must be a finite number >= 0, got -1.0"},
            {"--threads", "-1", "--threads must be >= 0 (0: one per core), got -1"},
            {"--workers", "-2", "--workers must be >= 0 (0: one per core), got -2"},
            {"--max-batches-per-epoch", "-1", "--max-batches-per-epoch must be >= 0 (0: all), got -1"},
            {"--max-bad-images", "-1", "--max-bad-images must be >= 0, got -1"},
            {"--lambda", "NaN", "--lambda must be a finite number >= 0 (a loss-term weight), got NaN"},
            {"--device", "gpu", "--device must be one of auto, cpu, cuda; got 'gpu'"},
            {"--optimizer", "adam", "--optimizer must be one of sgd-momentum, adamw; got 'adam'"},
            {"--grouping-loss", "foo", "--grouping-loss must be one of code, paper; got 'foo'"},
            {"--exif-orientation", "rotate", "--exif-orientation must be one of ignore, apply; got 'rotate'"},
            {"--from-best", "--from-best needs --resume DIR"},
            {
                "--val-fraction",
                "1.5",
                "--val-fraction must be in (0, 1) (the paper tuned on 0.1 of Birds' training split), got 1.5"
            },
            {
                "--select-on",
                "val",
                "--select-on val needs a validation split: add --val-fraction F (e.g. 0.1) or --val-split official (aircraft)"
            },
            {"--select-on", "best", "--select-on must be one of val, test; got 'best'"},
            {
                "--val-split",
                "official",
                "--val-fraction",
                "0.1",
                "--val-fraction 0.1 contradicts --val-split official; give one of them"
            },
        };
        for (String[] c : cases) {
            String[] args = java.util.Arrays.copyOf(c, c.length - 1);
            assertRefused(train(out, args), c[c.length - 1]);
            assertFalse(Files.exists(out), String.join(" ", args) + " wrote " + out);
        }
    }

    @Test
    void aMissingDataFolderAMissingPretrainedFileAndAnAbsentDeviceLeaveNothingBehind(@TempDir Path dir)
            throws IOException {
        Path out = dir.resolve("run");
        assertRefused(
                train(out, "--data", dir.resolve("nope").toString(), "--layout", "imagefolder", "--spec", "cub-r18"),
                "IMAGEFOLDER data set root is missing");
        assertFalse(Files.exists(out));
        String[] r =
                train(out, "--pretrained", dir.resolve("resnet18.safetensors").toString());
        assertEquals("2", r[0], r[2]);
        assertTrue(r[2].contains("resnet18.safetensors"), r[2]);
        assertFalse(Files.exists(out));
        // this build carries the CPU natives only: --device cuda is refused before the run folder exists
        assertRefused(
                train(out, "--device", "cuda"),
                "--device cuda: the ONNX Runtime natives on the class path have no CUDA provider");
        assertFalse(Files.exists(out));
    }

    @Test
    void anOutFolderThatIsNotARunIsNeverOverwritten(@TempDir Path dir) throws IOException {
        Path out = Files.createDirectories(dir.resolve("photos"));
        Files.writeString(out.resolve("labels.txt"), "mine\n");
        assertRefused(train(out), "--out " + out + " is a folder that is not empty and holds no sef-onnx run");
        assertEquals("mine\n", Files.readString(out.resolve("labels.txt")));
        assertEquals(1, Files.list(out).count());
    }

    @Test
    void resumeRefusesOptionsItWouldIgnoreAndEvalRefusesAFolderThatIsNotARun(@TempDir Path dir) {
        assertRefused(
                SefOnnxCliTest.run(
                        "train",
                        "--resume",
                        dir.toString(),
                        "--lr",
                        "0.5",
                        "--batch-size",
                        "8",
                        "--classes",
                        "5",
                        "--data",
                        "other"),
                "--lr, --batch-size, --classes, --data would be ignored: drop them");
        assertRefused(
                SefOnnxCliTest.run("eval", "--run", dir.resolve("missing").toString()),
                dir.resolve("missing") + " is not a sef-onnx run directory: "
                        + dir.resolve("missing/checkpoints/state.properties")
                        + " is missing (the folder does not exist)");
        assertRefused(SefOnnxCliTest.run("train", "--resume", dir.toString()), "is not a sef-onnx run directory");
    }

    /** root/{train,test}/{a,b,c}/ with 32x32 PNGs: {@code perClass} train and {@code testPerClass} test images. */
    static Path imageFolder(Path root, int perClass, int testPerClass) throws IOException {
        for (String split : List.of("train", "test")) {
            for (String cls : List.of("a", "b", "c")) {
                Path d = Files.createDirectories(root.resolve(split).resolve(cls));
                int n = split.equals("train") ? perClass : testPerClass;
                java.util.SplittableRandom random =
                        new java.util.SplittableRandom(cls.hashCode() * 31L + split.hashCode());
                for (int i = 0; i < n; i++) {
                    BufferedImage img = new BufferedImage(32, 32, BufferedImage.TYPE_3BYTE_BGR);
                    for (int y = 0; y < 32; y++) for (int x = 0; x < 32; x++) img.setRGB(x, y, random.nextInt(1 << 24));
                    ImageIO.write(img, "png", d.resolve(i + ".png").toFile());
                }
            }
        }
        return root;
    }

    /** A 3-class ImageFolder spec, ResNet-18 at 32 px, one epoch on one CPU thread. */
    static final String[] TINY_SPEC = {
        "--layout",
        "imagefolder",
        "--id",
        "tiny",
        "--depth",
        "18",
        "--classes",
        "3",
        "--groups",
        "2",
        "--image-size",
        "32",
        "--epochs",
        "1",
        "--batch-size",
        "4",
        "--threads",
        "1",
        "--workers",
        "1",
        "--device",
        "cpu"
    };

    private static String[] tinyTrain(Path out, Path data, String... extra) {
        List<String> args = new ArrayList<>(List.of("--data", data.toString()));
        args.addAll(List.of(TINY_SPEC));
        args.addAll(List.of(extra));
        return train(out, args.toArray(new String[0]));
    }

    @Test
    void emptyClassesAndUnreadableImagesAreFoundBeforeTheRunStarts(@TempDir Path dir) throws IOException {
        Path out = dir.resolve("run");
        Path empty = imageFolder(dir.resolve("empty"), 2, 1);
        try (Stream<Path> files = Files.list(empty.resolve("train/b"))) {
            for (Path f : files.toList()) Files.delete(f);
        }
        assertRefused(tinyTrain(out, empty), "1 classes have no training images: 'b' (class 1)");
        assertFalse(Files.exists(out));

        Path corrupt = imageFolder(dir.resolve("corrupt"), 2, 1);
        Path bad = corrupt.resolve("test/c/0.png");
        byte[] png = Files.readAllBytes(bad);
        Files.write(bad, java.util.Arrays.copyOf(png, png.length - 30));
        long t0 = System.nanoTime();
        assertRefused(
                tinyTrain(out, corrupt), "1 of 9 images of ImageFolder at " + corrupt + " are unreadable: " + bad);
        assertTrue((System.nanoTime() - t0) / 1e9 < 10, "found before any training");
        assertFalse(Files.exists(out));
        assertRefused(
                tinyTrain(out, corrupt, "--skip-bad-images", "--max-bad-images", "0"),
                "1 images of ImageFolder at " + corrupt + " are unreadable, more than --max-bad-images 0");
        assertFalse(Files.exists(out));
    }

    @Test
    void skippedImagesAreBoundedListedWithTheirReasonAndFilesFollowTheUmask(@TempDir Path dir) throws IOException {
        Path data = imageFolder(dir.resolve("data"), 2, 1);
        Path bad = data.resolve("train/a/1.png");
        Files.write(bad, new byte[] {(byte) 0x89, 'P', 'N', 'G', 1, 2, 3});
        Files.delete(data.resolve("test/b/0.png"));
        Path out = dir.resolve("run");
        java.io.PrintStream stdout = System.out, stderr = System.err;
        java.io.ByteArrayOutputStream log = new java.io.ByteArrayOutputStream(),
                warnings = new java.io.ByteArrayOutputStream();
        String[] r;
        try {
            // the trainer logs to System.out, not to picocli's writer, and warns on System.err
            System.setOut(new java.io.PrintStream(log, true));
            System.setErr(new java.io.PrintStream(warnings, true));
            r = tinyTrain(
                    out,
                    data,
                    "--skip-bad-images",
                    "--max-bad-images",
                    "1",
                    "--max-batches-per-epoch",
                    "1",
                    "--exif-orientation",
                    "apply");
        } finally {
            System.setOut(stdout);
            System.setErr(stderr);
        }
        assertEquals("0", r[0], r[2]);
        String summary = Files.readString(out.resolve("summary.txt"));
        assertTrue(summary.contains("skipped bad images: 1\n  " + bad + ": "), summary);
        // the check counts images (9 files, one deleted), not chunks of them
        assertTrue(log.toString().contains("checking images [==============================] 8/8"), log.toString());
        // the EXIF policy travels from the run to the export, so serving decodes as training did
        assertTrue(Files.readString(out.resolve("run.properties")).contains("exifOrientation=apply\n"));
        assertTrue(
                Files.readString(out.resolve("export/preprocessing.properties")).contains("exif.orientation=apply\n"));
        // a class without test images is trained, with a warning (it is not measured), on stderr
        String noTest = "1 classes have no test images, so their accuracy is not measured: 'b'";
        assertTrue(
                warnings.toString().contains("warning: ImageFolder at " + data + ": " + noTest), warnings.toString());
        assertTrue(warnings.toString().contains("warning: skipping 1 unreadable images"), warnings.toString());
        assertTrue(!log.toString().contains("warning"), log.toString());

        // eval labels its progress as an evaluation, not as a training epoch
        log.reset();
        try {
            System.setOut(new java.io.PrintStream(log, true));
            assertEquals("0", SefOnnxCliTest.run("eval", "--run", out.toString())[0]);
        } finally {
            System.setOut(stdout);
        }
        assertTrue(
                log.toString().contains("eval epoch-0001.ckpt [")
                        && !log.toString().contains("epoch 1/1"),
                log.toString());

        // files get the mode a plain create gets under this process's umask (022 here: rw-r--r--), never 0600
        Path probe = Files.createFile(dir.resolve("probe"));
        String expected = PosixFilePermissions.toString(Files.getPosixFilePermissions(probe));
        for (String f : List.of(
                "labels.txt",
                "export/labels.txt",
                "export/preprocessing.properties",
                "run.properties",
                "checkpoints/state.properties",
                "summary.txt",
                "metrics.csv")) {
            assertEquals(expected, PosixFilePermissions.toString(Files.getPosixFilePermissions(out.resolve(f))), f);
        }
    }
}
