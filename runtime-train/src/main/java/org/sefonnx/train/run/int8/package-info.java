/**
 * The int8 export of a finished run: BatchNorm folded and checked against the float32 export, activation ranges
 * calibrated on a seeded sample of the run's training images ({@link org.sefonnx.train.run.int8.Calibration}), the QDQ model
 * built by the generator's {@code quantize} package, its convolutions checked to run as ONNX Runtime's integer kernels,
 * and the accuracy gate ({@link org.sefonnx.train.run.int8.Int8Exporter}) that writes it only when it loses at most the
 * allowed top-1 on the split the run selects on, naming the layers that lose most when it does not.
 */
package org.sefonnx.train.run.int8;
