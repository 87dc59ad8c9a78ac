package org.sefonnx.infer;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentLinkedDeque;
import java.util.concurrent.locks.ReentrantReadWriteLock;
import org.sefonnx.contract.ExportLayout;
import org.sefonnx.contract.Int8Model;
import org.sefonnx.contract.TensorNames;
import org.sefonnx.imaging.ImageDecodeException;
import org.sefonnx.imaging.ImageDecoder;
import org.sefonnx.imaging.PreprocessingSpec;

/**
 * A trained SEF model served from an export directory ({@link ExportLayout}) on the official ONNX Runtime Java API:
 * images in, ranked labels out, and with {@link #explain} what each channel group looked at. The predictor of DJL's
 * split: {@link ExportDirectory} checks the export, {@link ImageTranslator} brings images into the model and its
 * outputs back, {@link GroupExplainer} makes explanations; this class owns the session and the batching.
 *
 * <p>Thread-safe: concurrent callers share one {@link OrtSession} (ORT's Run is safe to call concurrently) and borrow
 * a decoder and an input buffer each from a pool. {@link #close()} waits for the calls in flight (releasing the
 * session under a running call crashes ORT natively); calls after it fail with an IllegalStateException saying so.
 */
public final class SefClassifier implements AutoCloseable {
    /** Where the session runs. */
    public enum Device {
        CPU,
        CUDA
    }

    /**
     * How to open a classifier.
     *
     * @param device         CPU, or CUDA (needs the onnxruntime_gpu jar and CUDA on the host)
     * @param cudaDeviceId   which GPU when {@code device} is CUDA
     * @param intraOpThreads threads one inference may use; 0 lets ORT choose (one per physical core)
     * @param topK           predictions returned per image by default
     * @param maxBatch       images per ORT run in {@link #predictBatch}, {@link #predictEach}, {@link #predictImages}
     * @param verifyManifest check every file against the export's SHA256SUMS before loading (true); false for an export
     *                       edited on purpose
     */
    public record Options(
            Device device, int cudaDeviceId, int intraOpThreads, int topK, int maxBatch, boolean verifyManifest) {
        public static final int DEFAULT_TOP_K = 5;
        public static final int DEFAULT_MAX_BATCH = 32;

        public Options {
            if (intraOpThreads < 0)
                throw new IllegalArgumentException("intraOpThreads must be >= 0, got " + intraOpThreads);
            if (topK < 1) throw new IllegalArgumentException("topK must be >= 1, got " + topK);
            if (maxBatch < 1) throw new IllegalArgumentException("maxBatch must be >= 1, got " + maxBatch);
            if (cudaDeviceId < 0) throw new IllegalArgumentException("cudaDeviceId must be >= 0, got " + cudaDeviceId);
        }

        /** CPU, ORT's thread count, top 5, batches of 32, the manifest verified. */
        public static Options defaults() {
            return new Options(Device.CPU, 0, 0, DEFAULT_TOP_K, DEFAULT_MAX_BATCH, true);
        }

        public Options withDevice(Device newDevice) {
            return new Options(newDevice, cudaDeviceId, intraOpThreads, topK, maxBatch, verifyManifest);
        }

        public Options withCuda(int deviceId) {
            return new Options(Device.CUDA, deviceId, intraOpThreads, topK, maxBatch, verifyManifest);
        }

        public Options withIntraOpThreads(int threads) {
            return new Options(device, cudaDeviceId, threads, topK, maxBatch, verifyManifest);
        }

        public Options withTopK(int k) {
            return new Options(device, cudaDeviceId, intraOpThreads, k, maxBatch, verifyManifest);
        }

        public Options withMaxBatch(int batch) {
            return new Options(device, cudaDeviceId, intraOpThreads, topK, batch, verifyManifest);
        }

        public Options withVerifyManifest(boolean verify) {
            return new Options(device, cudaDeviceId, intraOpThreads, topK, maxBatch, verify);
        }
    }

    /**
     * One image's outcome in {@link #predictEach} and {@link #predictImages}: its top-k predictions (and its logits
     * when asked for), or why it has none: an {@link ImageDecodeException} (missing, truncated or corrupt) or a
     * {@link NonFiniteOutputException} (then predictions is empty and logits null).
     *
     * @param image the image's name: its path, or the name it was given
     */
    public record ImageResult(String image, List<Prediction> predictions, float[] logits, RuntimeException error) {
        public ImageResult {
            predictions = List.copyOf(predictions);
        }

