package org.sefonnx.train.ort;

import static org.bytedeco.onnxruntime.global.onnxruntime.ORT_API_VERSION;
import static org.bytedeco.onnxruntime.global.onnxruntime.ORT_LOGGING_LEVEL_ERROR;
import static org.bytedeco.onnxruntime.global.onnxruntime.ORT_LOGGING_LEVEL_WARNING;
import static org.bytedeco.onnxruntime.global.onnxruntime.OrtArenaAllocator;
import static org.bytedeco.onnxruntime.global.onnxruntime.OrtGetApiBase;
import static org.bytedeco.onnxruntime.global.onnxruntime.OrtMemTypeDefault;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;
import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.javacpp.IntPointer;
import org.bytedeco.javacpp.LongPointer;
import org.bytedeco.javacpp.Pointer;
import org.bytedeco.javacpp.PointerPointer;
import org.bytedeco.javacpp.SizeTPointer;
import org.bytedeco.onnxruntime.OrtAllocator;
import org.bytedeco.onnxruntime.OrtApi;
import org.bytedeco.onnxruntime.OrtCUDAProviderOptionsV2;
import org.bytedeco.onnxruntime.OrtCheckpointState;
import org.bytedeco.onnxruntime.OrtEnv;
import org.bytedeco.onnxruntime.OrtLoggingFunction;
import org.bytedeco.onnxruntime.OrtMemoryInfo;
import org.bytedeco.onnxruntime.OrtSession;
import org.bytedeco.onnxruntime.OrtSessionOptions;
import org.bytedeco.onnxruntime.OrtStatus;
import org.bytedeco.onnxruntime.OrtTensorTypeAndShapeInfo;
import org.bytedeco.onnxruntime.OrtTrainingApi;
import org.bytedeco.onnxruntime.OrtTrainingSession;
import org.bytedeco.onnxruntime.OrtValue;
import org.sefonnx.contract.AtomicFiles;
import org.sefonnx.generator.onnx.DType;

/**
 * The one place that touches ONNX Runtime's C API (bytedeco build, with the on-device training API): every JavaCPP
 * pointer, status and release lives here. Callers see {@link HostTensor}s, Java types, and
 * {@link OrtException}s carrying ORT's own message.
 */
public final class OrtAdapter implements AutoCloseable {
    /** Where a session runs. */
    public enum Device {
        CPU,
        CUDA
    }

