"""The ceiling of this stack: a bare Starlette endpoint returning a constant JSON body, served by
uvicorn with the same defaults as the sandbox. Every figure of the bench is a ratio to it."""

from __future__ import annotations

import argparse

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

BODY = b'{"response_code":0,"response_message":"Success","payload":"ok"}'


async def constant(request: Request) -> Response:
    return Response(BODY, media_type="application/json")


async def large(request: Request) -> Response:
    """A constant JSON body of `?bytes=N` bytes: what this stack spends to send a large answer
    (bench case 6b puts it beside the 100-row page of transaction/all)."""
    size = int(request.query_params.get("bytes", "0"))
    body = _LARGE.get(size)
    if body is None:
        body = _LARGE[size] = b'{"data":"' + b"x" * max(size - 11, 0) + b'"}'
    return Response(body, media_type="application/json")


_LARGE: dict[int, bytes] = {}


app = Starlette(routes=[Route("/", constant, methods=["GET", "POST"]), Route("/large", large, methods=["GET", "POST"])])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    uvicorn.run(app, host="127.0.0.1", port=args.port, log_level="warning", access_log=False,
                lifespan="off", server_header=False)


if __name__ == "__main__":
    main()
