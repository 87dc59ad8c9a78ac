package org.sefonnx.infer;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtProvider;
import ai.onnxruntime.OrtSession;
import java.nio.FloatBuffer;
import java.nio.file.Path;
import java.util.Set;

/**
 * The official ORT API for one export's model files: a session opened on the options' device and threads and checked
 * against the export ({@link ExportDirectory#checkModel}), and an output of a run read back as rows.
 */
final class OrtSessions {
    private OrtSessions() {}

    /** A session and what it read of its model file (input, outputs, recorded group split), checked against the export. */
    record Checked(OrtSession session, ExportDirectory.Signature signature) {}

    /**
     * Opens {@code modelFile} and checks its inputs, outputs and metadata against {@code export}; a file ORT cannot
     * load, or one that disagrees, is an {@link InvalidExportException} naming it (the session is closed then).
     */
    static Checked open(ExportDirectory export, Path modelFile, SefClassifier.Options options) {
        OrtSession session;
        try (OrtSession.SessionOptions sessionOptions = sessionOptions(options)) {
            session = OrtEnvironment.getEnvironment().createSession(modelFile.toString(), sessionOptions);
        } catch (OrtException e) {
            throw new InvalidExportException(modelFile, "ONNX Runtime cannot load it: " + e.getMessage(), e);
        }
        try {
            return new Checked(
                    session,
                    export.checkModel(
                            modelFile,
                            session.getInputInfo(),
                            session.getOutputInfo(),
                            session.getMetadata().getCustomMetadata()));
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

    private static OrtSession.SessionOptions sessionOptions(SefClassifier.Options options) throws OrtException {
        OrtSession.SessionOptions so = new OrtSession.SessionOptions();
        try {
            so.setOptimizationLevel(OrtSession.SessionOptions.OptLevel.ALL_OPT);
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
