"""Serviceloop benchmarks: each prints one summary line and writes bench/results/*.json.

Run them with `make bench` or `python -m bench [create|list] ...`; see bench/README.md.
"""
