"""`make interop`: real third-party gateways (LiteLLM proxy, Portkey gateway) installed under
`.interop/`, started on loopback in front of the fake upstream, run through the suite, stopped.

Not part of the package or of `make test`: the installs are heavy. See docs/interop/.
"""
