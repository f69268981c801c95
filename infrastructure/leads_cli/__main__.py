"""``python -m leads_cli`` (same as the ``leads`` console script)."""

from leads_cli.main import cli

cli()
