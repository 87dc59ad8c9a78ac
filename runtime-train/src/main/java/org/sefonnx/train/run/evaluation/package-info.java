/**
 * EvalStep over a split: {@link org.sefonnx.train.run.evaluation.Evaluator} (the test and validation passes after each
 * epoch) and {@link org.sefonnx.train.run.evaluation.CheckpointEvaluation} (`sef-onnx eval` of one checkpoint).
 */
package org.sefonnx.train.run.evaluation;
