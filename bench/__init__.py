"""Load benchmarks for enkash-sandbox: `python -m bench` prints the table (see README.md, "Performance")."""
