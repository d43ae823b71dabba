"""densecli's default recipe against a plain hand-written loop at the same budget, on a
folder dataset: same model, same optimizer steps, same validation images and metric.

The plain loop is what a user writes first: images resized to the training size, shuffled
batches, Adam at a fixed lr, BCE, no augmentation. densecli runs `densecli train` with the
default recipe (AdamW, cosine with warmup, BCE + Dice, flip + scale + crop). Both report
validation Dice over the same held-out images at full resolution.

    python scripts/bench_recipe.py --root ../shared/data/membrane --image-dir image \\
        --mask-dir label --steps 300
"""

from __future__ import annotations

import argparse
import logging
import tempfile
import time
from pathlib import Path

import torch
import torch.nn.functional as F

from densecli.compose import compose_config
from densecli.data import build_datasets
from densecli.data.loaders import build_loader
from densecli.metrics import SegmentationMetrics
from densecli.models import build_model
from densecli.plan import plan_run
from densecli.train import train


def dataset_overrides(args) -> list[str]:
    return [
        "data=folder",
        f"data.root={Path(args.root).resolve()}",
        f"data.image_dir={args.image_dir}",
        f"data.mask_dir={args.mask_dir}",
        f"data.image_size={args.image_size}",
        f"data.batch_size={args.batch_size}",
        "trainer.progress_bar=false",
    ]


def evaluate(model: torch.nn.Module, cfg) -> float:
    """Validation Dice of `model` over the run's validation images, as densecli scores it."""
    _, val_set = build_datasets(cfg)
    metrics = SegmentationMetrics(cfg.data.num_classes, cfg.data.ignore_index)
    model.eval()
    with torch.no_grad():
        for images, masks in build_loader(val_set, cfg, train=False):
            metrics.update(model(images), masks)
    return metrics.compute()["dice"]


def plain_loop(cfg, steps: int) -> tuple[float, float]:
    """Val Dice and seconds of the loop a user would write by hand."""
    torch.manual_seed(cfg.seed)
    train_set, _ = build_datasets(cfg)
    size = cfg.data.image_size
    # the whole images, resized once: no augmentation
    images, masks = [], []
    for index in range(len(train_set)):
        image, mask = train_set.source.load(index)  # (H, W, C) uint8, (H, W) labels
        image = train_set.normalizer(image)[None]  # (1, C, H, W)
        images.append(F.interpolate(image, size=(size, size), mode="bilinear")[0])
        mask = torch.from_numpy(mask)[None, None].float()  # (1, 1, H, W)
        masks.append(F.interpolate(mask, size=(size, size))[0])
    images, masks = torch.stack(images), torch.stack(masks).clamp(max=1)
    model = build_model(cfg)
    optimizer = torch.optim.Adam(model.parameters(), lr=cfg.optimizer.lr)
    start, done = time.perf_counter(), 0
    model.train()
    while done < steps:
        for batch in torch.randperm(len(images)).split(cfg.data.batch_size):
            if len(batch) < cfg.data.batch_size or done == steps:
                continue
            loss = F.binary_cross_entropy_with_logits(model(images[batch]), masks[batch])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            done += 1
    seconds = time.perf_counter() - start
    return evaluate(model, cfg), seconds


def densecli_recipe(cfg, steps: int) -> tuple[float, float]:
    """Val Dice and seconds of `densecli train` with the default recipe for `steps` steps."""
    train_set, _ = build_datasets(cfg)
    clock, _ = plan_run(cfg, num_train=len(train_set))
    epochs = max(1, round(steps / clock.steps_per_epoch))
    cfg.trainer.max_epochs = epochs
    cfg.trainer.val_every_n_epochs = epochs
    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        train(cfg, run_dir=Path(tmp))
        seconds = time.perf_counter() - start
        model = build_model(cfg)
        state = torch.load(Path(tmp) / "checkpoints/last.pt", weights_only=True)
        model.load_state_dict(state["model"])
    return evaluate(model, cfg), seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--root", required=True)
    parser.add_argument("--image-dir", default="images")
    parser.add_argument("--mask-dir", default="masks")
    parser.add_argument("--image-size", type=int, default=256)
    parser.add_argument("--batch-size", type=int, default=4)
    parser.add_argument("--steps", type=int, default=300)
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)

    cfg = compose_config(dataset_overrides(args))
    print(
        f"{args.root}: {args.steps} optimizer steps, batch {args.batch_size}, "
        f"{args.image_size} px training size"
    )
    plain_dice, plain_s = plain_loop(cfg, args.steps)
    ours_dice, ours_s = densecli_recipe(compose_config(dataset_overrides(args)), args.steps)
    print(f"{'':>16}  {'val dice':>8}  {'seconds':>7}")
    print(f"{'plain loop':>16}  {plain_dice:>8.4f}  {plain_s:>7.0f}")
    print(f"{'densecli default':>16}  {ours_dice:>8.4f}  {ours_s:>7.0f}")


if __name__ == "__main__":
    main()
