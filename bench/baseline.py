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
    """The bytes of --body-file: what sending a read's large answer costs this stack by itself."""
    return Response(LARGE, media_type="application/json")


LARGE = b""


app = Starlette(routes=[Route("/", constant, methods=["GET", "POST"]), Route("/large", large, methods=["GET", "POST"])])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--body-file", help="served at /large (default: empty)")
    args = parser.parse_args()
    if args.body_file:
        global LARGE
        with open(args.body_file, "rb") as body:
            LARGE = body.read()
    uvicorn.run(app, host="127.0.0.1", port=args.port, log_level="warning", access_log=False,
                lifespan="off", server_header=False)


if __name__ == "__main__":
    main()
