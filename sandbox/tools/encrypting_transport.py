"""An httpx transport that speaks encrypted payload mode for its caller: request bodies to EnKash
paths go out as `{"request": "<base64>"}`, enveloped responses come back as the plain JSON inside.

So any httpx-based suite (the contract tests, a partner's own tests) runs unchanged against a
sandbox with `encryption: required`:

    httpx.Client(base_url=url, transport=EncryptingTransport(client_secret))
"""

from __future__ import annotations

import httpx

from sandbox.contract import crypto, jsonio

PLAIN_PREFIXES = ("/oauth/", "/__sandbox/")  # the token call and the sandbox's own API stay plain
_RECOMPUTED = ("content-length", "content-encoding", "transfer-encoding")


class EncryptingTransport(httpx.BaseTransport):
    def __init__(self, secret: str, inner: httpx.BaseTransport | None = None) -> None:
        self.key = crypto.derive_key(secret)
        self.inner = inner or httpx.HTTPTransport()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        content = request.read()
        if content and not request.url.path.startswith(PLAIN_PREFIXES):
            sealed = jsonio.dumps({crypto.FIELD: crypto.encrypt(content, self.key)})
            headers = [(k, v) for k, v in request.headers.multi_items() if k.lower() not in _RECOMPUTED]
            request = httpx.Request(request.method, request.url, headers=headers, content=sealed,
                                    extensions=request.extensions)
        response = self.inner.handle_request(request)
        response.read()
        text = crypto.envelope_text(response.content)
        if text is None:
            return response
        headers = [(k, v) for k, v in response.headers.multi_items() if k.lower() not in _RECOMPUTED]
        return httpx.Response(response.status_code, headers=headers, content=crypto.decrypt(text, self.key),
                              request=request, extensions=response.extensions)

    def close(self) -> None:
        self.inner.close()