    /**
     * Session settings. {@code intraOpThreads} 0 lets ORT choose. {@code cuda}: the CUDA provider's settings (cuDNN's
     * algorithm search among them). {@code profilePrefix}, when set, turns on ORT's per-node profiler; each session
     * writes {@code <prefix>_<timestamp>.json} (Chrome trace format) when it is closed. {@code optimizedModelFile}, when
     * set, is where ORT writes the graph it will run, after its optimizations (how an int8 export's kernels are checked).
     */
    public record SessionConfig(
            Device device,
            int intraOpThreads,
            int cudaDeviceId,
            boolean graphOptimizations,
            CudaOptions cuda,
            Path profilePrefix,
            Path optimizedModelFile) {
        public SessionConfig {
            if (cuda == null)
                throw new IllegalArgumentException("cuda options must not be null (use CudaOptions.defaults())");
        }

        /** A session on the CPU with {@code threads} intra-op threads and ORT's graph optimizations. */
        public static SessionConfig cpu(int threads) {
            return builder(Device.CPU).intraOpThreads(threads).build();
        }

        /**
         * A builder for {@code device}; defaults: ORT chooses the thread count (0), CUDA device 0, graph optimizations
         * on, the CUDA provider's defaults ({@link CudaOptions#defaults}), no profiler.
         */
        public static Builder builder(Device device) {
            return new Builder(device);
        }

        public Builder toBuilder() {
            return new Builder(device)
                    .intraOpThreads(intraOpThreads)
                    .cudaDeviceId(cudaDeviceId)
                    .graphOptimizations(graphOptimizations)
                    .cuda(cuda)
                    .profilePrefix(profilePrefix)
                    .optimizedModelFile(optimizedModelFile);
        }

        /** The same without ORT's graph rewrites (fusions may swap in kernels that lack a float64 version). */
        public SessionConfig withoutGraphOptimizations() {
            return toBuilder().graphOptimizations(false).build();
        }

        public SessionConfig withCuda(CudaOptions newCuda) {
            return toBuilder().cuda(newCuda).build();
        }

        public SessionConfig withProfiling(Path prefix) {
            return toBuilder().profilePrefix(prefix).build();
        }

        /** Builds a {@link SessionConfig}; see {@link #builder} for the defaults. */
        public static final class Builder {
            private final Device device;
            private int intraOpThreads;
            private int cudaDeviceId;
            private boolean graphOptimizations = true;
            private CudaOptions cuda = CudaOptions.defaults();
            private Path profilePrefix;
            private Path optimizedModelFile;

            private Builder(Device device) {
                this.device = device;
            }

            /** Intra-op threads; 0 lets ORT choose. */
            public Builder intraOpThreads(int v) {
                intraOpThreads = v;
                return this;
            }

            public Builder cudaDeviceId(int v) {
                cudaDeviceId = v;
                return this;
            }

            public Builder graphOptimizations(boolean v) {
                graphOptimizations = v;
                return this;
            }

            public Builder cuda(CudaOptions v) {
                cuda = v;
                return this;
            }
            /** Turns on ORT's per-node profiler, writing {@code <prefix>_<timestamp>.json}; null: off. */
            public Builder profilePrefix(Path v) {
                profilePrefix = v;
                return this;
            }

            /** Makes ORT write the optimized graph it will run to this file; null: not written. */
            public Builder optimizedModelFile(Path v) {
                optimizedModelFile = v;
                return this;
            }

            public SessionConfig build() {
                return new SessionConfig(
                        device,
                        intraOpThreads,
                        cudaDeviceId,
                        graphOptimizations,
                        cuda,
                        profilePrefix,
                        optimizedModelFile);
            }
        }
    }

    /**
     * CUDA provider settings for training (ORT's CUDA provider option keys). {@code convAlgorithmSearch}: how cuDNN
     * picks each convolution's algorithm on its first run (HEURISTIC: cuDNN's heuristics, the cheapest start;
     * EXHAUSTIVE: times every algorithm, slower first step, faster later ones; DEFAULT: the fixed default algorithm).
     * {@code maxWorkspace}: let cuDNN use as much workspace memory as its fastest algorithm wants (ORT's default).
     * {@code tf32}: allow TF32 tensor-core math for float32 convolutions and GEMMs (ORT's default; off for a float32
     * result that matches the CPU to rounding).
     */
    public record CudaOptions(ConvAlgorithmSearch convAlgorithmSearch, boolean maxWorkspace, boolean tf32) {
        /** cuDNN convolution algorithm search modes, spelled as ORT's {@code cudnn_conv_algo_search} values. */
        public enum ConvAlgorithmSearch {
            HEURISTIC,
            EXHAUSTIVE,
            DEFAULT
        }

        public CudaOptions {
            if (convAlgorithmSearch == null)
                throw new IllegalArgumentException("convAlgorithmSearch must be HEURISTIC, EXHAUSTIVE or DEFAULT");
        }

        /** HEURISTIC search, maximal workspace, TF32 on: what this adapter always passed, plus ORT's own defaults. */
        public static CudaOptions defaults() {
            return new CudaOptions(ConvAlgorithmSearch.HEURISTIC, true, true);
        }

        public CudaOptions withConvAlgorithmSearch(ConvAlgorithmSearch search) {
            return new CudaOptions(search, maxWorkspace, tf32);
        }

        public CudaOptions withMaxWorkspace(boolean on) {
            return new CudaOptions(convAlgorithmSearch, on, tf32);
        }

        public CudaOptions withTf32(boolean on) {
            return new CudaOptions(convAlgorithmSearch, maxWorkspace, on);
        }

