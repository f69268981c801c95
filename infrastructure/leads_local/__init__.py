"""The local stack: the real handlers in-process against an embedded moto server (contract section 4)."""
