"""Optimizer steps per second: densecli's trainer against a minimal hand-written smp loop.

Both train the same model (the default config's smp UNet) at the same batch and image size.
The plain loop is what a user would write first: fp32, default memory format, data already
in memory as tensors, AdamW, BCE + Dice. densecli runs its real loop: its data pipeline with
augmentation, its memory format and AMP choice, logging, clipping and the schedule. The two
alternate in rounds so that background load hits both alike; the ratio is per round.

    python scripts/bench_trainer.py [--rounds 3] [--steps 30] [overrides ...]
"""

from __future__ import annotations

import argparse
import logging
import statistics
import tempfile
import time
from pathlib import Path

import torch
from segmentation_models_pytorch.losses import DiceLoss
from tqdm import tqdm

from densecli.compose import compose_config
from densecli.models import build_model
from densecli.tblog import RunLogger
from densecli.train import build
from densecli.trainer import Trainer


def plain_loop(cfg, steps: int) -> float:
    """Steps per second of the loop a user would write by hand."""
    torch.manual_seed(0)
    model = build_model(cfg)
    size, batch = cfg.data.image_size, cfg.data.batch_size
    images = torch.randn(batch, cfg.model.in_channels, size, size)
    masks = (torch.rand(batch, 1, size, size) > 0.5).float()
    optimizer = torch.optim.AdamW(model.parameters(), lr=cfg.optimizer.lr)
    bce, dice = torch.nn.BCEWithLogitsLoss(), DiceLoss("binary")
    model.train()
    for step in range(steps + 3):
        if step == 3:  # the first steps warm up allocators and kernels
            start = time.perf_counter()
        logits = model(images)
        loss = bce(logits, masks) + dice(logits, masks)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return steps / (time.perf_counter() - start)


def densecli_loop(cfg, steps: int) -> float:
    """Steps per second of densecli's training loop, data pipeline included: one epoch of
    `steps` optimizer steps to warm up, then one timed epoch."""
    with tempfile.TemporaryDirectory() as tmp:
        logger = RunLogger(Path(tmp))
        trainer = Trainer(build(cfg, Path(tmp)), logger)
        bar = tqdm(disable=True)
        trainer._train_epoch(bar)
        trainer.epoch += 1
        start, first = time.perf_counter(), trainer.step
        trainer._train_epoch(bar)
        rate = (trainer.step - first) / (time.perf_counter() - start)
        logger.close()
    return rate


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--steps", type=int, default=30, help="timed optimizer steps per loop")
    parser.add_argument("overrides", nargs="*")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)

    # an epoch of exactly `steps` optimizer steps, so densecli times one whole epoch
    cfg = compose_config(["trainer.progress_bar=false", *args.overrides])
    batch = cfg.data.batch_size * cfg.trainer.accumulate_grad_batches
    cfg = compose_config(
        ["trainer.progress_bar=false", f"data.num_train={args.steps * batch}", *args.overrides]
    )
    print(
        f"model {cfg.model.arch}-{cfg.model.encoder_name}, batch {cfg.data.batch_size}, "
        f"{cfg.data.image_size} px, {torch.get_num_threads()} threads"
    )
    print(f"{'round':>5}  {'plain steps/s':>13}  {'densecli steps/s':>16}  {'ratio':>6}")
    ratios = []
    for r in range(args.rounds):
        plain = plain_loop(cfg, args.steps)
        ours = densecli_loop(cfg, args.steps)
        ratios.append(ours / plain)
        print(f"{r + 1:>5}  {plain:>13.2f}  {ours:>16.2f}  {ratios[-1]:>6.2f}x")
    print(f"median ratio densecli / plain: {statistics.median(ratios):.2f}x")


if __name__ == "__main__":
    main()