        /** The key/value pairs handed to UpdateCUDAProviderOptions, in a fixed order. */
        public java.util.LinkedHashMap<String, String> providerOptions(int deviceId) {
            java.util.LinkedHashMap<String, String> m = new java.util.LinkedHashMap<>();
            m.put("device_id", Integer.toString(deviceId));
            m.put("cudnn_conv_algo_search", convAlgorithmSearch.name());
            m.put("cudnn_conv_use_max_workspace", maxWorkspace ? "1" : "0");
            m.put("use_tf32", tf32 ? "1" : "0");
            return m;
        }

        /** One line for logs: {@code cuDNN search EXHAUSTIVE, max workspace on, TF32 off}. */
        public String describe() {
            return "cuDNN conv algorithm search " + convAlgorithmSearch + ", max workspace "
                    + (maxWorkspace ? "on" : "off") + ", TF32 " + (tf32 ? "on" : "off");
        }
    }

    /** An ORT call failed: the message is ORT's. */
    public static final class OrtException extends RuntimeException {
        OrtException(String message) {
            super(message);
        }
    }

    private static final Object LOCK = new Object();
    private static OrtApi api;
    private static OrtTrainingApi trainingApi;
    /**
     * ORT's own log, warnings and errors, as plain lines: its default sink writes ANSI colour codes even into a file. A
     * static field keeps the callback reachable for the life of the process (ORT keeps one environment for all).
     */
    private static OrtLoggingFunction logger;

    private static volatile Consumer<String> logSink = System.err::println;

    private final OrtEnv env;
    private final OrtMemoryInfo cpuMemory;
    private final OrtAllocator allocator;

    private OrtAdapter(OrtEnv env, OrtMemoryInfo cpuMemory, OrtAllocator allocator) {
        this.env = env;
        this.cpuMemory = cpuMemory;
        this.allocator = allocator;
    }

    /** Loads the natives (first call: ~1.4 s to unpack them to ~/.javacpp/cache) and creates an ORT environment. */
    public static OrtAdapter create(String logId) {
        synchronized (LOCK) {
            if (api == null) {
                api = OrtGetApiBase().GetApi().call(ORT_API_VERSION);
                OrtTrainingApi t = api.GetTrainingApi().call(ORT_API_VERSION);
                if (t == null || t.isNull()) throw new OrtException("this ONNX Runtime build has no training API");
                trainingApi = t;
                logger = new OrtLoggingFunction() {
                    @Override
                    public void call(
                            Pointer param,
                            int severity,
                            BytePointer category,
                            BytePointer id,
                            BytePointer codeLocation,
                            BytePointer message) {
                        logSink.accept(logLine(
                                severity,
                                codeLocation == null || codeLocation.isNull() ? "" : codeLocation.getString(),
                                message == null || message.isNull() ? "" : message.getString()));
                    }
                };
            }
        }
        OrtEnv env = new OrtEnv();
        // ORT keeps one environment per process: its first creation's logger serves every later one, so all use this
        check(api.CreateEnvWithCustomLogger(logger, null, ORT_LOGGING_LEVEL_WARNING, logId, env), "CreateEnv");
        OrtMemoryInfo mem = new OrtMemoryInfo();
        check(api.CreateCpuMemoryInfo(OrtArenaAllocator, OrtMemTypeDefault, mem), "CreateCpuMemoryInfo");
        OrtAllocator alloc = new OrtAllocator();
        check(api.GetAllocatorWithDefaultOptions(alloc), "GetAllocatorWithDefaultOptions");
        return new OrtAdapter(env, mem, alloc);
    }

    /**
     * Sends ORT's log lines (warnings and errors) to {@code sink} instead of stderr; returns the sink it replaces, so a
     * test can restore it.
     */
    public static Consumer<String> routeLog(Consumer<String> sink) {
        Consumer<String> previous = logSink;
        logSink = sink;
        return previous;
    }

    /** One ORT log record as a line: {@code onnxruntime warning (graph.cc:126 MergeShapeInfo): message}. */
    static String logLine(int severity, String codeLocation, String message) {
        String level = switch (severity) {
            case 0 -> "verbose";
            case 1 -> "info";
            case 2 -> "warning";
            case 3 -> "error";
            default -> "fatal";
        };
        return "onnxruntime " + level + (codeLocation.isEmpty() ? "" : " (" + codeLocation + ")") + ": "
                + message.strip();
    }

