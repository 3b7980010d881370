"""The documented contract as data and its codecs: the JSON Schemas, the OpenAPI builder, the
envelopes, JSON numbers, the encryption envelope and the credential headers."""
