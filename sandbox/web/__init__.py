"""The HTTP adapter: the app, the route table and its index, the one request path (adapter.py),
the journal and its recorder, and the thin endpoints. The only layer that speaks ASGI to the domain."""