    public static String version() {
        return OrtGetApiBase().GetVersionString().call().getString();
    }

    /** Execution providers compiled into the loaded natives (e.g. CPUExecutionProvider, CUDAExecutionProvider). */
    public List<String> availableProviders() {
        PointerPointer<BytePointer> names = new PointerPointer<>();
        IntPointer count = new IntPointer(1);
        check(api.GetAvailableProviders(names, count), "GetAvailableProviders");
        List<String> r = new ArrayList<>();
        for (int i = 0; i < count.get(); i++) r.add(names.getString(i));
        check(api.ReleaseAvailableProviders(names, count.get()), "ReleaseAvailableProviders");
        return r;
    }

    static void check(OrtStatus status, String what) {
        if (status != null && !status.isNull()) {
            String message = api.GetErrorMessage().call(status).getString();
            api.ReleaseStatus(status);
            throw new OrtException(what + ": " + message);
        }
    }

    private OrtSessionOptions options(SessionConfig cfg) {
        OrtSessionOptions so = new OrtSessionOptions();
        check(api.CreateSessionOptions(so), "CreateSessionOptions");
        check(api.SetIntraOpNumThreads(so, cfg.intraOpThreads()), "SetIntraOpNumThreads");
        check(api.SetInterOpNumThreads(so, 1), "SetInterOpNumThreads");
        if (!cfg.graphOptimizations())
            check(api.SetSessionGraphOptimizationLevel(so, 0), "SetSessionGraphOptimizationLevel");
        if (cfg.profilePrefix() != null)
            check(api.EnableProfiling(so, new BytePointer(cfg.profilePrefix().toString())), "EnableProfiling");
        if (cfg.optimizedModelFile() != null) {
            check(
                    api.SetOptimizedModelFilePath(
                            so, new BytePointer(cfg.optimizedModelFile().toString())),
                    "SetOptimizedModelFilePath");
            // ORT warns that a graph written at its highest level may hold hardware-specific layouts: the file is
            // read back on this machine only
            check(api.SetSessionLogSeverityLevel(so, ORT_LOGGING_LEVEL_ERROR), "SetSessionLogSeverityLevel");
        }
        if (cfg.device() == Device.CUDA) {
            OrtCUDAProviderOptionsV2 cuda = new OrtCUDAProviderOptionsV2();
            check(api.CreateCUDAProviderOptions(cuda), "CreateCUDAProviderOptions");
            try {
                java.util.Map<String, String> settings = cfg.cuda().providerOptions(cfg.cudaDeviceId());
                String[] keys = settings.keySet().toArray(new String[0]);
                String[] vals = settings.values().toArray(new String[0]);
                check(
                        api.UpdateCUDAProviderOptions(
                                cuda, new PointerPointer<>(keys), new PointerPointer<>(vals), keys.length),
                        "UpdateCUDAProviderOptions");
                check(
                        api.SessionOptionsAppendExecutionProvider_CUDA_V2(so, cuda),
                        "SessionOptionsAppendExecutionProvider_CUDA_V2");
            } finally {
                org.bytedeco.onnxruntime.global.onnxruntime.OrtRelease(cuda);
            }
        }
        return so;
    }

    // ---- tensors ------------------------------------------------------------------------------------------------

    /** Wraps a host tensor without copying; the tensor's buffer must outlive the value. */
    private OrtValue wrap(HostTensor t) {
        java.nio.Buffer b = t.directBuffer();
        Pointer data = b instanceof java.nio.FloatBuffer f ? new org.bytedeco.javacpp.FloatPointer(f) : new Pointer(b);
        OrtValue v = new OrtValue();
        long[] shape = t.shape();
        check(
                api.CreateTensorWithDataAsOrtValue(
                        cpuMemory, data, t.byteSize(), new LongPointer(shape), shape.length, t.type().onnxCode, v),
                "CreateTensorWithDataAsOrtValue");
        return v;
    }

