/**
 * A run's folder and its one committed state: {@link org.sefonnx.train.run.state.RunDirectory} (every file name),
 * {@link org.sefonnx.train.run.state.RunState} (checkpoints/state.properties, sealed and cross-checked),
 * {@link org.sefonnx.train.run.state.RunCommits} and {@link org.sefonnx.train.run.state.CommitStep} (the kill-safe
 * commit sequence), {@link org.sefonnx.train.run.state.RunProperties} (run.properties and the spec), the validation
 * list, and the checks and clean-up of a start (an unfinished start is begun again by the same command). See README,
 * "A run's committed state".
 */
package org.sefonnx.train.run.state;
