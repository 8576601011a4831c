"""Reading a request's body within a bound, for every platform's edge: a body over the limit
is refused before it is read whole."""

from __future__ import annotations

from starlette.requests import ClientDisconnect, Request

MAX_BODY = (
    1024 * 1024
)  # 1 MiB: the platforms' largest payloads (a full form's state) are far smaller


class Refused(Exception):
    """The request is refused with `status`; `reason` is for the log (no request data)."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status, self.reason = status, reason


async def read_bounded(request: Request, limit: int = MAX_BODY) -> bytes:
    """The body, or Refused(413) as soon as it is known to be over `limit` bytes."""
    declared = request.headers.get("content-length")
    if declared is not None:
        if not declared.isdigit():
            raise Refused(400, "a Content-Length that is not a number")
        if int(declared) > limit:
            raise Refused(413, f"a body of {int(declared)} bytes (limit {limit})")
    chunks, size = [], 0
    try:
        async for chunk in request.stream():
            size += len(chunk)
            if size > limit:
                raise Refused(413, f"a streamed body over {limit} bytes")
            chunks.append(chunk)
    except ClientDisconnect:
        raise Refused(400, "the client went away mid-body") from None
    return b"".join(chunks)
