"""Thin HTTP glue per product: pick fields out of the parsed request, call the domain, shape
the payload in EnKash's camelCase. No rules live here."""
