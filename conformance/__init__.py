"""gateway-conformance: a spec-driven conformance suite for AI gateways' image endpoints."""

__version__ = "0.1.0"
