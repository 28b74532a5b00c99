"""Benchmarks: each figure beside the fastest way to do the same work, on the same machine."""
