"""Tests of tap-asos."""