        public boolean ok() {
            return error == null;
        }
    }

    /** A decoder and a reusable direct input buffer, held by one call at a time. */
    private static final class Workspace {
        final ImageDecoder decoder;
        FloatBuffer input;

        Workspace(ImageDecoder decoder) {
            this.decoder = decoder;
        }

        FloatBuffer input(int floats) {
            if (input == null || input.capacity() < floats) {
                input = ByteBuffer.allocateDirect(floats * Float.BYTES)
                        .order(ByteOrder.nativeOrder())
                        .asFloatBuffer();
            }
            return input;
        }
    }

    private final OrtEnvironment environment = OrtEnvironment.getEnvironment();
    /** The session of model.onnx and what it read of the file. */
    private final OrtSessions.Checked model;

    private final Options options;
    private final ExportDirectory export;
    private final ImageTranslator translator;
    private final ConcurrentLinkedDeque<Workspace> workspaces = new ConcurrentLinkedDeque<>();
    private volatile boolean closed;
    /** Calls hold the read lock for their whole run; close() takes the write lock, so it waits for them. */
    private final ReentrantReadWriteLock lifecycle = new ReentrantReadWriteLock();
    /** Set under the write lock once the session is released. */
    private boolean released;
    /** Made by the first explain() call (an older export's explain_model.onnx opened then); guarded by this. */
    private GroupExplainer explainer;

    private SefClassifier(OrtSessions.Checked model, Options options, ExportDirectory export) {
        this.model = model;
        this.options = options;
        this.export = export;
        this.translator = new ImageTranslator(export.preprocessing(), export.labels());
    }

    /** Opens {@code exportDir} on the CPU with the default options. */
    public static SefClassifier open(Path exportDir) throws IOException {
        return open(exportDir, Options.defaults());
    }

    /**
     * Checks {@code exportDir} ({@link ExportDirectory#open}: files, manifest, labels, preprocessing), loads the model
     * and checks its input and outputs against the other files: input float [batch, 3, H, W] with H x W the crop of
     * preprocessing.properties, outputs [batch, K] with K labels. Any disagreement fails with an
     * {@link InvalidExportException} naming the file.
     */
    public static SefClassifier open(Path exportDir, Options options) throws IOException {
        ExportDirectory export = ExportDirectory.open(exportDir, options.verifyManifest());
        return new SefClassifier(OrtSessions.open(export, export.file(ExportLayout.MODEL), options), options, export);
    }

    // ---- what the classifier is ------------------------------------------------------------------------------------

    /** Class names in index order. */
    public List<String> labels() {
        return export.labels();
    }

    public int numClasses() {
        return export.labels().size();
    }

    /** The model id recorded in preprocessing.properties. */
    public String modelId() {
        return export.preprocessing().modelId();
    }

    /**
     * The model's precision as its export records it: {@value Int8Model#FP32}, or {@value Int8Model#INT8} for an
     * export whose convolutions were checked to run as ONNX Runtime's integer kernels when it was opened.
     */
    public String precision() {
        return model.precision();
    }

    /** The evaluation transform every image goes through. */
    public PreprocessingSpec preprocessing() {
        return export.preprocessing();
    }

    /** The export directory it was opened from, as checked. */
    public ExportDirectory export() {
        return export;
    }

    public Options options() {
        return options;
    }

    // ---- predictions -----------------------------------------------------------------------------------------------

    /** The top {@link Options#topK} classes of an image file (JPEG, PNG or another ImageIO format), best first. */
    public List<Prediction> predict(Path image) {
        return one(ImageInput.of(image), false).predictions();
    }

    /** The same for encoded image bytes. */
    public List<Prediction> predict(byte[] encoded) {
        return one(ImageInput.of(encoded, "image bytes"), false).predictions();
    }

    /** The same for a decoded image (converted as a decoded file would be; the image is not modified). */
    public List<Prediction> predict(BufferedImage image) {
        return one(ImageInput.of(image, "image"), false).predictions();
    }

