"""Shared domain package of the clinic lead service.

Used by every Lambda function, the local stack and the CLI.

Importing this package is cheap on purpose: nothing here creates AWS clients or reads the environment at
import time. See docs/architecture.md for the module map.
"""
