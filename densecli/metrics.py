"""Validation metrics over a whole validation set: Dice and IoU from smp's confusion counts."""

from __future__ import annotations

import torch
from segmentation_models_pytorch import metrics as smp_metrics


class SegmentationMetrics:
    """Accumulates true/false positives and negatives per class over every validation pixel
    (micro-averaged over images). Binary scores are the foreground's; multiclass scores
    average the foreground classes (class 0 is background) and each class is reported."""

    def __init__(self, num_classes: int, ignore_index: int) -> None:
        self.num_classes, self.ignore_index = num_classes, ignore_index
        self.counts: torch.Tensor | None = None  # (4, K): tp, fp, fn, tn per class

    def update(self, logits: torch.Tensor, mask: torch.Tensor) -> None:
        # binary is scored as two classes so that ignore_index works the same way
        if self.num_classes == 2:
            pred = (logits[:, 0] > 0).long()  # (B, H, W)
        else:
            pred = logits.argmax(dim=1)  # (B, H, W)
        stats = smp_metrics.get_stats(
            pred,
            mask,
            mode="multiclass",
            num_classes=self.num_classes,
            ignore_index=self.ignore_index,
        )
        batch = torch.stack([s.sum(dim=0) for s in stats])  # (4, K)
        self.counts = batch if self.counts is None else self.counts + batch

    def compute(self) -> dict[str, float]:
        tp, fp, fn, tn = (c.unsqueeze(0) for c in self.counts)  # each (1, K)
        dice = smp_metrics.f1_score(tp, fp, fn, tn, reduction="none", zero_division=1.0)[0]
        iou = smp_metrics.iou_score(tp, fp, fn, tn, reduction="none", zero_division=1.0)[0]
        scores = {"dice": dice[1:].mean().item(), "iou": iou[1:].mean().item()}
        if self.num_classes > 2:
            for k in range(self.num_classes):
                scores[f"dice_class{k}"] = dice[k].item()
        return scores
