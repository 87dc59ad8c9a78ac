package org.sefonnx.generator;

import java.util.ArrayList;
import java.util.List;
import org.sefonnx.generator.model.ModelSpec;

/** The specs whose graphs and typed classes the build ships. */
public final class ShippedSpecs {
    private ShippedSpecs() {}

    /**
     * The CPU demo: ResNet-18, 10 classes (Fashion-MNIST), G=2, 48x48 RGB: the smallest input whose last feature map is
     * 2x2, where the grouping loss can move (at 32 px the map is 1x1 and L_group is a constant 0.5 for G=2).
     */
    public static ModelSpec demo() {
        return ModelSpec.of("demo-r18", 18, 10, 2, 48).withRecipe(0.01, 4, 6, 32);
    }

    /** The paper's four data sets with their K and G (docs/sef-method.md, "Training recipe"), for ResNet-50 and ResNet-18 at 448 px. */
    public static List<ModelSpec> paper() {
        List<ModelSpec> l = new ArrayList<>();
        for (int depth : new int[] {50, 18}) {
            l.add(ModelSpec.of("cub-r" + depth, depth, 200, 4, 448));
            l.add(ModelSpec.of("cars-r" + depth, depth, 196, 2, 448));
            l.add(ModelSpec.of("dogs-r" + depth, depth, 120, 2, 448).withRecipe(0.001, 20, 50, 32));
            l.add(ModelSpec.of("aircraft-r" + depth, depth, 100, 3, 448));
        }
        return l;
    }

    public static List<ModelSpec> all() {
        List<ModelSpec> l = new ArrayList<>();
        l.add(demo());
        l.addAll(paper());
        return l;
    }

    public static ModelSpec byId(String id) {
        for (ModelSpec s : all()) if (s.id().equals(id)) return s;
        throw new IllegalArgumentException("no shipped spec '" + id + "'; shipped: "
                + all().stream().map(ModelSpec::id).toList());
    }
}
