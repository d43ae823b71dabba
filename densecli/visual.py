"""Pictures of samples for people: an image with its mask overlaid, for TensorBoard."""

from __future__ import annotations

import torch
from omegaconf import DictConfig

# colors of classes 1, 2, ... (class 0 is background and stays unpainted), shared with
# `densecli preview` so a class looks the same in both
CLASS_COLORS = ("#ff3b30", "#34c759", "#007aff", "#ffcc00", "#af52de", "#ff9500", "#5ac8fa")
PALETTE = torch.tensor(
    [[0.0, 0.0, 0.0]] + [[int(c[i : i + 2], 16) / 255 for i in (1, 3, 5)] for c in CLASS_COLORS]
)  # (1 + classes, 3) RGB in 0..1


def displayable(image: torch.Tensor) -> torch.Tensor:
    """A normalized (C, H, W) image as RGB in [0, 1], stretched per image for visibility."""
    image = image.detach().float().cpu()
    image = image[:3] if image.shape[0] >= 3 else image[:1].expand(3, -1, -1)
    low, high = image.min(), image.max()
    return (image - low) / (high - low).clamp(min=1e-6)  # (3, H, W)


def overlay(rgb: torch.Tensor, labels: torch.Tensor, ignore_index: int, alpha: float = 0.45):
    """Paint each foreground class of `labels` (H, W) over `rgb` (3, H, W)."""
    labels = labels.detach().cpu().long()
    valid = (labels > 0) & (labels != ignore_index)
    ids = (labels - 1) % len(CLASS_COLORS) + 1  # classes past the palette wrap around
    colors = PALETTE[ids * valid].permute(2, 0, 1)  # (3, H, W)
    mixed = rgb * (1 - alpha) + colors * alpha
    return torch.where(valid, mixed, rgb)


def overlay_row(image, mask, logits, data: DictConfig) -> torch.Tensor:
    """[image | truth overlay | prediction overlay] as one (3, H, 3W) uint8 picture."""
    rgb = displayable(image)
    if logits.shape[0] == 1:
        pred = (logits[0] > 0).long()  # (H, W)
    else:
        pred = logits.argmax(dim=0)  # (H, W)
    truth = overlay(rgb, mask, data.ignore_index)
    guess = overlay(rgb, pred, data.ignore_index)
    row = torch.cat([rgb, truth, guess], dim=2)  # (3, H, 3W)
    return (row * 255).round().to(torch.uint8)
