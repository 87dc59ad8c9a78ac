package org.sefonnx.infer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtProvider;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.sefonnx.contract.ExportLayout;
import org.sefonnx.imaging.ImageDecodeException;
import org.sefonnx.imaging.ImageDecoder;
import org.sefonnx.imaging.PreprocessingSpec;
import org.sefonnx.imaging.RgbImage;

class SefClassifierTest {

    /** A writable copy of the golden export, to break on purpose. */
    private static Path copyOfExport(Path into) throws IOException {
        Path from = GoldenModel.sharedExport();
        for (String file : List.of(ExportLayout.MODEL, ExportLayout.LABELS, ExportLayout.PREPROCESSING)) {
            Files.copy(from.resolve(file), into.resolve(file));
        }
        return into;
    }

    @Test
    void exposesWhatItLoaded() throws IOException {
        try (SefClassifier classifier = SefClassifier.open(GoldenModel.sharedExport())) {
            assertEquals(GoldenModel.LABELS, classifier.labels());
            assertEquals(5, classifier.numClasses());
            assertEquals("golden-r18", classifier.modelId());
            assertEquals(GoldenModel.PREPROCESSING, classifier.preprocessing());
            assertEquals(
                    SefClassifier.Options.DEFAULT_TOP_K,
                    classifier.predict(GoldenModel.image("finch_rgba.png")).size());
        }
        try (SefClassifier top2 = SefClassifier.open(
                GoldenModel.sharedExport(),
                SefClassifier.Options.defaults().withTopK(2).withIntraOpThreads(1))) {
            assertEquals(2, top2.predict(GoldenModel.image("finch_rgba.png")).size());
        }
    }

    @Test
    void labelCountDifferentFromTheModelsClassesIsRefusedNamingLabelsTxt(@TempDir Path dir) throws IOException {
        Path export = copyOfExport(dir);
        Files.write(export.resolve(ExportLayout.LABELS), List.of("a", "b", "c", "d"), StandardCharsets.UTF_8);
        InvalidExportException e = assertThrows(InvalidExportException.class, () -> SefClassifier.open(export));
        assertEquals(export.resolve(ExportLayout.LABELS), e.file());
        assertTrue(
                e.getMessage().contains("4 labels, but output 'logits' of model.onnx has 5 classes"), e.getMessage());

        Files.writeString(export.resolve(ExportLayout.LABELS), "a\nb\n\nd\ne\n", StandardCharsets.UTF_8);
        e = assertThrows(InvalidExportException.class, () -> SefClassifier.open(export));
        assertTrue(e.getMessage().contains("line 3 is empty"), e.getMessage());
    }

    @Test
    void preprocessingThatDisagreesWithTheModelIsRefusedNamingTheFileAndField(@TempDir Path dir) throws IOException {
        Path export = copyOfExport(dir);
        Path properties = export.resolve(ExportLayout.PREPROCESSING);
        java.nio.file.Files.writeString(
                properties,
                PreprocessingSpec.resize(32).withModel("golden-r18", 7).toText());
        InvalidExportException e = assertThrows(InvalidExportException.class, () -> SefClassifier.open(export));
        assertEquals(properties, e.file());
        assertTrue(
                e.getMessage().contains("numClasses is 7, but output 'logits' of model.onnx has 5 classes"),
                e.getMessage());

        java.nio.file.Files.writeString(
                properties,
                PreprocessingSpec.resizeAndCenterCrop(40, 40, 36, 36)
                        .withModel("golden-r18", 5)
                        .toText());
        e = assertThrows(InvalidExportException.class, () -> SefClassifier.open(export));
        assertEquals(export.resolve(ExportLayout.MODEL), e.file());
        assertTrue(
                e.getMessage().contains("input 'images' has shape [-1, 3, 32, 32]")
                        && e.getMessage().contains("expected [batch, 3, 36, 36]"),
                e.getMessage());

        Files.writeString(properties, Files.readString(properties).replace("layout=NCHW", "layout=NHWC"));
        e = assertThrows(InvalidExportException.class, () -> SefClassifier.open(export));
        assertEquals(properties + ": key 'layout' is 'NHWC', this runtime supports only 'NCHW'", e.getMessage());
    }

    @Test
    void missingFilesAndAnUnloadableModelAreNamed(@TempDir Path dir) throws IOException {
        Path export = copyOfExport(dir);
        Files.delete(export.resolve(ExportLayout.LABELS));
        InvalidExportException e = assertThrows(InvalidExportException.class, () -> SefClassifier.open(export));
        assertTrue(e.getMessage().startsWith(export.resolve("labels.txt") + ": missing"), e.getMessage());

        Files.write(export.resolve(ExportLayout.LABELS), GoldenModel.LABELS);
        Files.writeString(export.resolve(ExportLayout.MODEL), "not a model");
        e = assertThrows(InvalidExportException.class, () -> SefClassifier.open(export));
        assertEquals(export.resolve(ExportLayout.MODEL), e.file());
        assertTrue(e.getMessage().contains("ONNX Runtime cannot load it"), e.getMessage());
    }

