package org.sefonnx.train.data;

/** One labelled image: its source and its class index (ImageFolder order, see {@link Dataset#classNames()}). */
public record Sample(ImageSource source, int classIndex) {
    public Sample {
        if (classIndex < 0) {
            throw new IllegalArgumentException(source.describe() + ": class index " + classIndex + " is negative");
        }
    }
}
