"""A small async REST helper on ``httpx`` for order-book snapshots: one GET, the JSON body back, every
failure an ``IntegrationError`` naming the exchange, the URL and what went wrong."""
from __future__ import annotations

from typing import Any, Mapping, Optional

import orjson

from barter.integration.errors import IntegrationError


async def get_json(exchange: str, url: str, params: Optional[Mapping[str, Any]] = None, *,
                   client: Optional[Any] = None, timeout_s: float = 10.0) -> Any:
    """GET ``url`` with ``params`` and decode the JSON body.

    Parameters
    ----------
    client : httpx.AsyncClient, optional
        Reused for keep-alive when given; otherwise a client is opened for this call.
    timeout_s : float
        Seconds for the whole request.

    Raises
    ------
    IntegrationError
        On a connection error, a timeout, a status other than 2xx or a body that is not JSON.
    """
    import httpx  # the live extra; imported here so historic use needs no HTTP client

    try:
        if client is None:
            async with httpx.AsyncClient(timeout=timeout_s) as own:
                response = await own.get(url, params=params)
        else:
            response = await client.get(url, params=params, timeout=timeout_s)
    except httpx.HTTPError as e:
        raise IntegrationError(f"{exchange}: GET {url} failed: {type(e).__name__}: {e}") from e
    if not response.is_success:
        raise IntegrationError(f"{exchange}: GET {response.url} answered {response.status_code}: "
                               f"{response.text[:200]}")
    try:
        return orjson.loads(response.content)
    except orjson.JSONDecodeError as e:
        raise IntegrationError(f"{exchange}: GET {response.url} body is not JSON: {e}") from e