    @Test
    void corruptImageFailsNamingIt(@TempDir Path dir) throws IOException {
        Path broken = dir.resolve("broken.jpg");
        byte[] jpeg = Files.readAllBytes(GoldenModel.image("bird_on_branch.jpg"));
        Files.write(broken, java.util.Arrays.copyOf(jpeg, jpeg.length / 3));
        try (SefClassifier classifier = SefClassifier.open(GoldenModel.sharedExport())) {
            ImageDecodeException e = assertThrows(ImageDecodeException.class, () -> classifier.predict(broken));
            assertEquals(broken.toString(), e.source());
            // the failed call returned its workspace: the classifier keeps working
            assertEquals(
                    5,
                    classifier.predict(GoldenModel.image("bird_on_branch.jpg")).size());
        }
    }

    @Test
    void cudaOnTheCpuBuildFailsWithAnExplanation() throws IOException {
        if (OrtEnvironment.getAvailableProviders().contains(OrtProvider.CUDA))
            return; // the onnxruntime_gpu jar is in use
        IllegalStateException e = assertThrows(
                IllegalStateException.class,
                () -> SefClassifier.open(
                        GoldenModel.sharedExport(),
                        SefClassifier.Options.defaults().withCuda(0)));
        assertTrue(
                e.getMessage().contains("CUDA was requested") && e.getMessage().contains("onnxruntime_gpu"),
                e.getMessage());
    }

    @Test
    void concurrentCallersSharingOneSessionGetTheSingleThreadedAnswers() throws Exception {
        try (SefClassifier classifier = SefClassifier.open(
                GoldenModel.sharedExport(), SefClassifier.Options.defaults().withIntraOpThreads(1))) {
            List<float[]> expected = new ArrayList<>();
            for (String image : GoldenModel.IMAGES) expected.add(classifier.logits(GoldenModel.image(image)));
            ExecutorService pool = Executors.newFixedThreadPool(8);
            try {
                List<Future<Integer>> results = new ArrayList<>();
                for (int t = 0; t < 8; t++) {
                    int offset = t;
                    results.add(pool.submit(() -> {
                        for (int i = 0; i < 25; i++) {
                            int which = (i + offset) % GoldenModel.IMAGES.size();
                            assertArrayEquals(
                                    expected.get(which),
                                    classifier.logits(GoldenModel.image(GoldenModel.IMAGES.get(which))),
                                    0f);
                        }
                        return 25;
                    }));
                }
                int done = 0;
                for (Future<Integer> r : results) done += r.get();
                assertEquals(200, done);
            } finally {
                pool.shutdown();
            }
        }
    }

    @Test
    void noTrainingRuntimeIsOnTheClasspath() {
        // the bytedeco jar bundles a broken copy of ai.onnxruntime: it must never meet the official one
        for (String trainingClass : List.of("org.bytedeco.onnxruntime.OrtApi", "org.sefonnx.train.ort.OrtAdapter")) {
            assertThrows(
                    ClassNotFoundException.class,
                    () -> Class.forName(trainingClass),
                    trainingClass + " is on the classpath");
        }
    }

    @Test
    void closedClassifierRefusesCalls() throws IOException {
        SefClassifier classifier = SefClassifier.open(GoldenModel.sharedExport());
        classifier.close();
        classifier.close();
        IllegalStateException e = assertThrows(
                IllegalStateException.class, () -> classifier.predict(GoldenModel.image("finch_rgba.png")));
        assertTrue(e.getMessage().contains("closed"), e.getMessage());
    }

