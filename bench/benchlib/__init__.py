"""Helpers of bench/run.py: processes and /proc sampling, generated configs, the load
generator driver and the report. Standard library only."""