    /** Copies an ORT-owned value into a new host tensor and releases the value. */
    private HostTensor copyOut(OrtValue v) {
        try {
            OrtTensorTypeAndShapeInfo info = new OrtTensorTypeAndShapeInfo();
            check(api.GetTensorTypeAndShape(v, info), "GetTensorTypeAndShape");
            IntPointer type = new IntPointer(1);
            SizeTPointer rank = new SizeTPointer(1);
            check(api.GetTensorElementType(info, type), "GetTensorElementType");
            check(api.GetDimensionsCount(info, rank), "GetDimensionsCount");
            long[] shape = new long[(int) rank.get()];
            check(api.GetDimensions(info, shape, shape.length), "GetDimensions");
            api.ReleaseTensorTypeAndShapeInfo(info);
            DType t = DType.ofOnnxCode(type.get());
            long bytes = HostTensor.numel(shape) * t.bytes;
            PointerPointer<Pointer> data = new PointerPointer<>(1);
            check(api.GetTensorMutableData(v, data), "GetTensorMutableData");
            ByteBuffer out = HostTensor.allocate(bytes);
            if (bytes > 0) out.put(new BytePointer(data.get(0)).capacity(bytes).asByteBuffer());
            return HostTensor.of(t, shape, out.rewind());
        } finally {
            api.ReleaseValue(v);
        }
    }

    private static PointerPointer<OrtValue> pointers(List<OrtValue> values) {
        PointerPointer<OrtValue> pp = new PointerPointer<>(Math.max(1, values.size()));
        for (int i = 0; i < values.size(); i++) pp.put(i, values.get(i));
        return pp;
    }

    private static PointerPointer<OrtValue> emptySlots(int n) {
        PointerPointer<OrtValue> pp = new PointerPointer<>(Math.max(1, n));
        for (int i = 0; i < n; i++) pp.put(i, (Pointer) null);
        return pp;
    }

    private interface Call {
        OrtStatus run(PointerPointer<OrtValue> in, PointerPointer<OrtValue> out);
    }

    private List<HostTensor> run(List<HostTensor> inputs, int outputs, String what, Call call) {
        List<OrtValue> wrapped = new ArrayList<>();
        try {
            for (HostTensor t : inputs) wrapped.add(wrap(t));
            PointerPointer<OrtValue> out = emptySlots(outputs);
            check(call.run(pointers(wrapped), out), what);
            List<HostTensor> r = new ArrayList<>();
            for (int i = 0; i < outputs; i++) r.add(copyOut(out.get(OrtValue.class, i)));
            return r;
        } finally {
            for (OrtValue v : wrapped) api.ReleaseValue(v);
        }
    }

    private List<String> names(long count, NameAt at, String what) {
        List<String> r = new ArrayList<>();
        for (long i = 0; i < count; i++) {
            BytePointer name = new BytePointer((Pointer) null);
            check(at.get(i, name), what);
            r.add(name.getString());
            check(api.AllocatorFree(allocator, name), "AllocatorFree");
        }
        return r;
    }

    private interface NameAt {
        OrtStatus get(long index, BytePointer name);
    }

    // ---- training sessions ----------------------------------------------------------------------------------------

    /** Loads a checkpoint and the three training-API models into a session. */
    public Training openTraining(
            Path checkpoint, Path trainingModel, Path evalModel, Path optimizerModel, SessionConfig cfg) {
        OrtSessionOptions so = options(cfg);
        OrtCheckpointState state = new OrtCheckpointState();
        try {
            check(
                    trainingApi.LoadCheckpoint(new BytePointer(checkpoint.toString()), state),
                    "LoadCheckpoint " + checkpoint);
        } catch (OrtException e) {
            api.ReleaseSessionOptions(so);
            throw e;
        }
        OrtTrainingSession session = new OrtTrainingSession();
        try {
            check(
                    trainingApi.CreateTrainingSession(
                            env,
                            so,
                            state,
                            new BytePointer(trainingModel.toString()),
                            new BytePointer(evalModel.toString()),
                            new BytePointer(optimizerModel.toString()),
                            session),
                    "CreateTrainingSession");
        } catch (OrtException e) {
            trainingApi.ReleaseCheckpointState(state);
            api.ReleaseSessionOptions(so);
            throw e;
        }
        return new Training(so, state, session, cfg.device());
    }

