"""Does the data pipeline keep the model busy? Samples per second per augmentation recipe
(train dataset through a DataLoader with one worker) next to the model's training speed.

    python scripts/bench_data.py                      # data=shapes defaults
    python scripts/bench_data.py data=folder data.root=/path/to/membrane \
        data.image_dir=image data.mask_dir=label

The ratio pipeline / model should be 5 or more: then one worker feeds the model with room
to spare for a slower disk or a busier machine.
"""

from __future__ import annotations

import argparse
import time

import torch

from densecli.compose import compose_config
from densecli.data.build import build_datasets
from densecli.data.loaders import build_loader
from densecli.models import build_model

RECIPES = ("none", "basic", "strong", "elastic")
TARGET_RATIO = 5.0


def pipeline_speed(overrides: list[str], recipe: str, batches: int) -> tuple[float, float]:
    """(samples/s through the loader, seconds to build the datasets) for one recipe."""
    cfg = compose_config([*overrides, f"augmentation={recipe}", "data.num_workers=1"])
    start = time.perf_counter()
    train, _ = build_datasets(cfg)
    build_s = time.perf_counter() - start
    loader = build_loader(train, cfg, train=True)
    stream = _endless(loader)
    next(stream)  # the worker's start-up is not throughput
    start, samples = time.perf_counter(), 0
    for _ in range(batches):
        samples += len(next(stream)[0])
    return samples / (time.perf_counter() - start), build_s


def _endless(loader):
    while True:
        yield from loader


def model_speed(overrides: list[str], steps: int, warmup: int = 2) -> float:
    """Training samples/s of the run's model: fp32 forward, backward and AdamW step on
    random batches of the run's batch and image size."""
    cfg = compose_config(overrides)
    model = build_model(cfg).train()
    optimizer = torch.optim.AdamW(model.parameters(), lr=3e-4)
    size, batch = cfg.data.image_size, cfg.data.batch_size
    images = torch.randn(batch, cfg.model.in_channels, size, size)  # (B, C, H, W)
    if cfg.data.num_classes == 2:
        targets = torch.randint(0, 2, (batch, 1, size, size)).float()  # (B, 1, H, W)
        loss_fn = torch.nn.BCEWithLogitsLoss()
    else:
        targets = torch.randint(0, cfg.data.num_classes, (batch, size, size))  # (B, H, W)
        loss_fn = torch.nn.CrossEntropyLoss()
    for step in range(warmup + steps):
        if step == warmup:
            start = time.perf_counter()
        loss = loss_fn(model(images), targets)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
    return steps * batch / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("overrides", nargs="*", help="config overrides, as for densecli train")
    parser.add_argument("--recipes", default=",".join(RECIPES), help="comma-separated")
    parser.add_argument("--batches", type=int, default=40, help="loader batches timed")
    parser.add_argument("--steps", type=int, default=5, help="model steps timed")
    args = parser.parse_args()

    cfg = compose_config(args.overrides)
    model = model_speed(args.overrides, args.steps)
    print(
        f"data={cfg.data.name} image_size={cfg.data.image_size} batch_size="
        f"{cfg.data.batch_size} model={cfg.model.arch}-{cfg.model.encoder_name} "
        f"torch threads={torch.get_num_threads()}"
    )
    print(f"{'recipe':<10}{'build s':>9}{'pipeline/s':>12}{'model/s':>10}{'ratio':>8}")
    worst = float("inf")
    for recipe in args.recipes.split(","):
        speed, build_s = pipeline_speed(args.overrides, recipe, args.batches)
        ratio = speed / model
        worst = min(worst, ratio)
        print(f"{recipe:<10}{build_s:>9.2f}{speed:>12.1f}{model:>10.1f}{ratio:>8.1f}")
    verdict = "ok" if worst >= TARGET_RATIO else "BELOW TARGET"
    print(f"lowest ratio {worst:.1f} (target >= {TARGET_RATIO:g}): {verdict}")


if __name__ == "__main__":
    main()
