package org.sefonnx.infer;

import java.awt.image.BufferedImage;
import java.nio.file.Path;
import org.sefonnx.imaging.ImageDecoder;
import org.sefonnx.imaging.RgbImage;

/**
 * One image for {@link SefClassifier}: a file, encoded bytes (JPEG, PNG or another ImageIO format) with the name its
 * errors carry, or an already decoded picture; or any other source that can hand its bytes to the decoder. Each is
 * decoded exactly once per call, with the decoder the classifier gives it (which carries the export's EXIF rule).
 */
public interface ImageInput {
    /** What messages and results call the image: the file's path, or the name given. */
    String name();

    /** The pixels, by {@code decoder} (which carries the export's EXIF rule); a bad image is an ImageDecodeException. */
    RgbImage decode(ImageDecoder decoder);

    static ImageInput of(Path file) {
        return new File(file);
    }

    static ImageInput of(byte[] encoded, String name) {
        return new Encoded(encoded, name);
    }

    static ImageInput of(BufferedImage image, String name) {
        return new Decoded(image, name);
    }

    /** An image file, read when it is decoded. */
    record File(Path path) implements ImageInput {
        @Override
        public String name() {
            return path.toString();
        }

        @Override
        public RgbImage decode(ImageDecoder decoder) {
            return decoder.decode(path);
        }
    }

    /** Encoded bytes, as a binary column or a request body holds them (not copied). */
    record Encoded(byte[] bytes, String name) implements ImageInput {
        @Override
        public RgbImage decode(ImageDecoder decoder) {
            return decoder.decode(bytes, name);
        }
    }

    /** A decoded picture, converted as a decoded file would be (the image is not modified; EXIF does not apply). */
    record Decoded(BufferedImage image, String name) implements ImageInput {
        @Override
        public RgbImage decode(ImageDecoder decoder) {
            return ImageDecoder.fromBufferedImage(image);
        }
    }
}