    /** A training session and the checkpoint state it trains. */
    public final class Training implements AutoCloseable {
        private final OrtSessionOptions options;
        private final OrtCheckpointState state;
        private final OrtTrainingSession session;
        private final List<String> trainInputs, trainOutputs, evalInputs, evalOutputs;
        private final Device device;
        private boolean closed;

        private Training(
                OrtSessionOptions options, OrtCheckpointState state, OrtTrainingSession session, Device device) {
            this.device = device;
            this.options = options;
            this.state = state;
            this.session = session;
            SizeTPointer n = new SizeTPointer(1);
            check(trainingApi.TrainingSessionGetTrainingModelInputCount(session, n), "TrainingModelInputCount");
            trainInputs = names(
                    n.get(),
                    (i, p) -> trainingApi.TrainingSessionGetTrainingModelInputName(session, i, allocator, p),
                    "TrainingModelInputName");
            check(trainingApi.TrainingSessionGetTrainingModelOutputCount(session, n), "TrainingModelOutputCount");
            trainOutputs = names(
                    n.get(),
                    (i, p) -> trainingApi.TrainingSessionGetTrainingModelOutputName(session, i, allocator, p),
                    "TrainingModelOutputName");
            check(trainingApi.TrainingSessionGetEvalModelInputCount(session, n), "EvalModelInputCount");
            evalInputs = names(
                    n.get(),
                    (i, p) -> trainingApi.TrainingSessionGetEvalModelInputName(session, i, allocator, p),
                    "EvalModelInputName");
            check(trainingApi.TrainingSessionGetEvalModelOutputCount(session, n), "EvalModelOutputCount");
            evalOutputs = names(
                    n.get(),
                    (i, p) -> trainingApi.TrainingSessionGetEvalModelOutputName(session, i, allocator, p),
                    "EvalModelOutputName");
        }

        /** Where the session runs. */
        public Device device() {
            return device;
        }

        /** User inputs of TrainStep, in the order it takes them. */
        public List<String> trainInputNames() {
            return trainInputs;
        }

        public List<String> trainOutputNames() {
            return trainOutputs;
        }

        public List<String> evalInputNames() {
            return evalInputs;
        }

        public List<String> evalOutputNames() {
            return evalOutputs;
        }

        /** Forward + backward; accumulates into the gradient buffers. Returns the training model's outputs. */
        public List<HostTensor> trainStep(List<HostTensor> inputs) {
            return run(
                    inputs,
                    trainOutputs.size(),
                    "TrainStep",
                    (in, out) -> trainingApi.TrainStep(session, null, inputs.size(), in, trainOutputs.size(), out));
        }

        public void optimizerStep() {
            check(trainingApi.OptimizerStep(session, null), "OptimizerStep");
        }

        public void lazyResetGrad() {
            check(trainingApi.LazyResetGrad(session), "LazyResetGrad");
        }

        public List<HostTensor> evalStep(List<HostTensor> inputs) {
            return run(
                    inputs,
                    evalOutputs.size(),
                    "EvalStep",
                    (in, out) -> trainingApi.EvalStep(session, null, inputs.size(), in, evalOutputs.size(), out));
        }

        /** ORT does not restore the learning rate from a checkpoint: set it after every session creation. */
        public void setLearningRate(float lr) {
            check(trainingApi.SetLearningRate(session, lr), "SetLearningRate");
        }

        public float learningRate() {
            float[] lr = new float[1];
            check(trainingApi.GetLearningRate(session, lr), "GetLearningRate");
            return lr[0];
        }

        public long parameterCount(boolean trainableOnly) {
            SizeTPointer n = new SizeTPointer(1);
            check(trainingApi.GetParametersSize(session, n, trainableOnly), "GetParametersSize");
            return n.get();
        }

