"""The fault engine: one place that makes the sandbox misbehave on purpose (README.md, "Fault injection").

engine.py decides, effects.py acts, middleware.py is the ASGI layer, magic.py the in-app hook."""
