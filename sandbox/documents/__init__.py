"""Documents that fill or dump the store: fixtures (YAML in, through the domain's rules) and
state snapshots (the whole store out and back)."""
