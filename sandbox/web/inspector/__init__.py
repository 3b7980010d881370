"""The inspector: /__sandbox/ui, server-rendered pages over the live state (README.md, "Inspector").

Pages read the store, ledger, journal, fault engine and clock when someone opens them and never
before: nothing here runs on a partner's request. Actions call the same admin endpoint functions
as the /__sandbox/ JSON API, found by operation in the route table.
"""
