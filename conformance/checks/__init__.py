"""The check catalogue: one module per family; importing this package registers them all."""

from conformance.checks import body, errors, forwarding, images, protocol, sse

__all__ = ["body", "errors", "forwarding", "images", "protocol", "sse"]
