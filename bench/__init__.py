"""Benchmarks (not timed tests): ``python -m bench`` runs them all and writes bench/RESULTS.md;
``python -m bench.<name>`` runs one."""
