package org.sefonnx.infer;

/**
 * One ranked class of one image.
 *
 * @param label       the class name (line {@code index} of labels.txt)
 * @param index       the class index, 0-based, as the model's output column
 * @param probability the softmax probability the model gives it
 */
public record Prediction(String label, int index, float probability) {}
