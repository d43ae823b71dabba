"""densecli: training strategy for segmentation models, as configuration."""

import os

# Library update checks reach the network on import; densecli runs offline first.
os.environ.setdefault("NO_ALBUMENTATIONS_UPDATE", "1")

__version__ = "0.1.0"
