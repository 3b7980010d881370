"""EnKash's rules as pure Python: no Starlette, no JSON, no await, so each call is atomic."""
