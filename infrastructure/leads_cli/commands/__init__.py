"""The ``leads`` commands by group: ``leads`` (the lead records and their audit trail) and ``alerts`` (test
alert, smoke check, failed alerts). ``leads_cli.main`` registers them on the ``cli`` group."""
