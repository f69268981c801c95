"""Ops use cases (list, show, export, set-status, erase, audit) behind the ``leads`` CLI.

Kept out of ``functions/``: no Lambda function imports it, so it is not packaged with any of them.
"""
