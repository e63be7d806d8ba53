"""PTB's HTTP seam (telegram.request.BaseRequest) on aiohttp, which `make_bot` uses instead of PTB's own
HTTPXRequest: a Bot API send through PTB costs about half the CPU (0.4-0.5 ms against 0.9-1.0 ms, to a
loopback stub), and `serve` runs the outbox dispatcher beside the webhooks, in the same process.

aiohttp comes with twilio already. A session belongs to the event loop that made it, and a Bot is built in
one thread and used in another's loop (the dispatcher's), so the session is made on first use, in the
loop that uses it, and made again if a later call runs in another loop (the first one has ended).
"""

from __future__ import annotations

import asyncio
from urllib.parse import urlencode

import aiohttp
from telegram.error import NetworkError, TimedOut
from telegram.request import BaseRequest, RequestData

FORM = {"Content-Type": "application/x-www-form-urlencoded"}
# a timeout as PTB passes it: seconds, None (no limit), or BaseRequest.DEFAULT_NONE (this object's own)
Timeout = object


class AiohttpRequest(BaseRequest):
    """Bot API calls over one aiohttp session (keep-alive pool of `pool_size` connections).

    PTB's four timeouts map onto aiohttp's: `pool_timeout` waits for a pooled connection (ClientTimeout
    .connect), `connect_timeout` opens one (sock_connect), `read_timeout` waits for bytes of the answer
    (sock_read); aiohttp has no write timeout, so the whole request is bounded by the four together."""

    __slots__ = ("_connect", "_loop", "_pool", "_pool_size", "_read", "_session", "_write")

    def __init__(
        self,
        *,
        pool_size: int = 16,
        read_timeout: float | None = 5.0,
        write_timeout: float | None = 5.0,
        connect_timeout: float | None = 5.0,
        pool_timeout: float | None = 1.0,
    ) -> None:
        self._pool_size = pool_size
        self._read, self._write = read_timeout, write_timeout
        self._connect, self._pool = connect_timeout, pool_timeout
        self._session: aiohttp.ClientSession | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    @property
    def read_timeout(self) -> float | None:
        return self._read

    async def initialize(self) -> None:
        self._session_here()

    async def shutdown(self) -> None:
        session, self._session, self._loop = self._session, None, None
        if session is not None and not session.closed:
            await session.close()

    def _session_here(self) -> aiohttp.ClientSession:
        """This loop's session: the one made earlier in it, or a new one (the old loop is gone)."""
        loop = asyncio.get_running_loop()
        session = self._session
        if session is None or session.closed or self._loop is not loop:
            if session is not None and not session.closed:
                session.detach()  # its connections died with their loop; nothing to close from here
            session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=self._pool_size),
                headers={"User-Agent": self.USER_AGENT},
            )
            self._session, self._loop = session, loop
        return session

    def _timeout(
        self,
        read: Timeout,
        write: Timeout,
        connect: Timeout,
        pool: Timeout,
    ) -> aiohttp.ClientTimeout:
        def pick(given: object, default: float | None) -> float | None:
            if given is BaseRequest.DEFAULT_NONE:
                return default
            return given if isinstance(given, (int, float)) else None

        parts = (pick(read, self._read), pick(write, self._write), pick(connect, self._connect),
                 pick(pool, self._pool))
        total = None if any(p is None for p in parts) else sum(p for p in parts if p is not None)
        return aiohttp.ClientTimeout(total=total, connect=parts[3], sock_connect=parts[2], sock_read=parts[0])

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: Timeout = BaseRequest.DEFAULT_NONE,
        write_timeout: Timeout = BaseRequest.DEFAULT_NONE,
        connect_timeout: Timeout = BaseRequest.DEFAULT_NONE,
        pool_timeout: Timeout = BaseRequest.DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        """One call: parameters form-encoded (each value JSON, as PTB's HTTPXRequest sends them), or
        multipart when there are files; (status, body) for PTB to read. The form is encoded here, into the
        body's bytes: given a dict, aiohttp builds a FormData and a MultipartWriter for it first, half of
        a send's CPU in aiohttp (py-spy, the dispatcher at 30 sends a second beside the webhooks)."""
        session = self._session_here()
        data: aiohttp.FormData | bytes | None = None
        headers: dict[str, str] | None = None
        if request_data is not None:
            files = request_data.multipart_data if request_data.contains_files else None
            if files:
                form = aiohttp.FormData()
                for name, value in request_data.json_parameters.items():
                    form.add_field(name, value)
                for name, (filename, content, mime) in files.items():
                    form.add_field(name, content, filename=filename, content_type=mime)
                data = form
            else:
                data = urlencode(request_data.json_parameters).encode()
                headers = FORM
        timeout = self._timeout(read_timeout, write_timeout, connect_timeout, pool_timeout)
        try:
            async with session.request(method, url, data=data, headers=headers, timeout=timeout) as response:
                return response.status, await response.read()
        except aiohttp.ConnectionTimeoutError as exc:
            raise TimedOut("Bot API: no connection in time (pool or connect)") from exc
        except TimeoutError as exc:
            raise TimedOut("Bot API: no answer in time") from exc
        except aiohttp.ClientError as exc:
            raise NetworkError(f"aiohttp.{type(exc).__name__}: {exc}") from exc
