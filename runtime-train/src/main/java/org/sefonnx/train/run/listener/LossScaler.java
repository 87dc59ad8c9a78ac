package org.sefonnx.train.run.listener;

import java.util.Map;

/**
 * Dynamic loss scaling with the semantics of PyTorch's {@code torch.amp.GradScaler} defaults (init_scale 2^16,
 * growth_factor 2, backoff_factor 0.5, growth_interval 2000; {@code _amp_update_scale_}): a step whose gradients hold
 * inf or NaN is skipped and halves the scale; 2,000 consecutive finite steps double it. The scale and the count of
 * consecutive finite steps are the whole state; they live in the checkpoint's property bag, so a resumed run scales
 * exactly as an uninterrupted one.
 */
public final class LossScaler {
    /** GradScaler's init_scale, 2^16. */
    public static final float INITIAL_SCALE = 65536f;
    /** GradScaler's growth_factor: the scale doubles after a growth interval of finite steps. */
    public static final float GROWTH_FACTOR = 2f;
    /** GradScaler's backoff_factor: a step with inf/NaN gradients halves the scale. */
    public static final float BACKOFF_FACTOR = 0.5f;
    /** GradScaler's growth_interval: consecutive finite steps before the scale grows. */
    public static final int GROWTH_INTERVAL = 2000;
    /** Property-bag key of the scale. */
    public static final String PROP_SCALE = "loss_scale";
    /** Property-bag key of the count of consecutive finite steps. */
    public static final String PROP_GROWTH_TRACKER = "loss_scale_growth_tracker";

    private float scale;
    private int growthTracker;

    public LossScaler() {
        this(INITIAL_SCALE, 0);
    }

    public LossScaler(float scale, int growthTracker) {
        if (!(scale > 0) || Float.isInfinite(scale))
            throw new IllegalArgumentException("loss scale must be finite and > 0, got " + scale);
        if (growthTracker < 0 || growthTracker >= GROWTH_INTERVAL) {
            throw new IllegalArgumentException(
                    "growth tracker must be in [0, " + GROWTH_INTERVAL + "), got " + growthTracker);
        }
        this.scale = scale;
        this.growthTracker = growthTracker;
    }

    /** The state saved in a checkpoint's property bag, or the initial state where the bag has none (a new run). */
    public static LossScaler restore(Map<String, Float> floatProperties, Map<String, Long> intProperties) {
        Float s = floatProperties.get(PROP_SCALE);
        Long t = intProperties.get(PROP_GROWTH_TRACKER);
        if (s == null && t == null) return new LossScaler();
        if (s == null || t == null) {
            throw new IllegalStateException("checkpoint has only one of " + PROP_SCALE + " and " + PROP_GROWTH_TRACKER);
        }
        return new LossScaler(s, Math.toIntExact(t));
    }

    /** The factor the loss is multiplied by in the next step. */
    public float scale() {
        return scale;
    }

    /** Consecutive finite steps since the last growth or skip. */
    public int growthTracker() {
        return growthTracker;
    }

    /**
     * Records one step's all-finite flag and returns it: true means the optimizer step runs, false that it is skipped
     * (the graph already kept the momentum buffers unchanged).
     */
    public boolean update(boolean gradientsFinite) {
        if (!gradientsFinite) {
            scale *= BACKOFF_FACTOR;
            growthTracker = 0;
            return false;
        }
        int successful = growthTracker + 1;
        if (successful == GROWTH_INTERVAL) {
            float grown = scale * GROWTH_FACTOR;
            // PyTorch keeps the old scale when doubling would overflow float32
            if (Float.isFinite(grown)) scale = grown;
            growthTracker = 0;
        } else {
            growthTracker = successful;
        }
        return true;
    }
}
