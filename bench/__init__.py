"""Load benchmarks for enkash-sandbox: `python -m bench` prints the table (see docs/performance.md)."""