    @Test
    void closeWaitsForEightPredictingThreadsAndLaterCallsSayClosed() throws Exception {
        SefClassifier classifier = SefClassifier.open(
                GoldenModel.sharedExport(), SefClassifier.Options.defaults().withIntraOpThreads(1));
        Path image = GoldenModel.image("bird_on_branch.jpg");
        List<Prediction> expected = classifier.predict(image);
        ExecutorService pool = Executors.newFixedThreadPool(8);
        java.util.concurrent.CountDownLatch running = new java.util.concurrent.CountDownLatch(8);
        List<Future<int[]>> threads = new ArrayList<>();
        for (int t = 0; t < 8; t++) {
            threads.add(pool.submit(() -> {
                int good = 0, refused = 0;
                running.countDown();
                while (refused == 0) {
                    try {
                        assertEquals(expected, classifier.predict(image));
                        good++;
                    } catch (IllegalStateException e) {
                        assertTrue(e.getMessage().contains("is closed"), e.getMessage());
                        refused++;
                    }
                }
                return new int[] {good, refused};
            }));
        }
        running.await();
        Thread.sleep(300);
        classifier.close(); // before the fix: SIGSEGV in libonnxruntime under OrtSession.run
        int good = 0;
        for (Future<int[]> f : threads) {
            int[] r = f.get();
            assertEquals(1, r[1]);
            good += r[0];
        }
        pool.shutdown();
        assertTrue(good > 0, "predictions before close: " + good);
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> classifier.predict(image));
        assertEquals(
                "this SefClassifier (model golden-r18) is closed; open a new one with SefClassifier.open",
                e.getMessage());
        classifier.close(); // idempotent
    }

    @Test
    void predictImagesDecodesEachImageOnceEvenAfterABadOneAndReturnsTheSameRunsLogits() throws IOException {
        byte[] bird = Files.readAllBytes(GoldenModel.image("bird_on_branch.jpg"));
        Map<String, Integer> decodes = new HashMap<>();
        List<ImageInput> inputs = new ArrayList<>();
        for (String name : List.of("first", "empty", "second")) {
            byte[] bytes = name.equals("empty") ? new byte[0] : bird;
            inputs.add(new ImageInput() {
                @Override
                public String name() {
                    return name;
                }

                @Override
                public RgbImage decode(ImageDecoder decoder) {
                    decodes.merge(name, 1, Integer::sum);
                    return decoder.decode(bytes, name);
                }
            });
        }
        try (SefClassifier classifier = SefClassifier.open(GoldenModel.sharedExport())) {
            List<SefClassifier.ImageResult> results = classifier.predictImages(inputs, true);
            assertEquals(Map.of("first", 1, "empty", 1, "second", 1), decodes);
            assertEquals("empty: file is empty", results.get(1).error().getMessage());
            assertEquals(null, results.get(1).logits());
            for (int i : new int[] {0, 2}) {
                assertEquals(classifier.predict(bird), results.get(i).predictions());
                assertArrayEquals(classifier.logits(bird), results.get(i).logits(), 0f);
            }
            assertEquals(
                    null,
                    classifier.predictImages(inputs.subList(0, 1), false).get(0).logits());
        }
    }

    @Test
    void nonFiniteLogitsAreRefusedNamingTheImageNeverReturned(@TempDir Path dir) throws IOException {
        Path export = GoldenModel.withNanWeight(dir);
        Path bird = GoldenModel.image("bird_on_branch.jpg");
        try (SefClassifier classifier = SefClassifier.open(export)) {
            NonFiniteOutputException e = assertThrows(NonFiniteOutputException.class, () -> classifier.predict(bird));
            assertEquals(bird.toString(), e.image());
            assertTrue(
                    e.getMessage()
                            .startsWith(bird + ": model golden-r18 gave non-finite logits (1 of 5 values, e.g. NaN)"),
                    e.getMessage());
            assertThrows(NonFiniteOutputException.class, () -> classifier.logits(bird));
            assertThrows(NonFiniteOutputException.class, () -> classifier.predictBatch(List.of(bird)));
            assertThrows(NonFiniteOutputException.class, () -> classifier.explain(bird));
            List<SefClassifier.ImageResult> each = classifier.predictEach(List.of(bird));
            assertEquals(List.of(), each.get(0).predictions());
            assertTrue(
                    each.get(0).error() instanceof NonFiniteOutputException,
                    each.get(0).error().toString());
        }
    }

    @Test
    void predictEachReportsEveryBadImageAndClassifiesTheRest(@TempDir Path dir) throws IOException {
        Path bird = GoldenModel.image("bird_on_branch.jpg"), finch = GoldenModel.image("finch_rgba.png");
        Path broken = Files.write(dir.resolve("broken.jpg"), new byte[] {(byte) 0xFF, (byte) 0xD8, (byte) 0xFF, 1, 2});
        try (SefClassifier classifier = SefClassifier.open(
                GoldenModel.sharedExport(), SefClassifier.Options.defaults().withMaxBatch(2))) {
            List<SefClassifier.ImageResult> results =
                    classifier.predictEach(List.of(bird, broken, finch, dir.resolve("gone.png")));
            assertEquals(4, results.size());
            assertEquals(classifier.predict(bird), results.get(0).predictions());
            assertEquals(classifier.predict(finch), results.get(2).predictions());
            assertEquals(
                    broken.toString(), ((ImageDecodeException) results.get(1).error()).source());
            assertTrue(
                    results.get(3).error().getMessage().endsWith("file does not exist"),
                    results.get(3).error().getMessage());
            assertEquals(
                    List.of(true, false, true, false),
                    results.stream().map(SefClassifier.ImageResult::ok).toList());
            // the whole-batch form keeps failing on the first bad image
            assertThrows(ImageDecodeException.class, () -> classifier.predictBatch(List.of(bird, broken)));
            assertEquals(2, classifier.predictBatch(List.of(bird, finch)).size());
        }
    }
}
