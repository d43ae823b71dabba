"""Tests of densecli.data: datasets, augmentation and loaders."""
