package org.sefonnx.infer;

import ai.onnxruntime.NodeInfo;
import ai.onnxruntime.OnnxJavaType;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OnnxValue;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtProvider;
import ai.onnxruntime.OrtSession;
import ai.onnxruntime.TensorInfo;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentLinkedDeque;
import org.sefonnx.contract.ExportLayout;
import org.sefonnx.contract.LabelFile;
import org.sefonnx.contract.TensorNames;
import org.sefonnx.imaging.ImageDecodeException;
import org.sefonnx.imaging.ImageDecoder;
import org.sefonnx.imaging.PreprocessingSpec;
import org.sefonnx.imaging.Preprocessor;
import org.sefonnx.imaging.RgbImage;

/**
 * A trained SEF model served from an export directory ({@value ExportLayout#MODEL}, {@value ExportLayout#LABELS},
 * {@value ExportLayout#PREPROCESSING}) on the official ONNX Runtime Java API: the backbone and global head only,
 * images in, ranked labels out.
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
     * @param maxBatch       images per ORT run in {@link #predictBatch}
     */
    public record Options(Device device, int cudaDeviceId, int intraOpThreads, int topK, int maxBatch) {
        public static final int DEFAULT_TOP_K = 5;
        public static final int DEFAULT_MAX_BATCH = 32;

        public Options {
            if (intraOpThreads < 0)
                throw new IllegalArgumentException("intraOpThreads must be >= 0, got " + intraOpThreads);
            if (topK < 1) throw new IllegalArgumentException("topK must be >= 1, got " + topK);
            if (maxBatch < 1) throw new IllegalArgumentException("maxBatch must be >= 1, got " + maxBatch);
            if (cudaDeviceId < 0) throw new IllegalArgumentException("cudaDeviceId must be >= 0, got " + cudaDeviceId);
        }

        /** CPU, ORT's thread count, top 5, batches of 32. */
        public static Options defaults() {
            return new Options(Device.CPU, 0, 0, DEFAULT_TOP_K, DEFAULT_MAX_BATCH);
        }

        public Options withDevice(Device newDevice) {
            return new Options(newDevice, cudaDeviceId, intraOpThreads, topK, maxBatch);
        }

        public Options withCuda(int deviceId) {
            return new Options(Device.CUDA, deviceId, intraOpThreads, topK, maxBatch);
        }

        public Options withIntraOpThreads(int threads) {
            return new Options(device, cudaDeviceId, threads, topK, maxBatch);
        }

        public Options withTopK(int k) {
            return new Options(device, cudaDeviceId, intraOpThreads, k, maxBatch);
        }

        public Options withMaxBatch(int batch) {
            return new Options(device, cudaDeviceId, intraOpThreads, topK, batch);
        }
    }

    /** A decoder and a reusable direct input buffer, held by one call at a time. */
    private static final class Workspace {
        final ImageDecoder decoder;

        Workspace(boolean applyExifOrientation) {
            decoder = new ImageDecoder(applyExifOrientation);
        }

        FloatBuffer input;

        FloatBuffer input(int floats) {
            if (input == null || input.capacity() < floats) {
                input = ByteBuffer.allocateDirect(floats * Float.BYTES)
                        .order(ByteOrder.nativeOrder())
                        .asFloatBuffer();
            }
            return input;
        }
    }

    private final OrtEnvironment environment;
    private final OrtSession session;
    private final Options options;
    private final PreprocessingSpec preprocessing;
    private final Preprocessor preprocessor;
    private final List<String> labels;
    private final Set<String> outputNames = Set.copyOf(ExportLayout.MODEL_OUTPUTS);
    private final ConcurrentLinkedDeque<Workspace> workspaces = new ConcurrentLinkedDeque<>();
    private volatile boolean closed;
    /** Calls hold the read lock for their whole run; close() takes the write lock, so it waits for them. */
    private final java.util.concurrent.locks.ReentrantReadWriteLock lifecycle =
            new java.util.concurrent.locks.ReentrantReadWriteLock();
    /** Set under the write lock once the session is released. */
    private boolean released;
    /** The explain model's session, opened by the first explain() call and closed with the classifier. */
    private OrtSession explainSession;

    private Path exportDir;

    private SefClassifier(
            OrtEnvironment environment,
            OrtSession session,
            Options options,
            PreprocessingSpec preprocessing,
            List<String> labels) {
        this.environment = environment;
        this.session = session;
        this.options = options;
        this.preprocessing = preprocessing;
        this.preprocessor = new Preprocessor(preprocessing);
        this.labels = labels;
    }

    /** Opens {@code exportDir} on the CPU with the default options. */
    public static SefClassifier open(Path exportDir) throws IOException {
        return open(exportDir, Options.defaults());
    }

    /**
     * Loads and cross-checks the three files of {@code exportDir}: the model's input must be float [batch, 3, H, W]
     * with H x W the crop of preprocessing.properties, its two outputs [batch, K], labels.txt K lines, and the
     * properties' numClasses K. Any disagreement fails with an {@link InvalidExportException} naming the file.
     */
    public static SefClassifier open(Path exportDir, Options options) throws IOException {
        Path modelFile = exportDir.resolve(ExportLayout.MODEL);
        Path labelsFile = exportDir.resolve(ExportLayout.LABELS);
        Path preprocessingFile = exportDir.resolve(ExportLayout.PREPROCESSING);
        for (Path required : List.of(modelFile, labelsFile, preprocessingFile)) {
            if (!Files.isRegularFile(required)) {
                throw new InvalidExportException(
                        required,
                        "missing; an export directory holds " + ExportLayout.MODEL + ", " + ExportLayout.LABELS
                                + " and " + ExportLayout.PREPROCESSING);
            }
            if (!Files.isReadable(required)) {
                throw new InvalidExportException(
                        required,
                        "is not readable by this user (permission denied): make it readable "
                                + "(chmod a+r) or run as its owner");
            }
        }
        PreprocessingSpec spec;
        try {
            spec = PreprocessingSpec.read(preprocessingFile);
        } catch (IllegalArgumentException e) {
            String prefix = preprocessingFile + ": ";
            String problem =
                    e.getMessage().startsWith(prefix) ? e.getMessage().substring(prefix.length()) : e.getMessage();
            throw new InvalidExportException(preprocessingFile, problem, e);
        }
        List<String> labels = readLabels(labelsFile);

        OrtEnvironment environment = OrtEnvironment.getEnvironment();
        OrtSession session;
        try (OrtSession.SessionOptions sessionOptions = sessionOptions(options)) {
            session = environment.createSession(modelFile.toString(), sessionOptions);
        } catch (OrtException e) {
            throw new InvalidExportException(modelFile, "ONNX Runtime cannot load it: " + e.getMessage(), e);
        }
        try {
            int classes = checkModel(session, modelFile, spec);
            if (labels.size() != classes) {
                throw new InvalidExportException(
                        labelsFile,
                        labels.size() + " labels, but output '" + TensorNames.LOGITS + "' of " + ExportLayout.MODEL
                                + " has " + classes + " classes (one label per line, in class-index order)");
            }
            if (spec.numClasses() != classes) {
                throw new InvalidExportException(
                        preprocessingFile,
                        "numClasses is " + spec.numClasses() + ", but output '" + TensorNames.LOGITS + "' of "
                                + ExportLayout.MODEL + " has " + classes + " classes");
            }
            SefClassifier classifier = new SefClassifier(environment, session, options, spec, labels);
            classifier.exportDir = exportDir;
            return classifier;
        } catch (RuntimeException | OrtException e) {
            try {
                session.close();
            } catch (OrtException suppressed) {
                e.addSuppressed(suppressed);
            }
            if (e instanceof OrtException ortException) {
                throw new InvalidExportException(
                        modelFile, "cannot read its inputs and outputs: " + ortException.getMessage(), e);
            }
            throw (RuntimeException) e;
        }
    }

    private static OrtSession.SessionOptions sessionOptions(Options options) throws OrtException {
        OrtSession.SessionOptions so = new OrtSession.SessionOptions();
        try {
            so.setOptimizationLevel(OrtSession.SessionOptions.OptLevel.ALL_OPT);
            if (options.intraOpThreads() > 0) so.setIntraOpNumThreads(options.intraOpThreads());
            if (options.device() == Device.CUDA) {
                Set<OrtProvider> available = OrtEnvironment.getAvailableProviders();
                if (!available.contains(OrtProvider.CUDA)) {
                    throw new IllegalStateException("CUDA was requested, but this ONNX Runtime has only " + available
                            + ": depend on com.microsoft.onnxruntime:onnxruntime_gpu instead of onnxruntime (README, "
                            + "\"Embedding the classifier\"), or use Device.CPU");
                }
                try {
                    so.addCUDA(options.cudaDeviceId());
                } catch (OrtException e) {
                    throw new IllegalStateException(
                            "CUDA device " + options.cudaDeviceId() + " could not be used (are the CUDA "
                                    + "and cuDNN libraries that onnxruntime_gpu needs on the library path?): "
                                    + e.getMessage(),
                            e);
                }
            }
            return so;
        } catch (RuntimeException | OrtException e) {
            so.close();
            throw e;
        }
    }

    private static List<String> readLabels(Path file) throws IOException {
        try {
            return LabelFile.read(file);
        } catch (LabelFile.FormatException e) {
            throw new InvalidExportException(e.file(), e.problem(), e);
        }
    }

    /** Checks the model's input and outputs against the contract; returns K. */
    private static int checkModel(OrtSession session, Path modelFile, PreprocessingSpec spec) throws OrtException {
        Map<String, NodeInfo> inputs = session.getInputInfo();
        NodeInfo input = inputs.get(ExportLayout.MODEL_INPUT);
        if (input == null || inputs.size() != 1) {
            throw new InvalidExportException(
                    modelFile,
                    "inputs are " + inputs.keySet() + ", expected exactly ['" + ExportLayout.MODEL_INPUT
                            + "'] (float [batch, 3, H, W])");
        }
        long[] inputShape = floatTensorShape(modelFile, input);
        long[] expected = {-1, 3, spec.cropHeight(), spec.cropWidth()};
        if (inputShape.length != 4
                || inputShape[1] != 3
                || !fits(inputShape[2], expected[2])
                || !fits(inputShape[3], expected[3])) {
            throw new InvalidExportException(
                    modelFile,
                    "input '" + ExportLayout.MODEL_INPUT + "' has shape " + Arrays.toString(inputShape)
                            + ", but " + ExportLayout.PREPROCESSING + " crops to " + spec.cropWidth() + "x"
                            + spec.cropHeight()
                            + ": expected [batch, 3, " + spec.cropHeight() + ", " + spec.cropWidth() + "]");
        }
        Map<String, NodeInfo> outputs = session.getOutputInfo();
        long classes = -1;
        for (String name : ExportLayout.MODEL_OUTPUTS) {
            NodeInfo output = outputs.get(name);
            if (output == null) {
                throw new InvalidExportException(
                        modelFile, "has no output '" + name + "' (outputs: " + outputs.keySet() + ")");
            }
            long[] shape = floatTensorShape(modelFile, output);
            if (shape.length != 2 || shape[1] < 1 || (classes != -1 && shape[1] != classes)) {
                throw new InvalidExportException(
                        modelFile,
                        "output '" + name + "' has shape " + Arrays.toString(shape)
                                + ", expected [batch, K] with K fixed and equal for logits and probabilities");
            }
            classes = shape[1];
        }
        return Math.toIntExact(classes);
    }

    private static boolean fits(long modelDim, long wanted) {
        return modelDim < 0 || modelDim == wanted;
    }

    private static long[] floatTensorShape(Path modelFile, NodeInfo node) {
        if (!(node.getInfo() instanceof TensorInfo tensor) || tensor.type != OnnxJavaType.FLOAT) {
            throw new InvalidExportException(
                    modelFile, "'" + node.getName() + "' is " + node.getInfo() + ", expected a float tensor");
        }
        return tensor.getShape();
    }

    // ---- what the classifier is ------------------------------------------------------------------------------------

    /** Class names in index order. */
    public List<String> labels() {
        return labels;
    }

    public int numClasses() {
        return labels.size();
    }

    /** The model id recorded in preprocessing.properties. */
    public String modelId() {
        return preprocessing.modelId();
    }

    /** The evaluation transform every image goes through. */
    public PreprocessingSpec preprocessing() {
        return preprocessing;
    }

    public Options options() {
        return options;
    }

    // ---- predictions
    // -------------------------------------------------------------------------------------------------

    /** The top {@link Options#topK} classes of an image file (JPEG, PNG or another ImageIO format), best first. */
    public List<Prediction> predict(Path image) {
        return topK(probabilities(List.of(image), SefClassifier::decode)[0]);
    }

    /** The same for encoded image bytes. */
    public List<Prediction> predict(byte[] encoded) {
        return topK(probabilities(List.of(encoded), SefClassifier::decode)[0]);
    }

    /** The same for a decoded image (converted as a decoded file would be; the image is not modified). */
    public List<Prediction> predict(BufferedImage image) {
        return topK(probabilities(List.of(image), SefClassifier::convert)[0]);
    }

    /** Predictions for many files, in order, run in batches of {@link Options#maxBatch}. */
    public List<List<Prediction>> predictBatch(List<Path> images) {
        List<List<Prediction>> all = new ArrayList<>(images.size());
        for (int from = 0; from < images.size(); from += options.maxBatch()) {
            List<Path> chunk = images.subList(from, Math.min(images.size(), from + options.maxBatch()));
            for (float[] row : probabilities(chunk, SefClassifier::decode)) all.add(topK(row));
        }
        return all;
    }

    /** One image's outcome in {@link #predictEach}: its predictions, or why it could not be read (then predictions is empty). */
    public record ImageResult(Path image, List<Prediction> predictions, ImageDecodeException error) {
        public ImageResult {
            predictions = List.copyOf(predictions);
        }

        public boolean ok() {
            return error == null;
        }
    }

    /**
     * Predictions for many files, in order, with a result per image: a missing, truncated or corrupt file gets its
     * error and the others are still classified (in batches of {@link Options#maxBatch}).
     */
    public List<ImageResult> predictEach(List<Path> images) {
        List<ImageResult> all = new ArrayList<>(images.size());
        for (int from = 0; from < images.size(); from += options.maxBatch()) {
            List<Path> chunk = images.subList(from, Math.min(images.size(), from + options.maxBatch()));
            ImageDecodeException[] errors = new ImageDecodeException[chunk.size()];
            float[][] rows = run(chunk, SefClassifier::decode, TensorNames.PROBABILITIES, errors);
            for (int i = 0; i < chunk.size(); i++) {
                all.add(
                        errors[i] != null
                                ? new ImageResult(chunk.get(i), List.of(), errors[i])
                                : new ImageResult(chunk.get(i), topK(rows[i]), null));
            }
        }
        return all;
    }

    /** The raw logits [K] of one image file, for validation against reference outputs. */
    public float[] logits(Path image) {
        return run(List.of(image), SefClassifier::decode, TensorNames.LOGITS)[0];
    }

    public float[] logits(byte[] encoded) {
        return run(List.of(encoded), SefClassifier::decode, TensorNames.LOGITS)[0];
    }

    public float[] logits(BufferedImage image) {
        return run(List.of(image), SefClassifier::convert, TensorNames.LOGITS)[0];
    }

    /** Logits [n][K] of already preprocessed images: {@code n x 3 x H x W} floats, NCHW. */
    public float[][] logitsOfPreprocessed(float[] nchw) {
        int per = preprocessor.floatsPerImage();
        if (nchw.length == 0 || nchw.length % per != 0) {
            throw new IllegalArgumentException(
                    nchw.length + " floats is not a whole number of " + per + "-float images");
        }
        return runPreprocessed(nchw.length / per, buffer -> buffer.put(0, nchw), TensorNames.LOGITS);
    }

    private float[][] probabilities(List<?> images, Decode decode) {
        return run(images, decode, TensorNames.PROBABILITIES);
    }

    private static RgbImage decode(Object source, ImageDecoder decoder) {
        return source instanceof Path file ? decoder.decode(file) : decoder.decode((byte[]) source, "image bytes");
    }

    private static RgbImage convert(Object image, ImageDecoder unused) {
        return ImageDecoder.fromBufferedImage((BufferedImage) image);
    }

    private interface Fill {
        void into(FloatBuffer input);
    }

    private interface Decode {
        RgbImage apply(Object source, ImageDecoder decoder);
    }

    private float[][] run(List<?> images, Decode decode, String output) {
        return run(images, decode, output, null);
    }

    /** {@code errors} null: a bad image fails the call; else its error is stored there, its row is null and the rest run. */
    private float[][] run(List<?> images, Decode decode, String output, ImageDecodeException[] errors) {
        if (images.isEmpty()) return new float[0][];
        enter();
        Workspace workspace = borrow();
        try {
            int per = preprocessor.floatsPerImage();
            FloatBuffer input = workspace.input(images.size() * per);
            int[] row = new int[images.size()];
            int decoded = 0;
            for (int i = 0; i < images.size(); i++) {
                try {
                    preprocessor.apply(decode.apply(images.get(i), workspace.decoder), input, decoded * per);
                    row[i] = decoded++;
                } catch (ImageDecodeException e) {
                    if (errors == null) throw e;
                    errors[i] = e;
                    row[i] = -1;
                }
            }
            float[][] rows = decoded == 0 ? new float[0][] : infer(input, decoded, output);
            float[][] all = new float[images.size()][];
            for (int i = 0; i < all.length; i++) all[i] = row[i] < 0 ? null : rows[row[i]];
            return all;
        } finally {
            workspaces.push(workspace);
            exit();
        }
    }

    private float[][] runPreprocessed(int batch, Fill fill, String output) {
        enter();
        Workspace workspace = borrow();
        try {
            FloatBuffer input = workspace.input(batch * preprocessor.floatsPerImage());
            fill.into(input);
            return infer(input, batch, output);
        } finally {
            workspaces.push(workspace);
            exit();
        }
    }

    /** {@link #explain(BufferedImage)} of an image file. */
    public Explanation explain(Path image) {
        return explain(image, SefClassifier::decode);
    }

    /**
     * The global top-k, each group's activation map and each group head's top-1 for one image, from the export's
     * {@value ExportLayout#EXPLAIN_MODEL} (written by sef-onnx export next to model.onnx; an export without it is refused
     * naming the file). The group split is SEF's: C / G channels each, the last group also takes the remainder.
     */
    public Explanation explain(BufferedImage image) {
        return explain(image, SefClassifier::convert);
    }

    private Explanation explain(Object image, Decode decode) {
        enter();
        Workspace workspace = borrow();
        try {
            OrtSession explainer = explainSession();
            int per = preprocessor.floatsPerImage();
            FloatBuffer input = workspace.input(per);
            preprocessor.apply(decode.apply(image, workspace.decoder), input, 0);
            long[] shape = {1, 3, preprocessing.cropHeight(), preprocessing.cropWidth()};
            FloatBuffer view = input.duplicate().position(0).limit(per).slice();
            try (OnnxTensor tensor = OnnxTensor.createTensor(environment, view, shape);
                    OrtSession.Result result = explainer.run(
                            Map.of(ExportLayout.MODEL_INPUT, tensor),
                            Set.of(TensorNames.PROBABILITIES, TensorNames.FEATURE_MAP, TensorNames.GROUP_LOGITS))) {
                float[] probabilities = floats(result, TensorNames.PROBABILITIES);
                OnnxTensor features =
                        (OnnxTensor) result.get(TensorNames.FEATURE_MAP).orElseThrow();
                long[] fs = features.getInfo().getShape();
                int c = (int) fs[1], h = (int) fs[2], w = (int) fs[3], cells = h * w;
                float[] map = floats(result, TensorNames.FEATURE_MAP),
                        groupLogits = floats(result, TensorNames.GROUP_LOGITS);
                int k = labels.size(), groups = groupLogits.length / k;
                List<float[]> maps = new ArrayList<>();
                List<Prediction> groupPredictions = new ArrayList<>();
                for (int g = 0; g < groups; g++) {
                    int start = g * (c / groups), count = g == groups - 1 ? c - start : c / groups;
                    float[] m = new float[cells];
                    for (int ch = start; ch < start + count; ch++)
                        for (int p = 0; p < cells; p++) m[p] += map[ch * cells + p];
                    for (int p = 0; p < cells; p++) m[p] /= count;
                    maps.add(m);
                    groupPredictions.add(top1(groupLogits, g * k, k));
                }
                return new Explanation(topK(probabilities), h, w, maps, groupPredictions);
            } catch (OrtException e) {
                throw new IllegalStateException(
                        "ONNX Runtime failed to explain an image for model " + modelId() + ": " + e.getMessage(), e);
            }
        } finally {
            workspaces.push(workspace);
            exit();
        }
    }

    private static float[] floats(OrtSession.Result result, String name) {
        FloatBuffer flat = ((OnnxTensor) result.get(name).orElseThrow()).getFloatBuffer();
        float[] values = new float[flat.remaining()];
        flat.get(values);
        return values;
    }

    /** Softmax of one group head's logits and its best class. */
    private Prediction top1(float[] logits, int offset, int k) {
        double max = Double.NEGATIVE_INFINITY, sum = 0;
        int best = 0;
        for (int j = 0; j < k; j++) {
            max = Math.max(max, logits[offset + j]);
            if (logits[offset + j] > logits[offset + best]) best = j;
        }
        for (int j = 0; j < k; j++) sum += Math.exp(logits[offset + j] - max);
        return new Prediction(labels.get(best), best, (float) (Math.exp(logits[offset + best] - max) / sum));
    }

    private synchronized OrtSession explainSession() {
        if (explainSession != null) return explainSession;
        Path file = exportDir.resolve(ExportLayout.EXPLAIN_MODEL);
        if (!Files.isRegularFile(file)) {
            throw new InvalidExportException(
                    file,
                    "missing: explain() needs the explain model; re-export the run with "
                            + "`sef-onnx export --run DIR` (it writes " + ExportLayout.EXPLAIN_MODEL + " next to "
                            + ExportLayout.MODEL + ")");
        }
        try (OrtSession.SessionOptions sessionOptions = sessionOptions(options)) {
            explainSession = environment.createSession(file.toString(), sessionOptions);
        } catch (OrtException e) {
            throw new InvalidExportException(file, "ONNX Runtime cannot load it: " + e.getMessage(), e);
        }
        return explainSession;
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

    private void exit() {
        lifecycle.readLock().unlock();
    }

    private Workspace borrow() {
        Workspace w = workspaces.poll();
        return w != null ? w : new Workspace(preprocessing.applyExifOrientation());
    }

    private float[][] infer(FloatBuffer input, int batch, String output) {
        long[] shape = {batch, 3, preprocessing.cropHeight(), preprocessing.cropWidth()};
        FloatBuffer view = input.duplicate()
                .position(0)
                .limit(batch * preprocessor.floatsPerImage())
                .slice();
        try (OnnxTensor tensor = OnnxTensor.createTensor(environment, view, shape);
                OrtSession.Result result = session.run(Map.of(ExportLayout.MODEL_INPUT, tensor), Set.of(output))) {
            OnnxValue value = result.get(output).orElseThrow();
            FloatBuffer flat = ((OnnxTensor) value).getFloatBuffer();
            int classes = labels.size();
            float[][] rows = new float[batch][classes];
            for (int b = 0; b < batch; b++) flat.get(b * classes, rows[b]);
            return rows;
        } catch (OrtException e) {
            throw new IllegalStateException(
                    "ONNX Runtime failed on a batch of " + batch + " for model " + modelId() + ": " + e.getMessage(),
                    e);
        }
    }

    /** The {@link Options#topK} best classes of one probability row, ties broken by the lower index. */
    private List<Prediction> topK(float[] probabilities) {
        int k = Math.min(options.topK(), probabilities.length);
        Integer[] order = new Integer[probabilities.length];
        for (int i = 0; i < order.length; i++) order[i] = i;
        Arrays.sort(
                order,
                (a, b) -> probabilities[a] != probabilities[b]
                        ? Float.compare(probabilities[b], probabilities[a])
                        : Integer.compare(a, b));
        List<Prediction> top = new ArrayList<>(k);
        for (int i = 0; i < k; i++) top.add(new Prediction(labels.get(order[i]), order[i], probabilities[order[i]]));
        return top;
    }

    /**
     * Waits for the calls in flight, then releases the ORT session and the pooled decoders; the shared ORT environment
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
            session.close();
            synchronized (this) {
                if (explainSession != null) explainSession.close();
            }
        } catch (OrtException e) {
            throw new IllegalStateException(
                    "closing the ONNX Runtime session of " + modelId() + ": " + e.getMessage(), e);
        } finally {
            lifecycle.writeLock().unlock();
        }
    }
}
