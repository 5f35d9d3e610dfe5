"""
An answer's body as both transports read it: decoded as it arrives, never past one size cap.

Both transports offer ``gzip`` (:data:`ACCEPT_ENCODING`) and hand the raw bytes, as they come off
the socket, to a :class:`BodyDecoder`; neither lets its HTTP library decode. The decoder inflates at
most what is left under :data:`MAX_BODY_BYTES` per step (zlib's ``max_length``), so a small gzip
that would inflate to gigabytes stops at the cap having held little more than the cap.
"""

from __future__ import annotations

import zlib

#: The largest answer read, decoded: VideoSDK's answers are a few KiB; anything bigger is not one of them.
MAX_BODY_BYTES = 1 << 20
#: The content codings offered (``Accept-Encoding``) and, with ``identity``, the only ones decoded.
ACCEPT_ENCODING = "gzip"
_GZIP = ("gzip", "x-gzip")


class BodyTooLarge(Exception):
    """Raised by a transport when an answer, decoded or on the wire, passes :data:`MAX_BODY_BYTES`."""

    def __init__(self) -> None:
        super().__init__(f"the answer was larger than {MAX_BODY_BYTES} bytes")


class UndecodableBody(Exception):
    """Raised by a transport when an answer's content coding is one not offered, or is broken."""


class BodyDecoder:
    """
    Feed an answer's raw bytes as they arrive (:meth:`feed`), then take the decoded body (:meth:`body`).

    :param content_encoding: the answer's ``Content-Encoding`` header, if any.
    :raises UndecodableBody: for a coding other than gzip or identity.
    """

    def __init__(self, content_encoding: str | None, limit: int = MAX_BODY_BYTES) -> None:
        codings = [c.strip().lower() for c in (content_encoding or "").split(",")]
        codings = [c for c in codings if c and c != "identity"]
        if codings and (len(codings) > 1 or codings[0] not in _GZIP):
            raise UndecodableBody(
                f"the answer came in Content-Encoding {content_encoding!r}, which was not offered "
                f"(Accept-Encoding: {ACCEPT_ENCODING})"
            )
        self._inflater = zlib.decompressobj(16 + zlib.MAX_WBITS) if codings else None
        self._limit = limit
        self._raw = 0
        self._size = 0
        self._chunks: list[bytes] = []

    def feed(self, data: bytes) -> None:
        """Take the next raw bytes; raises :class:`BodyTooLarge` as soon as the cap is passed."""
        self._raw += len(data)
        if self._raw > self._limit:
            raise BodyTooLarge()
        if self._inflater is None:
            self._keep(data)
            return
        while data and not self._inflater.eof:
            try:
                # At most one byte past what is left: enough to tell the cap was passed, never more.
                self._keep(self._inflater.decompress(data, self._limit - self._size + 1))
            except zlib.error as exc:
                raise UndecodableBody(f"the answer's gzip data is broken ({exc})") from None
            data = self._inflater.unconsumed_tail

    def body(self) -> bytes:
        """The whole decoded body; raises :class:`UndecodableBody` if a gzip stream stopped short."""
        if self._inflater is not None and self._raw:
            self._keep(self._inflater.flush())
            if not self._inflater.eof:
                raise UndecodableBody("the answer's gzip data ended before its end")
        return b"".join(self._chunks)

    def _keep(self, chunk: bytes) -> None:
        self._size += len(chunk)
        if self._size > self._limit:
            raise BodyTooLarge()
        if chunk:
            self._chunks.append(chunk)
