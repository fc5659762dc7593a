"""What `--http [HOST:]PORT` names, and the live view's limits (standard library only)."""

from __future__ import annotations

import argparse
from dataclasses import dataclass

EXIT_PORT_IN_USE = 7  # watch's exit code when the --http port is taken (0-6 are used already)
DEFAULT_HOST = "127.0.0.1"  # private: view it from a laptop through `ssh -L`
DEFAULT_HTTP_FPS = 10  # frames a second encoded for the stream, whatever the camera's rate
MAX_VIEWERS = 4  # pages at once (each is one stream and one event feed); 503 beyond
WILDCARDS = ("0.0.0.0", "::", "")


@dataclass(frozen=True)
class HttpAddress:
    host: str  # an address or a name to bind; "0.0.0.0" or "::" for every interface
    port: int  # 0: any free port (the one chosen is printed)

    @property
    def public(self) -> bool:
        """Reachable from other machines, not only through this one's loopback."""
        return self.host in WILDCARDS or not (
            self.host == "localhost" or self.host.startswith("127.") or self.host == "::1"
        )

    def __str__(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{host}:{self.port}"


def parse_http_address(text: str) -> HttpAddress:
    """argparse type for --http: 'PORT', 'HOST:PORT' or '[IPv6]:PORT'."""
    host, colon, port = text.rpartition(":")
    if not colon:
        host = DEFAULT_HOST
    elif host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    elif ":" in host or not host:
        raise argparse.ArgumentTypeError(
            f"{text!r}: give PORT or HOST:PORT (an IPv6 address in brackets: [::1]:8000)"
        )
    if not port.isdigit() or not 0 <= int(port) <= 65535:
        raise argparse.ArgumentTypeError(f"{text!r}: the port must be a number from 0 to 65535")
    return HttpAddress(host, int(port))
