"""`densecli preview`: draw augmented training samples with their masks laid over them.

The grid shows exactly what the model is fed (after augmentation, before normalization),
so a mask that slid off its image or a recipe that destroys the objects shows at a glance.
"""

from __future__ import annotations

import argparse
import logging
import math
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from densecli.compose import compose_config
from densecli.visual import CLASS_COLORS

if TYPE_CHECKING:
    from densecli.data.build import TrainDataset

log = logging.getLogger(__name__)
IGNORE_COLOR = "#808080"
OVERLAY_ALPHA = 0.4


def run(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="densecli preview", description=__doc__.split("\n")[0])
    parser.add_argument("overrides", nargs="*", help="config overrides, as for `densecli train`")
    parser.add_argument("--out", default="preview.png", help="PNG to write (default: %(default)s)")
    parser.add_argument(
        "--num", type=int, default=16, help="samples to draw (default: %(default)s)"
    )
    args = parser.parse_args(argv)
    if args.num < 1:
        parser.error(f"--num: got {args.num}; allowed: 1 or more")

    from densecli.data.build import build_datasets

    cfg = compose_config(args.overrides)
    train, _ = build_datasets(cfg)
    # the same samples and augmentations every time for the same config and seed
    rng = np.random.default_rng(cfg.seed)
    indices = rng.choice(len(train), size=min(args.num, len(train)), replace=False)
    items = [(int(i), train[(int(i), int(rng.integers(2**62)))]) for i in indices]
    title = f"data={cfg.data.name} augmentation={cfg.augmentation.name} seed={cfg.seed}"
    out = draw_grid(items, train, cfg.data.num_classes, cfg.data.ignore_index, title, args.out)
    print(out)
    return 0


def draw_grid(
    items: list, dataset: TrainDataset, num_classes: int, ignore_index: int, title: str, out: str
) -> Path:
    """Write a PNG grid of (index, (image, mask)) items; returns its absolute path."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.colors import ListedColormap, to_rgba

    cols = math.ceil(math.sqrt(len(items)))
    rows = math.ceil(len(items) / cols)
    fig, axes = plt.subplots(rows, cols, figsize=(2.6 * cols, 2.8 * rows), squeeze=False)
    colors = [(0, 0, 0, 0)] + [
        to_rgba(CLASS_COLORS[(c - 1) % len(CLASS_COLORS)], OVERLAY_ALPHA)
        for c in range(1, num_classes)
    ]
    overlay_cmap = ListedColormap(colors + [to_rgba(IGNORE_COLOR, 0.7)])

    for ax, (index, (image, mask)) in zip(axes.flat, items):
        picture = dataset.normalizer.denormalize(image)  # (H, W, C) in 0..1
        labels = mask.numpy().copy()
        labels[labels == ignore_index] = num_classes  # the last overlay color
        if picture.shape[2] == 3:
            ax.imshow(picture)
        else:
            ax.imshow(picture[:, :, 0], cmap="gray", vmin=0, vmax=1)
        ax.imshow(labels, cmap=overlay_cmap, vmin=0, vmax=num_classes, interpolation="nearest")
        # outlines keep the image under a mask visible
        for c in range(1, num_classes):
            if (labels == c).any():
                color = CLASS_COLORS[(c - 1) % len(CLASS_COLORS)]
                ax.contour(labels == c, levels=[0.5], colors=[color], linewidths=0.8)
        ax.set_title(f"#{index}  difficulty {dataset.difficulty[index]:.2f}", fontsize=8)
    for ax in axes.flat:
        ax.set_axis_off()

    from matplotlib.patches import Patch

    names = ["foreground"] if num_classes == 2 else [f"class {c}" for c in range(1, num_classes)]
    handles = [Patch(color=colors[c], label=name) for c, name in enumerate(names, start=1)]
    handles.append(Patch(color=to_rgba(IGNORE_COLOR, 0.7), label="unlabeled / padding"))
    fig.legend(handles=handles, loc="lower center", ncol=min(len(handles), 6), fontsize=8)
    fig.suptitle(title, fontsize=9)
    fig.tight_layout(rect=(0, 0.03, 1, 1))
    path = Path(out)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path.resolve()
