"""Ops code of the ``leads`` CLI that no Lambda function runs: staff accounts (``staff``, Cognito).

Kept out of ``functions/``, so it is not packaged with any function. The lead use cases the CLI shares with
the staff API live in ``leads_core.manage``.
"""
