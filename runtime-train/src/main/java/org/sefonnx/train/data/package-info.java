/**
 * Data sets as their publishers distribute them (CUB, Cars, Dogs, Aircraft, ImageFolder, IDX, the embedded demo) read
 * into samples, checked image by image, split for validation, and batched by {@link org.sefonnx.train.data.BatchLoader}
 * through the authors' transforms ({@link org.sefonnx.train.data.TransformSpec}).
 */
package org.sefonnx.train.data;
