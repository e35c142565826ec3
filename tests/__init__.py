"""Tests of the checkpoint wizard."""
