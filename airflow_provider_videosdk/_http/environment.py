"""
What the environment says about the network, read the same way by both transports.

- Proxies: the environment's (``HTTPS_PROXY``, ``HTTP_PROXY``, ``ALL_PROXY``, ``NO_PROXY``), except
  for a loopback host, which is always reached directly (:func:`is_loopback`): a request to
  ``localhost`` sent to a proxy would hand it the ``Authorization`` header, and come back as the
  proxy's answer.
- The CA bundle: :func:`ca_bundle`, from the variables of :data:`CA_BUNDLE_VARIABLES`, else certifi's.
"""

from __future__ import annotations

import ipaddress
import os
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

if TYPE_CHECKING:
    from collections.abc import Mapping

#: Read in this order (requests' two, then OpenSSL's); the first one set names the CA file or directory.
CA_BUNDLE_VARIABLES = ("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE", "SSL_CERT_FILE", "SSL_CERT_DIR")


def is_loopback(url: str) -> bool:
    """True when ``url``'s host is this machine: ``localhost``, ``*.localhost``, 127.0.0.0/8 or ``[::1]``."""
    host = urlsplit(url).hostname  # lower-case, IPv6 brackets removed
    if not host:
        return False
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def ca_bundle(environ: Mapping[str, str] = os.environ) -> str | None:
    """The CA file or directory the environment names (see :data:`CA_BUNDLE_VARIABLES`); None: certifi's."""
    return next((environ[name] for name in CA_BUNDLE_VARIABLES if environ.get(name)), None)