        /** All parameters as one flat array, in training-graph input order. */
        public float[] copyParameters(boolean trainableOnly) {
            int n = Math.toIntExact(parameterCount(trainableOnly));
            HostTensor buf = HostTensor.floats(new float[n], n);
            OrtValue v = wrap(buf);
            try {
                check(trainingApi.CopyParametersToBuffer(session, v, trainableOnly), "CopyParametersToBuffer");
            } finally {
                api.ReleaseValue(v);
            }
            return buf.toFloats();
        }

        /** One checkpoint tensor's current value (trainable or frozen). */
        public HostTensor tensor(String name) {
            OrtValue v = new OrtValue();
            check(trainingApi.GetParameter(state, name, allocator, v), "GetParameter " + name);
            return copyOut(v);
        }

        public void setIntProperty(String name, long value) {
            check(trainingApi.AddProperty(state, name, 0, new LongPointer(new long[] {value})), "AddProperty " + name);
        }

        public void setFloatProperty(String name, float value) {
            check(
                    trainingApi.AddProperty(state, name, 1, new org.bytedeco.javacpp.FloatPointer(new float[] {value})),
                    "AddProperty " + name);
        }

        /** Saves through a temp file and an atomic rename: a killed run never leaves half a checkpoint. */
        public void saveCheckpoint(Path file, boolean includeOptimizerState) throws IOException {
            AtomicFiles.writeVia(
                    file,
                    tmp -> check(
                            trainingApi.SaveCheckpoint(state, new BytePointer(tmp.toString()), includeOptimizerState),
                            "SaveCheckpoint " + file));
        }

        /** Writes the inference graph pruned to {@code outputs}, parameters turned into initializers. */
        public void exportForInference(Path file, List<String> outputs) throws IOException {
            AtomicFiles.writeVia(
                    file,
                    tmp -> check(
                            trainingApi.ExportModelForInferencing(
                                    session,
                                    new BytePointer(tmp.toString()),
                                    outputs.size(),
                                    new PointerPointer<BytePointer>(outputs.toArray(new String[0]))),
                            "ExportModelForInferencing"));
        }

        @Override
        public void close() {
            if (closed) return;
            closed = true;
            trainingApi.ReleaseTrainingSession(session);
            trainingApi.ReleaseCheckpointState(state);
            api.ReleaseSessionOptions(options);
        }
    }

    // ---- plain inference sessions ----------------------------------------------------------------------------------

    public Inference openInference(Path model, SessionConfig cfg) {
        OrtSessionOptions so = options(cfg);
        OrtSession s = new OrtSession();
        try {
            check(api.CreateSession(env, new BytePointer(model.toString()), so, s), "CreateSession " + model);
        } catch (OrtException e) {
            api.ReleaseSessionOptions(so);
            throw e;
        }
        return new Inference(so, s);
    }

    /** A plain (non-training) session: used for exported models and for the validation graphs. */
    public final class Inference implements AutoCloseable {
        private final OrtSessionOptions options;
        private final OrtSession session;
        private boolean closed;

        private Inference(OrtSessionOptions options, OrtSession session) {
            this.options = options;
            this.session = session;
        }

        public List<HostTensor> run(List<String> inputNames, List<HostTensor> inputs, List<String> outputNames) {
            PointerPointer<BytePointer> in = new PointerPointer<>(inputNames.toArray(new String[0]));
            PointerPointer<BytePointer> out = new PointerPointer<>(outputNames.toArray(new String[0]));
            return OrtAdapter.this.run(
                    inputs,
                    outputNames.size(),
                    "Run",
                    (vin, vout) -> api.Run(session, null, in, vin, inputs.size(), out, outputNames.size(), vout));
        }

        @Override
        public void close() {
            if (closed) return;
            closed = true;
            api.ReleaseSession(session);
            api.ReleaseSessionOptions(options);
        }
    }

    @Override
    public void close() {
        api.ReleaseMemoryInfo(cpuMemory);
        api.ReleaseEnv(env);
    }
}
