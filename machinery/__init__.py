"""Machinery a reader of the chapters may skip: where files live, checkpoints, torchrun."""
