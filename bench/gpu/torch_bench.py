#!/usr/bin/env python3
"""PyTorch eager reference rows of sef-onnx's GPU bench (bench/gpu/run.sh).

The same SEF model as validation/torch-reference/sef_reference.py builds it (torchvision ResNet-50 + SEF heads + SEF
loss, imported from there, not copied): 448 px, batch 32, K=200, G=4 (cub-r50), SGD lr 0.01 momentum 0.9, BatchNorm in
training mode, synthetic N(0,1) images from pinned host memory copied each step (as a data loader hands them over).
Four configurations: float32 with PyTorch's defaults (TF32 convolutions), AMP fp16 (autocast + GradScaler), each NCHW
and channels_last. Under AMP the SEF loss terms run in float32 on float32 copies of the features and logits, as
sef-onnx's mixed precision computes them. cudnn.benchmark stays at PyTorch's default (off).

Writes one tab-separated row per configuration: configuration, img/s, arithmetic (tf32|fp16), note.

    python3 torch_bench.py --rows torch-rows.tsv
"""
import argparse
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "validation", "torch-reference"))

import torch  # noqa: E402
from sef_reference import build_model, sef_forward, sef_loss  # noqa: E402

LAMBDA, GAMMA, PHI = 1.0, 0.05, 1.0
GROUPING_EPS = 1.1920929e-07


def bench(amp, channels_last, args):
    torch.manual_seed(0)
    net, slices = build_model(args.depth, args.classes, args.groups)
    net = net.cuda().train()
    if channels_last:
        net = net.to(memory_format=torch.channels_last)
    opt = torch.optim.SGD(net.parameters(), lr=0.01, momentum=0.9)
    scaler = torch.amp.GradScaler("cuda", enabled=amp)
    gen = torch.Generator().manual_seed(7)
    host = [(torch.randn(args.batch, 3, args.size, args.size, generator=gen).pin_memory(),
             torch.randint(0, args.classes, (args.batch,), generator=gen).pin_memory()) for _ in range(4)]
    skipped = 0
    start = None
    for step in range(args.warmup + args.steps):
        if step == args.warmup:
            torch.cuda.synchronize()
            start = time.perf_counter()
        x, y = host[step % len(host)]
        x = x.cuda(non_blocking=True)
        y = y.cuda(non_blocking=True)
        if channels_last:
            x = x.contiguous(memory_format=torch.channels_last)
        with torch.autocast("cuda", dtype=torch.float16, enabled=amp):
            features, logits, group_logits = sef_forward(net, x, slices)
        terms = sef_loss(features.float(), logits.float(), [g.float() for g in group_logits], y, slices,
                         LAMBDA, GAMMA, PHI, GROUPING_EPS)
        opt.zero_grad(set_to_none=True)
        scaler.scale(terms["loss"]).backward()
        before = scaler.get_scale() if amp else 1.0
        scaler.step(opt)
        scaler.update()
        if amp and step >= args.warmup and scaler.get_scale() < before:
            skipped += 1
    torch.cuda.synchronize()
    rate = args.steps * args.batch / (time.perf_counter() - start)
    del net, opt
    torch.cuda.empty_cache()
    return rate, skipped


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rows", required=True, help="tab-separated rows to write")
    ap.add_argument("--depth", type=int, default=50)
    ap.add_argument("--classes", type=int, default=200)
    ap.add_argument("--groups", type=int, default=4)
    ap.add_argument("--size", type=int, default=448)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--warmup", type=int, default=10)
    ap.add_argument("--steps", type=int, default=30)
    args = ap.parse_args()
    if not torch.cuda.is_available():
        sys.exit("torch_bench.py: no CUDA device; PyTorch's rows are GPU-only")
    version = "torch %s, cuDNN %s" % (torch.__version__, torch.backends.cudnn.version())
    with open(args.rows, "w") as out:
        for amp in (False, True):
            for channels_last in (False, True):
                rate, skipped = bench(amp, channels_last, args)
                name = ("AMP fp16 (autocast + GradScaler)" if amp else "fp32, PyTorch defaults (TF32 convolutions)") + \
                       (", channels_last" if channels_last else ", NCHW")
                note = version + ((", %d of %d timed steps skipped" % (skipped, args.steps)) if amp else "")
                out.write("%s\t%.2f\t%s\t%s\n" % (name, rate, "fp16" if amp else "tf32", note))
                out.flush()
                print("%-60s %8.1f img/s  %s" % (name, rate, note), flush=True)


if __name__ == "__main__":
    main()
