package org.sefonnx.infer;

/**
 * The model gave NaN or infinite scores for an image: never a result. A trained model gives finite scores on a decoded
 * image (the input is bounded by the normalisation, and the trainer refuses non-finite checkpoints), so its weights are
 * damaged; the message names the image, the output and the values, and says how to check the export.
 */
public final class NonFiniteOutputException extends RuntimeException {
    private final String image;

    NonFiniteOutputException(String image, String modelId, String output, int nonFinite, int values, float example) {
        super(image + ": model " + modelId + " gave non-finite " + output + " (" + nonFinite + " of " + values
                + " values, e.g. " + example + "): its weights are damaged; check the export against its "
                + "SHA256SUMS (sha256sum -c SHA256SUMS) or export the run again");
        this.image = image;
    }

    /** The image whose outputs were not finite. */
    public String image() {
        return image;
    }
}
