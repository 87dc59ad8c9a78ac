/**
 * Sessions bound through the model descriptor: {@link org.sefonnx.train.run.session.Sessions} opens a training session
 * on the right device and graph and checks it against the descriptor, {@link org.sefonnx.train.run.session.ModelSteps}
 * runs TrainStep and EvalStep by name, {@link org.sefonnx.train.run.session.ModelArtifacts} and
 * {@link org.sefonnx.train.run.session.SpecDescriptor} put a spec's graphs in place and find its descriptor, and
 * {@link org.sefonnx.train.run.session.FinishedRun} reads a committed run back and opens its eval sessions (eval,
 * explain, export).
 */
package org.sefonnx.train.run.session;