    /**
     * Predictions for many files, in order, run in batches of {@link Options#maxBatch}; the first bad image or
     * non-finite output fails the call ({@link #predictEach} gives every image its own outcome).
     */
    public List<List<Prediction>> predictBatch(List<Path> images) {
        List<List<Prediction>> all = new ArrayList<>(images.size());
        for (ImageResult r : inBatches(files(images), false, true)) all.add(r.predictions());
        return all;
    }

    /**
     * Predictions for many files, in order, with an outcome per image: a missing, truncated or corrupt file, or one the
     * model gives non-finite scores, gets its error and the others are still classified (in batches of
     * {@link Options#maxBatch}).
     */
    public List<ImageResult> predictEach(List<Path> images) {
        return inBatches(files(images), false, false);
    }

    /**
     * {@link #predictEach} for any images (files, encoded bytes, decoded pictures): each decoded once, by the export's
     * EXIF rule; with {@code withLogits} each good result also carries the image's logits (from the same run).
     */
    public List<ImageResult> predictImages(List<? extends ImageInput> images, boolean withLogits) {
        return inBatches(images, withLogits, false);
    }

    /** The raw logits [K] of one image file, for validation against reference outputs. */
    public float[] logits(Path image) {
        return one(ImageInput.of(image), true).logits();
    }

    public float[] logits(byte[] encoded) {
        return one(ImageInput.of(encoded, "image bytes"), true).logits();
    }

    public float[] logits(BufferedImage image) {
        return one(ImageInput.of(image, "image"), true).logits();
    }

    /** Logits [n][K] of already preprocessed images: {@code n x 3 x H x W} floats, NCHW (not checked for finiteness). */
    public float[][] logitsOfPreprocessed(float[] nchw) {
        int per = translator.floatsPerImage();
        if (nchw.length == 0 || nchw.length % per != 0) {
            throw new IllegalArgumentException(
                    nchw.length + " floats is not a whole number of " + per + "-float images");
        }
        int batch = nchw.length / per;
        enter();
        Workspace workspace = borrow();
        try {
            FloatBuffer input = workspace.input(nchw.length).put(0, nchw);
            try (OrtSession.Result result = run(model.session(), input, batch, List.of(TensorNames.LOGITS))) {
                return OrtSessions.rows(result, TensorNames.LOGITS, batch);
            }
        } finally {
            release(workspace);
        }
    }

    private static List<ImageInput> files(List<Path> images) {
        return images.stream().map(ImageInput::of).toList();
    }

    private ImageResult one(ImageInput image, boolean withLogits) {
        return classify(List.of(image), withLogits, true).get(0);
    }

    private List<ImageResult> inBatches(List<? extends ImageInput> images, boolean withLogits, boolean failFast) {
        List<ImageResult> all = new ArrayList<>(images.size());
        for (int from = 0; from < images.size(); from += options.maxBatch()) {
            all.addAll(classify(
                    images.subList(from, Math.min(images.size(), from + options.maxBatch())), withLogits, failFast));
        }
        return all;
    }

    /**
     * One ORT run over {@code images}, each decoded once: a bad image or a non-finite row gets its error and the rest
     * their results ({@code failFast}: the first error is thrown instead).
     */
    private List<ImageResult> classify(List<? extends ImageInput> images, boolean withLogits, boolean failFast) {
        if (images.isEmpty()) return List.of();
        enter();
        Workspace workspace = borrow();
        try {
            FloatBuffer input = workspace.input(images.size() * translator.floatsPerImage());
            ImageResult[] results = new ImageResult[images.size()];
            int[] slot = new int[images.size()];
            int decoded = 0;
            for (int i = 0; i < images.size(); i++) {
                try {
                    translator.processInput(images.get(i), workspace.decoder, input, decoded);
                    slot[i] = decoded++;
                } catch (ImageDecodeException e) {
                    if (failFast) throw e;
                    results[i] = new ImageResult(images.get(i).name(), List.of(), null, e);
                    slot[i] = -1;
                }
            }
            if (decoded == 0) return Arrays.asList(results);
            try (OrtSession.Result result = run(model.session(), input, decoded, ExportLayout.PREDICTION_OUTPUTS)) {
                float[][] logits = OrtSessions.rows(result, TensorNames.LOGITS, decoded);
                float[][] probabilities = OrtSessions.rows(result, TensorNames.PROBABILITIES, decoded);
                for (int i = 0; i < images.size(); i++) {
                    if (slot[i] < 0) continue;
                    results[i] = translator.processOutput(
                            images.get(i).name(),
                            modelId(),
                            logits[slot[i]],
                            probabilities[slot[i]],
                            options.topK(),
                            withLogits);
                    if (failFast && !results[i].ok()) throw results[i].error();
                }
            }
            return Arrays.asList(results);
        } finally {
            release(workspace);
        }
    }

