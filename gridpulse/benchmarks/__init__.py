"""Benchmarks, apart from the product: each prints figures with ratios against a baseline measured in the same run.

- ``pages`` (``python -m gridpulse bench``): each page's data work at 20k-1M cases, against a naive baseline;
- ``imports`` (``bench-import``): importing 12345-style CSVs, against whole-file pandas + sjoin;
- ``cache`` (``bench-cache``): the view cache's hit rate on a street without a fixed as-of.
"""
