"""Hostile and broken gateways for tests: tiny raw HTTP servers on 127.0.0.1.

`serving(behaviour)` runs one on a free port in a background thread and yields its state (URL
and the image requests it received); `hostile.behaviours` holds the misbehaviours.
"""

from hostile.server import HostileServer, Request, serving

__all__ = ["HostileServer", "Request", "serving"]