    // ---- explanations ----------------------------------------------------------------------------------------------

    /** {@link #explain(BufferedImage)} of an image file, decoded by the export's EXIF rule. */
    public Explanation explain(Path image) {
        return explain(ImageInput.of(image));
    }

    /**
     * The global top-k, each group's activation map and each group head's top-1 for one image, from the explain
     * outputs of model.onnx (an older export's explain_model.onnx; an export without either is refused naming
     * model.onnx). The group split is the one the export records, or for older exports SEF's: C / G channels each, the
     * last group also takes the remainder.
     */
    public Explanation explain(BufferedImage image) {
        return explain(ImageInput.of(image, "image"));
    }

    private Explanation explain(ImageInput image) {
        enter();
        Workspace workspace = borrow();
        try {
            GroupExplainer groups = explainer();
            FloatBuffer input = workspace.input(translator.floatsPerImage());
            translator.processInput(image, workspace.decoder, input, 0);
            try (OrtSession.Result result = run(groups.session(), input, 1, ExportLayout.MODEL_OUTPUTS)) {
                return groups.explain(image.name(), modelId(), result, options.topK());
            }
        } finally {
            release(workspace);
        }
    }

    private synchronized GroupExplainer explainer() {
        if (explainer == null) explainer = GroupExplainer.open(export, model, options, translator);
        return explainer;
    }

    // ---- the session -----------------------------------------------------------------------------------------------

    /** Runs {@code batch} images of {@code input} through {@code on}, fetching {@code outputs}; the caller closes the result. */
    private OrtSession.Result run(OrtSession on, FloatBuffer input, int batch, List<String> outputs) {
        FloatBuffer view = input.duplicate()
                .position(0)
                .limit(batch * translator.floatsPerImage())
                .slice();
        try (OnnxTensor tensor = OnnxTensor.createTensor(environment, view, translator.inputShape(batch))) {
            return on.run(Map.of(ExportLayout.MODEL_INPUT, tensor), Set.copyOf(outputs));
        } catch (OrtException e) {
            throw new IllegalStateException(
                    "ONNX Runtime failed on a batch of " + batch + " for model " + modelId() + ": " + e.getMessage(),
                    e);
        }
    }

    /** Admits a call, or refuses it once close() has begun. */
    private void enter() {
        lifecycle.readLock().lock();
        if (closed) {
            lifecycle.readLock().unlock();
            throw new IllegalStateException(
                    "this SefClassifier (model " + modelId() + ") is closed; open a new one with SefClassifier.open");
        }
    }

    private Workspace borrow() {
        Workspace w = workspaces.poll();
        return w != null ? w : new Workspace(translator.newDecoder());
    }

    private void release(Workspace workspace) {
        workspaces.push(workspace);
        lifecycle.readLock().unlock();
    }

    /**
     * Waits for the calls in flight, then releases the ORT sessions and the pooled decoders; the shared ORT environment
     * stays. Calls that start after close() began fail with an IllegalStateException.
     */
    @Override
    public void close() {
        closed = true; // new calls are refused from here on, while the write lock waits for those already running
        lifecycle.writeLock().lock();
        try {
            if (released) return;
            released = true;
            for (Workspace w; (w = workspaces.poll()) != null; ) w.decoder.close();
            model.session().close();
            synchronized (this) {
                if (explainer != null) explainer.close();
            }
        } catch (OrtException e) {
            throw new IllegalStateException(
                    "closing the ONNX Runtime session of " + modelId() + ": " + e.getMessage(), e);
        } finally {
            lifecycle.writeLock().unlock();
        }
    }
}
