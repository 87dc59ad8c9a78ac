package org.sefonnx.train.data;

import java.nio.file.Path;
import org.sefonnx.imaging.ImageDecoder;
import org.sefonnx.imaging.RgbImage;

/** Where a sample's pixels come from: an encoded image file, or an in-memory grayscale IDX image. */
public sealed interface ImageSource permits ImageSource.File, ImageSource.Gray {

    /** Human-readable origin for error messages and skip lists. */
    String describe();

    /** The pixels as 8-bit RGB; files go through {@code decoder} (one per thread). */
    RgbImage decode(ImageDecoder decoder);

    /** A JPEG/PNG (or other ImageIO-readable) file on disk. */
    record File(Path path) implements ImageSource {
        @Override
        public String describe() {
            return path.toString();
        }

        @Override
        public RgbImage decode(ImageDecoder decoder) {
            return decoder.decode(path);
        }
    }

    /** An 8-bit grayscale raster held in memory (IDX files); becomes RGB by replicating the channel. */
    record Gray(String origin, int index, int width, int height, byte[] pixels) implements ImageSource {
        public Gray {
            if (pixels.length != width * height) {
                throw new IllegalArgumentException(
                        origin + " image " + index + ": " + pixels.length + " bytes for " + width + "x" + height);
            }
        }

        @Override
        public String describe() {
            return origin + "[" + index + "]";
        }

        @Override
        public RgbImage decode(ImageDecoder decoder) {
            return RgbImage.fromGray(width, height, pixels, 0, width);
        }
    }
}
