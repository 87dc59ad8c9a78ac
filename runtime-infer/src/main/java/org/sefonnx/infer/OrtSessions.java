package org.sefonnx.infer;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtLoggingLevel;
import ai.onnxruntime.OrtProvider;
import ai.onnxruntime.OrtSession;
import java.io.IOException;
import java.nio.FloatBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Set;
import org.sefonnx.contract.Int8Model;
import org.sefonnx.contract.OnnxModelScan;

/**
 * The official ORT API for one export's model files: a session opened on the options' device and threads and checked
 * against the export ({@link ExportDirectory#checkModel}), and an output of a run read back as rows.
 */
final class OrtSessions {
    private OrtSessions() {}

    /**
     * A session and what it read of its model file (input, outputs, recorded group split), checked against the export,
     * with the model's precision ({@link Int8Model#precision}).
     */
    record Checked(OrtSession session, ExportDirectory.Signature signature, String precision) {}

    /**
     * Opens {@code modelFile} and checks its inputs, outputs and metadata against {@code export}; a file ORT cannot
     * load, or one that disagrees, is an {@link InvalidExportException} naming it (the session is closed then). An
     * int8 model is opened with its optimized graph written to a temporary file, which must show the convolutions the
     * model promises as integer kernels ({@link Int8Model#checkKernels}): an int8 export ORT would run in float32 is
     * refused, not served slowly.
     */
    static Checked open(ExportDirectory export, Path modelFile, SefClassifier.Options options) {
        Map<String, String> recorded;
        try {
            recorded = OnnxModelScan.metadata(modelFile);
        } catch (IOException | IllegalArgumentException e) {
            // not a model: ONNX Runtime's own refusal below names the problem as for any export
            recorded = Map.of();
        }
        String precision = Int8Model.precision(recorded);
        if (!precision.equals(Int8Model.INT8) && !precision.equals(Int8Model.FP32)) {
            throw new InvalidExportException(
                    modelFile,
                    "metadata '" + Int8Model.PRECISION_METADATA + "' is '" + precision + "', this runtime serves "
                            + Int8Model.FP32 + " and " + Int8Model.INT8 + " models");
        }
        boolean int8 = precision.equals(Int8Model.INT8);
        if (int8 && options.device() == SefClassifier.Device.CUDA) {
            throw new IllegalArgumentException(modelFile + " is an int8 export: its integer kernels are ONNX Runtime's "
                    + "CPU provider's; serve it with Device.CPU, or open the float32 export on CUDA");
        }
        Path optimized = null;
        OrtSession session;
        try {
            if (int8) optimized = Files.createTempFile("sef-onnx-optimized-", ".onnx");
            try (OrtSession.SessionOptions sessionOptions = sessionOptions(options, optimized)) {
                session = OrtEnvironment.getEnvironment().createSession(modelFile.toString(), sessionOptions);
            } catch (OrtException e) {
                throw new InvalidExportException(modelFile, "ONNX Runtime cannot load it: " + e.getMessage(), e);
            }
            try {
                if (int8) {
                    String problem = Int8Model.checkKernels(
                            recorded, OnnxModelScan.read(optimized).operators());
                    if (problem != null) throw new InvalidExportException(modelFile, problem);
                }
            } catch (IOException | RuntimeException e) {
                close(session, e);
                if (e instanceof InvalidExportException invalid) throw invalid;
                throw new InvalidExportException(
                        modelFile, "ONNX Runtime's optimized graph of it cannot be read: " + e.getMessage(), e);
            }
        } catch (IOException e) {
            throw new java.io.UncheckedIOException("a temporary file for the optimized graph of " + modelFile, e);
        } finally {
            if (optimized != null) optimized.toFile().delete();
        }
        try {
            Map<String, String> metadata = session.getMetadata().getCustomMetadata();
            if (!Int8Model.precision(metadata).equals(precision)) {
                throw new InvalidExportException(
                        modelFile,
                        "ONNX Runtime reads precision " + Int8Model.precision(metadata) + " from its metadata, but "
                                + "the file's metadata could not be read before loading it (" + precision + ")");
            }
            return new Checked(
                    session,
                    export.checkModel(modelFile, session.getInputInfo(), session.getOutputInfo(), metadata),
                    precision);
        } catch (RuntimeException | OrtException e) {
            close(session, e);
            if (e instanceof OrtException ortException) {
                throw new InvalidExportException(
                        modelFile, "cannot read its inputs and outputs: " + ortException.getMessage(), e);
            }
            throw (RuntimeException) e;
        }
    }

    /** Closes {@code session} while {@code failure} is on its way out, keeping a close failure as suppressed. */
    static void close(OrtSession session, Throwable failure) {
        try {
            session.close();
        } catch (OrtException suppressed) {
            failure.addSuppressed(suppressed);
        }
    }

    /** The session's options; with {@code optimizedModel}, ORT writes the graph it will run there. */
    private static OrtSession.SessionOptions sessionOptions(SefClassifier.Options options, Path optimizedModel)
            throws OrtException {
        OrtSession.SessionOptions so = new OrtSession.SessionOptions();
        try {
            so.setOptimizationLevel(OrtSession.SessionOptions.OptLevel.ALL_OPT);
            if (optimizedModel != null) {
                so.setOptimizedModelFilePath(optimizedModel.toString());
                // at ALL_OPT ORT warns that a written graph may hold hardware-specific layouts: true, and the file is
                // read here, on this hardware, and deleted
                so.setSessionLogLevel(OrtLoggingLevel.ORT_LOGGING_LEVEL_ERROR);
            }
            if (options.intraOpThreads() > 0) so.setIntraOpNumThreads(options.intraOpThreads());
            if (options.device() == SefClassifier.Device.CUDA) {
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

    /** Output {@code name} of {@code result} as {@code batch} rows. */
    static float[][] rows(OrtSession.Result result, String name, int batch) {
        FloatBuffer flat = ((OnnxTensor) result.get(name).orElseThrow()).getFloatBuffer();
        int per = flat.remaining() / batch;
        float[][] rows = new float[batch][per];
        for (int b = 0; b < batch; b++) flat.get(b * per, rows[b]);
        return rows;
    }

    /** The shape of output {@code name} of {@code result}. */
    static long[] shape(OrtSession.Result result, String name) {
        return ((OnnxTensor) result.get(name).orElseThrow()).getInfo().getShape();
    }
}
