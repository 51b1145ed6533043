"""The segmentql language server (pygls 2, the `lsp` extra).

The editor features are pure functions in `segmentql.lsp.features` (no pygls import), so they
can be unit-tested and benchmarked directly; `segmentql.lsp.server` is a thin pygls layer over
them, started by `segmentql lsp`.
"""
