/**
 * The contract between the generator and the runtimes: everything two modules must spell the same way.
 *
 * <ul>
 *   <li>{@link org.sefonnx.contract.ModelDescriptor}: what the runtime binds a spec's graphs through (generated for the
 *       shipped specs in {@code graphs}, computed for custom ones by the generator), with its training arithmetic,
 *       {@link org.sefonnx.contract.Precision};</li>
 *   <li>{@link org.sefonnx.contract.TensorNames} and {@link org.sefonnx.contract.StepSignature}: the graphs' input and
 *       output names and the order ONNX Runtime's TrainStep/EvalStep bind them in;</li>
 *   <li>{@link org.sefonnx.contract.ArtifactLayout} and {@link org.sefonnx.contract.ExportLayout}: the file names of a
 *       generated artifact directory and of an inference export; {@link org.sefonnx.contract.ExportManifest}: the
 *       export's SHA-256 manifest, its one writer and reader;</li>
 *   <li>{@link org.sefonnx.contract.GroupSplit} and {@link org.sefonnx.contract.Softmax}: SEF's channel groups and how a
 *       group head's probability is computed, which the trainer's and the server's explain output must agree on;</li>
 *   <li>{@link org.sefonnx.contract.LabelFile}: labels.txt, its one reader and writer;</li>
 *   <li>{@link org.sefonnx.contract.AtomicFiles}: the one way sef-onnx writes a file.</li>
 * </ul>
 *
 * <p>Why a module of its own rather than a package of the generator: runtime-infer (and runtime-spark above it) must
 * read an export directory with the same names the trainer wrote it with, yet must stay free of the generator's
 * dependencies (protobuf, Tribuo's ONNX DSL, JavaPoet, picocli) and can never share a classpath with the trainer's
 * org.bytedeco:onnxruntime, which bundles a broken copy of the official {@code ai.onnxruntime} classes. A module with
 * no dependencies at all is the one place every other module can see. Nothing here may depend on anything but the JDK.
 */
package org.sefonnx.contract;
