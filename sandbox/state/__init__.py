"""The state under every rule: the store and its records, the append-only ledger, the clock and
the seeded id factory. The bottom layer: it imports nothing else of the sandbox."""
