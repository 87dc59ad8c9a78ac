/**
 * The one place that touches ONNX Runtime's C API (bytedeco): {@link org.sefonnx.train.ort.OrtAdapter} owns every
 * native pointer; callers see {@link org.sefonnx.train.ort.HostTensor}s and Java types.
 */
package org.sefonnx.train.ort;
